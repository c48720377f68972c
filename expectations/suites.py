"""The expectation suites, one per checked table. Each expectation carries its severity in ``meta``:
'error' blocks everything downstream, 'warning' is for a data steward to look at."""

from __future__ import annotations

from expectations.gx_loader import gx
from ingestion.privacy import PATTERNS
from ingestion.regions import regions

ERROR, WARNING = "error", "warning"


def _e(expectation: str, severity: str = ERROR, **kwargs):
    """One expectation by its GX class name; GX is imported when a suite is built, not when this module is."""
    return getattr(gx().expectations, expectation)(meta={"severity": severity}, **kwargs)


def region_codes() -> list[str]:
    return [r.code for r in regions()]


def ods_snapshot(snapshot_year: int, previous: dict | None, limits: dict) -> list:
    """One ODS snapshot: row-level rules, then batch-level comparisons with the previous snapshot."""
    suite = [
        _e("ExpectColumnValuesToMatchRegex", column="cooperative_nik", regex=r"^\d{16}$"),
        _e("ExpectColumnValuesToBeUnique", column="cooperative_nik"),
        _e("ExpectColumnValuesToBeInSet", column="region_code", value_set=region_codes()),
        _e("ExpectColumnValuesToBeBetween", column="members_male", min_value=0),
        _e("ExpectColumnValuesToBeBetween", column="members_female", min_value=0),
        *[_e("ExpectColumnValuesToBeBetween", column=c, min_value=0)
          for c in ("own_capital", "external_capital", "assets", "business_volume")],
        _e("ExpectColumnValuesToBeBetween", column="last_rat_year", min_value=1945, max_value=snapshot_year),
    ]
    if previous:
        change, members_change = limits["cooperative_count_change_max"], limits["member_total_change_max"]
        suite += [
            _e("ExpectTableRowCountToBeBetween", min_value=int(previous["cooperatives"] * (1 - change)),
               max_value=int(previous["cooperatives"] * (1 + change))),
            _e("ExpectColumnSumToBeBetween", column="members_total",
               min_value=previous["members"] * (1 - members_change), max_value=previous["members"] * (1 + members_change)),
        ]
    return suite


def file_accounting(limits: dict) -> list:
    """One row per loaded file: the share of rows quarantined."""
    return [_e("ExpectColumnValuesToBeBetween", column="quarantine_share", max_value=limits["quarantine_share_max"])]


def bps_population() -> list:
    return [
        _e("ExpectColumnDistinctValuesToEqualSet", column="region_code", value_set=region_codes()),
        _e("ExpectColumnValuesToBeBetween", column="population", min_value=1),
        _e("ExpectColumnValuesToBeInSet", column="sex", value_set=["male", "female"]),
    ]


def bps_businesses() -> list:
    return [
        _e("ExpectColumnDistinctValuesToEqualSet", column="region_code", value_set=region_codes()),
        _e("ExpectColumnValuesToBeBetween", column="businesses", min_value=0),
        _e("ExpectColumnValuesToBeInSet", column="scale", value_set=["UMK", "UMB"]),
    ]


def bps_totals() -> list:
    """One row per BPS file: mismatches between the table's own total row and the sum of its regions."""
    return [_e("ExpectColumnValuesToBeBetween", WARNING, column="total_mismatches", max_value=0)]


def opd_members(text_columns: list[str]) -> list:
    """Pseudonymised member rows: keys look like keys; no column holds a NIP or a name."""
    return [
        _e("ExpectColumnValuesToMatchRegex", column="member_key", regex=r"^[0-9a-f]{32}$"),
        _e("ExpectColumnValuesToBeInSet", column="employment_status", value_set=["ASN", "PPPK", "Honorer"]),
        *[_e("ExpectColumnValuesToNotMatchRegex", column=c, regex=PATTERNS["nip"].pattern)
          for c in text_columns],  # the NIP rule of ingestion.privacy, not a second one
        *[_e("ExpectColumnValuesToNotMatchRegex", column=c, regex=r"^[A-Z][a-z]+ [A-Z][a-z]+") for c in text_columns],
    ]
