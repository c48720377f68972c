"""Asset checks outside the ingestion and dbt steps: GX suites on the marts (blocking, after the dbt build) and
the freshness of the ODS exports (a warning for stewards, from the dbt source's declared freshness)."""

from datetime import datetime, timezone

import dagster as dg

from expectations import checks, history
from ingestion.landing import newest_loaded_at
from orchestration.resources import BUILD_DB_POOL, WarehouseResource
from warehouse import builds
from warehouse.dbt_manifest import prepared_manifest

MART_SUITES = {
    "mart_member_counts": (checks.mart_member_counts, "Member total per snapshot within ±1% of the raw rows."),
    "mart_cooperative_health": (checks.mart_cooperative_health, "Only the four health bands."),
    "mart_consolidation_scenario": (checks.mart_consolidation_scenario, "Scenarios are reported, with non-negative member counts."),
}


def _mart_check(mart: str):
    suite, description = MART_SUITES[mart]
    key = dg.AssetKey(["marts", mart])

    @dg.asset_check(asset=key, name=f"{mart}_expectations", blocking=True, description=description, pool=BUILD_DB_POOL)
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.build_connection(f"Dagster run {context.run.run_id[:8]} ({mart} suite)", context.log.info) as con:
            outcome = suite(con, warehouse.paths.quality)
            history.record(con, outcome, asset=key.to_user_string(), partition=None, run_id=context.run.run_id)
            build_id = builds.build_for_run(con, context.run.run_id)
            if build_id is not None:
                builds.record(con, build_id, [builds.CheckResult(
                    "gx_mart", outcome.suite, outcome.passed, asset=key.to_user_string(),
                    detail=None if outcome.passed else outcome.describe())])
        return dg.AssetCheckResult(passed=outcome.passed, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={"summary": outcome.describe()})

    return _check


mart_checks = [_mart_check(m) for m in MART_SUITES]


ODS_SOURCE = "source.koperasi.raw.ods_cooperatives"
_DAYS_PER = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30}


def _declared_freshness_days(manifest_path) -> float | None:
    """The warn_after of the ODS source as declared in dbt (one place for the rule)."""
    import json

    source = json.loads(manifest_path.read_text())["sources"][ODS_SOURCE]
    warn = (source.get("freshness") or {}).get("warn_after") or {}
    if not warn.get("count"):
        return None
    return warn["count"] * _DAYS_PER[warn.get("period") or "day"]


def _ods_freshness_check():
    @dg.asset_check(asset=dg.AssetKey(["raw", "ods_cooperatives"]), name="ods_export_freshness", blocking=False,
                    description="Warns when the newest loaded ODS export is older than the freshness declared on "
                                "the dbt source (warn_after).")
    def ods_export_freshness(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        limit = _declared_freshness_days(prepared_manifest())
        with warehouse.build_connection(f"Dagster run {context.run.run_id[:8]} (freshness)", context.log.info) as con:
            newest = newest_loaded_at(con, "ods")
        if newest is None:
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                       description="Belum ada ekspor ODS yang dimuat.")
        age = (datetime.now(timezone.utc).replace(tzinfo=None) - newest).total_seconds() / 86400
        passed = limit is None or age <= limit
        text = (f"Ekspor ODS terakhir dimuat {age:.0f} hari lalu"
                + ("" if limit is None else f" (batas {limit:.0f} hari)")
                + ("" if passed else f": ekspor ODS lebih tua dari {limit:.0f} hari, minta ekspor baru"))
        return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.WARN, description=text,
                                   metadata={"age_days": round(age, 1), "warn_after_days": limit})

    return ods_export_freshness


ods_freshness_check = _ods_freshness_check()
