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
nux:
  enabled: false  # no onboarding pop-up over the first page
concurrency:
  runs:
    max_concurrent_runs: 1
  pools:
    default_limit: 1
"""


def prepare_dagster_home(paths: KoperasiPaths) -> None:
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    config = paths.dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") != DAGSTER_YAML:  # ours: kept current
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)


def local_instance(paths: KoperasiPaths) -> dg.DagsterInstance:
    prepare_dagster_home(paths)
    return dg.DagsterInstance.get()


def recover_interrupted_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs left 'started' by a killed process (we hold the pipeline lock, so none is really running):
    mark them failed and free their pool slots, or the next run would wait for those slots forever."""
    stale = instance.get_runs(filters=dg.RunsFilter(statuses=[
        dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]))
    for run in stale:
        instance.report_run_failed(run, "interrupted: the process running it was killed")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return [run.run_id for run in stale]
