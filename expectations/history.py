"""quality.check_results in the build database: every check's outcome, for stewards and BI to follow."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import duckdb

from expectations.runner import SuiteOutcome
from ingestion.privacy import mask

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.check_results (
    check_name VARCHAR NOT NULL, asset VARCHAR NOT NULL, partition_key VARCHAR, severity VARCHAR NOT NULL,
    passed BOOLEAN NOT NULL, observed_value VARCHAR, run_id VARCHAR, checked_at TIMESTAMP NOT NULL);
-- The file a gate result judged (NULL for marts) and the details a steward's report needs: the limits
-- checked and a few of the values that broke them.
ALTER TABLE quality.check_results ADD COLUMN IF NOT EXISTS file VARCHAR;
ALTER TABLE quality.check_results ADD COLUMN IF NOT EXISTS details JSON;
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def record(con: duckdb.DuckDBPyConnection, outcome: SuiteOutcome, *, asset: str, partition: str | None,
           run_id: str | None, file: str | None = None) -> None:
    ensure_schema(con)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = [(f"{outcome.suite}.{o.expectation}" + (f".{o.column}" if o.column else ""), asset, partition, o.severity,
             o.passed, mask(o.observed), run_id, now, file,
             json.dumps({"suite": outcome.suite, "expectation": o.expectation, "column": o.column,
                         "arguments": o.arguments,
                         "unexpected": [mask(v) if isinstance(v, str) else v for v in o.unexpected],
                         "unexpected_count": o.unexpected_count}, default=str))
            for o in outcome.outcomes]
    if rows:
        con.executemany("INSERT INTO quality.check_results (check_name, asset, partition_key, severity, passed, "
                        "observed_value, run_id, checked_at, file, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        rows)
