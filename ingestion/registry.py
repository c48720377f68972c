"""The file registry (``raw.ingested_files``): the one place that says which files the warehouse is built from.

Its status values, the rules read from it (the current rows of each ODS snapshot, the latest entry under each
file name, the quarantine nobody has fixed yet) and the transitions of a file: recorded, admitted, withdrawn,
restored, forgotten. dbt staging and the quality checks read only files whose status is ``LOADED``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone

import duckdb

from ingestion.findings import Finding
from ingestion.raw_schema import DATA_TABLES

PENDING = "pending"          # landed, its blocking checks not passed yet: invisible downstream
LOADED = "loaded"            # passed its checks: the current file (for ODS: of its snapshot)
REPLACED = "replaced"        # an ODS file superseded by a newer file of its snapshot; rows kept, can be restored
FAILED_CHECKS = "failed_checks"  # withdrawn after a blocking check failed; rows deleted, file archived
REJECTED = "rejected"        # could not be read at all


def current_ods_rows(candidate: str | None = None) -> str:
    """The rows of each ODS snapshot, as the registry says (the one place of this rule; dbt staging reads it
    through the view raw.current_ods_cooperatives, the gate with a candidate file counted as admitted).

    A snapshot is its current file, with the rows of the loaded corrections of that file merged in by
    registry number: a corrected row replaces the file's row of the same number (the newest correction
    wins) or adds one (a row that was quarantined). A correction never removes a row it does not carry,
    and a correction of a file that is no longer current (replaced by a re-export) no longer applies."""
    return f"""
        WITH files AS (
            SELECT DISTINCT sha256, corrects FROM raw.ingested_files
            WHERE source = 'ods' AND sha256 IN ({current_files(candidate)})),
        corrections AS (
            SELECT r.* FROM raw.ods_cooperatives AS r
            JOIN files AS f ON f.sha256 = r._source_sha256
            WHERE f.corrects IN (SELECT sha256 FROM files WHERE corrects IS NULL)
            QUALIFY row_number() OVER (PARTITION BY r.snapshot_date, r.cooperative_nik
                                       ORDER BY r._ingested_at DESC, r._source_row DESC) = 1)
        SELECT r.* FROM raw.ods_cooperatives AS r
        WHERE r._source_sha256 IN (SELECT sha256 FROM files WHERE corrects IS NULL)
          AND NOT EXISTS (SELECT 1 FROM corrections AS c
                          WHERE c.snapshot_date = r.snapshot_date AND c.cooperative_nik = r.cooperative_nik)
        UNION ALL
        SELECT * FROM corrections"""


def current_files(candidate: str | None = None) -> str:
    """The files the warehouse is built from: admitted by the gate (``LOADED``); with ``candidate``, as if that
    file were admitted too (what the gate checks before it admits it)."""
    return f"SELECT sha256 FROM raw.ingested_files WHERE status = '{LOADED}'" + (
        f" OR sha256 = '{candidate}'" if candidate else "")


# The current rows of the BPS and OPD tables: the current files' rows, the latest load of each key. The rule of
# each table is written once, here: dbt staging reads it through the views raw.current_<table>, the gate through
# ``current_rows(table, candidate)``.
LATEST_BY = {
    "bps_population": ("region_code, year, sex", "_ingested_at DESC"),
    "bps_businesses": ("region_code, year, scale", "_ingested_at DESC"),
    "opd_cooperatives": ("opd_code", "list_date DESC, _ingested_at DESC"),
}


def current_rows(table: str, candidate: str | None = None) -> str:
    if table == "opd_members":
        return current_member_lists(candidate)
    partition_by, order_by = LATEST_BY[table]
    return f"""
        SELECT * FROM raw.{table} WHERE _source_sha256 IN ({current_files(candidate)})
        QUALIFY row_number() OVER (PARTITION BY {partition_by} ORDER BY {order_by}) = 1"""


def current_member_lists(candidate: str | None = None) -> str:
    """Every row of the latest member list of each cooperative (a list replaces the earlier one as a whole)."""
    return f"""
        WITH lists AS (
            SELECT cooperative_nik, _source_sha256 FROM raw.opd_members
            WHERE _source_sha256 IN ({current_files(candidate)})
            GROUP BY cooperative_nik, _source_sha256
            QUALIFY row_number() OVER (PARTITION BY cooperative_nik
                                       ORDER BY max(list_date) DESC, max(_ingested_at) DESC) = 1)
        SELECT m.* FROM raw.opd_members AS m JOIN lists AS l USING (cooperative_nik, _source_sha256)"""


def current_views() -> dict[str, str]:
    """View name -> its rule: what dbt staging reads (sources ``raw.current_*``), never the tables directly."""
    return {"current_files": current_files(), "current_ods_cooperatives": current_ods_rows(),
            **{f"current_{table}": current_rows(table) for table in (*LATEST_BY, "opd_members")}}


def open_quarantine() -> str:
    """Quarantined rows nobody has fixed yet: not taken over by a loaded correction, of a file that is not
    replaced (a re-export's own quarantine counts instead)."""
    return f"""
        SELECT q.* FROM raw.quarantine AS q
        WHERE q.sha256 NOT IN (SELECT sha256 FROM raw.ingested_files WHERE status = '{REPLACED}')
          AND NOT EXISTS (
            SELECT 1 FROM raw.corrected_rows AS c JOIN raw.ingested_files AS f
              ON f.sha256 = c.correction_sha256 AND f.status = '{LOADED}'
            WHERE c.corrected_sha256 = q.sha256 AND c.corrected_row = q.source_row)"""


def registry_entry(con: duckdb.DuckDBPyConnection, sha256: str, source: str) -> tuple[str, str | None] | None:
    """(status, error) of a file known by its content as a file of ``source`` (the same bytes dropped in the
    wrong inbox are another entry), or None for a file never seen."""
    rows = con.execute("SELECT status, error FROM raw.ingested_files WHERE sha256 = ? AND source = ? "
                       "ORDER BY finished_at DESC LIMIT 1", [sha256, source]).fetchall()
    return rows[0] if rows else None


def has_loaded_files(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute(f"SELECT count(*) FROM raw.ingested_files WHERE status = '{LOADED}'").fetchall()[0][0] > 0


def newest_loaded_at(con: duckdb.DuckDBPyConnection, source: str) -> datetime | None:
    """When the newest file of a source that is in the warehouse was loaded."""
    return con.execute(f"SELECT max(finished_at) FROM raw.ingested_files WHERE source = ? AND status = '{LOADED}'",
                       [source]).fetchall()[0][0]


def latest_files() -> str:
    """The registry's latest entry under each file name: a corrected file given the same name replaces what
    became of the earlier one."""
    return """
        SELECT * FROM raw.ingested_files
        QUALIFY row_number() OVER (PARTITION BY source, file ORDER BY finished_at DESC) = 1"""


def files_not_loaded(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str]]:
    """(source, file, status, why) of the files that failed their checks or could not be read, by the latest
    entry under each name: a corrected file given the same name no longer counts as withdrawn."""
    return con.execute(f"""
        SELECT source, file, status, coalesce(error, '') FROM ({latest_files()})
        WHERE status IN ('{FAILED_CHECKS}', '{REJECTED}')
        ORDER BY source, file""").fetchall()


def latest_entry_named(con: duckdb.DuckDBPyConnection, file: str) -> tuple | None:
    """(sha256, source, status, snapshot_date, corrects) of the latest registry entry under a file name."""
    rows = con.execute("SELECT sha256, source, status, snapshot_date, corrects FROM raw.ingested_files WHERE file = ? "
                       "ORDER BY finished_at DESC LIMIT 1", [file]).fetchall()
    return rows[0] if rows else None


def done_files(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(source, sha256) of every file the registry is done with (whatever became of it): not to be started again."""
    return set(con.execute(f"SELECT source, sha256 FROM raw.ingested_files WHERE status <> '{PENDING}'").fetchall())


def rows_fixed_by(con: duckdb.DuckDBPyConnection, correction_sha256: str) -> int:
    """Quarantined rows a correction took over and loaded (its rows still quarantined do not count)."""
    return con.execute(
        "SELECT count(*) FROM raw.corrected_rows AS c JOIN raw.quarantine AS q "
        "ON q.sha256 = c.corrected_sha256 AND q.source_row = c.corrected_row "
        "WHERE c.correction_sha256 = ? AND c.correction_row NOT IN "
        "(SELECT source_row FROM raw.quarantine WHERE sha256 = ?)",
        [correction_sha256, correction_sha256]).fetchall()[0][0]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def record_file(con: duckdb.DuckDBPyConnection, *, sha256: str, source: str, file: str, archived_as: str | None,
                table_kind: str | None, snapshot_date, status: str, rows_read: int | None, rows_loaded: int | None,
                rows_quarantined: int | None, rows_skipped: int | None, warnings: list[Finding], error: str | None,
                started_at: datetime, corrects: str | None = None, finding: str | None = None) -> None:
    con.execute(
        "INSERT INTO raw.ingested_files (sha256, source, file, archived_as, table_kind, snapshot_date, status, "
        "rows_read, rows_loaded, rows_quarantined, rows_skipped, warnings, error, started_at, finished_at, corrects, "
        "finding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [sha256, source, file, archived_as, table_kind, snapshot_date, status, rows_read, rows_loaded,
         rows_quarantined, rows_skipped, json.dumps([w.as_dict() for w in warnings]), error, started_at, _now(), corrects, finding])


def in_transaction(con: duckdb.DuckDBPyConnection, statements: Callable[[], None]) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        statements()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def admit(con: duckdb.DuckDBPyConnection, sha256: str) -> None:
    """A pending file passed its blocking checks: it becomes current. For ODS, the file it replaces (same
    snapshot) becomes REPLACED in the same transaction: readers see one file per snapshot, old or new.
    A correction replaces nothing: its rows are merged into its file's (see ``current_ods_rows``)."""
    def statements() -> None:
        con.execute(f"""UPDATE raw.ingested_files AS f SET status = '{REPLACED}'
            FROM raw.ingested_files AS c
            WHERE c.sha256 = ? AND c.source = 'ods' AND c.status IN ('{PENDING}', '{REPLACED}') AND f.source = 'ods'
              AND f.status = '{LOADED}' AND f.snapshot_date = c.snapshot_date AND f.sha256 <> c.sha256
              AND c.corrects IS NULL AND f.corrects IS NULL""", [sha256])
        con.execute(f"UPDATE raw.ingested_files SET status = '{LOADED}', error = NULL "
                    f"WHERE sha256 = ? AND status IN ('{PENDING}', '{REPLACED}')", [sha256])
    in_transaction(con, statements)


def restore(con: duckdb.DuckDBPyConnection, sha256: str) -> None:
    """Makes a REPLACED ODS file current again (it passed its checks when it was loaded; its rows were kept)."""
    admit(con, sha256)


def withdraw(con: duckdb.DuckDBPyConnection, sha256: str, reason: str, *, keep_quarantine: bool = True) -> None:
    """Takes a file back out of raw.* after it failed a blocking quality check.

    The file stays archived and its registry row says why; it is not retried until its content changes (or a
    steward asks for it explicitly with ``koperasi ingest``). Data that fails never reaches the marts. Its
    quarantined rows stay for the steward to correct, unless they are the problem (personal data)."""
    def statements() -> None:
        _delete_rows(con, sha256, keep_quarantine=keep_quarantine)
        con.execute(f"UPDATE raw.ingested_files SET status = '{FAILED_CHECKS}', error = ? "
                    f"WHERE sha256 = ? AND status IN ('{PENDING}', '{LOADED}')", [reason, sha256])
    in_transaction(con, statements)


def forget(con: duckdb.DuckDBPyConnection, sha256: str, source: str) -> None:
    """Removes every trace of a file that is to be ingested again (its rows, quarantine and registry row)."""
    def statements() -> None:
        _delete_rows(con, sha256)
        con.execute("DELETE FROM raw.ingested_files WHERE sha256 = ? AND source = ?", [sha256, source])
    in_transaction(con, statements)


def _delete_rows(con: duckdb.DuckDBPyConnection, sha256: str, *, keep_quarantine: bool = False) -> None:
    for table in DATA_TABLES:
        con.execute(f"DELETE FROM raw.{table} WHERE _source_sha256 = ?", [sha256])
    if not keep_quarantine:
        con.execute("DELETE FROM raw.quarantine WHERE sha256 = ?", [sha256])
        con.execute("DELETE FROM raw.corrected_rows WHERE correction_sha256 = ?", [sha256])
