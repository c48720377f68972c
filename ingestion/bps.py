"""BPS tables: population by region and sex, SE2016 businesses by region and scale (long format)."""

from __future__ import annotations

import re

import polars as pl

from ingestion import parsing
from ingestion.errors import FileRejected
from ingestion.mapping import header_key, source_settings
from ingestion.findings import Finding, row_finding_json
from ingestion.quarantine import Batch, ParsedFile, record_json, row_checks, split
from ingestion.reading import Grid
from ingestion.regions import province_name, region_problems, resolve_region

# table kind -> (raw table, category column, {field: category value}, value column)
LAYOUTS = {
    "population": ("bps_population", "sex", {"male": "male", "female": "female"}, "population"),
    "businesses": ("bps_businesses", "scale", {"umk": "UMK", "umb": "UMB"}, "businesses"),
}
_YEAR = re.compile(r"\b(19[5-9]\d|20\d{2})\b")


def _year(grid: Grid, file: str) -> int:
    for text in [*grid.preamble, file]:
        found = _YEAR.findall(text)
        if found:
            return int(found[-1])
    raise FileRejected(file, "no_census_year")


def parse_bps(grid: Grid, file: str) -> ParsedFile:
    raw_table, category, parts, value_name = LAYOUTS[grid.table.name]
    cols = grid.columns
    year = _year(grid, file)
    region_col = cols["region"]
    total_labels = {header_key(t) for t in [*source_settings("bps")["total_row_labels"], province_name(),
                                            f"Provinsi {province_name()}"]}
    is_total = pl.col(region_col).map_elements(lambda s: header_key(s) in total_labels, return_dtype=pl.Boolean)
    rows = grid.whole
    frame = rows.frame.with_columns(is_total.fill_null(False).alias("_is_total"))
    total_rows = frame.filter(pl.col("_is_total"))
    frame = frame.filter(~pl.col("_is_total"))

    spellings = frame.get_column(region_col).str.strip_chars().drop_nulls().unique().to_list()
    codes = {s: resolve_region(s) for s in spellings}
    unknown, ambiguous = region_problems(grid.headers[int(region_col[1:])] or "region",
                                         {s: s for s, c in codes.items() if c is None})
    region_text = pl.col(region_col).str.strip_chars()
    checks = row_checks(grid, rows) + [("missing_required", parsing.required(region_col, "region")),
              ("unknown_region", region_text.replace_strict(unknown, default=None, return_dtype=pl.String)),
              ("ambiguous_region", region_text.replace_strict(ambiguous, default=None, return_dtype=pl.String))]
    values = {"region_code": region_text.replace_strict({s: c for s, c in codes.items() if c}, default=None,
                                                        return_dtype=pl.String)}
    for field in [*parts, "total"]:
        if field in cols:
            parsed = parsing.whole_number(cols[field], grid.headers[int(cols[field][1:])])
            values[field] = parsed.value
            checks.append(parsed.check)
    frame = frame.with_columns(**{f"_v_{k}": v for k, v in values.items()})
    if "total" in cols:  # the 'Jumlah' column is not data: it must equal the sum of the parts
        part_sum = pl.sum_horizontal([pl.col(f"_v_{p}") for p in parts])
        checks.append(("row_total_mismatch", pl.when(pl.col("_v_total") != part_sum).then(
            parsing.row_finding("row_total_mismatch", value=pl.col("_v_total"), parts_sum=part_sum))))
    checks.append(("duplicate_region", pl.when(pl.col("_v_region_code").is_duplicated() & pl.col("_v_region_code").is_not_null())
                   .then(parsing.row_finding("duplicate_region", value=pl.col("_v_region_code")))))
    good, bad = split(frame, checks, record_json(grid))

    long = pl.concat([good.select(pl.col("_v_region_code").alias("region_code"), pl.lit(year).alias("year"),
                                  pl.lit(label).alias(category), pl.col(f"_v_{field}").alias(value_name),
                                  pl.col("row_number").alias("_source_row"))
                      for field, label in parts.items()])
    warnings = _reconcile_total_row(grid, total_rows, good, parts)
    batch = Batch(long, bad, rows_read=frame.height, rows_skipped=rows.skipped + total_rows.height)
    return ParsedFile(raw_table, [batch], warnings=warnings)


def _reconcile_total_row(grid: Grid, total_rows: pl.DataFrame, good: pl.DataFrame, parts: dict) -> list[Finding]:
    """The table's own province row against the sum of its regions: a mismatch is reported, not loaded."""
    if total_rows.height == 0:
        return [Finding("no_total_row")]
    warnings = []
    row = total_rows.row(0, named=True)
    for field in [*parts, "total"]:
        if field not in grid.columns:
            continue
        text = row[grid.columns[field]]
        reported = int(re.sub(r"[.\s]", "", text)) if text and re.fullmatch(r"[\d.\s]+", text) else None
        summed = (good.get_column(f"_v_{field}").sum() if field != "total"
                  else sum(good.get_column(f"_v_{p}").sum() for p in parts))
        if reported is not None and reported != summed:
            warnings.append(Finding("total_mismatch", {
                "row": int(row["row_number"]), "header": grid.headers[int(grid.columns[field][1:])],
                "reported": reported, "summed": int(summed)}))
    return warnings
