"""The local Dagster instance under $KOPERASI_HOME/dagster: one writer at a time, no telemetry."""

from __future__ import annotations

import os

import dagster as dg

from warehouse.paths import KoperasiPaths

DAGSTER_YAML = """\
# Written by koperasi: one run at a time and one step at a time in the build-database pool,
# because DuckDB allows a single read-write process.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
  pools:
    default_limit: 1
"""


def prepare_dagster_home(paths: KoperasiPaths) -> None:
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    config = paths.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)


def local_instance(paths: KoperasiPaths) -> dg.DagsterInstance:
    prepare_dagster_home(paths)
    return dg.DagsterInstance.get()
