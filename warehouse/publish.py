"""Write-audit-publish: copy the checked marts into a new serving file and swap it in atomically.

BI tools only ever open ``serving.duckdb`` read-only; they see the previous publication or the new one,
never a half-written file (``os.replace`` is atomic on one filesystem). Only the latest build of the marts is
published, and only when its verdict passed (``warehouse.builds``): every path to BI goes through
``publish_build``. The file is written with an
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

from ingestion import landing
from warehouse import builds
from warehouse.dbt_contract import DbtFacts, dbt_facts
from warehouse.paths import KoperasiPaths

SERVING_STORAGE_VERSION = "v1.0.0"


class PublishRefused(Exception):
    """The build cannot be published; the message names why (failed checks, or an unfinished build)."""


@dataclass(frozen=True)
class Publication:
    build_id: str
    run_id: str
    published_at: str
    tables: dict[str, int]
    serving_db: Path
    exports: Path


def latest_verdict(paths: KoperasiPaths) -> builds.Verdict | None:
    with duckdb.connect(str(paths.build_db), read_only=True) as con:
        return builds.latest(con)


def publish_build(paths: KoperasiPaths, verdict: builds.Verdict | None, *, run_id: str) -> Publication:
    """Publishes the build the verdict judged, or refuses (``PublishRefused``) naming every failure."""
    if verdict is None:
        raise PublishRefused("nothing has been built yet: run 'koperasi run'")
    if not verdict.passed:
        raise PublishRefused(f"the latest build ({verdict.build_id}) is {verdict.verdict}:\n  "
                             + "\n  ".join(verdict.explain()))
    return _publish(paths, verdict, run_id=run_id)


def _publish(paths: KoperasiPaths, verdict: builds.Verdict, *, run_id: str) -> Publication:
    """Builds serving.<pid>.new.duckdb from the build database, then replaces serving.duckdb and the exports."""
    paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
    for stale in paths.warehouse_dir.glob("serving.*.new.duckdb*"):  # left by a publish that was killed
        stale.unlink(missing_ok=True)
    staging = paths.serving_db.with_name(f"serving.{os.getpid()}.new.duckdb")
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    version = published_at.strftime("%Y%m%dT%H%M%S%f")
    _repair_exports(paths)
    export_dir = paths.exports / "versions" / version
    export_dir.mkdir(parents=True, exist_ok=True)
    check_summary = verdict.summary()
    facts = dbt_facts()

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
        for table in facts.load_order(tables):  # referenced tables first: the foreign keys are checked on insert
            _create_served_table(con, table, facts, set(tables))
            con.execute(f'INSERT INTO serving.marts."{table}" SELECT * FROM build.marts."{table}"')
            counts[table] = con.execute(f'SELECT count(*) FROM serving.marts."{table}"').fetchall()[0][0]
            con.execute(f"COPY (SELECT * FROM build.marts.\"{table}\") TO '{export_dir / (table + '.parquet')}' "
                        f"(FORMAT parquet, KV_METADATA {_parquet_metadata(table, facts)})")
        _publish_quality(con, verdict.build_id)
        con.execute("""CREATE TABLE serving.meta.publication AS SELECT
            ?::VARCHAR AS build_id, ?::VARCHAR AS run_id, ?::TIMESTAMP AS published_at,
            ?::DATE[] AS source_snapshots, ?::JSON AS source_files, ?::JSON AS check_summary, ?::JSON AS tables""",
                    [verdict.build_id, run_id, published_at, verdict.source_snapshots,
                     json.dumps(verdict.source_files), json.dumps(check_summary), json.dumps(counts)])
        con.execute("DETACH serving")
        con.execute("DETACH build")
    finally:
        con.close()
    _fsync(staging)
    os.replace(staging, paths.serving_db)  # readers see the old file or the new one, nothing in between
    _switch_exports(paths, version)
    if os.environ.get("KOPERASI_POSTGRES_URL"):  # the same publication for BI tools that speak PostgreSQL
        from warehouse import postgres_publish

        try:
            postgres_publish.publish(
                os.environ["KOPERASI_POSTGRES_URL"], paths.serving_db,
                {"build_id": verdict.build_id, "run_id": run_id, "published_at": published_at,
                 "source_snapshots": verdict.source_snapshots, "source_files": verdict.source_files,
                 "check_summary": check_summary, "tables": counts},
                bi_password=postgres_publish.bi_password(paths.home), version=version)
        except (postgres_publish.PostgresPublishFailed, postgres_publish.psycopg.Error) as e:
            raise PublishRefused(f"published to {paths.serving_db}, but not to PostgreSQL (it keeps the previous "
                                 f"publication): {e}") from None
    return Publication(verdict.build_id, run_id, published_at.isoformat(), counts, paths.serving_db,
                       paths.exports / "current")


def _quality_tables(build_id: str) -> dict[str, str]:
    """What the stewards' dashboard (Kualitas Data) reads, by the rules the stewards' report uses
    (``ingestion.landing``: the latest entry under each file name, the quarantine nobody has fixed yet): the file
    registry, quarantined rows counted per file and reason (no values, no records: nothing personal), and this
    build's checks. Reasons and rejections in the stewards' Indonesian wording (stewards/texts.py)."""
    return {
        "ingested_files": f"""
            SELECT source, file, status, table_kind, snapshot_date, rows_read, rows_loaded, rows_quarantined,
                   rows_skipped, error, CAST(finished_at AS DATE) AS ingested_on, finished_at,
                   CASE status WHEN '{landing.REJECTED}' THEN indonesian_rejection(error)
                               WHEN '{landing.FAILED_CHECKS}'
                               THEN 'gagal pemeriksaan: lihat laporan kualitas (koperasi quality)'
                   END AS keterangan
            FROM ({landing.latest_files()})""",
        "quarantined_rows": f"""
            SELECT f.source, f.file, CAST(f.finished_at AS DATE) AS ingested_on, q.reason,
                   indonesian_reason(q.reason) AS alasan, count(q.source_row) AS rows
            FROM ({landing.latest_files()}) AS f
            LEFT JOIN ({landing.open_quarantine()}) AS q ON q.sha256 = f.sha256 AND q.source = f.source
            GROUP BY ALL""",
        "build_checks": f"""
            SELECT kind, name, asset, blocking, passed, detail, recorded_at
            FROM build.quality.build_results WHERE build_id = '{build_id.replace("'", "''")}'""",
    }


def _publish_quality(con: duckdb.DuckDBPyConnection, build_id: str) -> None:
    from stewards import texts

    con.create_function("indonesian_reason", texts.reason_label, ["VARCHAR"], "VARCHAR")
    con.create_function("indonesian_rejection", texts.rejection, ["VARCHAR"], "VARCHAR")
    con.execute("CREATE SCHEMA serving.quality")
    con.execute("USE build")  # the registry's queries name raw.* and quality.* of the build database
    try:
        for table, query in _quality_tables(build_id).items():
            con.execute(f"CREATE TABLE serving.quality.{table} AS {query}")
    finally:
        con.execute("USE memory")


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _create_served_table(con: duckdb.DuckDBPyConnection, table: str, facts: DbtFacts, tables: set[str]) -> None:
    """The mart's columns with the keys, NOT NULLs and descriptions the dbt project declares, so that BI tools
    (and ``duckdb_constraints()``) see them."""
    columns = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = "
                          "'build' AND table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position",
                          [table]).fetchall()
    parts = [f'"{c}" {kind}' + (" NOT NULL" if facts.required(table, c) else "") for c, kind in columns]
    if table in facts.primary_keys:
        parts.append("PRIMARY KEY (" + ", ".join(f'"{c}"' for c in facts.primary_keys[table]) + ")")
    for source, column, target, field in facts.usable_foreign_keys(tables):
        if source == table:
            parts.append(f'FOREIGN KEY ("{column}") REFERENCES marts."{target}" ("{field}")')
    con.execute(f'CREATE TABLE serving.marts."{table}" ({", ".join(parts)})')
    if facts.tables.get(table):
        con.execute(f'COMMENT ON TABLE serving.marts."{table}" IS {_sql_text(facts.tables[table])}')
    for column, _ in columns:
        if facts.columns.get((table, column)):
            con.execute(f'COMMENT ON COLUMN serving.marts."{table}"."{column}" IS '
                        f"{_sql_text(facts.columns[(table, column)])}")


def _parquet_metadata(table: str, facts: DbtFacts) -> str:
    """Parquet key-value metadata: the table's description and its columns' (JSON), as the dbt docs say."""
    described = {c: d for (t, c), d in facts.columns.items() if t == table and d}
    return ("{" + f"description: {_sql_text(facts.tables.get(table, ''))}, "
            f"column_descriptions: {_sql_text(json.dumps(described, ensure_ascii=False))}" + "}")


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _repair_exports(paths: KoperasiPaths) -> None:
    """``exports/current`` must be a symlink to a version folder. A real folder there (a restored backup, a
    copy made by hand) is kept as a version of its own, so the atomic switch can replace the link."""
    link = paths.exports / "current"
    if link.is_dir() and not link.is_symlink():
        kept = paths.exports / "versions" / f"restored-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(link, kept)
    elif link.exists() and not link.is_symlink():
        raise PublishRefused(f"{link} is a file, not the link to the current exports: move it away and publish again")


def _switch_exports(paths: KoperasiPaths, version: str) -> None:
    """exports/current is a symlink to the newest version folder, swapped atomically; old versions pruned."""
    link = paths.exports / "current"
    tmp = paths.exports / f".current.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path("versions") / version)
    os.replace(tmp, link)
    (paths.exports / "CURRENT").write_text(version + "\n", encoding="utf-8")
    versions = sorted(p for p in (paths.exports / "versions").iterdir() if not p.name.startswith("restored-"))
    for old in versions[:-3]:  # keep a few for readers still holding an older folder
        shutil.rmtree(old, ignore_errors=True)


