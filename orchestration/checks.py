"""The freshness of the ODS exports: a warning for stewards, from the dbt source's declared freshness.

The marts are checked by their dbt tests (one framework per gate: GX judges files, dbt tests judge models)."""

from datetime import datetime, timezone

import dagster as dg

from ingestion.registry import newest_loaded_at
from orchestration.resources import WarehouseResource
from warehouse.dbt_manifest import prepared_manifest

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
