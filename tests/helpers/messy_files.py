"""Builders of small messy exports for the ingestion tests: one file per real-world case."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

HEADER = ["NIK", "Nama Koperasi", "Kab/Kota", "Jenis Koperasi", "Status", "Tahun RAT", "Anggota Pria",
          "Anggota Wanita", "Modal Sendiri", "Aset", "SHU"]


def ods_row(n: int, **overrides) -> list[str]:
    row = {"NIK": f"1275{n:012d}", "Nama Koperasi": f"KSP Maju {n}", "Kab/Kota": "Kota Medan",
           "Jenis Koperasi": "Simpan Pinjam", "Status": "Aktif", "Tahun RAT": "2024", "Anggota Pria": "10",
           "Anggota Wanita": "12", "Modal Sendiri": "1.000.000", "Aset": "2.500.000", "SHU": "100.000"}
    row.update(overrides)
    return [row[h] for h in HEADER]


def write_csv(path: Path, rows: list[list[str]], *, separator: str = ";", encoding: str = "utf-8",
              header: list[str] = HEADER, newline: str = "\r\n", trailer: str = "") -> Path:
    def cell(value: str) -> str:
        return f'"{value}"' if separator in value or '"' in value else value

    lines = [separator.join(cell(v) for v in header)] + [separator.join(cell(v) for v in r) for r in rows]
    path.write_bytes((newline.join(lines) + newline + trailer).encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]], *, title_rows: int = 2, totals: bool = True,
               footnote: bool = True) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    r = 0
    for i in range(title_rows):
        sheet.write_string(r, 0, f"DATA KOPERASI PROVINSI SUMATERA UTARA {i}")
        r += 1
    sheet.write_row(r, 0, HEADER)
    r += 1
    for row in rows:
        for c, value in enumerate(row):
            if isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
        r += 1
    if totals:
        sheet.write_row(r, 0, ["", "JUMLAH", "", "", "", "", 999, 999])
        r += 1
    if footnote:
        sheet.write_string(r + 1, 0, "Sumber: ODS Kementerian Koperasi dan UKM")
    workbook.close()
    return path
