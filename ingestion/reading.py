"""Reads a CSV or XLSX export into a grid of text cells, and finds the header row in it.

Everything is text at this stage ("strings first"): typing happens in the per-source parsers. Data rows
come in batches, so a file of a million rows is never held in memory whole.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import fastexcel
import polars as pl

from ingestion import bounds
from ingestion.errors import FileRejected
from ingestion.mapping import TableMapping
from ingestion.utf8 import Utf8Check, check_file

HEADER_SEARCH_ROWS = 40
HEAD_BYTES = 262_144  # enough text to find the header in; the data rows are read by polars
BATCH_ROWS = 81_920
_BLOCK = 1 << 22
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_BOM = b"\xef\xbb\xbf"
# Matched against untrimmed cells; ASCII word boundaries (?-u:\b) keep the regexes on the fast DFA engine.
_LABEL = r"(?i:jumlah|total|grand total)(?-u:\b)"
TOTAL_LABEL = rf"^\s*{_LABEL}"
BLANK_OR_TOTAL_LABEL = rf"^\s*(?:$|{_LABEL})"
FOOTNOTE = r"^\s*(?:(?i:sumber|keterangan|catatan|note|source)(?-u:\b)|\*)"


@dataclass
class RowBatch:
    """Data rows of one batch: columns c0..cN (str) and row_number (the 1-based row an editor shows)."""

    frame: pl.DataFrame
    skipped: int  # totals rows and footnotes: not data, counted
    truncated_row: int | None  # set on the last batch when the file's last row is cut short


@dataclass
class Grid:
    """The file's layout (headers, mapped columns, title rows) and a way to read its data rows."""

    name: str
    preamble: list[str]  # text of the rows above the header (titles: dates, registry numbers)
    headers: list[str]
    table: TableMapping
    columns: dict[str, str]  # canonical field -> grid column
    header_row: int  # 1-based row number of the (last) header row
    scan_rows: Callable[[], pl.LazyFrame] = field(repr=False)  # every row below the header, unclassified
    cut_short: bool = False  # the file ends in the middle of its last row
    formula_rows: tuple[int, ...] = ()  # rows with a formula cell that has no cached value (XLSX)
    has_nul: bool = False  # the file has a NUL byte somewhere (CSV): rows holding one are quarantined
    _keep: object = field(default=None, repr=False)  # a transcoded copy's TemporaryDirectory: lives as long as the grid

    def header_of(self, field_name: str) -> str:
        return self.headers[int(self.columns[field_name][1:])]

    def batches(self, rows: int | None = None) -> Iterator[RowBatch]:
        """Data rows in batches of ``rows`` (default BATCH_ROWS); blank rows dropped, totals rows and footnotes
        counted as skipped. One batch is held back, so the last one is known (a cut-short last row)."""
        pending, kept = None, 0
        try:
            for raw in self.scan_rows().collect_batches(chunk_size=rows or BATCH_ROWS):
                if raw.height == 0:
                    continue
                if pending is not None:
                    batch = _classify(pending, cut_short=False)
                    kept += batch.frame.height
                    yield batch
                pending = raw
        except pl.exceptions.PolarsError as e:
            raise self._unreadable(e) from None
        last = _classify(pending, self.cut_short) if pending is not None else None
        if last is None or kept + last.frame.height == 0:
            raise FileRejected(self.name, "no_data_rows", row=self.header_row)
        yield last

    def rows_where(self, condition: pl.Expr) -> pl.DataFrame:
        """The raw rows (c0..cN, row_number) that meet a condition: one more pass over the file."""
        try:
            return self.scan_rows().with_columns(pl.col("row_number").cast(pl.Int64)).filter(condition).collect()
        except pl.exceptions.PolarsError as e:
            raise self._unreadable(e) from None

    def _unreadable(self, error: Exception) -> FileRejected:
        return FileRejected(self.name, "unreadable_csv", error_type=type(error).__name__)

    @cached_property
    def whole(self) -> RowBatch:
        """All data rows at once, for the small sources (BPS tables, OPD lists) that parse whole files."""
        parts = list(self.batches())
        return RowBatch(pl.concat([p.frame for p in parts]), sum(p.skipped for p in parts),
                        next((p.truncated_row for p in parts if p.truncated_row is not None), None))


def _classify(raw: pl.DataFrame, cut_short: bool) -> RowBatch:
    """Drops blank rows, totals rows and footnotes. Null checks on every column, text checks on the first three."""
    raw = raw.with_columns(pl.col("row_number").cast(pl.Int64))
    grid_cols = [c for c in raw.columns if c != "row_number"]
    filled = pl.sum_horizontal([pl.col(c).is_not_null().cast(pl.Int32) for c in grid_cols])
    is_footnote = pl.col(grid_cols[0]).str.contains(FOOTNOTE).fill_null(False) & (filled <= 1)
    marks = raw.lazy().select((filled == 0).alias("blank"), (_totals_row(grid_cols[:3]) | is_footnote).alias("skip")
                              ).collect()
    blank, skip = marks.get_column("blank"), marks.get_column("skip")
    drop = blank | skip
    kept = raw.filter(~drop) if drop.any() else raw  # most batches drop nothing: no copy
    truncated = raw.get_column("row_number")[-1] if cut_short and raw.height else None
    return RowBatch(kept, int((skip & ~blank).sum()), truncated)


def _totals_row(label_columns: list[str]) -> pl.Expr:
    """A totals row carries its label ("Jumlah", "Total") where a key would be, and no key of its own."""
    key_empty_or_label = pl.col(label_columns[0]).str.contains(BLANK_OR_TOTAL_LABEL).fill_null(True)
    return key_empty_or_label & pl.any_horizontal(
        [pl.col(c).str.contains(TOTAL_LABEL).fill_null(False) for c in label_columns])


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
    if table is None or score < 2:  # the cells are not quoted: without a header they may be a person's data
        first = next((c for c in rows if any(x for x in c)), [])
        expected = [f"{t.name}: {' + '.join(t.required)}" for t in tables.values()]
        raise FileRejected(name, "no_header", rows=HEADER_SEARCH_ROWS, expected=expected,
                           found=sum(1 for c in first if c))
    return table, index


def _combine_two_row_header(table: TableMapping, upper: list[str | None], lower: list[str | None]) -> list[str]:
    """BPS headers span two rows ('Jenis Kelamin' above 'Laki-laki | Perempuan'): the lower label wins."""
    if _score(table, lower) == 0:
        return [u or "" for u in upper]
    return [(lo or up or "") for up, lo in zip(upper, lower)]


def _check_required(table: TableMapping, headers: list[str], name: str) -> dict[str, int]:
    matched = table.match(headers)
    missing = [f for f in table.required if f not in matched]
    if missing:  # only the headers the mapping knows are named: an unknown one may be a data cell
        known = [str(headers[i]) for i in sorted(matched.values())]
        raise FileRejected(name, "missing_columns", missing=missing, headers=known,
                           unknown=sum(1 for h in headers if h) - len(known))
    return matched


@dataclass
class _Layout:
    headers: list[str]
    first: int  # index of the first header row
    data_start: int  # index of the first data row
    columns: dict[str, str]
    width: int


def _layout(table: TableMapping, rows: list[list[str | None]], header_index: int, name: str) -> _Layout:
    """Header cells (one row, or two combined) and where the data starts."""
    row = rows[header_index]
    above = rows[header_index - 1] if header_index > 0 else None
    below = rows[header_index + 1] if header_index + 1 < len(rows) else None
    if above is not None and _score(table, above) > 0:  # this row is the lower half of a two-row header
        headers, first, data_start = _combine_two_row_header(table, above, row), header_index - 1, header_index + 1
    elif below is not None and _score(table, below) > 0:
        headers, first, data_start = _combine_two_row_header(table, row, below), header_index, header_index + 2
    else:
        headers, first, data_start = [c or "" for c in row], header_index, header_index + 1
    matched = _check_required(table, headers, name)
    width = max(len(r) for r in rows[first:data_start])
    if width > bounds.MAX_COLUMNS:
        raise FileRejected(name, "too_many_columns", columns=width, limit_columns=bounds.MAX_COLUMNS)
    headers = headers + [""] * (width - len(headers))
    return _Layout(headers, first, data_start, {f: f"c{i}" for f, i in matched.items()}, width)


def read_grid(path: Path, tables: dict[str, TableMapping], name: str | None = None,
              utf8: Utf8Check | None = None) -> Grid:
    """The file's layout and rows. ``utf8``: the file's UTF-8 check, when made already (see api.digest)."""
    name = name or path.name
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
        complete = not f.read(1)
    if not head.strip() and complete:
        raise FileRejected(name, "empty")
    if head.startswith(_ZIP_MAGIC):
        return _read_xlsx(path, tables, name, bounds.inspect_xlsx(path, name))
    if head.startswith(_OLE_MAGIC):
        if path.stat().st_size > bounds.XLS_MAX_BYTES:
            raise FileRejected(name, "over_bound", what="an Excel 97-2003 workbook", bound=bounds.mib(bounds.XLS_MAX_BYTES))
        return _read_xlsx(path, tables, name, bounds.SheetInspection())
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm") or b"\x00" in head[:8192]:
        raise FileRejected(name, "binary")
    return _read_csv(path, head, complete, tables, name, utf8)


def _read_xlsx(path: Path, tables: dict[str, TableMapping], name: str, sheet_scan: bounds.SheetInspection) -> Grid:
    """The first sheet. Row numbers are the sheet's own (the reader's grid starts at the first row with a value)."""
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except Exception as e:  # calamine reports corrupt workbooks with its own exception types (never quoted)
        raise FileRejected(name, "unreadable_xlsx", error_type=type(e).__name__) from None
    if frame.height == 0:
        raise FileRejected(name, "empty_sheet")
    if frame.width > bounds.MAX_COLUMNS or frame.height * frame.width > bounds.MAX_CELLS:
        raise FileRejected(name, "over_bound", what="the first sheet", bound=f"{bounds.MAX_CELLS} cells")
    first_row = sheet_scan.first_value_row or 1
    rows = [list(r) for r in frame.slice(0, HEADER_SEARCH_ROWS).rows()]
    table, header_index = _choose(tables, rows, name)
    layout = _layout(table, rows, header_index, name)
    body = (frame.rename(dict(zip(frame.columns, [f"c{i}" for i in range(frame.width)])))
            .with_row_index("row_number", offset=first_row).slice(layout.data_start))
    preamble = [" ".join(str(c) for c in r if c) for r in rows[:layout.first]]
    return Grid(name, preamble, layout.headers, table, layout.columns, header_row=layout.data_start + first_row - 1,
                scan_rows=body.lazy, formula_rows=tuple(sorted(set(sheet_scan.formula_rows))))


def _utf8_source(path: Path, name: str, utf8: Utf8Check | None) -> tuple[Path, object]:
    """A UTF-8 file to scan: the file itself when it is UTF-8, else a temporary UTF-8 copy of its strict
    Windows-1252 decoding (never lossy). ``utf8``: the check, when the caller made it already."""
    utf8 = utf8 or check_file(path, _BLOCK)
    if utf8.bad_offset is None:
        return path, None
    return _transcoded(path, name, utf8.bad_offset)


def _transcoded(path: Path, name: str, bad_offset: int) -> tuple[Path, object]:
    with path.open("rb") as f:
        if f.read(3) == _BOM:
            raise FileRejected(name, "bad_utf8_mark", offset=bad_offset)
    folder = tempfile.TemporaryDirectory(prefix="koperasi-utf8-")
    target = Path(folder.name) / "utf8.csv"
    offset = 0
    with path.open("rb") as source, target.open("wb") as out:
        for block in iter(lambda: source.read(_BLOCK), b""):
            try:  # Excel's "CSV" on Indonesian Windows; one byte per character, so blocks decode alone
                out.write(block.decode("cp1252").encode("utf-8"))
            except UnicodeDecodeError as e:
                folder.cleanup()
                raise FileRejected(name, "unknown_encoding", offset=offset + e.start) from None
            offset += len(block)
    return target, folder


def _sniff_separator(lines: list[str]) -> str:
    sample = "\n".join(lines)
    counts = {sep: sample.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=counts.get)


def _head_records(text: str, separator: str) -> tuple[list[list[str]], list[int]]:
    """The first records of the file and, for each, how many lines it ends after (quoted line breaks count)."""
    lines = [line + "\n" for line in text.split("\n")]
    csv.field_size_limit(bounds.MAX_FIELD_BYTES)
    reader = csv.reader(lines, delimiter=separator)
    records, ends = [], []
    for record in reader:
        records.append(record)
        ends.append(reader.line_num)
        if len(records) >= HEADER_SEARCH_ROWS + 2:
            break
    return records, ends


def _read_csv(path: Path, head: bytes, complete: bool, tables: dict[str, TableMapping], name: str,
              utf8: Utf8Check | None) -> Grid:
    utf8 = utf8 or check_file(path, _BLOCK)
    source, keep = _utf8_source(path, name, utf8)
    if keep is not None:
        with source.open("rb") as f:
            head = f.read(HEAD_BYTES)
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if not complete:
        text = text[: text.rfind("\n") + 1]  # the last line of the head may be cut: not a record
    separator = _sniff_separator(text.splitlines()[:HEADER_SEARCH_ROWS])
    try:
        records, ends = _head_records(text, separator)
    except csv.Error:  # a field over csv's limit (the bound) or a broken quote in the rows the header is sought in
        raise FileRejected(name, "field_too_long", bound=f"{bounds.MAX_FIELD_BYTES // 1024} KiB") from None
    table, header_index = _choose(tables, records, name)
    layout = _layout(table, records, header_index, name)
    data_line = ends[layout.data_start - 1]  # lines above the first data row
    schema = {f"c{i}": pl.String for i in range(layout.width)}

    def scan_rows() -> pl.LazyFrame:
        _bound_csv_read_ahead()
        return pl.scan_csv(source, has_header=False, separator=separator, skip_lines=data_line, schema=schema,
                           missing_columns="insert", truncate_ragged_lines=True, quote_char='"',
                           raise_if_empty=False, row_index_name="row_number", row_index_offset=data_line + 1)

    preamble = [" ".join(c for c in r if c) for r in records[:layout.first]]
    return Grid(name, preamble, layout.headers, table, layout.columns, header_row=data_line, scan_rows=scan_rows,
                cut_short=_cut_short(source, separator, layout.width), _keep=keep,
                has_nul=utf8.has_nul)


def _bound_csv_read_ahead() -> None:
    """polars' streaming CSV reader reads ahead in 4 MiB pieces, two at a time, instead of its larger defaults:
    the batches are parsed as fast as they come, and a 1M-row file stays well under 1 GiB (benchmarks/).
    Undocumented knobs, read by polars when a scan runs: without them only memory changes. A value already
    set in the environment wins."""
    os.environ.setdefault("POLARS_CSV_CHUNK_SIZE", str(4 << 20))
    os.environ.setdefault("POLARS_CSV_CHUNK_PREFETCH_LIMIT", "2")


def _cut_short(path: Path, separator: str, width: int) -> bool:
    """A file that does not end with a line break and whose last row has too few cells was cut off."""
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 65536))
        tail = f.read().decode("utf-8", errors="replace")
    if tail.endswith(("\n", "\r")):
        return False
    cells = next(csv.reader([tail.rsplit("\n", 1)[-1]], delimiter=separator), [])
    return len(cells) < width
