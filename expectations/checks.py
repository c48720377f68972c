"""The checks the pipeline runs: fetch the rows to validate from DuckDB (through Arrow, as pandas),
apply the suite, return the outcome. Orchestration maps these onto Dagster asset checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from expectations import suites
from expectations.config import thresholds
from expectations.runner import SuiteOutcome, validate
from ingestion.registry import current_ods_rows, current_rows

if TYPE_CHECKING:  # pandas is imported by the first validation, not by loading the code location
    import pandas as pd


def _frame(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> pd.DataFrame:
    return con.sql(query, params=params or None).to_arrow_table().to_pandas()


def _one(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None):
    return con.execute(query, params or []).fetchall()


def _file_name(con: duckdb.DuckDBPyConnection, sha256s: list[str]) -> str:
    """What a gate validation is named after in the Data Docs: the file (or files) it judged."""
    names = [f for (f,) in _one(con, "SELECT DISTINCT file FROM raw.ingested_files "
                                     "WHERE list_contains(?::VARCHAR[], sha256) ORDER BY 1", [sha256s])]
    return ", ".join(names) or ", ".join(sha256s)


def reference_snapshot(con: duckdb.DuckDBPyConnection, snapshot: date) -> dict | None:
    """What a new ODS file is compared with: the current file of its own snapshot when it replaces one (a
    re-export must not shrink the snapshot either), else the latest earlier snapshot."""
    rows = _one(con, f"""
        WITH current AS (
            SELECT snapshot_date, count(*) AS cooperatives, sum(members_male + members_female) AS members
            FROM raw.current_ods_cooperatives WHERE snapshot_date <= ?
            GROUP BY snapshot_date)
        SELECT cooperatives, members FROM current ORDER BY snapshot_date DESC LIMIT 1""", [snapshot])
    if not rows:
        return None
    count, members = rows[0]
    return {"cooperatives": count, "members": int(members)}


def ods_snapshot(con: duckdb.DuckDBPyConnection, quality_dir: Path, sha256: str, snapshot: date, *,
                 correction: bool = False) -> SuiteOutcome:
    """A new snapshot file on its own rows; a correction on the snapshot it would make (merged rows)."""
    limits = thresholds()["ods_snapshot"]
    rows = (f"({current_ods_rows(candidate=sha256)}) WHERE snapshot_date = ?" if correction
            else "raw.ods_cooperatives WHERE _source_sha256 = ?")
    frame = _frame(con, f"""
        SELECT cooperative_nik, region_code, members_male, members_female, members_male + members_female AS members_total,
               own_capital, external_capital, assets, business_volume, last_rat_year
        FROM {rows}""", [snapshot if correction else sha256])
    suite = suites.ods_snapshot(snapshot.year, reference_snapshot(con, snapshot), limits)
    return validate(quality_dir, "ods_snapshot", suite, frame, _file_name(con, [sha256]))


def file_accounting(con: duckdb.DuckDBPyConnection, quality_dir: Path, sha256s: list[str]) -> SuiteOutcome:
    frame = _frame(con, """
        SELECT file, rows_quarantined / greatest(rows_read, 1) AS quarantine_share
        FROM raw.ingested_files WHERE list_contains(?::VARCHAR[], sha256)""", [sha256s])
    return validate(quality_dir, "ods_file_accounting", suites.file_accounting(thresholds()["ods_snapshot"]), frame,
                    _file_name(con, sha256s))


def _latest_rows(table: str, candidate: str) -> str:
    """The rows staging would read if the candidate file were admitted (the registry's rule for the table)."""
    return f"""SELECT * EXCLUDE (_source_file, _source_sha256, _source_row, _ingested_at)
               FROM ({current_rows(table, candidate)})"""


def bps_population(con, quality_dir: Path, sha256: str) -> SuiteOutcome:
    frame = _frame(con, _latest_rows("bps_population", sha256))
    return validate(quality_dir, "bps_population", suites.bps_population(), frame, _file_name(con, [sha256]))


def bps_businesses(con, quality_dir: Path, sha256: str) -> SuiteOutcome:
    frame = _frame(con, _latest_rows("bps_businesses", sha256))
    return validate(quality_dir, "bps_businesses", suites.bps_businesses(), frame, _file_name(con, [sha256]))


def bps_totals(con, quality_dir: Path, sha256: str) -> SuiteOutcome:
    frame = _frame(con, """
        SELECT file, len(list_filter(CAST(warnings AS JSON[]), lambda w: w->>'code' = 'total_mismatch')) AS total_mismatches
        FROM raw.ingested_files WHERE sha256 = ?""", [sha256])
    return validate(quality_dir, "bps_totals", suites.bps_totals(), frame, _file_name(con, [sha256]))


def opd_members(con, quality_dir: Path, sha256: str) -> SuiteOutcome:
    text_columns = [c for (c,) in _one(con, """SELECT column_name FROM information_schema.columns
        WHERE table_schema = 'raw' AND table_name = 'opd_members' AND data_type = 'VARCHAR'
        AND column_name NOT IN ('member_key', '_source_sha256')""")]
    # The key has its own rule (32 hex characters); the file's SHA-256 is no one's data, and one in ~100 holds
    # 18 decimal digits in a row, which the NIP rule took for a NIP (the dirty sample's OPD list was withdrawn).
    frame = _frame(con, "SELECT * FROM raw.opd_members WHERE _source_sha256 = ?", [sha256])
    return validate(quality_dir, "opd_members", suites.opd_members(text_columns), frame, _file_name(con, [sha256]))
