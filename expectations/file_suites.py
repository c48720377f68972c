"""The blocking suites a new file must pass at the file gate (``ingestion.gate``), by the raw table it lands in,
and the judge the gate is given: it runs them, records their history and renders the Data Docs once per batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

from expectations import checks, gx_loader, history
from expectations.runner import ExpectationOutcome, SuiteOutcome, data_docs_batch
from expectations.suites import ERROR
from ingestion import privacy
from ingestion.api import IngestResult

Suite = Callable[[duckdb.DuckDBPyConnection, Path, IngestResult], SuiteOutcome]


def _ods(con, quality: Path, r: IngestResult) -> SuiteOutcome:
    return checks.ods_snapshot(con, quality, r.sha256, date.fromisoformat(r.snapshot_date))


def _ods_correction(con, quality: Path, r: IngestResult) -> SuiteOutcome:
    """A correction is judged by the snapshot it would make (its few rows alone say nothing of the snapshot);
    its own share of rows still wrong is not a reason to refuse the rows that are fixed."""
    return checks.ods_snapshot(con, quality, r.sha256, date.fromisoformat(r.snapshot_date), correction=True)


def _ods_accounting(con, quality: Path, r: IngestResult) -> SuiteOutcome:
    return checks.file_accounting(con, quality, [r.sha256])


def _quarantine_privacy(con, quality: Path, r: IngestResult) -> SuiteOutcome:
    """No personal value in what an OPD list left in the quarantine (the privacy rule is the first defence).
    A registry list keeps its cooperatives' registry numbers, 16 digits that can look like a KTP NIK: there the
    KTP pattern is not applied (a KTP column of a registry list is masked by the rule: no mapping knows it)."""
    kinds = None if r.table_kind == "members" else tuple(k for k in privacy.PATTERNS if k != "ktp_nik")
    rows = con.execute("SELECT source_row, message, record FROM raw.quarantine WHERE sha256 = ?", [r.sha256]).fetchall()
    found = privacy.scan([(f"{r.file} row {row} {part}", text) for row, message, record in rows
                          for part, text in (("reason", message), ("record", record))], kinds=kinds)
    observed = "; ".join(sorted({f.describe() for f in found}))[:200] or "none"
    return SuiteOutcome("quarantine_privacy", [ExpectationOutcome(
        "expect_no_personal_values_in_quarantine", None, ERROR, not found, observed)])


# raw table -> the blocking suites a new file of it must pass
SUITES: dict[str, list[Suite]] = {
    "ods_cooperatives": [_ods, _ods_accounting],
    "bps_population": [lambda con, q, r: checks.bps_population(con, q, r.sha256),
                       lambda con, q, r: checks.bps_totals(con, q, r.sha256)],
    "bps_businesses": [lambda con, q, r: checks.bps_businesses(con, q, r.sha256),
                       lambda con, q, r: checks.bps_totals(con, q, r.sha256)],
    "opd_cooperatives": [_quarantine_privacy],
    "opd_members": [lambda con, q, r: checks.opd_members(con, q, r.sha256), _quarantine_privacy],
}


class GxFileJudge:
    """What ``ingestion.gate`` asks of the quality layer (``ingestion.gate.FileJudge``), answered with GX."""

    def suites(self, table: str, *, correction: bool) -> list[Suite]:
        return [_ods_correction] if correction else SUITES[table]

    def record(self, con: duckdb.DuckDBPyConnection, outcome: SuiteOutcome, **where) -> None:
        history.record(con, outcome, **where)

    def quarantine_is_the_problem(self, failed: list[SuiteOutcome]) -> bool:
        return any(o.suite == "quarantine_privacy" for o in failed)

    @contextmanager
    def session(self) -> Iterator[None]:
        """GX imported while the first file is read; the Data Docs rendered once for all the files."""
        gx_loader.preload()
        with data_docs_batch():
            yield


def file_judge() -> GxFileJudge:
    return GxFileJudge()
