"""The correction workbook a steward fixes in Excel: quarantined rows, one sheet per source file.

Each row has the file (``Berkas``), its row in that file (``Baris``), the reason in Indonesian (``Alasan``) and
the file's own columns as text, so Excel does not turn a 16-digit registry number into 1.2E+15. Every value
passes the personal-data scan; member lists' personal columns stay masked (fix those in the original file).
``koperasi ingest --corrections`` reads the fixed workbook back (``ingestion.corrections``).
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import xlsxwriter

from ingestion import privacy
from ingestion.corrections import FILE_COLUMN, INSTRUCTIONS_SHEET, REASON_COLUMN, ROW_COLUMN
from ingestion.registry import open_quarantine
from ingestion.privacy import MASK
from stewards import inert, texts
from ingestion.private_files import private_output

INSTRUCTIONS = [
    "Lembar koreksi baris yang dikarantina",
    "",
    "1. Setiap lembar berisi baris dari satu berkas yang tidak dapat dimuat. Kolom Alasan menjelaskan masalahnya.",
    "2. Perbaiki nilai di kolom-kolom asli (sesudah kolom Alasan). Jangan ubah kolom Berkas dan Baris.",
    "3. Hapus baris yang tidak ingin atau tidak dapat Anda perbaiki. Baris yang dihapus tetap di karantina; "
    "koreksi tidak pernah menghapus baris lain dari snapshot.",
    "4. Simpan, lalu jalankan: .venv/bin/koperasi ingest --corrections NAMA_BERKAS.xlsx",
    "5. Baris yang sudah benar masuk ke snapshotnya (menurut nomor induk koperasi); baris yang masih salah tetap di "
    "karantina dengan alasan baru. Lalu jalankan .venv/bin/koperasi run agar BI memakai data yang sudah diperbaiki.",
    "",
    "Koreksi per baris berlaku untuk ekspor ODS. Untuk tabel BPS dan daftar OPD: perbaiki berkas aslinya dan taruh "
    "lagi di folder inbox-nya.",
    f"Nilai yang tampak seperti data pribadi (NIP, NIK KTP, telepon, e-mail) ditulis sebagai {MASK}: "
    "perbaiki di berkas asli, bukan di sini.",
]


@dataclass
class WorkbookSummary:
    path: Path
    sheets: dict[str, int] = field(default_factory=dict)  # file -> rows written
    masked: int = 0


def files_with_open_quarantine(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [f for (f,) in con.execute(f"SELECT DISTINCT file FROM ({open_quarantine()}) ORDER BY 1").fetchall()]


def _sheet_name(file: str, used: set[str]) -> str:
    """An Excel sheet name from any file name: none of []:*?/\\ or control characters, no apostrophe at
    either end, at most 31 characters, unique (case-insensitive), never the instructions sheet's."""
    base = re.sub(r"[\[\]:*?/\\\x00-\x1f\x7f]", "_", file).strip("' ")[:31].strip("' ") or "berkas"
    name, n = base, 2
    while name.lower() in used or name == INSTRUCTIONS_SHEET:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


@dataclass
class QuarantinedRows:
    """The open quarantined rows of one file, every value through the personal-data scan."""

    columns: list[str]  # the file's own headers
    rows: list[tuple[int, str, str, str, dict]]  # (row, reason code, message, findings, cells), masked
    masked: int  # values the scan masked


def quarantined_rows(con: duckdb.DuckDBPyConnection, file: str) -> QuarantinedRows:
    result = QuarantinedRows([], [], 0)
    for row, reason, message, row_findings, record in con.execute(
            f"SELECT source_row, reason, message, CAST(findings AS VARCHAR), record FROM ({open_quarantine()}) "
            "WHERE file = ? ORDER BY source_row", [file]).fetchall():
        cells = {c: None if v is None else str(v) for c, v in (json.loads(record) if record else {}).items()}
        result.columns += [c for c in cells if c not in result.columns]
        clean = {c: privacy.mask(v) for c, v in cells.items()}
        clean_message = privacy.mask(message)
        result.masked += sum(clean[c] != v for c, v in cells.items()) + (clean_message != message)
        result.rows.append((row, reason, clean_message, privacy.mask(row_findings), clean))
    return result


def write_csv(con: duckdb.DuckDBPyConnection, file: str, out: Path) -> tuple[int, int]:
    """One file's open quarantined rows as CSV, for tools: row, reason code, message, the original columns
    (returns rows written, values masked)."""
    quarantined = quarantined_rows(con, file)
    with private_output(out, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([inert.csv_cell(c) for c in ["source_row", "reason", "message", *quarantined.columns]])
        for row, reason, message, _, cells in quarantined.rows:
            writer.writerow([inert.csv_cell(v) for v in [row, reason, message,
                                                         *[cells.get(c) for c in quarantined.columns]]])
    return len(quarantined.rows), quarantined.masked


def write_workbook(con: duckdb.DuckDBPyConnection, files: list[str], out: Path) -> WorkbookSummary:
    summary = WorkbookSummary(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.{os.getpid()}.part.xlsx")  # renamed into place only when whole
    book = xlsxwriter.Workbook(str(partial))
    try:
        bold = book.add_format({"bold": True})
        text = book.add_format({"num_format": "@"})
        quoted = book.add_format({"num_format": "@", "quote_prefix": True})  # text, even after an edit in Excel
        header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        fixed = book.add_format({"bold": True, "bg_color": "#EDEDED", "border": 1})
        guide = book.add_worksheet(INSTRUCTIONS_SHEET)
        guide.set_column(0, 0, 120)
        for i, line in enumerate(INSTRUCTIONS):
            guide.write_string(i, 0, line, bold if i == 0 else None)
        used: set[str] = set()
        for file in files:
            quarantined = quarantined_rows(con, file)
            columns = quarantined.columns
            sheet = book.add_worksheet(_sheet_name(file, used))
            for c, title in enumerate([FILE_COLUMN, ROW_COLUMN, REASON_COLUMN, *columns]):
                sheet.write_string(0, c, title, fixed if c < 3 else header)
            sheet.set_column(0, 0, max(12, min(len(file), 40)))
            sheet.set_column(2, 2, 60)
            sheet.set_column(3, 3 + max(len(columns) - 1, 0), 18, text)
            sheet.freeze_panes(1, 3)
            for r, (row, reason, _, row_findings, cells) in enumerate(quarantined.rows, start=1):
                sheet.write_string(r, 0, file)
                sheet.write_number(r, 1, row)
                sheet.write_string(r, 2, texts.quarantine_message(reason, row_findings))
                for c, column in enumerate(columns, start=3):
                    if cells.get(column) is not None:
                        value = cells[column]
                        sheet.write_string(r, c, value, quoted if inert.is_active(value) else text)
            summary.sheets[file] = len(quarantined.rows)
            summary.masked += quarantined.masked
        book.close()
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return summary
