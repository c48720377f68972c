"""Reads a CSV or XLSX export into a grid of text cells, and finds the header row in it.

Everything is text at this stage ("strings first"): typing happens in the per-source parsers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from ingestion.errors import FileRejected
from ingestion.mapping import TableMapping

HEADER_SEARCH_ROWS = 40
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
TOTAL_LABEL = r"^(?i:jumlah|total|grand total)\b"
FOOTNOTE = r"^(?i:sumber|keterangan|catatan|note|source)\b|^\*"


@dataclass
class Grid:
    """All cells as text; ``row_number`` is the 1-based row a spreadsheet or text editor shows."""

    frame: pl.DataFrame  # columns c0..cN (str) and row_number (int)
    preamble: list[str]  # text of the rows above the header (titles: dates, registry numbers)
    headers: list[str]
    table: TableMapping
    columns: dict[str, str]  # canonical field -> grid column
    truncated_row: int | None = None  # row number of a last row cut short
    skipped_rows: int = 0  # totals rows and footnotes: not data


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as e:
            raise FileRejected(name, f"starts with a UTF-8 mark but byte {e.start + 3} is not UTF-8") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # Excel's "CSV" on Indonesian Windows; strict: never lossy
    except UnicodeDecodeError as e:
        raise FileRejected(name, f"is neither UTF-8 nor Windows-1252 text (undecodable byte at offset {e.start})") from None


def _score(table: TableMapping, cells: list[str | None]) -> int:
    return len(table.match(list(cells)))


def _choose(tables: dict[str, TableMapping], rows: list[list[str | None]], name: str) -> tuple[TableMapping, int]:
    """The table kind and header row index with the most recognised headers."""
    best: tuple[int, int, TableMapping | None] = (0, -1, None)
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        for table in tables.values():
            score = _score(table, cells)
            if score > best[0]:
                best = (score, index, table)
    score, index, table = best
    if table is None or score < 2:
        first = next((c for c in rows if any(x for x in c)), [])
        found = ", ".join(repr(c) for c in first if c) or "nothing"
        expected = "; ".join(f"{t.name}: {', '.join(t.required)}" for t in tables.values())
        raise FileRejected(name, f"no header row found in the first {HEADER_SEARCH_ROWS} rows "
                                 f"(expected columns for {expected}; first row has {found})")
    return table, index


def _combine_two_row_header(table: TableMapping, upper: list[str | None], lower: list[str | None]) -> list[str]:
    """BPS headers span two rows ('Jenis Kelamin' above 'Laki-laki | Perempuan'): the lower label wins."""
    if _score(table, lower) == 0:
        return [u or "" for u in upper]
    return [(lo or up or "") for up, lo in zip(upper, lower)]


def _check_required(table: TableMapping, headers: list[str], name: str) -> dict[str, int]:
    matched = table.match(headers)
    missing = [f for f in table.required if f not in matched]
    if missing:
        found = ", ".join(repr(h) for h in headers if h) or "none"
        raise FileRejected(name, f"missing required column(s) {', '.join(missing)}; headers found: {found} "
                                 f"(add a spelling to ingestion/mappings if a header is named differently)")
    return matched


def _sniff_separator(lines: list[str]) -> str:
    sample = "\n".join(lines)
    counts = {sep: sample.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=counts.get)


def read_grid(path: Path, tables: dict[str, TableMapping], name: str | None = None) -> Grid:
    name = name or path.name
    data = path.read_bytes()
    if not data.strip():
        raise FileRejected(name, "is empty")
    if data.startswith(_ZIP_MAGIC) or data.startswith(_OLE_MAGIC):
        return _read_xlsx(path, tables, name)
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm") or b"\x00" in data[:8192]:
        raise FileRejected(name, "is not a readable spreadsheet or text file (binary content)")
    return _read_csv(data, tables, name)


def _finish(frame: pl.DataFrame, header_index: int, table: TableMapping, name: str, preamble: list[str],
            first_row_number: int) -> Grid:
    """Splits header from data, drops blank rows, totals rows and footnotes (counted, not lost)."""
    columns = list(frame.columns)
    head_rows = [list(r) for r in frame.slice(0, min(frame.height, header_index + 2)).rows()]
    row = head_rows[header_index]
    above = head_rows[header_index - 1] if header_index > 0 else None
    below = head_rows[header_index + 1] if header_index + 1 < len(head_rows) else None
    if above is not None and _score(table, above) > 0:  # this row is the lower half of a two-row header
        headers, data_start = _combine_two_row_header(table, above, row), header_index + 1
    elif below is not None and _score(table, below) > 0:
        headers, data_start = _combine_two_row_header(table, row, below), header_index + 2
    else:
        headers, data_start = [c or "" for c in row], header_index + 1
    matched = _check_required(table, headers, name)
    grid_cols = [f"c{i}" for i in range(len(columns))]
    body = frame.rename(dict(zip(columns, grid_cols))).with_row_index("row_number", offset=first_row_number)
    body = body.slice(data_start).with_columns(pl.col("row_number").cast(pl.Int64))
    # Cheap row classification: null checks on every column, text checks on the first three only.
    filled = pl.sum_horizontal([pl.col(c).is_not_null().cast(pl.Int32) for c in grid_cols])
    blank = filled == 0
    label_cells = [pl.col(c).str.strip_chars() for c in grid_cols[:3]]
    # A totals row carries its label where a key would be, and no key of its own.
    key_empty_or_label = label_cells[0].is_null() | (label_cells[0] == "") | label_cells[0].str.contains(TOTAL_LABEL)
    is_total = key_empty_or_label.fill_null(True) & pl.any_horizontal(
        [c.str.contains(TOTAL_LABEL).fill_null(False) for c in label_cells])
    is_footnote = label_cells[0].str.contains(FOOTNOTE).fill_null(False) & (filled <= 1)
    kept = body.filter(~blank & ~is_total & ~is_footnote)
    skipped = body.height - kept.height - body.filter(blank).height
    if kept.height == 0:
        raise FileRejected(name, f"has a header row (row {first_row_number + header_index}) but no data rows")
    return Grid(kept, preamble, headers, table, {f: grid_cols[i] for f, i in matched.items()},
                skipped_rows=skipped)


def _read_xlsx(path: Path, tables: dict[str, TableMapping], name: str) -> Grid:
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except Exception as e:  # calamine reports corrupt workbooks with its own exception types
        raise FileRejected(name, f"is not a readable XLSX workbook ({type(e).__name__}: {str(e)[:200]})") from None
    if frame.height == 0:
        raise FileRejected(name, "has an empty first sheet")
    rows = frame.slice(0, HEADER_SEARCH_ROWS).rows()
    table, header_index = _choose(tables, [list(r) for r in rows], name)
    preamble = [" ".join(str(c) for c in r if c) for r in rows[:header_index]]
    return _finish(frame, header_index, table, name, preamble, first_row_number=1)


def _utf8_body(data: bytes, name: str) -> bytes:
    """The file as UTF-8 bytes: as it is when it already is UTF-8 (no copy through str), else decoded."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")  # validation only; the bytes go to polars unchanged
        return data
    except UnicodeDecodeError:
        return _decode(data, name).encode("utf-8")


def _read_csv(data: bytes, tables: dict[str, TableMapping], name: str) -> Grid:
    if data.startswith(b"\xef\xbb\xbf"):
        _decode(data[:65536].rsplit(b"\n", 1)[0] if len(data) > 65536 else data, name)  # a clear error for bad BOM files
    body = _utf8_body(data, name)
    head = body[:262_144].decode("utf-8", errors="replace")  # only the first lines are needed to find the header
    head_lines = head.splitlines()[:HEADER_SEARCH_ROWS]
    separator = _sniff_separator(head_lines)
    head_rows = [list(r) for r in csv.reader(head_lines, delimiter=separator)]
    table, header_index = _choose(tables, head_rows, name)
    start = header_index - 1 if header_index > 0 and _score(table, head_rows[header_index - 1]) > 0 else header_index
    preamble = [" ".join(c for c in r if c) for r in head_rows[:start]]
    offset = 0
    for _ in range(start):
        offset = body.index(b"\n", offset) + 1
    try:
        frame = pl.read_csv(io.BytesIO(body[offset:] if offset else body), separator=separator, has_header=False,
                            infer_schema=False, truncate_ragged_lines=True, quote_char='"')
    except pl.exceptions.PolarsError as e:
        raise FileRejected(name, f"is not a readable CSV file ({str(e).splitlines()[0][:200]})") from None
    grid = _finish(frame, header_index - start, table, name, preamble, first_row_number=start + 1)
    grid.truncated_row = _truncated_last_row(body[-65536:].decode("utf-8", errors="replace"), separator, frame.width,
                                             start, frame.height)
    return grid


def _truncated_last_row(text: str, separator: str, width: int, header_index: int, rows: int) -> int | None:
    """A file that does not end with a line break and whose last row has too few cells was cut off."""
    if text.endswith(("\n", "\r")):
        return None
    last_line = text.rsplit("\n", 1)[-1]
    cells = next(csv.reader([last_line], delimiter=separator), [])
    return header_index + rows if len(cells) < width else None
