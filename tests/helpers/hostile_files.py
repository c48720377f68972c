"""A corpus of careless and hostile files, built small by the tests themselves (nothing here is ever large on
disk): spreadsheets that declare huge sheets, a compressed shared-strings bomb, long fields, a million-column
header, NUL bytes, formula cells without a value, links out of the inbox, lists carrying personal data without
or with the wrong header, and names with quotes, markup and shell characters."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import xlsxwriter

# Personal values planted in the corpus: none may appear anywhere under KOPERASI_HOME but the archive and inbox.
PERSON = {
    "name": "Siti Rahmawati Nasution",
    "nip": "198503122010012003",
    "ktp": "1271034503850002",
    "phone": "081234567890",
    "email": "siti.rahma@contoh.id",
    "address": "Jl. Sisingamangaraja No. 45 Medan",
    "birth": "12-03-1985",
}

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>')


def _sheet_xml(cells: str, dimension: str | None) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'{dim}<sheetData>{cells}</sheetData></worksheet>')


def raw_xlsx(path: Path, sheet_cells: str, *, dimension: str | None = None, shared_strings: bytes | None = None) -> Path:
    """An XLSX written part by part, so that it can say what no spreadsheet program would write."""
    strings = shared_strings or (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                                 b'spreadsheetml/2006/main" count="0" uniqueCount="0"></sst>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/worksheets/sheet1.xml", _sheet_xml(sheet_cells, dimension))
        book.writestr("xl/sharedStrings.xml", strings)
    return path


def huge_dimension_xlsx(path: Path) -> Path:
    """Two cells, but a declared range of the whole sheet (16,384 x 1,048,576 cells)."""
    cells = '<row r="1"><c r="A1" t="inlineStr"><is><t>Kode OPD</t></is></c><c r="B1" t="inlineStr"><is><t>x</t></is></c></row>'
    return raw_xlsx(path, cells, dimension="A1:XFD1048576")


def far_cell_xlsx(path: Path) -> Path:
    """No declared range, but one cell at A1 and one at the sheet's last cell."""
    cells = ('<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'
             '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>b</t></is></c></row>')
    return raw_xlsx(path, cells)


def shared_strings_bomb_xlsx(path: Path, inflated_mib: int = 300) -> Path:
    """Shared strings that inflate to ``inflated_mib`` MiB from well under one MiB on disk."""
    head = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            b'2006/main" count="1" uniqueCount="1"><si><t>')
    tail = b'</t></si></sst>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        for name, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _ROOT_RELS),
                           ("xl/workbook.xml", _WORKBOOK), ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
                           ("xl/worksheets/sheet1.xml", _sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', "A1"))):
            book.writestr(name, text)
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(head)
            block = b"A" * (1 << 20)
            for _ in range(inflated_mib):
                f.write(block)
            f.write(tail)
    return path


def formula_without_value_xlsx(path: Path, niks: list[str]) -> Path:
    """An OPD registry list whose second cooperative's NIK is a formula that was never calculated."""
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>DAFTAR KOPERASI PEGAWAI OPD</t></is></c></row>',
            '<row r="3">' + "".join(f'<c r="{col}3" t="inlineStr"><is><t>{h}</t></is></c>' for col, h in
                                    zip("ABCD", ("Kode OPD", "Nama OPD", "Nama Koperasi", "NIK Koperasi"))) + '</row>']
    for i, nik in enumerate(niks):
        r = 4 + i
        nik_cell = (f'<c r="D{r}"><f>CONCATENATE("12","71")</f></c>' if i == 1 else
                    f'<c r="D{r}" t="inlineStr"><is><t>{nik}</t></is></c>')
        rows.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>X{i}</t></is></c>'
                    f'<c r="B{r}" t="inlineStr"><is><t>Dinas {i}</t></is></c>'
                    f'<c r="C{r}" t="inlineStr"><is><t>KPRI {i}</t></is></c>{nik_cell}</row>')
    return raw_xlsx(path, "".join(rows))


def long_field_csv(path: Path, header: list[str]) -> Path:
    """A header, then a quoted field of 200 KB in the first data row (over Python csv's limit)."""
    big = '"' + "x" * 200_000 + '"'
    path.write_text(";".join(header) + "\n" + ";".join([big] + ["1"] * (len(header) - 1)) + "\n", encoding="utf-8")
    return path


def million_column_csv(path: Path) -> Path:
    path.write_text(",".join(["a"] * 1_000_000) + "\n1,2\n", encoding="utf-8")
    return path


def wide_header_csv(path: Path, header: list[str], extra: int = 2_000) -> Path:
    columns = header + [f"k{i}" for i in range(extra)]
    path.write_text(";".join(columns) + "\n" + ";".join(["1"] * len(columns)) + "\n", encoding="utf-8")
    return path


def nul_after_head_csv(path: Path, header: list[str], rows: list[list[str]], bad_row: int) -> Path:
    """A CSV whose ``bad_row``-th data row (past the first 8 KB) has a NUL byte inside a cell."""
    lines = [";".join(header)]
    for i, row in enumerate(rows):
        cells = list(row)
        if i == bad_row:
            cells[1] = cells[1][:3] + "\x00" + cells[1][3:]
        lines.append(";".join(cells))
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def headerless_member_list(path: Path) -> Path:
    """A member list whose header row was left out: the first row is a person."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, [PERSON["name"], PERSON["nip"], PERSON["ktp"], PERSON["address"], PERSON["phone"],
                           PERSON["birth"]])
    sheet.write_row(1, 0, ["Budi Santoso", "198701012011011001", "1271010101870001", "Jl. Gatot Subroto 1",
                           "081298765432", "01-01-1987"])
    book.close()
    return path


def registry_list_with_persons(path: Path, niks: list[str]) -> Path:
    """An OPD registry list with the chair's personal data in columns no mapping knows, and one bad row whose
    NIK is not 16 digits (so that the row is quarantined with its personal cells)."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["DAFTAR KOPERASI PEGAWAI"])
    sheet.write_row(2, 0, ["Kode OPD", "Nama OPD", "Nama Koperasi", "NIK Koperasi", "Nama Ketua", "NIK KTP Ketua",
                           "No HP", "E-mail", "Alamat", "Tanggal Lahir"])
    for i, nik in enumerate(niks):
        sheet.write_row(3 + i, 0, [f"Y{i}", f"Badan {i}", f"KPRI Badan {i}", nik if i else "12345", PERSON["name"],
                                   PERSON["ktp"], PERSON["phone"], PERSON["email"], PERSON["address"],
                                   PERSON["birth"]])
    book.close()
    return path


def links(inbox: Path, outside_csv: Path) -> list[Path]:
    """A link to /etc/passwd in inbox/opd, a link to a CSV outside the inbox in inbox/bps, a FIFO in inbox/opd."""
    made = []
    for link, target in ((inbox / "opd" / "passwd.csv", Path("/etc/passwd")), (inbox / "bps" / "elsewhere.csv", outside_csv)):
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
        made.append(link)
    fifo = inbox / "opd" / "pipe.csv"
    os.mkfifo(fifo)
    return made + [fifo]


HOSTILE_NAMES = ["<img src=x onerror=alert(1)>.csv", "'kutip.csv", "$(touch pwned) `id`.csv"]
ACTIVE_CELLS = ["=HYPERLINK(A1,B1)", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\tx"]
