"""Landing one file in the raw layer of the build database: the connection, the schema, the archive copy and
the atomic insert of its rows as a PENDING file (the registry, ``ingestion.registry``, decides the rest)."""

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
from ingestion.raw_schema import DATA_TABLES, RAW_TABLES
from ingestion.registry import PENDING, current_views, record_file
from ingestion.quarantine import EMPTY_QUARANTINE, Batch, LateFindings, ParsedFile, with_messages

def connect(database: Path, wait_seconds: float | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection. When another process holds DuckDB's file lock (a dbt that is still ending,
    a reader outside the pipeline), it waits for it (``KOPERASI_LOCK_WAIT_SECONDS``, default 900, as for the
    pipeline lock) instead of
    failing at once; then ``DatabaseBusy`` names the file."""
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    limit = float(os.environ.get("KOPERASI_LOCK_WAIT_SECONDS", "900")) if wait_seconds is None else wait_seconds
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
    # Why a row is quarantined: its row findings (ingestion.findings.ROW_TEXTS), ``message`` is their English.
    con.execute("ALTER TABLE raw.quarantine ADD COLUMN IF NOT EXISTS findings JSON")
    # Each view is created once and replaced when its rule changes (its comment is the rule's fingerprint).
    for view, rule in current_views().items():
        fingerprint = hashlib.sha256(rule.encode()).hexdigest()
        if con.execute("SELECT count(*) FROM duckdb_views() WHERE schema_name = 'raw' AND view_name = ? "
                       "AND comment = ?", [view, fingerprint]).fetchall()[0][0] == 0:
            con.execute(f"CREATE OR REPLACE VIEW raw.{view} AS {rule}")
            con.execute(f"COMMENT ON VIEW raw.{view} IS '{fingerprint}'")


def stored_key_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT fingerprint FROM raw.pseudonym_keys ORDER BY first_used_at LIMIT 1").fetchall()
    return rows[0][0] if rows else None


def record_key_fingerprint(con: duckdb.DuckDBPyConnection, fingerprint: str) -> None:
    if stored_key_fingerprint(con) is None:
        con.execute("INSERT INTO raw.pseudonym_keys VALUES (?, ?)", [fingerprint, datetime.now(timezone.utc).replace(tzinfo=None)])


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
    ingested_at = datetime.now(timezone.utc).replace(tzinfo=None)
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
    a row quarantined already for another reason gets the finding added to its findings."""
    earlier = pl.concat(quarantined) if quarantined else EMPTY_QUARANTINE
    findings = late.findings
    earlier = with_messages(earlier.join(findings, on="source_row", how="left").with_columns(
        pl.when(pl.col("finding").is_null()).then(pl.col("findings"))
        .otherwise(pl.concat_str([pl.col("findings").str.head(-1), pl.lit(","), pl.col("finding"), pl.lit("]")]))
        .alias("findings")))
    loaded = findings.filter(~pl.col("source_row").is_in(earlier.get_column("source_row").implode()))
    if loaded.height:
        con.register("late_rows", loaded.select("source_row").to_arrow())
        con.execute(f"DELETE FROM {table} WHERE _source_sha256 = ? AND _source_row IN (SELECT source_row FROM late_rows)",
                    [sha256])
        con.unregister("late_rows")
        records = late.records(loaded.get_column("source_row").to_list())
        taken_back = loaded.join(records, on="source_row", how="left").select(
            "source_row", pl.lit(late.reason).alias("reason"), pl.lit("").alias("message"),
            pl.concat_str([pl.lit("["), pl.col("finding"), pl.lit("]")]).alias("findings"), "record")
        earlier = pl.concat([earlier, with_messages(taken_back)])
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


