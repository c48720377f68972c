"""Ingest one file: read, parse, quarantine, land atomically, archive. Used by the CLI and by Dagster."""

from __future__ import annotations

import hashlib
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from ingestion import bps, landing, ods, opd, registry
from ingestion.errors import FileRejected
from ingestion.findings import Finding
from ingestion.mapping import SOURCES, load_mapping
from ingestion.pseudonym import MissingPseudonymKey, PseudonymKey, key_mismatch_message, pseudonym_key
from ingestion.quarantine import ParsedFile
from ingestion.reading import read_grid
from ingestion.utf8 import Utf8Check

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


@dataclass
class IngestResult:
    file: str
    source: str
    sha256: str
    # landed (rows in raw, its checks still to pass) | rejected | already_ingested | restored (a replaced ODS file
    # made current again) | known (seen before and not retried: failed_checks or rejected, see ``error``);
    # the gate (ingestion.gate) turns landed into loaded or failed_checks.
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    snapshot_date: str | None = None
    table_kind: str | None = None
    known_status: str | None = None  # for status 'known': the registry's status of the file

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


def _parse(con: duckdb.DuckDBPyConnection, source: str, path: Path, name: str, snapshot_date: date | None,
           key_file: Path | None, utf8: Utf8Check) -> tuple[str, ParsedFile, PseudonymKey | None]:
    grid = read_grid(path, load_mapping(source), name, utf8)
    today = datetime.now(timezone.utc).date()
    if source == "ods":
        on = snapshot_date or snapshot_date_from_name(name)
        if on is None:
            raise FileRejected(name, "no_snapshot_date")
        return grid.table.name, ods.parse_ods(grid, on), None
    if source == "bps":
        return grid.table.name, bps.parse_bps(grid, name), None
    if grid.table.name == "registry":
        return "registry", opd.parse_registry(grid, name, today), None
    try:
        key = pseudonym_key(key_file)
    except MissingPseudonymKey as e:
        raise FileRejected(name, "pseudonym_key", detail=str(e)) from None
    stored = landing.stored_key_fingerprint(con)
    if stored is not None and stored != key.fingerprint:
        raise FileRejected(name, "pseudonym_key", detail=key_mismatch_message(stored, key))
    return "members", opd.parse_members(grid, name, key.secret, today), key


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, source: str, archive_dir: Path, *,
                snapshot_date: date | None = None, key_file: Path | None = None,
                retry_known: bool = False, name: str | None = None, corrects: str | None = None,
                corrected_rows: list[tuple[str, int, int]] = ()) -> IngestResult:
    """Lands one file as PENDING (see ``landing``); ``ingestion.gate`` decides whether it becomes current.

    A file is known by its content. Already loaded: nothing to do. Seen before and failed or rejected: not
    retried (the inbox is scanned on every run) unless ``retry_known`` (a steward's explicit ``koperasi
    ingest``, e.g. after a mapping or threshold change). A replaced ODS file given again explicitly becomes
    current again. A file left PENDING by an interrupted run is landed afresh.

    ``name`` registers the file under another name than its path's; ``corrects`` and ``corrected_rows`` make it
    a correction of a loaded ODS file (see ``ingestion.corrections`` and ``registry.current_ods_rows``)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    name = name or path.name
    refused = not_a_regular_file(path)
    if refused is not None:  # never opened: a link may point anywhere on the machine, a FIFO blocks a reader
        return _refused(con, Finding("not_regular", {"what": refused}), source, name, started, retry_known)
    try:
        sha, utf8 = digest(path)
    except OSError as e:
        return _refused(con, Finding("unreadable_file", {"error_type": type(e).__name__}), source, name, started,
                        retry_known)
    known = registry.registry_entry(con, sha, source)
    if known is not None:
        status, error = known
        if status == registry.LOADED:
            return IngestResult(name, source, sha, "already_ingested")
        if status == registry.REPLACED and retry_known:
            registry.restore(con, sha)
            return IngestResult(name, source, sha, "restored")
        if status != registry.PENDING and not retry_known:
            return IngestResult(name, source, sha, "known", error=error, known_status=status)
        registry.forget(con, sha, source)
    try:
        kind, parsed, key = _parse(con, source, path, name, snapshot_date, key_file, utf8)
        with ThreadPoolExecutor(1) as pool:  # the archive copy runs beside the parse; done before the commit
            copying = pool.submit(landing.archive_file, path, sha, archive_dir)
            landed = landing.land(con, source=source, file=name, sha256=sha, archived=copying.result, table_kind=kind,
                                  parsed=parsed, started_at=started,
                                  key_fingerprint=key.fingerprint if key is not None else None,
                                  corrects=corrects, corrected_rows=corrected_rows)
    except FileRejected as e:  # before landing, or midway through it (rolled back)
        return _rejected(con, e.finding, sha, source, name, snapshot_date, started, corrects)
    except (duckdb.Error, KeyboardInterrupt, SystemExit):
        raise  # the warehouse's fault or the operator's, not the file's: the caller stops
    except Exception as e:  # anything else a file can provoke in a reader is that file's rejection, not the run's
        return _rejected(con, Finding("unexpected", {"error_type": type(e).__name__}), sha, source, name,
                         snapshot_date, started, corrects)
    warnings = list(parsed.warnings)
    if key is not None and key.generated:
        warnings.append(Finding("new_pseudonym_key", {"origin": str(key.origin)}))
    return IngestResult(
        name, source, sha, "landed", rows_read=landed.rows_read, rows_loaded=landed.rows_loaded,
        rows_quarantined=landed.rows_quarantined, reasons=dict(sorted(landed.reasons.items())),
        warnings=warnings, table_kind=kind,
        snapshot_date=parsed.snapshot_date.isoformat() if parsed.snapshot_date else None)


def _rejected(con: duckdb.DuckDBPyConnection, finding: Finding, sha: str, source: str, name: str,
              snapshot_date: date | None, started: datetime, corrects: str | None) -> IngestResult:
    error = f"{name}: {finding.english()}"
    registry.record_file(con, sha256=sha, source=source, file=name, archived_as=None, table_kind=None,
                        snapshot_date=snapshot_date, status=registry.REJECTED, rows_read=None, rows_loaded=None,
                        rows_quarantined=None, rows_skipped=None, warnings=[], error=error, started_at=started,
                        corrects=corrects, finding=finding.to_json())
    return IngestResult(name, source, sha, "rejected", error=error)


def _refused(con: duckdb.DuckDBPyConnection, finding: Finding, source: str, name: str, started: datetime,
             retry_known: bool) -> IngestResult:
    """A file that was never read has no content hash: its registry row is keyed by the SHA-256 of the entry
    (source, name, finding), so the same refusal is recorded once, not on every run."""
    sha = hashlib.sha256("\0".join(("refused", source, name, finding.to_json())).encode()).hexdigest()
    known = registry.registry_entry(con, sha, source)
    if known is not None and not retry_known:
        return IngestResult(name, source, sha, "known", error=known[1], known_status=known[0])
    if known is not None:
        registry.forget(con, sha, source)
    return _rejected(con, finding, sha, source, name, None, started, None)


def not_a_regular_file(path: Path) -> str | None:
    """Why a path is not read (a symbolic link, a FIFO, a device, a folder, missing), or None for a regular file.
    Judged on the path itself (lstat), so a link is never followed."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return "no such file"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if not stat.S_ISREG(mode):
        return "a folder" if stat.S_ISDIR(mode) else "a special file (FIFO, socket or device)"
    return None


def _inbox_folder(inbox: Path, source: str) -> Path | None:
    """The source's inbox folder when it is a real folder inside the inbox (not a link to elsewhere)."""
    folder = inbox / source
    if folder.is_symlink() or not folder.is_dir():
        return None
    return folder


def _inbox_entries(inbox: Path, source: str) -> list[Path]:
    folder = _inbox_folder(inbox, source)
    if folder is None:
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith((".", "~$")))


def inbox_entries(inbox: Path, source: str) -> list[Path]:
    """Every entry of the source's inbox folder, links and special files included: ``ingest_file`` refuses
    those (a registry row says why) without opening them."""
    return _inbox_entries(inbox, source)


def inbox_files(inbox: Path, source: str) -> list[Path]:
    """The regular files physically inside the source's inbox folder: links and special files are left out
    (``refused_inbox_entries`` names them), so nothing outside the inbox is ever read."""
    return [p for p in _inbox_entries(inbox, source) if not_a_regular_file(p) is None]


def refused_inbox_entries(inbox: Path, source: str) -> list[tuple[str, str]]:
    """(name, why) of the inbox entries that are not read: links, special files, folders; and the source's
    folder itself when it is a link."""
    folder = inbox / source
    if folder.is_symlink():
        return [(source, Finding("not_regular", {"what": "the inbox folder is a symbolic link"}).english())]
    return [(p.name, Finding("not_regular", {"what": why}).english())
            for p in _inbox_entries(inbox, source) if (why := not_a_regular_file(p)) is not None]


def pending_snapshot_dates(database: Path, inbox: Path) -> list[str]:
    """Snapshot dates of the ODS inbox files never seen before (an empty or missing database: all of them).

    A file seen before, whatever became of it (loaded, replaced, withdrawn, rejected), is not pending: a
    withdrawn file is not retried until its content changes, and later runs go on with everything else."""
    dates: dict[str, list[Path]] = {}
    for path in inbox_files(inbox, "ods"):
        snapshot = snapshot_date_from_name(path.name)
        if snapshot is not None:
            dates.setdefault(snapshot.isoformat(), []).append(path)
    if not database.exists():
        return sorted(dates)
    with duckdb.connect(str(database), read_only=True) as con:
        try:
            seen = {sha for (sha,) in con.execute(
                f"SELECT sha256 FROM raw.ingested_files WHERE source = 'ods' AND status <> '{registry.PENDING}'"
            ).fetchall()}
        except duckdb.CatalogException:
            seen = set()
    return sorted(d for d, paths in dates.items() if any(file_sha256(p) not in seen for p in paths))
