"""The reader's bounds, and the inspection of an XLSX workbook against them before it is opened.

A spreadsheet reader (calamine, behind fastexcel) sizes its grid from the sheet's declared range and expands
every shared string in memory: a 2 KB workbook declaring ``A1:XFD1048576`` asks for 512 GiB and aborts the
process. So the ZIP container is checked first, by streaming its parts once with ``zipfile`` (CRC-checked, so a
part that inflates past its declared size is caught), without building any of it in memory:

- every part together inflates to at most ``XLSX_MAX_INFLATED``, the shared strings to ``XLSX_MAX_SHARED_STRINGS``;
- the first sheet's declared range (``<dimension>``) and the range its cells span hold at most ``MAX_CELLS``
  cells, at most ``MAX_COLUMNS`` wide;
- formula cells that carry no cached value are noted (their rows are quarantined: a value is never invented).

CSV files are streamed by polars and bounded by ``MAX_COLUMNS`` and ``MAX_FIELD_BYTES`` where their header
is found (see ``reading``). With these bounds one file takes at most about ``MEMORY_BOUND`` of memory to read.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.errors import FileRejected

MAX_COLUMNS = 1_024
MAX_CELLS = 8_000_000  # a sheet's dense grid: ~32 bytes a cell in calamine, ~256 MiB at the bound
MAX_FIELD_BYTES = 128 * 1024
XLSX_MAX_INFLATED = 512 * 1024 * 1024
XLSX_MAX_SHARED_STRINGS = 256 * 1024 * 1024
XLS_MAX_BYTES = 64 * 1024 * 1024  # Excel 97-2003 files cannot be inspected part by part: their size is the bound
MAX_ROW_XML = 64 * 1024 * 1024  # one <row> element of a sheet, while it is scanned
MEMORY_BOUND = "2 GiB"

_BLOCK = 1 << 20
_NS = rb"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix: <x:c ...> as some writers have it
_DIMENSION = re.compile(rb"<" + _NS + rb"dimension\b[^>]*\bref=\"([^\"]*)\"")
_ROW_END = re.compile(rb"</" + _NS + rb"row>")
_CELL = re.compile(rb"<" + _NS + rb"c\b([^>]*?)(/>|>(.*?)</" + _NS + rb"c>)", re.S)
_REF = re.compile(rb"\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_FORMULA = re.compile(rb"<" + _NS + rb"f\b")
_VALUE = re.compile(rb"<" + _NS + rb"v\b[^>]*>[^<]+</" + _NS + rb"v>|<" + _NS + rb"is\b")
_RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Z]{1,3})\$?([0-9]{1,7}))?$")
# The same cells as _CELL and _REF, matched block-wide (C speed, no Python per cell): every cell reference, and the
# row of every cell holding a value (a <v> with text or an inline string; self-closing cells hold none).
_CELL_REF = re.compile(rb"<" + _NS + rb"c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_VALUED_CELL_ROW = re.compile(
    rb"<" + _NS + rb"c\b[^>]*?\br=\"[A-Z]{1,3}([0-9]{1,7})\"[^>]*(?<!/)>(?:(?!</" + _NS + rb"c>).)*?(?:<" + _NS
    + rb"v\b[^>]*>[^<]+</" + _NS + rb"v>|<" + _NS + rb"is\b)", re.S)


def mib(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB"


def column_index(letters: str | bytes) -> int:
    """'A' -> 1, 'XFD' -> 16384."""
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + ord(ch) - 64
    return n


@dataclass
class SheetInspection:
    """What the scan of a workbook's first sheet found: its extent and the rows of formula cells with no value."""

    first_row: int | None = None
    last_row: int = 0
    first_column: int | None = None
    last_column: int = 0
    formula_rows: list[int] = field(default_factory=list)  # sheet rows (1-based, as Excel numbers them)
    first_value_row: int | None = None  # where the reader's grid starts: the first row with a value

    def see(self, row: int, col: int) -> None:
        self.first_row = row if self.first_row is None else min(self.first_row, row)
        self.first_column = col if self.first_column is None else min(self.first_column, col)
        self.last_row, self.last_column = max(self.last_row, row), max(self.last_column, col)


def _check_extent(name: str, what: str, rows: int, columns: int) -> None:
    if columns > MAX_COLUMNS:
        raise FileRejected(name, "too_many_columns", columns=columns, limit_columns=MAX_COLUMNS)
    if rows * columns > MAX_CELLS:
        raise FileRejected(name, "over_bound", what=f"{what} ({rows} x {columns} cells)", bound=f"{MAX_CELLS} cells")


def _first_sheet_part(book: zipfile.ZipFile) -> str | None:
    """The ZIP part of the workbook's first sheet (the one the reader loads), from workbook.xml and its rels."""
    names = set(book.namelist())
    try:
        workbook = _read_small(book, "xl/workbook.xml")
        rels = _read_small(book, "xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    sheet = re.search(rb"<" + _NS + rb"sheet\b[^>]*\br:id=\"([^\"]+)\"", workbook) or re.search(
        rb"<" + _NS + rb"sheet\b[^>]*\bid=\"([^\"]+)\"", workbook)
    if sheet is None:
        return None
    for rel in re.finditer(rb"<" + _NS + rb"Relationship\b([^>]*)>", rels):
        attrs = rel.group(1)
        rid, target = re.search(rb"\bId=\"([^\"]+)\"", attrs), re.search(rb"\bTarget=\"([^\"]+)\"", attrs)
        if rid and target and rid.group(1) == sheet.group(1):
            path = target.group(1).decode("utf-8", "replace")
            part = path.lstrip("/") if path.startswith("/") else posixpath.normpath(posixpath.join("xl", path))
            return part if part in names else None
    return None


def _read_small(book: zipfile.ZipFile, part: str, limit: int = 8 * 1024 * 1024) -> bytes:
    with book.open(part) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise zipfile.BadZipFile(f"{part} is larger than expected")
    return data


def _drain(book: zipfile.ZipFile, part: str, budget: int) -> int:
    """Inflates one part without keeping it (a lying size fails its CRC); returns its size."""
    size = 0
    with book.open(part) as f:
        while block := f.read(_BLOCK):
            size += len(block)
            if size > budget:
                break
    return size


def _scan_sheet(book: zipfile.ZipFile, part: str, name: str, budget: int) -> tuple[SheetInspection, int]:
    found, size, carry, declared = SheetInspection(), 0, b"", False
    with book.open(part) as f:
        while block := f.read(_BLOCK):
            size += len(block)
            if size > budget:
                return found, size
            data = carry + block
            if not declared and (dim := _DIMENSION.search(data)):
                declared = True
                _check_declared(name, dim.group(1).decode("ascii", "replace"))
            ends = list(_ROW_END.finditer(data))
            cut = ends[-1].end() if ends else 0
            _scan_cells(data[:cut], found)
            carry = data[cut:]
            if len(carry) > MAX_ROW_XML:
                raise FileRejected(name, "over_bound", what="one row of the sheet", bound=mib(MAX_ROW_XML))
            if found.first_row is not None:
                _check_extent(name, "the cells of the first sheet", found.last_row - found.first_row + 1,
                              found.last_column - found.first_column + 1)
    _scan_cells(carry, found)
    return found, size


def _check_declared(name: str, ref: str) -> None:
    match = _RANGE.match(ref.strip().upper())
    if match is None:
        return
    first_col, first_row, last_col, last_row = match.groups()
    if last_col is None:
        return
    rows = abs(int(last_row) - int(first_row)) + 1
    columns = abs(column_index(last_col) - column_index(first_col)) + 1
    _check_extent(name, "the declared range of the first sheet", rows, columns)


def _scan_cells(data: bytes, found: SheetInspection) -> None:
    """Notes the cells of whole rows: block-wide matches, or cell by cell where formulas are (only then does
    a cell's content matter beyond having a value)."""
    if _FORMULA.search(data):
        _scan_cells_one_by_one(data, found)
        return
    refs = _CELL_REF.findall(data)
    if not refs:
        return
    letters, digits = zip(*refs)
    rows = [int(r) for r in set(digits)]
    columns = [column_index(c) for c in set(letters)]
    found.see(min(rows), min(columns))
    found.see(max(rows), max(columns))
    if found.first_value_row is not None and found.first_value_row <= min(rows):
        return  # no cell here can come before the first value already seen
    valued = _VALUED_CELL_ROW.findall(data)
    if valued:
        first = min(int(r) for r in set(valued))
        found.first_value_row = first if found.first_value_row is None else min(found.first_value_row, first)


def _scan_cells_one_by_one(data: bytes, found: SheetInspection) -> None:
    for cell in _CELL.finditer(data):
        ref = _REF.search(cell.group(1))
        if ref is None:
            continue
        row = int(ref.group(2))
        found.see(row, column_index(ref.group(1)))
        body = cell.group(3)
        if not body:
            continue
        if _VALUE.search(body):
            found.first_value_row = row if found.first_value_row is None else min(found.first_value_row, row)
        elif _FORMULA.search(body):
            found.formula_rows.append(row)


def inspect_xlsx(path: Path, name: str) -> SheetInspection:
    """Rejects a workbook over the bounds (naming the bound), else says what its first sheet spans."""
    try:
        with zipfile.ZipFile(path) as book:
            infos = book.infolist()
            if sum(i.file_size for i in infos) > XLSX_MAX_INFLATED:
                raise FileRejected(name, "over_bound", what="the declared size of its parts",
                                   bound=mib(XLSX_MAX_INFLATED))
            sheet = _first_sheet_part(book)
            budget, found = XLSX_MAX_INFLATED, SheetInspection()
            for info in infos:
                if info.is_dir():
                    continue
                if info.filename == sheet:
                    found, size = _scan_sheet(book, sheet, name, budget)
                else:
                    limit = XLSX_MAX_SHARED_STRINGS if info.filename.endswith("sharedStrings.xml") else budget
                    size = _drain(book, info.filename, min(limit, budget))
                    if size > limit:
                        raise FileRejected(name, "over_bound", what="its shared strings", bound=mib(limit))
                budget -= size
                if budget < 0:
                    raise FileRejected(name, "over_bound", what="its inflated parts", bound=mib(XLSX_MAX_INFLATED))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as e:
        raise FileRejected(name, "unreadable_xlsx", error_type=type(e).__name__) from None
    return found
