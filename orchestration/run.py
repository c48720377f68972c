"""`koperasi run`: materialise the whole graph on what is in the inbox, in-process, and summarise it."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

from warehouse.paths import KoperasiPaths


@dataclass
class RunOutcome:
    phases: list[tuple[str, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _failed_checks(result) -> list[str]:
    failed = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity.value == "ERROR":
                failed.append(f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} failed")
    return failed


def _failed_steps(result) -> list[str]:
    failures = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            while error.cause is not None:  # the user code's own error, not Dagster's wrapper
                error = error.cause
            failures.append(f"step {event.step_key} failed: {error.message.strip().splitlines()[0][:300]}")
    return failures


# In-process runs log to the console at WARNING: the summary says what happened; the UI has the details.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def execute(paths: KoperasiPaths) -> RunOutcome:
    """Ingests the pending ODS snapshots (one run over their partitions), then refreshes everything else once."""
    os.environ["KOPERASI_HOME"] = str(paths.home)
    from orchestration.instance import pipeline_lock

    with pipeline_lock(paths):
        return _execute_locked(paths)


def _execute_locked(paths: KoperasiPaths) -> RunOutcome:
    from ingestion.api import inbox_files, pending_snapshot_dates, snapshot_date_from_name
    from orchestration.instance import local_instance, recover_interrupted_runs

    outcome = RunOutcome()
    start = time.perf_counter()
    instance = local_instance(paths)
    for run_id in recover_interrupted_runs(instance):
        print(f"marked interrupted run {run_id} as failed")
    from orchestration.assets.ingestion import ODS_PARTITIONS
    from orchestration.definitions import defs

    outcome.phases.append(("load definitions", time.perf_counter() - start))
    outcome.skipped_files = [p.name for p in inbox_files(paths.inbox, "ods") if snapshot_date_from_name(p.name) is None]
    pending = pending_snapshot_dates(paths.build_db, paths.inbox)
    known = set(instance.get_dynamic_partitions(ODS_PARTITIONS.name))
    new = [d for d in pending if d not in known]
    if new:
        instance.add_dynamic_partitions(ODS_PARTITIONS.name, new)
    if pending:
        # One run for every pending snapshot: a partition range (single-run backfill policy). Dynamic
        # partitions are ordered as they were added, so the range spans the pending ones in that order.
        order = instance.get_dynamic_partitions(ODS_PARTITIONS.name)
        span = sorted(pending, key=order.index)
        t = time.perf_counter()
        result = defs.resolve_job_def("ods_ingest_job").execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET,
            tags={"dagster/asset_partition_range_start": span[0], "dagster/asset_partition_range_end": span[-1]})
        outcome.phases.append((f"ingest + check ODS {pending[0]}..{pending[-1]}", time.perf_counter() - t))
        outcome.failures += _failed_steps(result) + _failed_checks(result)
    if outcome.failures:
        return outcome  # a snapshot that failed its checks must not reach the marts
    t = time.perf_counter()
    result = defs.resolve_job_def("refresh_job").execute_in_process(instance=instance, raise_on_error=False,
                                                                       run_config=QUIET)
    outcome.phases.append(("ingest BPS/OPD, dbt build, checks, publish", time.perf_counter() - t))
    outcome.failures += _failed_steps(result) + _failed_checks(result)
    if not result.success and not outcome.failures:
        outcome.failures.append(f"run {result.run_id} did not succeed")
    return outcome


def run_pipeline(paths: KoperasiPaths) -> int:
    from warehouse.summary import print_summary

    from orchestration.instance import PipelineBusy

    started = time.perf_counter()
    os.environ.setdefault("KOPERASI_QUIET_DBT", "1")  # the summary below says what happened; dbt.log has the rest
    try:
        outcome = execute(paths)
    except PipelineBusy as e:
        print(str(e), file=sys.stderr)
        return 1
    print_summary(paths, outcome.phases, time.perf_counter() - started)
    for name in outcome.skipped_files:
        print(f"skipped {name}: no snapshot date in the file name "
              "(koperasi ingest --source ods --snapshot-date YYYY-MM-DD FILE)")
    if outcome.failures:
        print("\nFAILED — nothing downstream of a failed step or check was built or published:", file=sys.stderr)
        for failure in outcome.failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    return 0


def republish(paths: KoperasiPaths) -> int:
    """Publishes the last build by hand (e.g. after serving.duckdb was deleted), if its checks passed."""
    if not paths.build_db.exists():
        print(f"no build database at {paths.build_db}: run 'koperasi run' first", file=sys.stderr)
        return 1
    from orchestration.instance import PipelineBusy, pipeline_lock

    try:
        with pipeline_lock(paths):
            return _republish_locked(paths)
    except PipelineBusy as e:
        print(str(e), file=sys.stderr)
        return 1


def _republish_locked(paths: KoperasiPaths) -> int:
    from warehouse.publish import failed_blocking_checks, publish

    failed = failed_blocking_checks(paths.build_db)
    if failed:
        print("refusing to publish: the last build failed blocking checks:", file=sys.stderr)
        for name in failed:
            print(f"  {name}", file=sys.stderr)
        return 1
    result = publish(paths, run_id="manual-publish", check_summary={"manual": True})
    print(f"published {len(result.tables)} tables to {result.serving_db} and {result.exports}")
    return 0
