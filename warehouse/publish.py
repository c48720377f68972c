"""Write-audit-publish: copy the checked marts into a new serving file and swap it in atomically.

BI tools only ever open ``serving.duckdb`` read-only; they see the previous publication or the new one,
never a half-written file (``os.replace`` is atomic on one filesystem). The file is written with an
explicit storage version so that DuckDB 1.x clients (bundled in most BI drivers) can read it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from warehouse.paths import KoperasiPaths

SERVING_STORAGE_VERSION = "v1.0.0"


@dataclass(frozen=True)
class Publication:
    run_id: str
    published_at: str
    tables: dict[str, int]
    serving_db: Path
    exports: Path


def publish(paths: KoperasiPaths, *, run_id: str, check_summary: dict) -> Publication:
    """Builds serving.duckdb.new from the build database, then replaces serving.duckdb and the exports."""
    paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
    for stale in paths.warehouse_dir.glob("serving.*.new.duckdb*"):  # left by a publish that was killed
        stale.unlink(missing_ok=True)
    staging = paths.serving_db.with_name(f"serving.{os.getpid()}.new.duckdb")
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    version = published_at.strftime("%Y%m%dT%H%M%S%f")
    export_dir = paths.exports / "versions" / version
    export_dir.mkdir(parents=True, exist_ok=True)

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{paths.build_db}' AS build (READ_ONLY)")
        con.execute(f"ATTACH '{staging}' AS serving (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')")
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE "
                                            "table_catalog = 'build' AND table_schema = 'marts' "
                                            "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        counts: dict[str, int] = {}
        con.execute("CREATE SCHEMA serving.marts")
        con.execute("CREATE SCHEMA serving.meta")
        for table in tables:
            con.execute(f'CREATE TABLE serving.marts."{table}" AS SELECT * FROM build.marts."{table}"')
            counts[table] = con.execute(f'SELECT count(*) FROM serving.marts."{table}"').fetchone()[0]
            con.execute(f"COPY (SELECT * FROM build.marts.\"{table}\") TO '{export_dir / (table + '.parquet')}' (FORMAT parquet)")
        sources = con.execute("""
            SELECT coalesce(list(DISTINCT snapshot_date ORDER BY snapshot_date)::VARCHAR, '[]'),
                   coalesce(to_json(list({'file': file, 'sha256': sha256, 'source': source} ORDER BY file))::VARCHAR, '[]')
            FROM build.raw.ingested_files WHERE status = 'loaded'""").fetchone()
        con.execute("""CREATE TABLE serving.meta.publication AS SELECT
            ?::VARCHAR AS run_id, ?::TIMESTAMP AS published_at, ?::VARCHAR AS source_snapshots,
            ?::VARCHAR AS source_files, ?::VARCHAR AS check_summary, ?::VARCHAR AS tables""",
                    [run_id, published_at, sources[0], sources[1], json.dumps(check_summary), json.dumps(counts)])
        con.execute("DETACH serving")
        con.execute("DETACH build")
    finally:
        con.close()
    _fsync(staging)
    os.replace(staging, paths.serving_db)  # readers see the old file or the new one, nothing in between
    _switch_exports(paths, version)
    return Publication(run_id, published_at.isoformat(), counts, paths.serving_db, paths.exports / "current")


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _switch_exports(paths: KoperasiPaths, version: str) -> None:
    """exports/current is a symlink to the newest version folder, swapped atomically; old versions pruned."""
    link = paths.exports / "current"
    tmp = paths.exports / f".current.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path("versions") / version)
    os.replace(tmp, link)
    (paths.exports / "CURRENT").write_text(version + "\n", encoding="utf-8")
    versions = sorted((paths.exports / "versions").iterdir())
    for old in versions[:-3]:  # keep a few for readers still holding an older folder
        shutil.rmtree(old, ignore_errors=True)


def failed_blocking_checks(build_db: Path) -> list[str]:
    """Checks whose latest result is a failure at error severity (the gate for a manual republish)."""
    with duckdb.connect(str(build_db), read_only=True) as con:
        try:
            rows = con.execute("""
                SELECT check_name, asset FROM quality.check_results
                QUALIFY row_number() OVER (PARTITION BY check_name, asset, partition_key ORDER BY checked_at DESC) = 1
                    AND NOT passed AND severity = 'error'""").fetchall()
        except duckdb.CatalogException:
            return []
    return [f"{asset}: {name}" for name, asset in rows]
