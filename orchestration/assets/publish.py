"""The publish asset, last in the graph: only when every blocking check of this run has passed.

Dagster's own skipping after failed blocking checks has open bugs, so this asset verifies the run's
events itself before it swaps the serving file."""

import dagster as dg

from orchestration.resources import BUILD_DB_POOL, WarehouseResource
from warehouse.publish import publish

SERVED = [dg.AssetKey(["marts", name]) for name in (
    "dim_region", "dim_cooperative", "fct_cooperative_snapshot", "mart_member_counts", "mart_cooperative_health",
    "mart_health_by_region", "mart_consolidation_scenario", "mart_umkm_coverage")]


def _run_events(context, event_type: dg.DagsterEventType):
    records = context.instance.get_records_for_run(context.run.run_id, of_type=event_type, limit=100_000).records
    return [r.event_log_entry.dagster_event for r in records if r.event_log_entry.dagster_event]


def blocking_failures(context) -> list[str]:
    """Failed error-severity checks, failed steps and unbuilt marts of this run: any one stops publishing."""
    problems = []
    for event in _run_events(context, dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            problems.append(f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} failed")
    problems += [f"step {e.step_key} failed" for e in _run_events(context, dg.DagsterEventType.STEP_FAILURE)]
    built = {e.asset_key for e in _run_events(context, dg.DagsterEventType.ASSET_MATERIALIZATION)}
    selected = context.run.asset_selection or set(SERVED)
    problems += [f"{key.to_user_string()} was not built in this run" for key in SERVED
                 if key in selected and key not in built]
    return problems


@dg.asset(key=dg.AssetKey(["serving", "publication"]), deps=SERVED, group_name="serving", pool=BUILD_DB_POOL,
          description="serving.duckdb (read-only for BI) and Parquet exports, swapped in atomically.")
def publication(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    problems = blocking_failures(context)
    if problems:
        raise dg.Failure(description="publish refused: " + "; ".join(problems))
    checks = _run_events(context, dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    summary = {"checks": len(checks), "passed": sum(e.event_specific_data.passed for e in checks)}
    result = publish(warehouse.paths, run_id=context.run.run_id, check_summary=summary)
    return dg.MaterializeResult(metadata={
        "serving_db": str(result.serving_db), "exports": str(result.exports), "published_at": result.published_at,
        "tables": dg.MetadataValue.json(result.tables), "checks": dg.MetadataValue.json(summary)})
