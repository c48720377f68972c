"""Ingest one file: read, parse, quarantine, land atomically, archive. Used by the CLI and by Dagster."""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from ingestion import bps, landing, ods, opd
from ingestion.errors import FileRejected
from ingestion.mapping import load_mapping
from ingestion.pseudonym import MissingPseudonymKey, pseudonym_key
from ingestion.quarantine import ParsedFile
from ingestion.reading import read_grid
from ingestion.utf8 import Utf8Check

SOURCES = ("ods", "bps", "opd")
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


@dataclass
class IngestResult:
    file: str
    source: str
    sha256: str
    status: str  # loaded | rejected | already_ingested
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    snapshot_date: str | None = None
    table_kind: str | None = None

    def as_json(self) -> dict:
        keys = ("file", "source", "sha256", "status", "rows_read", "rows_loaded", "rows_quarantined", "reasons",
                "error", "warnings", "snapshot_date")
        data = asdict(self)
        return {k: data[k] for k in keys}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def digest(path: Path) -> tuple[str, Utf8Check]:
    """SHA-256 and the UTF-8 check of a file in one read; hashing runs beside the check (both release the GIL)."""
    sha = hashlib.sha256()
    utf8 = Utf8Check()
    with ThreadPoolExecutor(1) as pool, path.open("rb") as f:
        hashing = None
        for block in iter(lambda: f.read(1 << 22), b""):
            if hashing is not None:
                hashing.result()
            hashing = pool.submit(sha.update, block)
            utf8.feed(block)
        if hashing is not None:
            hashing.result()
    return sha.hexdigest(), utf8.finish()


def snapshot_date_from_name(name: str) -> date | None:
    for year, month, day in _DATE_IN_NAME.findall(name):
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            continue
    return None


def _parse(source: str, path: Path, snapshot_date: date | None, key_file: Path | None,
           utf8: Utf8Check) -> tuple[str, ParsedFile]:
    name = path.name
    grid = read_grid(path, load_mapping(source), name, utf8)
    today = datetime.now(timezone.utc).date()
    if source == "ods":
        on = snapshot_date or snapshot_date_from_name(name)
        if on is None:
            raise FileRejected(name, "no snapshot date: put it in the file name (YYYY-MM-DD or YYYYMMDD) "
                                     "or pass --snapshot-date")
        return grid.table.name, ods.parse_ods(grid, on)
    if source == "bps":
        return grid.table.name, bps.parse_bps(grid, name)
    if grid.table.name == "registry":
        return "registry", opd.parse_registry(grid, name, today)
    try:
        key = pseudonym_key(key_file)
    except MissingPseudonymKey as e:
        raise FileRejected(name, str(e)) from None
    return "members", opd.parse_members(grid, name, key, today)


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, source: str, archive_dir: Path, *,
                snapshot_date: date | None = None, key_file: Path | None = None) -> IngestResult:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    name = path.name
    if not path.is_file():
        return IngestResult(name, source, "", "rejected", error=f"{path}: no such file")
    sha, utf8 = digest(path)
    if landing.loaded_status(con, sha):
        return IngestResult(name, source, sha, "already_ingested")
    try:
        kind, parsed = _parse(source, path, snapshot_date, key_file, utf8)
        with ThreadPoolExecutor(1) as pool:  # the archive copy runs beside the parse; done before the commit
            copying = pool.submit(landing.archive_file, path, sha, archive_dir)
            landed = landing.land(con, source=source, file=name, sha256=sha, archived=copying.result, table_kind=kind,
                                  parsed=parsed, started_at=started)
    except FileRejected as e:  # before landing, or midway through it (rolled back)
        landing.record_file(con, sha256=sha, source=source, file=name, archived_as=None, table_kind=None,
                            snapshot_date=snapshot_date, status="rejected", rows_read=None, rows_loaded=None,
                            rows_quarantined=None, rows_skipped=None, warnings=[], error=str(e), started_at=started)
        return IngestResult(name, source, sha, "rejected", error=str(e))
    return IngestResult(
        name, source, sha, "loaded", rows_read=landed.rows_read, rows_loaded=landed.rows_loaded,
        rows_quarantined=landed.rows_quarantined, reasons=dict(sorted(landed.reasons.items())),
        warnings=parsed.warnings, table_kind=kind,
        snapshot_date=parsed.snapshot_date.isoformat() if parsed.snapshot_date else None)


def inbox_files(inbox: Path, source: str) -> list[Path]:
    folder = inbox / source
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))


def pending_snapshot_dates(database: Path, inbox: Path) -> list[str]:
    """Snapshot dates of the ODS inbox files not loaded yet (an empty or missing database: all of them)."""
    dates: dict[str, list[Path]] = {}
    for path in inbox_files(inbox, "ods"):
        snapshot = snapshot_date_from_name(path.name)
        if snapshot is not None:
            dates.setdefault(snapshot.isoformat(), []).append(path)
    if not database.exists():
        return sorted(dates)
    with duckdb.connect(str(database), read_only=True) as con:
        try:
            loaded = {sha for (sha,) in con.execute(
                "SELECT sha256 FROM raw.ingested_files WHERE status = 'loaded'").fetchall()}
        except duckdb.CatalogException:
            loaded = set()
    return sorted(d for d, paths in dates.items() if any(file_sha256(p) not in loaded for p in paths))
