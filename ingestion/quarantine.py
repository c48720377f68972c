"""Splits parsed rows into those that load and those quarantined with a reason and a message."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ingestion.reading import Grid

MASK = "[masked]"


@dataclass
class ParsedFile:
    """What one file turned into: rows to load per raw table, quarantined rows, file-level warnings."""

    tables: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    rows_read: int
    rows_skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    snapshot_date: object = None


def record_json(grid: Grid, masked_fields: tuple[str, ...] = ()) -> pl.Expr:
    """The raw row as JSON keyed by the file's own headers; personal fields masked."""
    masked_columns = {grid.columns[f] for f in masked_fields if f in grid.columns}
    parts = []
    for index, header in enumerate(grid.headers):
        column = f"c{index}"
        label = header or column
        value = pl.when(pl.col(column).is_not_null()).then(pl.lit(MASK)) if column in masked_columns else pl.col(column)
        parts.append(value.alias(label if label not in {p.meta.output_name() for p in parts} else f"{label}_{index}"))
    return pl.struct(parts).struct.json_encode()


def split(frame: pl.DataFrame | pl.LazyFrame, checks: list[tuple[str, pl.Expr]],
          record: pl.Expr) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows with no error, and quarantined rows (row_number, reason = first failing check, message = all).

    Lazy, so polars evaluates the shared sub-expressions of the rules once, and the raw record (JSON of
    every cell) is built only for the quarantined rows."""
    reason = pl.coalesce([pl.when(error.is_not_null()).then(pl.lit(code)) for code, error in checks])
    message = pl.concat_str([error for _, error in checks], separator="; ", ignore_nulls=True)
    flagged = frame.lazy().with_columns(reason.alias("_reason"), message.alias("_message"))
    good = flagged.filter(pl.col("_reason").is_null()).drop("_reason", "_message")
    bad = flagged.filter(pl.col("_reason").is_not_null()).select(
        pl.col("row_number").alias("source_row"), pl.col("_reason").alias("reason"),
        pl.col("_message").alias("message"), record.alias("record"))
    good_rows, bad_rows = pl.collect_all([good, bad])
    return good_rows, bad_rows


def truncated_check(grid: Grid) -> tuple[str, pl.Expr]:
    row = grid.truncated_row if grid.truncated_row is not None else -1
    return ("truncated_row", pl.when(pl.col("row_number") == row).then(
        pl.lit("the last row is cut short (the file ends in the middle of a row): re-export the file")))


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema={"source_row": pl.Int64, "reason": pl.String, "message": pl.String, "record": pl.String})
