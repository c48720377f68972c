"""What a build is made from, as one digest, and the one comparison with the served build that `koperasi run`, the
dbt step (runs the sensor starts), the publish asset (the nightly schedule's full test run) and `koperasi publish`
make: a run whose inputs equal those of the served build rebuilds and publishes nothing.

The inputs: the file registry's current files (each file's SHA-256 and the file it corrects), the number of rows
of each raw table (a change made to them by hand rebuilds too), the dbt project (models, macros, seeds, tests,
``dbt_project.yml``), the file gate's thresholds (``KOPERASI_THRESHOLDS`` or the committed file), the header
mappings, and the province.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from expectations.config import thresholds_file
from ingestion.mapping import MAPPINGS_DIR
from ingestion.province import province_code
from ingestion.raw_schema import DATA_TABLES
from ingestion.registry import current_files
from warehouse import builds
from warehouse.dbt_manifest import DBT_PROJECT_DIR

PROJECT_PARTS = ("models", "macros", "seeds", "tests", "dbt_project.yml")


def project_files(project: Path = DBT_PROJECT_DIR, mappings: Path = MAPPINGS_DIR) -> list[Path]:
    files = []
    for part in PROJECT_PARTS:
        root = project / part
        files += [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return files + sorted(mappings.glob("*.yaml")) + [thresholds_file()]


def input_fingerprint(con: duckdb.DuckDBPyConnection, files: list[Path] | None = None) -> str:
    """The digest of everything a build of the marts is made from (see the module's docstring)."""
    digest = hashlib.sha256(f"province={province_code()}\n".encode())
    for sha256, corrects in con.execute(
            f"SELECT sha256, coalesce(corrects, '') FROM raw.ingested_files WHERE sha256 IN ({current_files()}) "
            "ORDER BY 1, 2").fetchall():
        digest.update(f"file={sha256}:{corrects}\n".encode())
    for table in DATA_TABLES:
        digest.update(f"{table}={con.execute(f'SELECT count(*) FROM raw.{table}').fetchall()[0][0]}\n".encode())
    for path in files if files is not None else project_files():
        digest.update(f"{path.name}={hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def served_build(serving_db: Path) -> tuple[str, str] | None:
    """(build id, input fingerprint) of the build being served; None: nothing served, or served before
    fingerprints were recorded."""
    if not serving_db.exists():
        return None
    try:
        with duckdb.connect(str(serving_db), read_only=True) as con:
            rows = con.execute("SELECT build_id, input_fingerprint FROM meta.publication").fetchall()
    except duckdb.Error:
        return None
    return (rows[0][0], rows[0][1]) if rows and rows[0][1] else None


def unchanged_since_served(con: duckdb.DuckDBPyConnection, serving_db: Path, current: str | None = None) -> str | None:
    """The served build's id when a build now would be made of the same inputs: the latest build passed with the
    served build's fingerprint (the build database holds what BI has) and today's inputs (``current``, computed
    when not given) give that fingerprint."""
    served = served_build(serving_db)
    if served is None:
        return None
    latest = builds.latest(con)
    if latest is None or not latest.passed or latest.input_fingerprint != served[1]:
        return None
    return served[0] if (current or input_fingerprint(con)) == served[1] else None
