"""ODS registry exports: one row per cooperative per snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import polars as pl

from ingestion import parsing
from ingestion.mapping import TableMapping
from ingestion.findings import row_finding_json
from ingestion.quarantine import Batch, LateFindings, ParsedFile, record_json, row_checks, split
from ingestion.reading import Grid, RowBatch
from ingestion.regions import region_problems, resolve_region

COUNT_FIELDS = ("members_male", "members_female", "managers", "employees")
NON_NEGATIVE_MONEY = ("own_capital", "external_capital", "assets", "business_volume")
SIGNED_MONEY = ("surplus",)  # SHU is negative when the year closed with a loss
BOOLEAN_FIELDS = ("rat_virtual", "has_nik_certificate", "is_active")
TEXT_FIELDS = ("cooperative_name", "legal_entity_number", "district", "cooperative_group")
CATEGORY_FIELDS = ("cooperative_type", "cooperative_form")
_NUMBERS = COUNT_FIELDS + NON_NEGATIVE_MONEY + SIGNED_MONEY


def _trimmed(spellings: list[str]) -> dict[str, str]:
    """Distinct raw cells -> the same trimmed as ``parsing.cell`` trims (only the few distinct values)."""
    raw = pl.Series(spellings, dtype=pl.String)
    return {r: t for r, t in zip(spellings, raw.str.strip_chars().to_list()) if t}


def _lookup(column: str, mapping: dict[str, str | None]) -> pl.Expr:
    """Each raw cell looked up by its spelling (a hash lookup per cell, no text built)."""
    return pl.col(column).replace_strict({k: v for k, v in mapping.items() if v is not None}, default=None,
                                         return_dtype=pl.String)


def _region(grid: Grid, facts: dict) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    column = grid.columns["region"]
    spellings = _trimmed(facts["spellings:region"])
    codes = {raw: resolve_region(text) for raw, text in spellings.items()}
    unknown, ambiguous = region_problems(grid.header_of("region"),
                                         {raw: text for raw, text in spellings.items() if codes[raw] is None})
    return _lookup(column, codes), _lookup(column, unknown), _lookup(column, ambiguous)


def _category(grid: Grid, facts: dict, field: str) -> tuple[pl.Expr, pl.Expr]:
    column = grid.columns[field]
    canon = {raw: (text, grid.table.canonical_value(field, text)) for raw, text in _trimmed(facts[f"spellings:{field}"]).items()}
    accepted = sorted(set(grid.table.values.get(field, {}).values()))
    unknown = {raw: row_finding_json("not_category", header=grid.header_of(field), value=text,
                                     accepted=", ".join(accepted))
               for raw, (text, value) in canon.items() if value is None}
    return _lookup(column, {raw: value for raw, (_, value) in canon.items()}), _lookup(column, unknown)


class _RegistryNumbers:
    """The valid registry number of every data row, noted batch by batch, so that duplicates within the
    snapshot are found once the whole file is read (16 digits fit in 64 bits: cheap to keep and compare)."""

    def __init__(self, grid: Grid):
        self.grid = grid
        self.seen: list[pl.DataFrame] = []

    def note(self, frame: pl.DataFrame, rule: parsing.Parsed) -> None:
        self.seen.append(frame.select(pl.col("row_number").alias("source_row"), rule.value.cast(pl.UInt64).alias("nik"))
                         .drop_nulls())

    def duplicates(self) -> LateFindings | None:
        """Every copy of a repeated registry number is quarantined: never pick one silently."""
        if not self.seen:
            return None
        numbers = pl.concat(self.seen)
        repeated = numbers.filter(pl.col("nik").is_duplicated())
        if repeated.is_empty():
            return None
        rows_of = repeated.group_by("nik").agg(pl.col("source_row").sort().cast(pl.String).str.join(", ").alias("rows"))
        findings = repeated.join(rows_of, on="nik").select("source_row", parsing.row_finding(
            "duplicate_registry_number", value=pl.col("nik").cast(pl.String).str.zfill(16), rows=pl.col("rows")
        ).alias("finding"))
        return LateFindings("duplicate_registry_number", findings, self.grid_records)

    def grid_records(self, source_rows: list[int]) -> pl.DataFrame:
        return self.grid.rows_where(pl.col("row_number").is_in(source_rows)).select(
            pl.col("row_number").alias("source_row"), record_json(self.grid).alias("record"))


def parse_ods(grid: Grid, snapshot_date: date) -> ParsedFile:
    numbers = _RegistryNumbers(grid)
    found: list[LateFindings | None] = []

    def batches() -> Iterator[Batch]:
        for rows in grid.batches():
            yield _parse_batch(grid, rows, snapshot_date, numbers)
        found.append(numbers.duplicates())  # while DuckDB still stores the last batch

    return ParsedFile("ods_cooperatives", batches(), snapshot_date=snapshot_date, late=lambda: found[0])


def _facts(grid: Grid, frame: pl.DataFrame) -> dict:
    """What one cheap pass over the batch's raw cells tells, so that each rule takes its cheapest exact form:
    which number columns may carry 'Rp' or ',00', whether registry numbers and dates are all plain, which
    text columns hold non-breaking spaces, and the distinct spellings of the coded columns."""
    cols = grid.columns
    facts = {f"decorated:{f}": parsing.may_be_decorated(cols[f]) for f in _NUMBERS if f in cols}
    facts["plain:cooperative_nik"] = parsing.all_match(cols["cooperative_nik"], parsing.PLAIN_REGISTRY_NUMBER)
    if "legal_entity_date" in cols:
        facts["plain:legal_entity_date"] = parsing.all_match(cols["legal_entity_date"], parsing.PLAIN_DATE)
    facts.update({f"nbsp:{f}": parsing.has_nbsp(cols[f]) for f in TEXT_FIELDS if f in cols})
    facts.update({f"spellings:{f}": pl.col(cols[f]).drop_nulls().unique().implode()
                  for f in ("region", *CATEGORY_FIELDS, *BOOLEAN_FIELDS) if f in cols})
    return frame.select(**facts).row(0, named=True)


def _rules(grid: Grid, facts: dict) -> dict[str, parsing.Parsed]:
    """The parsing rule of each typed field, in its cheapest form that is exact for this batch's cells."""
    cols, header = grid.columns, grid.header_of
    rules = {"cooperative_nik": parsing.registry_number(cols["cooperative_nik"], header("cooperative_nik"),
                                                        plain=facts["plain:cooperative_nik"])}
    if "legal_entity_date" in cols:
        rules["legal_entity_date"] = parsing.calendar_date(cols["legal_entity_date"], header("legal_entity_date"),
                                                           excel_serials=True, plain=facts["plain:legal_entity_date"])
    if "last_rat_year" in cols:
        rules["last_rat_year"] = parsing.year(cols["last_rat_year"], header("last_rat_year"))
    for field in BOOLEAN_FIELDS:
        if field in cols:
            rules[field] = parsing.boolean(cols[field], header(field),
                                           spellings=list(_trimmed(facts[f"spellings:{field}"]).values()))
    for field in _NUMBERS:
        if field in cols:
            rules[field] = parsing.whole_number(cols[field], header(field), allow_negative=field in SIGNED_MONEY,
                                                decorated=facts[f"decorated:{field}"])
    return rules


def _texts(grid: Grid, facts: dict) -> dict[str, pl.Expr]:
    """The trimmed cell of every mapped field (names and other free text also get non-breaking spaces normalised)."""
    looked_up = {"region", *CATEGORY_FIELDS}  # read by spelling from the raw cells, see _lookup
    return {f"_t_{field}": (parsing.clean_text(column, nbsp=facts[f"nbsp:{field}"]) if field in TEXT_FIELDS
                            else parsing.cell(column))
            for field, column in grid.columns.items() if field not in looked_up}


def _parse_batch(grid: Grid, rows: RowBatch, snapshot_date: date, numbers: _RegistryNumbers) -> Batch:
    """Three stages, each column computed once: trimmed cells (_t_), parsed values (_v_), the checks."""
    cols, frame = grid.columns, rows.frame
    facts = _facts(grid, frame)
    rules = _rules(grid, facts)
    texts = _texts(grid, facts)

    def text(field: str) -> pl.Expr:
        return pl.col(f"_t_{field}")

    values = {f"_v_{field}": rule.value_of(text(field)) for field, rule in rules.items()}
    checks: list[tuple] = row_checks(grid, rows)
    for field in grid.table.required:
        trimmed = text(field) if f"_t_{field}" in texts else None  # looked-up fields have no trimmed column
        checks.append(("missing_required", parsing.required(cols[field], grid.header_of(field), trimmed)))
    checks += [rule.staged(f"_t_{field}", f"_v_{field}") for field, rule in rules.items()]
    values["_v_region_code"], unknown_region, ambiguous_region = _region(grid, facts)
    checks += [("unknown_region", unknown_region), ("ambiguous_region", ambiguous_region)]
    for field in CATEGORY_FIELDS:
        if field in cols:
            values[f"_v_{field}"], error = _category(grid, facts, field)
            checks.append(("unknown_category", error))
    for field in TEXT_FIELDS:
        if field in cols:
            values[f"_v_{field}"] = text(field)

    numbers.note(frame, rules["cooperative_nik"])
    output = [pl.lit(snapshot_date).alias("snapshot_date")]
    output += [pl.col(name).alias(name.removeprefix("_v_")) for name in values]
    output.append(pl.col("row_number").alias("_source_row"))
    loaded, bad = split(frame, checks, record_json(grid), stages=[texts, values], output=output)
    return Batch(loaded, bad, rows_read=frame.height, rows_skipped=rows.skipped)
