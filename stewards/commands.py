"""`koperasi quality` and `koperasi ingest --corrections`: what a steward types, answered in Indonesian."""

from __future__ import annotations

import difflib
import sys
from contextlib import contextmanager
from pathlib import Path

import duckdb

from stewards import render, texts
from stewards.report import build_report
from stewards.workbook import files_with_open_quarantine, write_csv, write_workbook
from warehouse.lock import pipeline_lock
from warehouse.opendata import latest_validation
from warehouse.paths import KoperasiPaths

CLI = ".venv/bin/koperasi"


def report_html_path(paths: KoperasiPaths) -> Path:
    return paths.quality / "laporan_kualitas.html"


@contextmanager
def _reading_build(paths: KoperasiPaths):
    """A read-only connection under the pipeline lock: DuckDB refuses a writer while another process has the
    file open, so a report read while the service runs must not make a run's step fail."""
    with pipeline_lock(paths.warehouse_dir, "koperasi quality (reading)"):
        with duckdb.connect(str(paths.build_db), read_only=True) as con:
            yield con


def write_report_html(paths: KoperasiPaths, out: Path | None = None) -> Path | None:
    """The report as a self-contained page (the run summary links to it); None without a build database."""
    if not paths.build_db.exists():
        return None
    with _reading_build(paths) as con:
        html = render.as_html(build_report(con, latest_validation(paths.opendata)))
    target = out or report_html_path(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target


def _known_files(con) -> list[str]:
    return [f for (f,) in con.execute("SELECT DISTINCT file FROM raw.ingested_files ORDER BY 1").fetchall()]


def _unknown_files(con, names: list[str]) -> list[str]:
    """An error line for each name never ingested, with the closest names that were."""
    known = _known_files(con)
    problems = []
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
            problems.append(f"berkas '{name}' tidak pernah dimuat" + (
                f"; maksud Anda: {', '.join(close)}?" if close else f"; berkas yang dikenal: {', '.join(known[:5])}"))
    return problems


def quality(paths: KoperasiPaths, *, files: list[str] | None = None, out: str | None = None,
            html: str | None = None) -> int:
    """The report (default), the report as HTML (``html``), or the quarantined rows of ``files`` (all files
    with open quarantined rows when the list is empty) as a correction workbook, or as CSV for one file."""
    if not paths.build_db.exists():
        print(f"Belum ada data: basis data {paths.build_db} belum dibuat. Taruh ekspor di {paths.inbox}/ods, /bps "
              f"dan /opd (atau buat contoh: {CLI} sample), lalu jalankan {CLI} run.", file=sys.stderr)
        return 1
    if html is not None:
        target = write_report_html(paths, Path(html) if html else None)
        print(f"laporan kualitas: {target}")
        return 0
    with _reading_build(paths) as con:
        if files is None:
            print(render.as_text(build_report(con, latest_validation(paths.opendata))))
            print(f"\nLaporan yang sama sebagai halaman web: {CLI} quality --html  ·  Data Docs (teknis): "
                  f"{paths.data_docs / 'index.html'}")
            return 0
        problems = _unknown_files(con, files)
        if problems:
            for problem in problems:
                print(problem, file=sys.stderr)
            return 1
        chosen = files or files_with_open_quarantine(con)
        if not chosen:
            print("Tidak ada baris dalam karantina: tidak ada yang perlu dikoreksi.")
            return 0
        target = Path(out or "koreksi_karantina.xlsx")
        if target.suffix.lower() == ".csv":
            if len(chosen) != 1:
                print("CSV memuat satu berkas saja; sebut satu berkas, atau tulis ke .xlsx", file=sys.stderr)
                return 1
            count, masked = write_csv(con, chosen[0], target)
            print(f"wrote {count} quarantined rows of {chosen[0]} to {target}")
        else:
            summary = write_workbook(con, chosen, target)
            count, masked = sum(summary.sheets.values()), summary.masked
            print(f"Lembar koreksi: {target} ({texts.number(count)} baris dari {len(summary.sheets)} berkas)")
            print(f"Perbaiki di Excel (petunjuk di lembar pertama), lalu: {CLI} ingest --corrections {target}")
    if masked:
        print(f"  {masked} nilai yang tampak seperti data pribadi (NIP, NIK KTP, telepon, e-mail) disamarkan")
    return 0 if count else 1


def corrections(paths: KoperasiPaths, workbook: Path) -> int:
    """Merges a fixed correction workbook into its snapshots and says, per sheet, what moved."""
    from expectations.file_suites import file_judge
    from ingestion.gate import admit_corrections
    from ingestion.landing import connect
    from warehouse.lock import PipelineBusy

    if not workbook.is_file():
        print(f"berkas {workbook} tidak ada", file=sys.stderr)
        return 1
    try:
        with pipeline_lock(paths.warehouse_dir, "koperasi ingest --corrections"):
            con = connect(paths.build_db)
            try:
                outcomes = admit_corrections(con, workbook, paths, file_judge(), run_id="koperasi-corrections")
            finally:
                con.close()
    except PipelineBusy as e:
        print(str(e), file=sys.stderr)
        return 1
    if not outcomes:
        print(f"{workbook.name}: tidak ada baris koreksi (lembar kosong)")
        return 1
    for outcome in outcomes:
        label = f"{workbook.name} › {outcome.target_file}"
        if outcome.problem:
            print(f"{label}: TIDAK DIPAKAI — {outcome.problem}")
            continue
        result = outcome.admission.result
        if result.status == "already_ingested":
            print(f"{label}: koreksi yang sama sudah dimuat sebelumnya; tidak ada yang berubah")
        elif outcome.admission.withdrawn:
            print(f"{label}: DITARIK — snapshot hasil koreksi tidak lolos pemeriksaan: {result.error}")
        else:
            print(f"{label}: {texts.number(outcome.rows_fixed)} baris pindah dari karantina ke snapshot "
                  f"{result.snapshot_date}; {texts.number(result.rows_quarantined)} baris masih dikarantina")
    print(f"Lihat hasilnya: {CLI} quality; lalu jalankan {CLI} run agar BI memakai data yang sudah diperbaiki.")
    return 1 if any(o.withdrawn for o in outcomes) else 0
