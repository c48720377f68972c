"""Correction workbooks: quarantined rows a steward fixed in Excel, read back for merging into their snapshot.

The workbook (written by ``stewards.workbook``) has one sheet per source file. Each row carries the file it
came from (``Berkas``), its row in that file (``Baris``), why it was quarantined (``Alasan``, ignored on the
way back) and then the file's own columns, which the steward corrects. Reading a sheet back gives those
columns as a CSV the ODS parser reads like any export, so fixed rows meet exactly the same rules.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel


FILE_COLUMN, ROW_COLUMN, REASON_COLUMN = "Berkas", "Baris", "Alasan"
WORKBOOK_COLUMNS = (FILE_COLUMN, ROW_COLUMN, REASON_COLUMN)
INSTRUCTIONS_SHEET = "Petunjuk"


class WorkbookRefused(Exception):
    """A correction workbook that cannot be used at all; the message (Indonesian) is for the steward who sent it."""

    def __init__(self, file: str, problem: str):
        self.file, self.problem = file, problem
        super().__init__(f"{file}: {problem}")


@dataclass
class CorrectionSheet:
    """The fixed rows of one source file: its own headers and, per row, the row it fixes."""

    sheet: str
    file: str
    headers: list[str]
    rows: list[tuple[int, list[str | None]]] = field(default_factory=list)  # (row in the file, cells)

    def write_csv(self, path: Path) -> dict[int, int]:
        """The fixed rows as a CSV export (header on line 1); returns the CSV line of each fixed row."""
        lines = {}
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter=";")
            writer.writerow(self.headers)
            for line, (row, cells) in enumerate(self.rows, start=2):
                writer.writerow(["" if c is None else c for c in cells])
                lines[row] = line
        return lines


def _cell(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].lstrip("-").isdigit():  # a number Excel stored as a float
        text = text[:-2]
    return text or None


def read_workbook(path: Path) -> list[CorrectionSheet]:
    """Every sheet with fixed rows (the instructions sheet and empty sheets are skipped)."""
    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as e:  # fastexcel raises its own error types for every unreadable workbook
        raise WorkbookRefused(path.name, f"bukan buku kerja Excel yang dapat dibaca ({type(e).__name__})") from None
    sheets = []
    for name in reader.sheet_names:
        if name == INSTRUCTIONS_SHEET:
            continue
        frame = reader.load_sheet(name, dtypes="string").to_polars()
        missing = [c for c in WORKBOOK_COLUMNS if c not in frame.columns]
        if missing:
            raise WorkbookRefused(path.name, f"lembar '{name}' tidak punya kolom {', '.join(missing)}; "
                                          "pakai lembar koreksi dari koperasi quality --koreksi")
        headers = [c for c in frame.columns if c not in WORKBOOK_COLUMNS]
        files = {f for f in frame.get_column(FILE_COLUMN).drop_nulls().to_list()}
        if not files or frame.is_empty():
            continue
        if len(files) > 1:
            raise WorkbookRefused(path.name, f"lembar '{name}' mencampur baris dari beberapa berkas: {', '.join(sorted(files))}")
        sheet = CorrectionSheet(name, files.pop(), headers)
        for index, record in enumerate(frame.iter_rows(named=True), start=2):
            row = _cell(record[ROW_COLUMN])
            cells = [_cell(record[h]) for h in headers]
            if not any(cells):
                continue
            if row is None or not row.isdigit():
                raise WorkbookRefused(path.name, f"lembar '{name}' baris {index}: kolom {ROW_COLUMN} harus berisi "
                                              f"nomor baris asal, bukan '{row or ''}'")
            sheet.rows.append((int(row), cells))
        if sheet.rows:
            sheets.append(sheet)
    return sheets
