"""ODS registry exports: one row per cooperative per snapshot."""

from __future__ import annotations

from datetime import date

import polars as pl

from ingestion import parsing
from ingestion.mapping import TableMapping
from ingestion.quarantine import Batch, ParsedFile, record_json, split, truncated_check
from ingestion.reading import Grid, RowBatch
from ingestion.regions import closest_region_names, resolve_region

COUNT_FIELDS = ("members_male", "members_female", "managers", "employees")
NON_NEGATIVE_MONEY = ("own_capital", "external_capital", "assets", "business_volume")
SIGNED_MONEY = ("surplus",)  # SHU is negative when the year closed with a loss
BOOLEAN_FIELDS = ("rat_virtual", "has_nik_certificate", "is_active")
TEXT_FIELDS = ("cooperative_name", "legal_entity_number", "district", "cooperative_group")
CATEGORY_FIELDS = ("cooperative_type", "cooperative_form")


def _spellings(frame: pl.DataFrame, column: str) -> list[str]:
    return [s for s in frame.get_column(column).str.strip_chars().drop_nulls().unique().to_list() if s]


def _region(grid: Grid, frame: pl.DataFrame, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    codes = {s: resolve_region(s) for s in _spellings(frame, grid.columns["region"])}
    unknown = {s: f"column '{grid.header_of('region')}' (region): '{s}' is not a region of Sumatera Utara "
                  f"(closest: {', '.join(closest_region_names(s))})" for s, c in codes.items() if c is None}
    value = text.replace_strict({s: c for s, c in codes.items() if c}, default=None, return_dtype=pl.String)
    error = text.replace_strict(unknown, default=None, return_dtype=pl.String)
    return value, error


def _category(grid: Grid, frame: pl.DataFrame, field: str, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    canon = {s: grid.table.canonical_value(field, s) for s in _spellings(frame, grid.columns[field])}
    accepted = sorted(set(grid.table.values.get(field, {}).values()))
    unknown = {s: f"column '{grid.header_of(field)}' ({field}): '{s}' is not one of {', '.join(accepted)}"
               for s, c in canon.items() if c is None}
    return (text.replace_strict({s: c for s, c in canon.items() if c}, default=None, return_dtype=pl.String),
            text.replace_strict(unknown, default=None, return_dtype=pl.String))


def _duplicated_registry_numbers(grid: Grid) -> dict[str, str]:
    """Registry numbers on more than one row of the file -> those rows ("3, 17"), from one pass over the
    registry-number column, so that every batch can quarantine every copy."""
    nik = parsing.registry_number(grid.columns["cooperative_nik"]).value
    # As numbers: 16 digits fit in 64 bits, and hashing integers is twice as fast as hashing text.
    repeated = grid.duplicated_values(nik.cast(pl.UInt64)).with_columns(pl.col("value").cast(pl.String).str.zfill(16))
    return dict(repeated.group_by("value").agg(pl.col("row_number").sort().cast(pl.String).str.join(", ")).iter_rows())


def parse_ods(grid: Grid, snapshot_date: date) -> ParsedFile:
    duplicates = _duplicated_registry_numbers(grid)
    batches = (_parse_batch(grid, rows, snapshot_date, duplicates) for rows in grid.batches())
    return ParsedFile("ods_cooperatives", batches, snapshot_date=snapshot_date)


def _rules(grid: Grid) -> dict[str, parsing.Parsed]:
    cols, header = grid.columns, grid.header_of
    rules = {"cooperative_nik": parsing.registry_number(cols["cooperative_nik"], header("cooperative_nik"))}
    if "legal_entity_date" in cols:
        rules["legal_entity_date"] = parsing.calendar_date(cols["legal_entity_date"], header("legal_entity_date"),
                                                           excel_serials=True)
    if "last_rat_year" in cols:
        rules["last_rat_year"] = parsing.year(cols["last_rat_year"], header("last_rat_year"))
    for field in BOOLEAN_FIELDS:
        if field in cols:
            rules[field] = parsing.boolean(cols[field], header(field))
    for field in COUNT_FIELDS + NON_NEGATIVE_MONEY + SIGNED_MONEY:
        if field in cols:
            rules[field] = parsing.whole_number(cols[field], header(field), allow_negative=field in SIGNED_MONEY)
    return rules


def _parse_batch(grid: Grid, rows: RowBatch, snapshot_date: date, duplicates: dict[str, str]) -> Batch:
    """Three stages, each column computed once: trimmed cells (_t_), parsed values (_v_), the checks."""
    cols, frame = grid.columns, rows.frame
    rules = _rules(grid)
    texts = {f"_t_{field}": (parsing.clean_text(column) if field in TEXT_FIELDS else parsing.cell(column))
             for field, column in cols.items()}

    def text(field: str) -> pl.Expr:
        return pl.col(f"_t_{field}")

    values = {f"_v_{field}": rule.value_of(text(field)) for field, rule in rules.items()}
    checks: list[tuple] = [truncated_check(rows.truncated_row)]
    checks += [("missing_required", parsing.required(cols[f], grid.header_of(f), text(f))) for f in grid.table.required]
    checks += [rule.staged(f"_t_{field}", f"_v_{field}") for field, rule in rules.items()]
    values["_v_region_code"], region_error = _region(grid, frame, text("region"))
    checks.append(("unknown_region", region_error))
    for field in CATEGORY_FIELDS:
        if field in cols:
            values[f"_v_{field}"], error = _category(grid, frame, field, text(field))
            checks.append(("unknown_category", error))
    for field in TEXT_FIELDS:
        if field in cols:
            values[f"_v_{field}"] = text(field)

    # Duplicate registry numbers within one snapshot: quarantine every copy, never pick one silently.
    nik = pl.col("_v_cooperative_nik")
    rows_of_nik = (nik.replace_strict(duplicates, default=None, return_dtype=pl.String) if duplicates
                   else pl.lit(None, pl.String))
    checks.append(("duplicate_registry_number", rows_of_nik.is_not_null(),
                   pl.format("registry number {} appears more than once in this snapshot (rows {})", nik, rows_of_nik)))

    output = [pl.lit(snapshot_date).alias("snapshot_date")]
    output += [pl.col(name).alias(name.removeprefix("_v_")) for name in values]
    output.append(pl.col("row_number").alias("_source_row"))
    loaded, bad = split(frame, checks, record_json(grid), stages=[texts, values], output=output)
    return Batch(loaded, bad, rows_read=frame.height, rows_skipped=rows.skipped)
