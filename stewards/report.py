"""The steward's quality report: what the latest build and every file went through, in plain Indonesian.

Read from the build database only (the build verdict, the file registry, the gate's check results and the
quarantine); ``render`` turns it into text for the terminal or a self-contained HTML page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb

from ingestion.registry import FAILED_CHECKS, LOADED, REJECTED, latest_files, open_quarantine
from stewards import texts
from warehouse import builds

EXAMPLE_ROWS = 5


@dataclass
class Finding:
    """One problem: what is wrong (with the rows or values behind it) and what to do."""

    problem: str
    rows: list[str] = field(default_factory=list)
    advice: str = ""
    blocking: bool = True


@dataclass
class FileReport:
    source: str
    file: str
    status: str  # loaded | failed_checks | rejected
    headline: str
    findings: list[Finding] = field(default_factory=list)
    advice: str = ""  # what to do with the file as a whole


@dataclass
class Report:
    build_id: str | None
    build_status: str | None  # passed | failed | unfinished
    checks_total: int = 0
    checks_passed: int = 0
    build_findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    files_loaded: int = 0
    quarantined_rows: dict[str, int] = field(default_factory=dict)  # source -> open quarantined rows
    next_steps: list[str] = field(default_factory=list)
    open_data: dict | None = None  # the latest publication's open datasets (warehouse.opendata.latest_validation)


def _rows(con, query: str, params: list | None = None) -> list[tuple]:
    try:
        return con.execute(query, params or []).fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):  # a database from before these tables or columns
        return []


def build_report(con: duckdb.DuckDBPyConnection, open_data: dict | None = None) -> Report:
    try:
        verdict = builds.latest(con)
    except duckdb.CatalogException:
        verdict = None
    report = Report(verdict.build_id if verdict else None, verdict.verdict if verdict else None, open_data=open_data)
    if verdict is not None:
        _build_results(report, verdict)
    _files(con, report)
    _next_steps(report)
    return report


def _build_results(report: Report, verdict: builds.Verdict) -> None:
    report.checks_total = len(verdict.results)
    report.checks_passed = sum(r.passed for r in verdict.results)
    skipped = [r for r in verdict.failures if r.detail == builds.SKIPPED]
    for result in verdict.failures:
        if result.detail != builds.SKIPPED:
            report.build_findings.append(_build_finding(result))
    if skipped:
        report.build_findings.append(Finding(
            f"{texts.number(len(skipped))} langkah sesudahnya tidak dijalankan karena masalah di atas",
            advice="akan berjalan lagi setelah masalah di atas diperbaiki"))
    if verdict.verdict == builds.UNFINISHED:
        report.build_findings.append(Finding(
            "pembangunan terakhir tidak selesai (terhenti, atau langkah sesudah dbt gagal)",
            advice="jalankan lagi: .venv/bin/koperasi run"))
    report.warnings += [_build_finding(r) for r in verdict.warnings]


def _build_finding(result: builds.CheckResult) -> Finding:
    column = (result.facts or {}).get("column")
    rows = [texts.example_row(row, column) for row in (result.examples or [])[:EXAMPLE_ROWS]]
    if result.kind in ("dbt_test", "dbt_unit_test", "dbt_model", "dbt_seed"):
        what = texts.dbt_check(result.facts, result.name)
        count = _failures_count(result.detail)
        problem = f"Tidak terpenuhi: {what}" + (f" ({texts.number(count)} baris melanggar)" if count else "")
        if result.kind == "dbt_unit_test":
            advice = "aturan perhitungan berubah atau rusak: hubungi tim data"
        elif result.kind in ("dbt_model", "dbt_seed"):
            advice = "tabel gagal dibangun: hubungi tim data (rincian teknis di log dbt)"
        else:
            advice = ("periksa baris di atas di berkas sumbernya; perbaiki dengan ekspor ulang atau lembar koreksi, "
                      "lalu jalankan koperasi run" if rows else "hubungi tim data")
        return Finding(problem, rows, advice, result.blocking)
    if result.kind == "required":
        return Finding(f"Pemeriksaan wajib tidak berjalan: {result.name}", rows, "jalankan lagi: koperasi run")
    return Finding(f"Langkah gagal: {result.name}" + (f" ({result.detail})" if result.detail else ""), rows,
                   "jalankan lagi: koperasi run; bila gagal lagi, hubungi tim data", result.blocking)


def _failures_count(detail: str | None) -> int | None:
    """dbt says 'Got 3 results, configured to fail if != 0'."""
    if not detail:
        return None
    words = detail.split()
    for i, word in enumerate(words[:-1]):
        if word == "Got" and words[i + 1].isdigit():
            return int(words[i + 1])
    return None


def _files(con, report: Report) -> None:
    files = _rows(con, f"""
        SELECT source, file, sha256, status, coalesce(error, ''), rows_read, rows_loaded, rows_quarantined, snapshot_date,
               CAST(coalesce(warnings, '[]') AS VARCHAR), CAST(finding AS VARCHAR)
        FROM ({latest_files()})
        ORDER BY status = 'loaded', source, snapshot_date NULLS LAST, file""")
    checks = {}
    for file, severity, passed, observed, details in _rows(con, """
            SELECT file, severity, passed, observed_value, details FROM quality.check_results WHERE file IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY file, check_name ORDER BY checked_at DESC) = 1"""):
        if not passed:
            checks.setdefault(file, []).append((severity, observed, json.loads(details) if details else {}))
    quarantine = {}
    for sha, reason, count, examples in _rows(con, f"""
            SELECT sha256, reason, count(*),
                   list([source_row::VARCHAR, CAST(findings AS VARCHAR)] ORDER BY source_row)[1:{EXAMPLE_ROWS}]
            FROM ({open_quarantine()}) GROUP BY ALL ORDER BY 3 DESC"""):
        quarantine.setdefault(sha, []).append((reason, count, examples))
    for source, file, sha, status, error, read, loaded, quarantined, snapshot, warnings, finding in files:
        if status == LOADED:
            report.files_loaded += 1
        if status not in (LOADED, FAILED_CHECKS, REJECTED):
            continue
        entry = FileReport(source, file, status, _headline(source, file, status, read, loaded, snapshot))
        file_warnings = [texts.file_warning(w) for w in json.loads(warnings)] if status == LOADED else []
        for severity, observed, details in checks.get(file, []):
            blocking = severity == "error"
            rows = file_warnings if details.get("column") == "total_mismatches" else []
            entry.findings.append(Finding(
                f"{'Gagal' if blocking else 'Peringatan'}: {texts.gx_check(details)}"
                + ("" if rows else f"; {texts.gx_finding(details, observed)}"),
                rows, advice=_gx_advice(details, source), blocking=blocking))
        if status == REJECTED:
            entry.findings.append(Finding(texts.rejection(finding), [f"pesan teknis: {error}"]))
            entry.advice = (f"perbaiki atau ekspor ulang berkas, lalu taruh di inbox/{source} (nama apa saja); berkas "
                            "dari sumber lain taruh di folder inbox sumbernya (ods, bps atau opd)")
        for reason, count, examples in quarantine.get(sha, []) if status != REJECTED else []:
            report.quarantined_rows[source] = report.quarantined_rows.get(source, 0) + count
            entry.findings.append(Finding(
                f"{texts.number(count)} baris dikarantina: {texts.reason_label(reason)}",
                [f"baris {row}: {texts.quarantine_message(reason, message).split(': ', 1)[-1]}" for row, message in examples],
                texts.reason_advice(reason), blocking=False))
        if quarantine.get(sha) and status == LOADED:
            entry.advice = _quarantine_advice(source, file)
        if entry.findings or status != LOADED:
            report.files.append(entry)


def _headline(source: str, file: str, status: str, read, loaded, snapshot) -> str:
    name = f"Berkas {texts.SOURCE_NAMES.get(source, source)} {file}"
    if snapshot is not None and source == "ods":
        name += f" (snapshot {snapshot:%d-%m-%Y})"
    if status == FAILED_CHECKS:
        return f"{name} DITARIK: tidak lolos pemeriksaan, datanya tidak dipakai"
    if status == REJECTED:
        return f"{name} DITOLAK: tidak dapat dibaca"
    return f"{name} dimuat: {texts.number(loaded)} dari {texts.number(read)} baris"


def _gx_advice(details: dict, source: str) -> str:
    expectation = details.get("expectation", "")
    if expectation in ("expect_table_row_count_to_be_between", "expect_column_sum_to_be_between"):
        return ("jumlahnya terlalu jauh dari snapshot sebelumnya: periksa apakah ekspor lengkap; ekspor ulang dari "
                f"{texts.SOURCE_NAMES.get(source, source)} dan taruh di inbox/{source}")
    if details.get("column") == "quarantine_share":
        return ("terlalu banyak baris rusak: periksa cara ekspor (pemisah kolom, format angka), ekspor ulang, "
                f"dan taruh di inbox/{source}")
    if expectation == "expect_no_personal_values_in_quarantine":
        return "berkas memuat data pribadi di kolom yang tidak dikenal: hapus kolom itu dari berkas asli dan kirim lagi"
    return f"perbaiki nilai di atas di berkas asli dan taruh lagi di inbox/{source}"


def _quarantine_advice(source: str, file: str) -> str:
    if source == "ods":
        return ("baris lain sudah dimuat. Untuk baris yang dikarantina: koperasi quality --koreksi koreksi.xlsx, "
                "perbaiki barisnya di Excel, lalu koperasi ingest --corrections koreksi.xlsx dan koperasi run")
    return f"baris lain sudah dimuat. Perbaiki baris ini di berkas asli {file} dan taruh lagi di inbox/{source}"


def _next_steps(report: Report) -> None:
    steps = []
    withdrawn = [f for f in report.files if f.status != LOADED]
    if report.build_status is None:
        steps.append("Belum ada pembangunan: taruh ekspor di inbox (atau koperasi sample) lalu jalankan koperasi run")
    elif report.build_status != builds.PASSED:
        steps.append("Pembangunan terakhir GAGAL: BI tetap memakai publikasi sebelumnya. Perbaiki masalah di bagian "
                     "'Pembangunan terakhir', lalu jalankan koperasi run")
    if withdrawn:
        steps.append(f"{len(withdrawn)} berkas ditarik atau ditolak: perbaiki dan taruh berkas yang sudah diperbaiki "
                     "di inbox (nama apa saja); berkas yang sama persis tidak dicoba lagi")
    if report.quarantined_rows.get("ods"):
        steps.append("Baris ODS dalam karantina: koperasi quality --koreksi koreksi.xlsx, perbaiki di Excel, "
                     "koperasi ingest --corrections koreksi.xlsx, lalu koperasi run")
    if not steps:
        steps.append("Tidak ada yang perlu diperbaiki.")
    report.next_steps = steps
