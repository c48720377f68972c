"""How numbers, dates and files look in the exports a data steward receives."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Iterable, Sequence

import xlsxwriter

MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
             "Oktober", "November", "Desember")


def id_number(n: int) -> str:
    """1234567 -> '1.234.567' (Indonesian thousands separator)."""
    return f"{n:,}".replace(",", ".")


def id_date(d: date) -> str:
    return d.strftime("%d-%m-%Y")


def id_long_date(d: date) -> str:
    return f"{d.day} {MONTHS_ID[d.month - 1]} {d.year}"


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], *, encoding: str,
              separator: str = ";") -> None:
    """Streams rows to a CSV the way Excel 'Save as CSV' does in an Indonesian locale (CRLF)."""
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=separator, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.write_text(text, encoding=encoding, newline="")


class XlsxSheet:
    """A constant-memory XLSX writer: title rows, a header, data, then totals and footnotes."""

    def __init__(self, path: Path, sheet_name: str = "Sheet1"):
        self.workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
        self.sheet = self.workbook.add_worksheet(sheet_name)
        self.bold = self.workbook.add_format({"bold": True})
        self.date_format = self.workbook.add_format({"num_format": "dd/mm/yyyy"})
        self.row = 0

    def write(self, values: Sequence[object], *, bold: bool = False) -> int:
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, date):
                self.sheet.write_datetime(self.row, col, value, self.date_format)
            elif isinstance(value, str):
                self.sheet.write_string(self.row, col, value, self.bold if bold else None)
            else:
                self.sheet.write_number(self.row, col, value, self.bold if bold else None)
        self.row += 1
        return self.row  # 1-based number of the row just written

    def skip(self, n: int = 1) -> None:
        self.row += n

    def close(self) -> None:
        self.workbook.close()


def csv_line(values: Sequence[str], separator: str = ";") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()
