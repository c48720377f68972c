"""Write-audit-publish: copy the checked marts into a new serving file and swap it in atomically.

BI tools only ever open ``serving.duckdb`` read-only; they see the previous publication or the new one,
never a half-written file (``os.replace`` is atomic on one filesystem). Only the latest build of the marts is
published, and only when its verdict passed (``warehouse.builds``): every path to BI goes through
``publish_build``. The file is written with an
explicit storage version so that DuckDB 1.x clients (bundled in most BI drivers) can read it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from ingestion import registry
from warehouse import builds
from warehouse.dbt_contract import DbtFacts, dbt_facts
from warehouse.opendata import OpenData, write_open_data
from warehouse.paths import KoperasiPaths

SERVING_STORAGE_VERSION = "v1.0.0"
# Raise when this module changes what a serving file holds besides the marts' rows: files of an older layout
# are then rebuilt instead of brought up to date.
LAYOUT_VERSION = 1


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
    rewritten: list[str] = field(default_factory=list)  # marts written anew; the rest came from the last publication
    open_data: OpenData | None = None  # the open datasets this publication wrote (exports/opendata)


def latest_verdict(paths: KoperasiPaths) -> builds.Verdict | None:
    with duckdb.connect(str(paths.build_db), read_only=True) as con:
        return builds.latest(con)


@dataclass(frozen=True)
class QualityLabels:
    """How the serving quality tables word a quarantine reason code and a rejection finding (JSON, see
    ``ingestion.findings``) for the people who read them; the caller chooses (``stewards.texts`` for the office)."""

    reason: Callable[[str], str] = staticmethod(lambda code: code)
    rejection: Callable[[str | None], str] = staticmethod(lambda finding: finding or "")
    check: Callable[[str, str, str | None], str] = staticmethod(lambda kind, name, facts: name)


def publish_build(paths: KoperasiPaths, verdict: builds.Verdict | None, *, run_id: str,
                  labels: QualityLabels = QualityLabels()) -> Publication:
    """Publishes the build the verdict judged, or refuses (``PublishRefused``) naming every failure."""
    if verdict is None:
        raise PublishRefused("nothing has been built yet: run 'koperasi run'")
    if not verdict.passed:
        raise PublishRefused(f"the latest build ({verdict.build_id}) is {verdict.verdict}:\n  "
                             + "\n  ".join(verdict.explain()))
    return _publish(paths, verdict, run_id=run_id, labels=labels)


def _publish(paths: KoperasiPaths, verdict: builds.Verdict, *, run_id: str, labels: QualityLabels) -> Publication:
    """Builds serving.<pid>.new.duckdb from the build database, then replaces serving.duckdb and the exports."""
    paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
    for stale in paths.warehouse_dir.glob("serving.*.new.duckdb*"):  # left by a publish that was killed
        stale.unlink(missing_ok=True)
    staging = paths.serving_db.with_name(f"serving.{os.getpid()}.new.duckdb")
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    version = _version(published_at)
    _repair_exports(paths.exports)
    _repair_exports(paths.opendata)
    export_dir = paths.exports / "versions" / version
    export_dir.mkdir(parents=True, exist_ok=True)
    check_summary = verdict.summary()
    facts = dbt_facts()

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{paths.build_db}' AS build (READ_ONLY)")
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE "
                                            "table_catalog = 'build' AND table_schema = 'marts' "
                                            "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        layout = _layout(con, tables, facts)
        served_version = _copy_if_same_layout(paths.serving_db, staging, layout)
        reused = served_version is not None
        # The served file's own exports (a version folder is named after its publication's time).
        previous_exports = paths.exports / "versions" / served_version if reused else None
        con.execute(f"ATTACH '{staging}' AS serving (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')")
        rewritten = _refresh_served(con, tables, facts) if reused else None
        if rewritten is None:  # a new layout, no serving file yet, or a changed dimension others reference
            if reused:
                con.execute("DETACH serving")
                for leftover in (staging, staging.with_name(staging.name + ".wal")):
                    leftover.unlink(missing_ok=True)
                con.execute(f"ATTACH '{staging}' AS serving (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')")
            rewritten = _create_served(con, tables, facts)
        else:
            con.execute("DROP SCHEMA serving.quality CASCADE")
            con.execute("DROP SCHEMA serving.meta CASCADE")
            con.execute("CREATE SCHEMA serving.meta")
        counts: dict[str, int] = {}
        for table in tables:
            counts[table] = con.execute(f'SELECT count(*) FROM serving.marts."{table}"').fetchall()[0][0]
            unchanged = previous_exports / f"{table}.parquet" if previous_exports else None
            if table not in rewritten and unchanged is not None and unchanged.is_file():
                _link_or_copy(unchanged, export_dir / f"{table}.parquet")  # the same rows: the same file
            else:
                con.execute(f"COPY (SELECT * FROM build.marts.\"{table}\") TO '{export_dir / (table + '.parquet')}' "
                            f"(FORMAT parquet, KV_METADATA {_parquet_metadata(table, facts)})")
        open_data = write_open_data(con, paths.opendata / "versions" / version, build_id=verdict.build_id,
                                    published_at=published_at)
        con.execute("CREATE TABLE serving.meta.serving_layout AS SELECT ?::VARCHAR AS fingerprint", [layout])
        _publish_quality(con, verdict.build_id, labels)
        con.execute("""CREATE TABLE serving.meta.publication AS SELECT
            ?::VARCHAR AS build_id, ?::VARCHAR AS run_id, ?::TIMESTAMP AS published_at,
            ?::DATE[] AS source_snapshots, ?::JSON AS source_files, ?::JSON AS check_summary, ?::JSON AS tables,
            ?::VARCHAR AS input_fingerprint""",
                    [verdict.build_id, run_id, published_at, verdict.source_snapshots,
                     json.dumps(verdict.source_files), json.dumps(check_summary), json.dumps(counts),
                     verdict.input_fingerprint])
        con.execute("DETACH serving")
        con.execute("DETACH build")
    finally:
        con.close()
    _fsync(staging)
    os.replace(staging, paths.serving_db)  # readers see the old file or the new one, nothing in between
    _switch_exports(paths.exports, version)
    if open_data.valid:  # an open-data package that fails its own validation never replaces the last good one
        _switch_exports(paths.opendata, version)
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
                       paths.exports / "current", sorted(rewritten), open_data)


def _quality_tables(build_id: str) -> dict[str, str]:
    """What the stewards' dashboard (Kualitas Data) reads, by the rules the stewards' report uses
    (``ingestion.landing``: the latest entry under each file name, the quarantine nobody has fixed yet): the file
    registry, quarantined rows counted per file and reason (no values, no records: nothing personal), and this
    build's checks. Reasons and rejections worded by the caller's ``QualityLabels``."""
    return {
        "ingested_files": f"""
            SELECT source, file, status, table_kind, snapshot_date, rows_read, rows_loaded, rows_quarantined,
                   rows_skipped, error, CAST(finished_at AS DATE) AS ingested_on, finished_at,
                   CASE status WHEN '{registry.REJECTED}' THEN indonesian_rejection(CAST(finding AS VARCHAR))
                               WHEN '{registry.FAILED_CHECKS}'
                               THEN 'gagal pemeriksaan: lihat laporan kualitas (koperasi quality)'
                   END AS keterangan
            FROM ({registry.latest_files()})""",
        "quarantined_rows": f"""
            SELECT f.source, f.file, CAST(f.finished_at AS DATE) AS ingested_on, q.reason,
                   indonesian_reason(q.reason) AS alasan, count(q.source_row) AS rows
            FROM ({registry.latest_files()}) AS f
            LEFT JOIN ({registry.open_quarantine()}) AS q ON q.sha256 = f.sha256 AND q.source = f.source
            GROUP BY ALL""",
        "build_checks": f"""
            SELECT kind, name, indonesian_check(kind, name, CAST(facts AS VARCHAR)) AS meaning, asset, blocking,
                   passed, detail, recorded_at
            FROM build.quality.build_results WHERE build_id = '{build_id.replace("'", "''")}'""",
    }


def _publish_quality(con: duckdb.DuckDBPyConnection, build_id: str, labels: QualityLabels) -> None:
    con.create_function("indonesian_reason", labels.reason, ["VARCHAR"], "VARCHAR")
    con.create_function("indonesian_rejection", labels.rejection, ["VARCHAR"], "VARCHAR", null_handling="special")
    con.create_function("indonesian_check", labels.check, ["VARCHAR", "VARCHAR", "VARCHAR"], "VARCHAR",
                        null_handling="special")
    con.execute("CREATE SCHEMA serving.quality")
    con.execute("USE build")  # the registry's queries name raw.* and quality.* of the build database
    try:
        for table, query in _quality_tables(build_id).items():
            con.execute(f"CREATE TABLE serving.quality.{table} AS {query}")
    finally:
        con.execute("USE memory")


def _layout(con: duckdb.DuckDBPyConnection, tables: list[str], facts: DbtFacts) -> str:
    """What a serving file's tables look like apart from their rows: storage version, columns and types, keys,
    NOT NULLs, comments (from the dbt project) and the Parquet metadata. A serving file of the same layout can be
    brought up to date in place of being rebuilt."""
    columns = con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE "
                          "table_catalog = 'build' AND table_schema = 'marts' ORDER BY ALL").fetchall()
    described = [(t, _parquet_metadata(t, facts), facts.tables.get(t), facts.primary_keys.get(t),
                  sorted((c, facts.required(t, c), facts.columns.get((t, c))) for (tt, c, _) in columns if tt == t))
                 for t in tables]
    text = json.dumps([SERVING_STORAGE_VERSION, LAYOUT_VERSION, columns, described,
                       sorted(facts.usable_foreign_keys(set(tables))), sorted(facts.snapshot_marts)], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _copy_if_same_layout(serving_db: Path, staging: Path, layout: str) -> str | None:
    """Copies the current serving file to the staging file when its layout is this build's (a copy is ~0.3 s for
    700 MB; rebuilding its keys costs ~6 s per million rows). Returns the copied publication's version."""
    if not serving_db.exists():
        return None
    try:
        with duckdb.connect(str(serving_db), read_only=True) as con:
            (served,), = con.execute("SELECT fingerprint FROM meta.serving_layout").fetchall()
            (published_at,), = con.execute("SELECT published_at FROM meta.publication").fetchall()
    except (duckdb.Error, ValueError):  # an older file without a layout, or an unreadable one: rebuild
        return None
    if served != layout:
        return None
    shutil.copyfile(serving_db, staging)
    return _version(published_at)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copyfile(source, target)


def _version(published_at: datetime) -> str:
    return published_at.strftime("%Y%m%dT%H%M%S%f")


def _create_served(con: duckdb.DuckDBPyConnection, tables: list[str], facts: DbtFacts) -> set[str]:
    con.execute("CREATE SCHEMA serving.marts")
    con.execute("CREATE SCHEMA serving.meta")
    for table in facts.load_order(tables):  # referenced tables first: the foreign keys are checked on insert
        _create_served_table(con, table, facts, set(tables))
        con.execute(f'INSERT INTO serving.marts."{table}" SELECT * FROM build.marts."{table}"')
    return set(tables)


def _refresh_served(con: duckdb.DuckDBPyConnection, tables: list[str], facts: DbtFacts) -> set[str] | None:
    """Brings a copy of the previous serving file up to the build: a mart dbt rebuilds a snapshot at a time gets
    the snapshots whose build (built_at) differs replaced, any other mart whose rows differ is replaced whole. Returns
    the marts rewritten, or None when a mart other marts reference changed (its rows cannot be deleted under
    their foreign keys: the file is rebuilt)."""
    changes: dict[str, list | None] = {}  # mart -> changed snapshots, or None: replace it whole
    for table in tables:
        build, served = f'build.marts."{table}"', f'serving.marts."{table}"'
        if table in facts.snapshot_marts:
            # dbt replaces a snapshot whole and stamps its rows with the build's time: same stamp, same rows.
            versions = "SELECT snapshot_date, max(built_at) FROM {} GROUP BY ALL"
            changed = [d for (d,) in con.execute(
                f"SELECT DISTINCT snapshot_date FROM (({versions.format(build)} EXCEPT {versions.format(served)}) "
                f"UNION ALL ({versions.format(served)} EXCEPT {versions.format(build)}))").fetchall()]
            if changed:
                changes[table] = changed
        elif con.execute(f"(SELECT * FROM {build} EXCEPT ALL SELECT * FROM {served}) UNION ALL "
                         f"(SELECT * FROM {served} EXCEPT ALL SELECT * FROM {build}) LIMIT 1").fetchall():
            changes[table] = None
    if set(changes) & {target for (_, _, target, _) in facts.usable_foreign_keys(set(tables))}:
        return None
    for table, snapshots in changes.items():
        build, served = f'build.marts."{table}"', f'serving.marts."{table}"'
        # One statement each (autocommit): DuckDB refuses a key deleted and inserted in one transaction.
        if snapshots is None:  # dropped and created again: deleting every row of a keyed table is slow
            con.execute(f"DROP TABLE {served}")
            _create_served_table(con, table, facts, set(tables))
            con.execute(f"INSERT INTO {served} SELECT * FROM {build}")
        else:
            con.execute(f"DELETE FROM {served} WHERE snapshot_date IN (SELECT unnest(?::DATE[]))", [snapshots])
            con.execute(f"INSERT INTO {served} SELECT * FROM {build} WHERE snapshot_date IN "
                        "(SELECT unnest(?::DATE[]))", [snapshots])
    return set(changes)


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
    for source, column, target, target_column in facts.usable_foreign_keys(tables):
        if source == table:
            parts.append(f'FOREIGN KEY ("{column}") REFERENCES marts."{target}" ("{target_column}")')
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


def _repair_exports(root: Path) -> None:
    """``<root>/current`` (the exports, the open data) must be a symlink to a version folder. A real folder there
    (a restored backup, a copy made by hand) is kept as a version of its own, so the atomic switch can replace it."""
    link = root / "current"
    if link.is_dir() and not link.is_symlink():
        kept = root / "versions" / f"restored-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(link, kept)
    elif link.exists() and not link.is_symlink():
        raise PublishRefused(f"{link} is a file, not the link to the current exports: move it away and publish again")


def _switch_exports(root: Path, version: str) -> None:
    """``<root>/current`` is a symlink to the newest version folder, swapped atomically; old versions pruned."""
    link = root / "current"
    tmp = root / f".current.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path("versions") / version)
    os.replace(tmp, link)
    (root / "CURRENT").write_text(version + "\n", encoding="utf-8")
    versions = sorted(p for p in (root / "versions").iterdir() if not p.name.startswith("restored-"))
    for old in versions[:-3]:  # keep a few for readers still holding an older folder
        shutil.rmtree(old, ignore_errors=True)


