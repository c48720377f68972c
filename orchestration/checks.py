"""Great Expectations suites on the marts, as blocking Dagster asset checks (after the dbt build)."""

import dagster as dg

from expectations import checks, history
from orchestration.resources import BUILD_DB_POOL, WarehouseResource

MART_SUITES = {
    "mart_member_counts": (checks.mart_member_counts, "Member total per snapshot within ±1% of the raw rows."),
    "mart_cooperative_health": (checks.mart_cooperative_health, "Only the four health bands."),
    "mart_consolidation_scenario": (checks.mart_consolidation_scenario, "Every scenario has a member cooperative."),
}


def _mart_check(mart: str):
    suite, description = MART_SUITES[mart]
    key = dg.AssetKey(["marts", mart])

    @dg.asset_check(asset=key, name=f"{mart}_expectations", blocking=True, description=description, pool=BUILD_DB_POOL)
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.build_connection() as con:
            outcome = suite(con, warehouse.paths.quality)
            history.record(con, outcome, asset=key.to_user_string(), partition=None, run_id=context.run.run_id)
        return dg.AssetCheckResult(passed=outcome.passed, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={"summary": outcome.describe()})

    return _check


mart_checks = [_mart_check(m) for m in MART_SUITES]
