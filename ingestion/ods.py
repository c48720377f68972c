"""ODS registry exports: one row per cooperative per snapshot."""

from __future__ import annotations

from datetime import date

import polars as pl

from ingestion import parsing
from ingestion.mapping import TableMapping
from ingestion.quarantine import ParsedFile, record_json, split, truncated_check
from ingestion.reading import Grid
from ingestion.regions import closest_region_names, resolve_region

COUNT_FIELDS = ("members_male", "members_female", "managers", "employees")
NON_NEGATIVE_MONEY = ("own_capital", "external_capital", "assets", "business_volume")
SIGNED_MONEY = ("surplus",)  # SHU is negative when the year closed with a loss
BOOLEAN_FIELDS = ("rat_virtual", "has_nik_certificate", "is_active")
TEXT_FIELDS = ("cooperative_name", "legal_entity_number", "district", "cooperative_group")
CATEGORY_FIELDS = ("cooperative_type", "cooperative_form")


def _region(grid: Grid, frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    column = grid.columns["region"]
    header = grid.headers[int(column[1:])]
    spellings = frame.get_column(column).str.strip_chars().drop_nulls().unique().to_list()
    codes = {s: resolve_region(s) for s in spellings}
    unknown = {s: f"column '{header}' (region): '{s}' is not a region of Sumatera Utara "
                  f"(closest: {', '.join(closest_region_names(s))})" for s, c in codes.items() if c is None}
    text = pl.col(column).str.strip_chars()
    value = text.replace_strict({s: c for s, c in codes.items() if c}, default=None, return_dtype=pl.String)
    error = text.replace_strict(unknown, default=None, return_dtype=pl.String)
    return value, error


def _category(table: TableMapping, grid: Grid, frame: pl.DataFrame, field: str) -> tuple[pl.Expr, pl.Expr]:
    column = grid.columns[field]
    header = grid.headers[int(column[1:])]
    spellings = frame.get_column(column).str.strip_chars().drop_nulls().unique().to_list()
    canon = {s: table.canonical_value(field, s) for s in spellings if s}
    accepted = sorted(set(table.values.get(field, {}).values()))
    unknown = {s: f"column '{header}' ({field}): '{s}' is not one of {', '.join(accepted)}"
               for s, c in canon.items() if c is None}
    text = pl.col(column).str.strip_chars()
    return (text.replace_strict({s: c for s, c in canon.items() if c}, default=None, return_dtype=pl.String),
            text.replace_strict(unknown, default=None, return_dtype=pl.String))


def parse_ods(grid: Grid, snapshot_date: date) -> ParsedFile:
    table, cols, frame = grid.table, grid.columns, grid.frame

    def header(field: str) -> str:
        return grid.headers[int(cols[field][1:])]

    values: dict[str, pl.Expr] = {}
    checks: list[tuple[str, pl.Expr]] = [truncated_check(grid)]
    for field in table.required:
        checks.append(("missing_required", parsing.required(cols[field], header(field))))

    def add(field: str, parsed: parsing.Parsed) -> None:
        values[field] = parsed.value
        checks.append(parsed.bound_to(f"_v_{field}").check)  # flags read the parsed column, no second parse

    add("cooperative_nik", parsing.registry_number(cols["cooperative_nik"], header("cooperative_nik")))
    region_value, region_error = _region(grid, frame)
    values["region_code"] = region_value
    checks.append(("unknown_region", region_error))
    for field in CATEGORY_FIELDS:
        if field in cols:
            value, error = _category(table, grid, frame, field)
            values[field] = value
            checks.append(("unknown_category", error))
    for field in TEXT_FIELDS:
        if field in cols:
            values[field] = parsing.clean_text(cols[field])
    if "legal_entity_date" in cols:
        add("legal_entity_date", parsing.calendar_date(cols["legal_entity_date"], header("legal_entity_date"),
                                                      excel_serials=True))
    if "last_rat_year" in cols:
        add("last_rat_year", parsing.year(cols["last_rat_year"], header("last_rat_year")))
    for field in BOOLEAN_FIELDS:
        if field in cols:
            add(field, parsing.boolean(cols[field], header(field)))
    for field in COUNT_FIELDS + NON_NEGATIVE_MONEY + SIGNED_MONEY:
        if field in cols:
            add(field, parsing.whole_number(cols[field], header(field), allow_negative=field in SIGNED_MONEY))

    parsed = frame.lazy().with_columns(**{f"_v_{k}": v for k, v in values.items()})
    # Duplicate registry numbers within one snapshot: quarantine every copy, never pick one silently.
    nik = pl.col("_v_cooperative_nik")
    duplicated = (nik.is_not_null() & nik.is_duplicated()).fill_null(False)
    rows_of_nik = pl.col("row_number").cast(pl.String).implode().over("_v_cooperative_nik").list.join(", ")
    parsed = parsed.with_columns(pl.when(duplicated).then(rows_of_nik).alias("_duplicate_rows"))
    checks.append(("duplicate_registry_number", pl.col("_duplicate_rows").is_not_null(),
                   pl.format("registry number {} appears more than once in this snapshot (rows {})", nik,
                             pl.col("_duplicate_rows"))))

    out_cols = [pl.lit(snapshot_date).alias("snapshot_date")]
    out_cols += [pl.col(f"_v_{k}").alias(k) for k in values]
    out_cols.append(pl.col("row_number").alias("_source_row"))
    loaded, bad = split(parsed, checks, record_json(grid), output=out_cols)
    return ParsedFile({"ods_cooperatives": loaded}, bad, rows_read=frame.height, rows_skipped=grid.skipped_rows,
                      snapshot_date=snapshot_date)
