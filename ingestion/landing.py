"""The raw layer of the build database: table definitions and the atomic landing of one file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from ingestion.errors import DatabaseBusy
from ingestion.private_files import copy_private
from ingestion.quarantine import EMPTY_QUARANTINE, Batch, LateFindings, ParsedFile

LINEAGE = "_source_file VARCHAR, _source_sha256 VARCHAR, _source_row INTEGER, _ingested_at TIMESTAMP"

RAW_TABLES = {
    "ods_cooperatives": f"""
        snapshot_date DATE NOT NULL, cooperative_nik VARCHAR NOT NULL, cooperative_name VARCHAR NOT NULL,
        legal_entity_number VARCHAR, legal_entity_date DATE, region_code VARCHAR NOT NULL, district VARCHAR,
        cooperative_type VARCHAR, cooperative_group VARCHAR, cooperative_form VARCHAR, is_active BOOLEAN,
        last_rat_year INTEGER, rat_virtual BOOLEAN, members_male INTEGER NOT NULL, members_female INTEGER NOT NULL,
        managers INTEGER, employees INTEGER, own_capital BIGINT, external_capital BIGINT, assets BIGINT,
        business_volume BIGINT, surplus BIGINT, has_nik_certificate BOOLEAN, {LINEAGE}""",
    "bps_population": f"region_code VARCHAR NOT NULL, year INTEGER NOT NULL, sex VARCHAR NOT NULL, population BIGINT NOT NULL, {LINEAGE}",
    "bps_businesses": f"region_code VARCHAR NOT NULL, year INTEGER NOT NULL, scale VARCHAR NOT NULL, businesses BIGINT NOT NULL, {LINEAGE}",
    "opd_cooperatives": f"opd_code VARCHAR NOT NULL, opd_name VARCHAR NOT NULL, cooperative_name VARCHAR, cooperative_nik VARCHAR NOT NULL, list_date DATE NOT NULL, {LINEAGE}",
    "opd_members": f"""
        cooperative_nik VARCHAR NOT NULL, list_date DATE NOT NULL, member_key VARCHAR NOT NULL,
        employment_status VARCHAR NOT NULL, joined_date DATE, principal_savings BIGINT, mandatory_savings BIGINT,
        owns_house BOOLEAN, {LINEAGE}""",
    "quarantine": """
        source VARCHAR NOT NULL, file VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, source_row INTEGER,
        reason VARCHAR NOT NULL, message VARCHAR NOT NULL, record JSON, quarantined_at TIMESTAMP NOT NULL""",
    "ingested_files": """
        sha256 VARCHAR NOT NULL, source VARCHAR NOT NULL, file VARCHAR NOT NULL, archived_as VARCHAR,
        table_kind VARCHAR, snapshot_date DATE, status VARCHAR NOT NULL, rows_read INTEGER, rows_loaded INTEGER,
        rows_quarantined INTEGER, rows_skipped INTEGER, warnings JSON, error VARCHAR,
        started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL""",
    # Lineage of corrections: which quarantined row of which file each row of a correction fixes.
    "corrected_rows": """
        correction_sha256 VARCHAR NOT NULL, corrected_sha256 VARCHAR NOT NULL, corrected_row INTEGER NOT NULL,
        correction_row INTEGER NOT NULL""",
    # The fingerprint of the key member lists were pseudonymised with (never the key): a list made with
    # another key is refused, since its member keys would match nobody's.
    "pseudonym_keys": "fingerprint VARCHAR NOT NULL, first_used_at TIMESTAMP NOT NULL",
}

DATA_TABLES = ("ods_cooperatives", "bps_population", "bps_businesses", "opd_cooperatives", "opd_members")

# The file registry (raw.ingested_files.status) is the one place that says which files the warehouse is built
# from. dbt staging and the quality checks read only files whose status is LOADED.
PENDING = "pending"          # landed, its blocking checks not passed yet: invisible downstream
LOADED = "loaded"            # passed its checks: the current file (for ODS: of its snapshot)
REPLACED = "replaced"        # an ODS file superseded by a newer file of its snapshot; rows kept, can be restored
FAILED_CHECKS = "failed_checks"  # withdrawn after a blocking check failed; rows deleted, file archived
REJECTED = "rejected"        # could not be read at all


def connect(database: Path, wait_seconds: float | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection. When another process holds DuckDB's file lock (a dbt that is still ending,
    a reader outside the pipeline), it waits for it (``KOPERASI_LOCK_WAIT_SECONDS``, default 120) instead of
    failing at once; then ``DatabaseBusy`` names the file."""
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    limit = float(os.environ.get("KOPERASI_LOCK_WAIT_SECONDS", "120")) if wait_seconds is None else wait_seconds
    deadline, pause = time.monotonic() + limit, 0.05
    while True:
        try:
            con = duckdb.connect(str(database), config={
                "preserve_insertion_order": False,
                "memory_limit": os.environ.get("KOPERASI_DUCKDB_MEMORY_LIMIT", "1GB")})
            break
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(f"{database} is held by another process (DuckDB's file lock) for more than "
                                   f"{limit:.0f} s; try again when it has finished") from None
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
    ensure_raw_schema(con)
    return con


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for name, columns in RAW_TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{name} ({columns})")
    # A correction (fixed quarantined rows of an ODS file) names the snapshot file it is merged into.
    con.execute("ALTER TABLE raw.ingested_files ADD COLUMN IF NOT EXISTS corrects VARCHAR")
    # Why a file was rejected, as a code with showable parameters (ingestion.findings): rendered, never parsed.
    con.execute("ALTER TABLE raw.ingested_files ADD COLUMN IF NOT EXISTS finding JSON")
    # The view is created once and replaced when the rule changes (its comment is the rule's fingerprint).
    rule = current_ods_rows()
    fingerprint = hashlib.sha256(rule.encode()).hexdigest()
    if con.execute("SELECT count(*) FROM duckdb_views() WHERE schema_name = 'raw' AND view_name = "
                   "'current_ods_cooperatives' AND comment = ?", [fingerprint]).fetchall()[0][0] == 0:
        con.execute(f"CREATE OR REPLACE VIEW raw.current_ods_cooperatives AS {rule}")
        con.execute(f"COMMENT ON VIEW raw.current_ods_cooperatives IS '{fingerprint}'")


def current_ods_rows(candidate: str | None = None) -> str:
    """The rows of each ODS snapshot, as the registry says (the one place of this rule; dbt staging reads it
    through the view raw.current_ods_cooperatives, the gate with a candidate file counted as admitted).

    A snapshot is its current file, with the rows of the loaded corrections of that file merged in by
    registry number: a corrected row replaces the file's row of the same number (the newest correction
    wins) or adds one (a row that was quarantined). A correction never removes a row it does not carry,
    and a correction of a file that is no longer current (replaced by a re-export) no longer applies."""
    admitted = f"status = '{LOADED}'" + (f" OR sha256 = '{candidate}'" if candidate else "")
    return f"""
        WITH files AS (
            SELECT DISTINCT sha256, corrects FROM raw.ingested_files WHERE source = 'ods' AND ({admitted})),
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


def stored_key_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT fingerprint FROM raw.pseudonym_keys ORDER BY first_used_at LIMIT 1").fetchall()
    return rows[0][0] if rows else None


def record_key_fingerprint(con: duckdb.DuckDBPyConnection, fingerprint: str) -> None:
    if stored_key_fingerprint(con) is None:
        con.execute("INSERT INTO raw.pseudonym_keys VALUES (?, ?)", [fingerprint, _now()])


def archive_file(path: Path, sha256: str, archive_dir: Path) -> Path:
    """The original file, kept by content hash, owner-only (0600 in 0700 folders: it may hold personal data)."""
    target = archive_dir / sha256[:2] / f"{sha256}{path.suffix.lower()}"
    if not target.exists():
        archive_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        target.parent.mkdir(mode=0o700, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        copy_private(path, tmp)
        tmp.replace(target)
    return target


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class Landed:
    """Counts of one landed file; for every loaded file rows_read = rows_loaded + rows_quarantined."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    reasons: Counter = field(default_factory=Counter)

    def add(self, batch: Batch) -> None:
        self.rows_read += batch.rows_read
        self.rows_loaded += batch.rows_read - batch.quarantine.height  # source rows (BPS lands each in long form)
        self.rows_quarantined += batch.quarantine.height
        self.rows_skipped += batch.rows_skipped
        if batch.quarantine.height:
            self.reasons.update(dict(batch.quarantine.group_by("reason").len().iter_rows()))


def land(con: duckdb.DuckDBPyConnection, *, source: str, file: str, sha256: str, archived: Callable[[], Path],
         table_kind: str, parsed: ParsedFile, started_at: datetime, key_fingerprint: str | None = None,
         corrects: str | None = None, corrected_rows: list[tuple[str, int, int]] = ()) -> Landed:
    """One transaction per file: every row of it lands, or none does (also when parsing fails midway).

    The file lands as PENDING: nothing downstream reads it until its blocking checks pass (``admit``).
    A correction names the file it ``corrects`` and which quarantined rows it fixes: ``corrected_rows`` as
    (corrected file's sha256, its row, this file's row).

    Batches are parsed as DuckDB inserts them, through one Arrow stream: one INSERT, bounded memory.
    ``archived`` returns the archived copy (waiting for it): the registry names it, so it exists first."""
    ingested_at = _now()
    landed = Landed()
    quarantined: list[pl.DataFrame] = []

    def rows() -> Iterator[pa.Table]:
        for batch in parsed.batches:
            landed.add(batch)
            if batch.quarantine.height:
                quarantined.append(batch.quarantine)
            yield batch.rows.to_arrow()

    con.execute("BEGIN TRANSACTION")
    try:
        # Lineage constants are added by DuckDB: a constant costs it nothing, a column of copies would.
        _insert_stream(con, f"raw.{parsed.table}", rows(), {"_source_file": file, "_source_sha256": sha256,
                                                           "_ingested_at": ingested_at})
        late = parsed.late() if parsed.late else None
        if late is not None:
            quarantined = _take_back(con, f"raw.{parsed.table}", sha256, late, quarantined, landed)
        if quarantined:
            quarantine = pl.concat(quarantined).with_columns(
                pl.lit(source).alias("source"), pl.lit(file).alias("file"), pl.lit(sha256).alias("sha256"),
                pl.lit(ingested_at).alias("quarantined_at")).to_arrow()
            con.register("landing_quarantine", quarantine)
            con.execute("INSERT INTO raw.quarantine BY NAME SELECT * FROM landing_quarantine")
            con.unregister("landing_quarantine")
        if key_fingerprint is not None:
            record_key_fingerprint(con, key_fingerprint)
        if corrected_rows:
            con.executemany("INSERT INTO raw.corrected_rows VALUES (?, ?, ?, ?)",
                            [(sha256, corrected, row, own_row) for corrected, row, own_row in corrected_rows])
        record_file(con, sha256=sha256, source=source, file=file, archived_as=str(archived().name),
                    table_kind=table_kind, snapshot_date=parsed.snapshot_date, status=PENDING,
                    rows_read=landed.rows_read, rows_loaded=landed.rows_loaded,
                    rows_quarantined=landed.rows_quarantined, rows_skipped=landed.rows_skipped,
                    warnings=parsed.warnings, error=None, started_at=started_at, corrects=corrects)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return landed


def _take_back(con: duckdb.DuckDBPyConnection, table: str, sha256: str, late: LateFindings,
               quarantined: list[pl.DataFrame], landed: Landed) -> list[pl.DataFrame]:
    """Applies what only the whole file showed: loaded rows go back out of the table into the quarantine;
    a row quarantined already for another reason gets the finding added to its message."""
    columns = ["source_row", "reason", "message", "record"]
    earlier = pl.concat(quarantined) if quarantined else EMPTY_QUARANTINE
    findings = late.messages.rename({"message": "finding"})
    earlier = earlier.join(findings, on="source_row", how="left").with_columns(
        pl.concat_str(["message", "finding"], separator="; ", ignore_nulls=True).alias("message")).select(columns)
    loaded = findings.filter(~pl.col("source_row").is_in(earlier.get_column("source_row").implode()))
    if loaded.height:
        con.register("late_rows", loaded.select("source_row").to_arrow())
        con.execute(f"DELETE FROM {table} WHERE _source_sha256 = ? AND _source_row IN (SELECT source_row FROM late_rows)",
                    [sha256])
        con.unregister("late_rows")
        records = late.records(loaded.get_column("source_row").to_list())
        taken_back = loaded.join(records, on="source_row", how="left").select(
            "source_row", pl.lit(late.reason).alias("reason"), pl.col("finding").alias("message"), "record")
        earlier = pl.concat([earlier, taken_back])
        landed.rows_loaded -= loaded.height
        landed.rows_quarantined += loaded.height
        landed.reasons[late.reason] += loaded.height
    return [earlier]


def _insert_stream(con: duckdb.DuckDBPyConnection, table: str, tables: Iterator[pa.Table],
                   constants: dict[str, object]) -> None:
    """Inserts a stream of Arrow tables with one statement. An exception raised while producing the stream
    (a file rejected midway) is re-raised as itself, not as DuckDB's wrapper of it."""
    tables = _prefetched(tables)
    first = next(tables, None)
    if first is None:
        return
    failure: list[BaseException] = []

    def record_batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from first.to_batches()
            for t in tables:
                yield from t.cast(first.schema).to_batches()
        except BaseException as e:
            failure.append(e)
            raise

    reader = pa.RecordBatchReader.from_batches(first.schema, record_batches())
    con.register("landing_stream", reader)
    try:
        extra = "".join(f", ? AS {name}" for name in constants)
        con.execute(f"INSERT INTO {table} BY NAME SELECT *{extra} FROM landing_stream", list(constants.values()))
    except duckdb.Error:
        if failure:
            raise failure[0] from None
        raise
    finally:
        with contextlib.suppress(duckdb.TransactionException):  # after a failure: replaced by the next register
            con.unregister("landing_stream")


def _prefetched(items: Iterator[pa.Table], depth: int = 1) -> Iterator[pa.Table]:
    """Produces the items in a thread, so that polars parses the next batch while DuckDB stores this one
    (both release the GIL). At most ``depth`` items wait, which bounds memory."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def hand_over(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
            hand_over(done)
        except BaseException as e:  # handed to the consumer, raised there
            hand_over(e)

    producer = threading.Thread(target=produce, name="koperasi-parse", daemon=True)
    producer.start()
    try:
        while (item := ready.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()


def record_file(con: duckdb.DuckDBPyConnection, *, sha256: str, source: str, file: str, archived_as: str | None,
                table_kind: str | None, snapshot_date, status: str, rows_read: int | None, rows_loaded: int | None,
                rows_quarantined: int | None, rows_skipped: int | None, warnings: list[str], error: str | None,
                started_at: datetime, corrects: str | None = None, finding: str | None = None) -> None:
    con.execute(
        "INSERT INTO raw.ingested_files (sha256, source, file, archived_as, table_kind, snapshot_date, status, "
        "rows_read, rows_loaded, rows_quarantined, rows_skipped, warnings, error, started_at, finished_at, corrects, "
        "finding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [sha256, source, file, archived_as, table_kind, snapshot_date, status, rows_read, rows_loaded,
         rows_quarantined, rows_skipped, json.dumps(warnings), error, started_at, _now(), corrects, finding])


def _in_transaction(con: duckdb.DuckDBPyConnection, statements: Callable[[], None]) -> None:
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
    _in_transaction(con, statements)


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
    _in_transaction(con, statements)


def forget(con: duckdb.DuckDBPyConnection, sha256: str, source: str) -> None:
    """Removes every trace of a file that is to be ingested again (its rows, quarantine and registry row)."""
    def statements() -> None:
        _delete_rows(con, sha256)
        con.execute("DELETE FROM raw.ingested_files WHERE sha256 = ? AND source = ?", [sha256, source])
    _in_transaction(con, statements)


def _delete_rows(con: duckdb.DuckDBPyConnection, sha256: str, *, keep_quarantine: bool = False) -> None:
    for table in DATA_TABLES:
        con.execute(f"DELETE FROM raw.{table} WHERE _source_sha256 = ?", [sha256])
    if not keep_quarantine:
        con.execute("DELETE FROM raw.quarantine WHERE sha256 = ?", [sha256])
        con.execute("DELETE FROM raw.corrected_rows WHERE correction_sha256 = ?", [sha256])
