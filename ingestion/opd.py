"""OPD cooperative lists: the registry of agencies' employee cooperatives and their member lists.

Member lists carry names and NIPs, sometimes KTP numbers, addresses and phones. Names are dropped, NIPs
become a keyed hash (``member_key``); a quarantined record keeps only the columns the mapping knows to be
non-personal (status, dates, savings, house) and masks every other one.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from ingestion import parsing
from ingestion.errors import FileRejected
from ingestion.quarantine import Batch, ParsedFile, record_json, row_checks, split
from ingestion.reading import Grid
from ingestion.pseudonym import member_key

_MONTHS = {m: i for i, m in enumerate(("januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus",
                                       "september", "oktober", "november", "desember"), start=1)}
_LONG_DATE = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_NIK_LINE = re.compile(r"NIK\s*Koperasi\s*:?\s*(\d{16})", re.IGNORECASE)


def list_date(grid: Grid, file: str, fallback: date) -> date:
    """'Posisi: 31 Desember 2024' above the header, else a date in the file name, else the ingestion date."""
    for text in grid.preamble:
        for day, month, year in _LONG_DATE.findall(text):
            if month.lower() in _MONTHS:
                return date(int(year), _MONTHS[month.lower()], int(day))
    found = _ISO_DATE.search(file)
    if found:
        try:
            return date(*map(int, found.groups()))
        except ValueError:
            pass
    return fallback


def parse_registry(grid: Grid, file: str, fallback_date: date) -> ParsedFile:
    cols = grid.columns
    nik = parsing.registry_number(cols["cooperative_nik"], grid.headers[int(cols["cooperative_nik"][1:])])
    rows = grid.whole
    checks = row_checks(grid, rows) + [("missing_required", parsing.required(cols[f], f))
                                                      for f in grid.table.required]
    checks.append(nik.check)
    frame = rows.frame.with_columns(nik.value.alias("_nik"))
    checks.append(("duplicate_opd", pl.when(parsing.clean_text(cols["opd_code"]).is_duplicated())
                   .then(parsing.row_finding("duplicate_opd", value=parsing.clean_text(cols["opd_code"])))))
    good, bad = split(frame, checks, record_json(grid))
    loaded = good.select(
        parsing.clean_text(cols["opd_code"]).str.to_uppercase().alias("opd_code"),
        parsing.clean_text(cols["opd_name"]).alias("opd_name"),
        parsing.clean_text(cols["cooperative_name"]).alias("cooperative_name"),
        pl.col("_nik").alias("cooperative_nik"), pl.lit(list_date(grid, file, fallback_date)).alias("list_date"),
        pl.col("row_number").alias("_source_row"))
    return ParsedFile("opd_cooperatives", [Batch(loaded, bad, rows_read=rows.frame.height, rows_skipped=rows.skipped)])


def parse_members(grid: Grid, file: str, key: bytes, fallback_date: date) -> ParsedFile:
    cols, table = grid.columns, grid.table
    cooperative = next((m.group(1) for t in grid.preamble if (m := _NIK_LINE.search(t))), None)
    if cooperative is None:
        raise FileRejected(file, "no_cooperative_line")

    def header(field: str) -> str:
        return grid.headers[int(cols[field][1:])]

    nip = parsing.clean_text(cols["nip"]).str.replace_all(r"[\s.']", "")
    rows = grid.whole
    checks = row_checks(grid, rows) + [("missing_required", parsing.required(cols[f], f))
                                                      for f in table.required]
    checks.append(("invalid_nip", pl.when(nip.is_not_null() & ~nip.str.contains(r"^\d{18}$"))
                   .then(parsing.row_finding("invalid_nip", header=header("nip")))))
    status_text = parsing.clean_text(cols["employment_status"])
    spellings = rows.frame.get_column(cols["employment_status"]).str.strip_chars().drop_nulls().unique().to_list()
    canon = {s: table.canonical_value("employment_status", s) for s in spellings}
    status = status_text.replace_strict({s: c for s, c in canon.items() if c}, default=None, return_dtype=pl.String)
    checks.append(("invalid_status", pl.when(status_text.is_not_null() & status.is_null()).then(
        parsing.row_finding("invalid_status", header=header("employment_status")))))
    values = {"_nip": nip, "_status": status}
    for field, rule in (("joined_date", lambda c, h: parsing.calendar_date(c, h, excel_serials=True)),
                        ("principal_savings", parsing.whole_number), ("mandatory_savings", parsing.whole_number),
                        ("owns_house", parsing.boolean)):
        if field in cols:
            parsed = rule(cols[field], header(field))
            values[f"_v_{field}"] = parsed.value
            checks.append(parsed.check)
    frame = rows.frame.with_columns(**values)
    good, bad = split(frame, checks, record_json(grid))
    keys = [member_key(key, n) for n in good.get_column("_nip").to_list()]
    loaded = good.select(
        pl.lit(cooperative).alias("cooperative_nik"), pl.lit(list_date(grid, file, fallback_date)).alias("list_date"),
        pl.Series("member_key", keys, dtype=pl.String), pl.col("_status").alias("employment_status"),
        *[pl.col(f"_v_{f}").alias(f) for f in ("joined_date", "principal_savings", "mandatory_savings", "owns_house")
          if f"_v_{f}" in values],
        pl.col("row_number").alias("_source_row"))
    return ParsedFile("opd_members", [Batch(loaded, bad, rows_read=rows.frame.height, rows_skipped=rows.skipped)])
