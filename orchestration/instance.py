"""The local Dagster instance under $KOPERASI_HOME/dagster: one writer at a time, no telemetry."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.instance_config import write_instance_config
from warehouse.paths import KoperasiPaths


def prepare_dagster_home(paths: KoperasiPaths) -> None:
    write_instance_config(paths.dagster_home, service=False)
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
