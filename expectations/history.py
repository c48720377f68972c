"""quality.check_results in the build database: every check's outcome, for stewards and BI to follow."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb

from expectations.runner import SuiteOutcome

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.check_results (
    check_name VARCHAR NOT NULL, asset VARCHAR NOT NULL, partition_key VARCHAR, severity VARCHAR NOT NULL,
    passed BOOLEAN NOT NULL, observed_value VARCHAR, run_id VARCHAR, checked_at TIMESTAMP NOT NULL)
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def record(con: duckdb.DuckDBPyConnection, outcome: SuiteOutcome, *, asset: str, partition: str | None,
           run_id: str | None) -> None:
    ensure_schema(con)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = [(f"{outcome.suite}.{o.expectation}" + (f".{o.column}" if o.column else ""), asset, partition, o.severity,
             o.passed, o.observed, run_id, now) for o in outcome.outcomes]
    if rows:
        con.executemany("INSERT INTO quality.check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
