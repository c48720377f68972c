"""The steward's report as terminal text or as one self-contained HTML page (no external assets)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from stewards import texts
from stewards.report import Finding, Report

TITLE = "Laporan Kualitas Data Koperasi"


def _status_line(report: Report) -> str:
    if report.build_id is None:
        return "Belum ada pembangunan data."
    status = texts.STATUS.get(report.build_status or "", report.build_status)
    return (f"Pembangunan terakhir: {status} ({texts.number(report.checks_passed)} dari "
            f"{texts.number(report.checks_total)} pemeriksaan lulus; {len(report.warnings)} peringatan)")


def _finding_lines(finding: Finding, indent: str) -> list[str]:
    lines = [f"{indent}- {finding.problem}"]
    lines += [f"{indent}    {row}" for row in finding.rows]
    if finding.advice:
        lines.append(f"{indent}    Yang perlu dilakukan: {finding.advice}")
    return lines


def as_text(report: Report) -> str:
    lines = [TITLE, "=" * len(TITLE), _status_line(report)]
    if report.build_findings:
        lines += ["", "Pembangunan terakhir — masalah yang menghalangi publikasi:"]
        for finding in report.build_findings:
            lines += _finding_lines(finding, "  ")
    if report.warnings:
        lines += ["", "Peringatan (tidak menghalangi publikasi):"]
        for finding in report.warnings:
            lines += _finding_lines(finding, "  ")
    lines += ["", f"Berkas: {texts.number(report.files_loaded)} dimuat"
              + (f"; yang perlu perhatian ({len(report.files)}):" if report.files else "; semua bersih.")]
    for entry in report.files:
        lines.append(f"  {entry.headline}")
        for finding in entry.findings:
            lines += _finding_lines(finding, "    ")
        if entry.advice:
            lines.append(f"    => {entry.advice}")
    lines += ["", *open_data_lines(report.open_data)]
    lines += ["", "Langkah berikutnya:"] + [f"  {i}. {step}" for i, step in enumerate(report.next_steps, 1)]
    return "\n".join(lines)


def _open_data_headline(open_data: dict | None) -> str:
    if not open_data:
        return "Data terbuka (Satu Data Indonesia): belum ada publikasi."
    datasets = open_data["datasets"]
    valid = sum(1 for d in datasets if d["valid"])
    where = open_data["folder"] if open_data.get("current") else f"{open_data['folder']} (TIDAK dipakai)"
    verdict = ("semua lolos validasi" if valid == len(datasets) else
               f"{len(datasets) - valid} tidak lolos validasi; data terbuka sebelumnya tetap yang berlaku")
    return f"Data terbuka (Satu Data Indonesia): {len(datasets)} set data di {where}; {verdict}."


def open_data_lines(open_data: dict | None) -> list[str]:
    lines = [_open_data_headline(open_data)]
    for d in (open_data or {}).get("datasets", []):
        state = "lolos validasi" if d["valid"] else "TIDAK lolos validasi: " + "; ".join(d["errors"][:3])
        lines.append(f"  - {d['title']} ({d['name']}.csv): {texts.number(d['rows'])} baris, {state}")
    return lines


_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;color:#1d1d1d;
line-height:1.45;padding:0 1rem}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.status{padding:.6rem 1rem;border-radius:.4rem;font-weight:600}.passed{background:#e6f4ea;color:#1a7f37}
.failed{background:#fdecea;color:#b3261e}.unfinished,.none{background:#fff4e5;color:#8a4b00}
.file{border:1px solid #ddd;border-radius:.4rem;padding:.5rem 1rem;margin:.8rem 0}
.file.failed_checks,.file.rejected{border-left:.4rem solid #b3261e}.file.loaded{border-left:.4rem solid #c28a00}
.finding{margin:.4rem 0}.blocking::before{content:"\\2716  ";color:#b3261e}.warning::before{content:"\\26A0  ";color:#c28a00}
.rows{font-family:ui-monospace,monospace;font-size:.85rem;background:#f6f6f6;padding:.3rem .6rem;margin:.2rem 0}
.advice{color:#0b5394}.muted{color:#666;font-size:.85rem}"""


def _finding_html(finding: Finding) -> str:
    rows = "".join(f'<div class="rows">{escape(row)}</div>' for row in finding.rows)
    advice = f'<div class="advice">Yang perlu dilakukan: {escape(finding.advice)}</div>' if finding.advice else ""
    kind = "blocking" if finding.blocking else "warning"
    return f'<div class="finding {kind}">{escape(finding.problem)}{rows}{advice}</div>'


def as_html(report: Report) -> str:
    status_class = report.build_status or "none"
    parts = [f'<!DOCTYPE html><html lang="id"><head><meta charset="utf-8"><title>{TITLE}</title>',
             f"<style>{_CSS}</style></head><body><h1>{TITLE}</h1>",
             f'<p class="muted">Dibuat {datetime.now():%d-%m-%Y %H:%M}'
             + (f" · pembangunan {escape(report.build_id)}" if report.build_id else "") + "</p>",
             f'<div class="status {status_class}" id="status">{escape(_status_line(report))}</div>']
    if report.build_findings:
        parts.append("<h2>Masalah yang menghalangi publikasi</h2>")
        parts += [_finding_html(f) for f in report.build_findings]
    if report.warnings:
        parts.append("<h2>Peringatan</h2>")
        parts += [_finding_html(f) for f in report.warnings]
    parts.append(f"<h2>Berkas</h2><p>{texts.number(report.files_loaded)} berkas dimuat"
                 + ("; yang perlu perhatian:" if report.files else "; semua bersih.") + "</p>")
    for entry in report.files:
        parts.append(f'<div class="file {entry.status}"><h3>{escape(entry.headline)}</h3>')
        parts += [_finding_html(f) for f in entry.findings]
        if entry.advice:
            parts.append(f'<div class="advice"><strong>Yang perlu dilakukan:</strong> {escape(entry.advice)}</div>')
        parts.append("</div>")
    parts.append("<h2>Data terbuka (Satu Data Indonesia)</h2><p>" + escape(_open_data_headline(report.open_data))
                 + "</p><ul>" + "".join(f"<li>{escape(line.strip()[2:])}</li>"
                                        for line in open_data_lines(report.open_data)[1:]) + "</ul>")
    parts.append("<h2>Langkah berikutnya</h2><ol>" + "".join(f"<li>{escape(s)}</li>" for s in report.next_steps)
                 + "</ol></body></html>")
    return "\n".join(parts)
