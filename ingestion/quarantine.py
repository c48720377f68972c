"""Splits parsed rows into those that load and those quarantined with a reason and a message."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import polars as pl

from ingestion.findings import Finding, english_rows
from ingestion.parsing import row_finding
from ingestion.privacy import MASK, shown_columns
from ingestion.reading import Grid, RowBatch


@dataclass
class Batch:
    """What one batch of rows turned into: rows to load and quarantined rows (source_row, reason, message, record)."""

    rows: pl.DataFrame
    quarantine: pl.DataFrame
    rows_read: int
    rows_skipped: int = 0


@dataclass
class LateFindings:
    """Rows found bad only once the whole file was read: a check across rows, such as duplicate keys.

    Landing takes such rows back out of the loaded ones (or adds the finding to a row already
    quarantined for another reason); ``records`` reads the raw rows again for the quarantine."""

    reason: str
    findings: pl.DataFrame  # source_row, finding (one row finding as JSON, see parsing.row_finding)
    records: Callable[[list[int]], pl.DataFrame]  # source rows -> source_row, record


@dataclass
class ParsedFile:
    """What one file turns into: batches for one raw table, produced as landing consumes them (a large
    file is never in memory whole), file-level warnings, and what only the whole file shows (``late``,
    called after the last batch)."""

    table: str
    batches: Iterable[Batch]
    warnings: list[Finding] = field(default_factory=list)
    snapshot_date: object = None
    late: Callable[[], LateFindings | None] | None = None


def record_json(grid: Grid) -> pl.Expr:
    """The raw row as JSON keyed by the file's own headers, by the privacy rule (``privacy.shown_columns``): cells
    of columns mapped to a non-personal field as they are, every other cell masked. NUL bytes are never kept."""
    personal = {f.name for f in grid.table.fields if f.personal}
    shown = shown_columns(grid.headers, grid.columns, personal)
    parts = []
    for index, header in enumerate(grid.headers):
        column = f"c{index}"
        label = header or column
        # otherwise(the column): nulls stay null and the expression keeps the column's length (a struct of
        # literal-only fields panics in polars 2.1 when every column is masked)
        value = (pl.col(column).str.replace_all("\x00", "", literal=True) if column in shown else
                 pl.when(pl.col(column).is_not_null()).then(pl.lit(MASK)).otherwise(pl.col(column)))
        parts.append(value.alias(label if label not in {p.meta.output_name() for p in parts} else f"{label}_{index}"))
    return pl.struct(parts).struct.json_encode()


EMPTY_QUARANTINE = pl.DataFrame(schema={"source_row": pl.Int64, "reason": pl.String, "message": pl.String,
                                         "findings": pl.String, "record": pl.String})


def with_messages(frame: pl.DataFrame) -> pl.DataFrame:
    """Quarantined rows with their English ``message`` rendered from their ``findings`` (a few rows: per row)."""
    return frame.with_columns(pl.col("findings").map_elements(english_rows, return_dtype=pl.String).alias("message")
                              ).select(EMPTY_QUARANTINE.columns)

Check = tuple  # (reason, error) or (reason, invalid, message): see parsing.Parsed


def _flag_and_message(check: Check) -> tuple[str, pl.Expr, pl.Expr]:
    if len(check) == 3:
        return check
    code, error = check
    return code, error.is_not_null(), error


def split(frame: pl.DataFrame | pl.LazyFrame, checks: list[Check], record: pl.Expr,
          stages: list[dict[str, pl.Expr]] = (), output: list[pl.Expr] | None = None
          ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows with no error, and quarantined rows (row_number, reason = first failing check, findings = all of
    them as a JSON list, message = their English text).

    ``stages`` are columns computed one context after the other before the checks' flags (trimmed cells,
    then values parsed from them), so that each is computed once. Messages and the raw record (JSON of
    every cell) are built for the quarantined rows only."""
    checks = [_flag_and_message(c) for c in checks]
    flags = [f"_bad{i}" for i in range(len(checks))]
    lazy = frame.lazy()
    for stage in stages:
        lazy = lazy.with_columns(**stage)
    flagged = (lazy.with_columns([invalid.fill_null(False).alias(f) for (_, invalid, _), f in zip(checks, flags)])
               .with_columns(pl.any_horizontal(flags).alias("_any_bad")).collect())
    bad_rows = flagged.get_column("_any_bad")
    # With `output`, only the loaded columns are kept (not the raw text cells): less memory.
    if not bad_rows.any():  # most batches of a large file: nothing to filter, nothing copied
        return (flagged.select(output) if output else flagged.drop(*flags, "_any_bad")), EMPTY_QUARANTINE
    good = flagged.filter(~bad_rows)
    good = good.select(output) if output else good.drop(*flags, "_any_bad")
    reason = pl.coalesce([pl.when(pl.col(f)).then(pl.lit(code)) for (code, _, _), f in zip(checks, flags)])
    findings = pl.concat_str([pl.lit("["), pl.concat_str([pl.when(pl.col(f)).then(msg) for (_, _, msg), f in
                                                          zip(checks, flags)], separator=",", ignore_nulls=True),
                              pl.lit("]")])
    bad = flagged.filter(bad_rows).rechunk().lazy().select(
        pl.col("row_number").alias("source_row"), reason.alias("reason"), findings.alias("findings"),
        record.alias("record"))
    return good, with_messages(bad.collect(engine="in-memory"))  # the streaming engine panics on this plan (polars 2.1)


def row_checks(grid: Grid, rows: RowBatch) -> list[Check]:
    """What every source checks of a row before its own rules: the row is not cut short, has no formula without a
    saved value (read as empty by the spreadsheet reader: never loaded as a value it does not have) and no NUL
    byte (binary content, never text)."""
    checks = [truncated_check(rows.truncated_row)]
    if grid.formula_rows:
        checks.append(("formula_without_value", pl.when(pl.col("row_number").is_in(list(grid.formula_rows))).then(
            row_finding("formula_without_value"))))
    if grid.has_nul:
        holds_nul = pl.any_horizontal([pl.col(f"c{i}").str.contains("\x00", literal=True).fill_null(False)
                                       for i in range(len(grid.headers))])
        checks.append(("nul_byte", pl.when(holds_nul).then(row_finding("nul_byte"))))
    return checks


def truncated_check(truncated_row: int | None) -> tuple[str, pl.Expr]:
    row = truncated_row if truncated_row is not None else -1
    return ("truncated_row", pl.when(pl.col("row_number") == row).then(row_finding("truncated_row")))

