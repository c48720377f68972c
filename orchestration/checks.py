"""Asset checks outside the ingestion and dbt steps: GX suites on the marts (blocking, after the dbt build) and
the freshness of the ODS exports (a warning for stewards, from the dbt source's declared freshness)."""

from datetime import datetime, timezone

import dagster as dg

from expectations import checks, history
from expectations.runner import data_docs_batch
from ingestion.registry import newest_loaded_at
from orchestration.resources import BUILD_DB_POOL, WarehouseResource
from warehouse import builds
from warehouse.dbt_manifest import prepared_manifest

MART_SUITES = {
    "mart_member_counts": (checks.mart_member_counts, "Member total per snapshot within ±1% of the raw rows."),
    "mart_cooperative_health": (checks.mart_cooperative_health, "Only the four health bands."),
    "mart_consolidation_scenario": (checks.mart_consolidation_scenario, "Scenarios are reported, with non-negative member counts."),
}


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(f"{mart}_expectations", asset=dg.AssetKey(["marts", mart]), blocking=True,
                             description=description) for mart, (_, description) in MART_SUITES.items()],
    can_subset=True, name="mart_suites", pool=BUILD_DB_POOL)
def mart_suites(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    """The selected marts' suites in one step: one connection, and the Data Docs rendered once for all."""
    with warehouse.build_connection(f"Dagster run {context.run.run_id[:8]} (mart suites)", context.log.info) as con, \
            data_docs_batch():
        build_id = builds.build_for_run(con, context.run.run_id)
        for mart, (suite, _) in MART_SUITES.items():
            key = dg.AssetCheckKey(dg.AssetKey(["marts", mart]), f"{mart}_expectations")
            if key not in context.selected_asset_check_keys:
                continue
            outcome = suite(con, warehouse.paths.quality)
            history.record(con, outcome, asset=key.asset_key.to_user_string(), partition=None,
                           run_id=context.run.run_id)
            if build_id is not None:
                builds.record(con, build_id, [builds.CheckResult(
                    "gx_mart", outcome.suite, outcome.passed, asset=key.asset_key.to_user_string(),
                    detail=None if outcome.passed else outcome.describe())])
            yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=outcome.passed,
                                      severity=dg.AssetCheckSeverity.ERROR, metadata={"summary": outcome.describe()})


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
