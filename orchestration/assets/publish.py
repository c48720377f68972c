"""The publish asset, last in the graph: only when every blocking check of this run has passed.

Dagster's own skipping after failed blocking checks has open bugs, so this asset verifies the run's
events itself before it swaps the serving file."""

import functools
import json

import dagster as dg

from orchestration.labels import steward_labels
from orchestration.resources import BUILD_DB_POOL, WarehouseResource
from orchestration.run_events import failed_checks, failed_steps, materialized
from warehouse import builds
from warehouse.dbt_manifest import prepared_manifest
from warehouse.fingerprint import served_build
from warehouse.publish import PublishRefused, publish_build

SERVED = [dg.AssetKey(["marts", name]) for name in (
    "dim_region", "dim_cooperative", "fct_cooperative_snapshot", "mart_member_counts", "mart_cooperative_health",
    "mart_health_by_region", "mart_consolidation_scenario", "mart_umkm_coverage")] + [
    dg.AssetKey(["opendata", name]) for name in ("opendata_indicators", "opendata_datasets")]


@functools.cache
def required_checks() -> list[tuple[str, str]]:
    """A build is published only if these ran in it (a check that never ran passes nothing)."""
    return builds.required_dbt_tests(json.loads(prepared_manifest().read_text()))


def _run_events(context) -> list[dg.DagsterEvent]:
    records = []
    for event_type in (dg.DagsterEventType.ASSET_CHECK_EVALUATION, dg.DagsterEventType.STEP_FAILURE,
                       dg.DagsterEventType.ASSET_MATERIALIZATION):
        records += context.instance.get_records_for_run(context.run.run_id, of_type=event_type, limit=100_000).records
    return [r.event_log_entry.dagster_event for r in records if r.event_log_entry.dagster_event]


def blocking_failures(context) -> list[str]:
    """Failed error-severity checks, failed steps and unbuilt marts of this run: any one stops publishing."""
    events = _run_events(context)
    problems = failed_checks(events) + failed_steps(events)
    built = materialized(events)
    # Every mart, not only the selected ones: a mart left from an earlier build was not tested on this one's data.
    problems += [f"{key.to_user_string()} was not built in this run" for key in SERVED if key not in built]
    return problems


@dg.asset(key=dg.AssetKey(["serving", "publication"]), deps=SERVED, group_name="serving", pool=BUILD_DB_POOL,
          description="serving.duckdb (read-only for BI) and Parquet exports, swapped in atomically, "
                      "only for a build whose verdict passed.")
def publication(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    problems = [builds.CheckResult("run", problem, False) for problem in blocking_failures(context)]
    with warehouse.writing(f"Dagster run {context.run.run_id[:8]} (publish)", context.log.info):
        with warehouse.build_connection() as con:
            latest = builds.latest_build_id(con)
            if latest != context.run.run_id:
                raise dg.Failure(description=f"publish refused: this run built no marts, or a later build "
                                             f"({latest}) replaced them; publish that build with 'koperasi publish'")
            verdict = builds.finish(con, context.run.run_id, problems, required=required_checks())
        served = served_build(warehouse.paths.serving_db)
        if verdict.passed and verdict.input_fingerprint and served and served[1] == verdict.input_fingerprint:
            # The same inputs as the build BI has (e.g. the nightly full test run): nothing new to publish.
            context.log.info(f"build {verdict.build_id} is made of the same inputs as the served build {served[0]}: "
                             "not published")
            return dg.MaterializeResult(metadata={"build_id": verdict.build_id, "verdict": verdict.verdict,
                                                  "published": False, "unchanged_since": served[0]})
        try:
            result = publish_build(warehouse.paths, verdict, run_id=context.run.run_id, labels=steward_labels())
        except PublishRefused as refused:
            raise dg.Failure(description=f"publish refused: {refused}") from None
    return dg.MaterializeResult(metadata={
        "build_id": result.build_id, "verdict": verdict.verdict,
        "serving_db": str(result.serving_db), "exports": str(result.exports), "published_at": result.published_at,
        "tables": dg.MetadataValue.json(result.tables), "checks": dg.MetadataValue.json(verdict.summary()),
        "marts_rewritten": dg.MetadataValue.json(result.rewritten),
        "open_data": str(result.open_data.folder) if result.open_data else None,
        "open_data_valid": bool(result.open_data and result.open_data.valid), "published": True})
