"""The file gate: the one way a file gets into the warehouse, whoever brings it.

``koperasi ingest``, ``koperasi run``, the inbox sensor and a run started from the Dagster UI all call
``admit_file``: the file lands as PENDING (invisible to dbt and to every check), its blocking suites run on it,
and then it is either admitted (current; for ODS it replaces the snapshot's previous file in one transaction)
or withdrawn (rows deleted, registry says why, file archived, not retried until its content changes).

The suites are the quality layer's (``expectations.file_suites``): the caller hands the gate a ``FileJudge``, so
landing, judging and admitting one file are one module's work and ingestion imports no quality framework.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import duckdb

from ingestion import landing, registry
from ingestion.api import IngestResult, file_sha256, ingest_file, snapshot_date_from_name
from ingestion.corrections import WorkbookRefused, read_workbook

if TYPE_CHECKING:
    from warehouse.paths import KoperasiPaths


class Outcome(Protocol):
    """One suite's result on one file."""

    suite: str

    @property
    def passed(self) -> bool: ...

    def describe(self) -> str: ...


Suite = Callable[[duckdb.DuckDBPyConnection, Path, IngestResult], Outcome]


class FileJudge(Protocol):
    """The blocking suites of a new file of a raw table, their history, and one session for a batch of files."""

    def suites(self, table: str, *, correction: bool) -> list[Suite]: ...

    def record(self, con: duckdb.DuckDBPyConnection, outcome: Outcome, *, asset: str, partition: str | None,
               run_id: str | None, file: str) -> None: ...

    def session(self) -> AbstractContextManager: ...

    def quarantine_is_the_problem(self, failed: list[Outcome]) -> bool:
        """True when a failed suite found the quarantine itself unfit to keep (personal data in it)."""
        ...


def raw_table(result: IngestResult) -> str:
    return {("ods", "registry"): "ods_cooperatives", ("bps", "population"): "bps_population",
            ("bps", "businesses"): "bps_businesses", ("opd", "registry"): "opd_cooperatives",
            ("opd", "members"): "opd_members"}[(result.source, result.table_kind)]


@dataclass
class Admission:
    """What became of one file. ``result.status``: loaded | failed_checks | rejected | already_ingested |
    restored | known (seen before, not retried; ``result.known_status`` says how it ended)."""

    result: IngestResult
    outcomes: list[Outcome] = field(default_factory=list)
    table: str | None = None

    @property
    def withdrawn(self) -> bool:
        return self.result.status in ("failed_checks", "rejected") or self.result.known_status in (
            registry.FAILED_CHECKS, registry.REJECTED)

    def as_json(self) -> dict:
        return {**self.result.as_json(), "checks": [o.describe() for o in self.outcomes]}


def admit_file(con: duckdb.DuckDBPyConnection, path: Path, source: str, paths: KoperasiPaths, judge: FileJudge, *,
               snapshot_date: date | None = None, explicit: bool = False, run_id: str | None = None,
               log: Callable[[str], None] = lambda message: None, name: str | None = None,
               corrects: str | None = None, corrected_rows: list[tuple[str, int, int]] = ()) -> Admission:
    """Lands one file and passes it through its blocking checks. ``explicit``: a steward named the file
    (``koperasi ingest``): a file that failed before is tried again, a replaced snapshot file is restored.
    ``corrects``: the file is a correction of that loaded ODS file (see ``admit_corrections``)."""
    result = ingest_file(con, path, source, paths.archive, snapshot_date=snapshot_date,
                         key_file=paths.pseudonym_key_file, retry_known=explicit, name=name, corrects=corrects,
                         corrected_rows=corrected_rows)
    if result.status != "landed":
        if result.status == "rejected":
            log(f"{result.file} rejected: {result.error}")
        return Admission(result)
    table = raw_table(result)
    suites = judge.suites(table, correction=corrects is not None)
    outcomes = [suite(con, paths.quality, result) for suite in suites]
    partition = result.snapshot_date if source == "ods" else None
    for outcome in outcomes:
        judge.record(con, outcome, asset=f"raw/{table}", partition=partition, run_id=run_id, file=result.file)
    failed = [o for o in outcomes if not o.passed]
    if failed:
        reason = "failed quality checks: " + " | ".join(o.describe() for o in failed)
        # The quarantine stays for the steward to correct, unless it is what failed (personal data in it).
        registry.withdraw(con, result.sha256, reason,
                         keep_quarantine=not judge.quarantine_is_the_problem(failed))
        result.status, result.error = "failed_checks", reason
        log(f"{result.file} withdrawn: {reason}")
    else:
        registry.admit(con, result.sha256)
        result.status = "loaded"
    return Admission(result, outcomes, table)


def admit_files(con: duckdb.DuckDBPyConnection, files: list[Path], source: str, paths: KoperasiPaths,
                judge: FileJudge, **kwargs) -> list[Admission]:
    """Several files in order; ODS files in snapshot-date order, so each is compared with the one before."""
    if not files:
        return []
    if source == "ods":
        files = sorted(files, key=lambda p: snapshot_date_from_name(p.name) or date.min)  # stable: else as given
    with judge.session():
        return [admit_file(con, path, source, paths, judge, **kwargs) for path in files]


@dataclass
class CorrectionOutcome:
    """What became of one sheet of a correction workbook."""

    sheet: str
    target_file: str
    admission: Admission | None = None
    rows_fixed: int = 0  # quarantined rows of the target file now loaded
    problem: str | None = None  # why the sheet was not used at all (Indonesian, for the steward)

    @property
    def withdrawn(self) -> bool:
        return self.problem is not None or (self.admission is not None and self.admission.withdrawn)


def _correction_target(con: duckdb.DuckDBPyConnection, file: str) -> tuple[tuple | None, str | None]:
    """((sha256 of the corrected file, snapshot date, sha256 of the snapshot's file), None), or (None, why not)
    for a sheet of fixed rows of ``file``."""
    target = registry.latest_entry_named(con, file)
    if target is None:
        return None, f"berkas {file} tidak pernah dimuat"
    sha, source, _, snapshot, corrects = target
    if source != "ods":
        return None, f"koreksi per baris hanya untuk berkas ODS; perbaiki berkas asli {file} dan taruh lagi di inbox/{source}"
    base = corrects or sha  # a correction of a correction merges into the same snapshot file
    if registry.registry_entry(con, base, "ods")[0] != registry.LOADED:
        return None, (f"snapshot berkas {file} sudah diganti ekspor yang lebih baru; buat lembar koreksi dari "
                      "karantina berkas yang baru")
    return (sha, snapshot, base), None


def admit_corrections(con: duckdb.DuckDBPyConnection, workbook: Path, paths: KoperasiPaths, judge: FileJudge, *,
                      run_id: str | None = None) -> list[CorrectionOutcome]:
    """Merges the fixed rows of a correction workbook into their ODS snapshots, through the same gate.

    Each sheet becomes a correction file of the snapshot's current file: its rows are parsed by the same rules
    (rows still wrong are quarantined again, with the new reason), the snapshot it would make passes the
    snapshot's blocking checks, and then its rows replace or add rows by registry number; no other row of the
    snapshot changes. The workbook is archived; each fixed row is recorded with the row it fixes."""
    try:
        sheets = read_workbook(workbook)
    except WorkbookRefused as e:
        return [CorrectionOutcome("", workbook.name, problem=e.problem)]
    landing.archive_file(workbook, file_sha256(workbook), paths.archive)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="koreksi-") as tmp:
        for number, sheet in enumerate(sheets):
            target, problem = _correction_target(con, sheet.file)
            outcome = CorrectionOutcome(sheet.sheet, sheet.file, problem=problem)
            outcomes.append(outcome)
            if target is None:
                continue
            corrected, snapshot, base = target
            csv_path = Path(tmp) / f"{number}.csv"
            lines = sheet.write_csv(csv_path)
            outcome.admission = admit_file(
                con, csv_path, "ods", paths, judge, snapshot_date=snapshot, explicit=True, run_id=run_id,
                name=f"{workbook.name} › {sheet.file}", corrects=base,
                corrected_rows=[(corrected, row, line) for row, line in lines.items()])
            if outcome.admission.result.status == "loaded":
                outcome.rows_fixed = registry.rows_fixed_by(con, outcome.admission.result.sha256)
    return outcomes
