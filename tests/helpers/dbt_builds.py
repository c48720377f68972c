"""dbt run by hand on a copy of a home, and the marts read back for comparison (shared by the tests that check
an incremental build against a full rebuild)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb

from warehouse.dbt_manifest import DBT_EXECUTABLE


def dbt_build(project: Path, home: Path, *extra: str, target: Path | None = None,
              **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(DBT_EXECUTABLE), "build", "--quiet", "--project-dir", str(project), "--profiles-dir", str(project),
                           "--target-path", str(target or project / "target"), *extra], capture_output=True,
                          text=True, timeout=900, env={**os.environ, "KOPERASI_HOME": str(home), **env})


def marts(db: Path) -> dict[str, list[tuple]]:
    """Every mart, sorted, without built_at (when a row was built differs by design)."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1").fetchall()]
        found = {}
        for table in tables:
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = ? "
                "AND column_name <> 'built_at' ORDER BY ordinal_position", [table]).fetchall()]
            found[table] = con.execute(f"SELECT {', '.join(columns)} FROM marts.{table} ORDER BY ALL").fetchall()
    return found
