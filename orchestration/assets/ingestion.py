"""Ingestion assets: land the inbox files of each source into raw.* (ingestion package), then gate them
with their expectation suites (expectations package). A file that fails a blocking check is withdrawn."""

from typing import Callable

import dagster as dg

from expectations import checks, history
from expectations.runner import SuiteOutcome
from ingestion.api import IngestResult, inbox_files, ingest_file, snapshot_date_from_name
from ingestion.landing import withdraw
from orchestration.resources import BUILD_DB_POOL, WarehouseResource
from warehouse.inspect import preview_markdown, table_row_count

ODS_PARTITIONS = dg.DynamicPartitionsDefinition(name="ods_snapshots")
ODS_KEY = dg.AssetKey(["raw", "ods_cooperatives"])


def ods_files_for(warehouse: WarehouseResource, partition_key: str) -> list:
    return [p for p in inbox_files(warehouse.paths.inbox, "ods")
            if (d := snapshot_date_from_name(p.name)) is not None and d.isoformat() == partition_key]


def _ingest_all(context, warehouse: WarehouseResource, source: str, files) -> list[IngestResult]:
    with warehouse.build_connection() as con:
        results = [ingest_file(con, path, source, warehouse.paths.archive,
                               key_file=warehouse.paths.pseudonym_key_file) for path in files]
    for r in results:
        if r.status == "rejected":
            context.log.warning(f"rejected: {r.error}")
    return results


def _metadata(warehouse: WarehouseResource, results: list[IngestResult], table: str) -> dict:
    loaded = [r for r in results if r.status == "loaded"]
    reasons: dict[str, int] = {}
    for r in loaded:
        for reason, count in r.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + count
    with warehouse.build_connection() as con:
        preview = preview_markdown(con, "raw", table, where_sha256=[r.sha256 for r in loaded]) if loaded else "_no new rows_"
        total = table_row_count(con, "raw", table)
    return {
        "files": dg.MetadataValue.json([{k: r.as_json()[k] for k in ("file", "sha256", "status", "rows_read",
                                                                       "rows_loaded", "rows_quarantined", "error")}
                                        for r in results]),
        "rows_read": sum(r.rows_read for r in loaded),
        "rows_loaded": sum(r.rows_loaded for r in loaded),
        "rows_quarantined": sum(r.rows_quarantined for r in loaded),
        "quarantine_reasons": dg.MetadataValue.json(reasons),
        "files_rejected": sum(r.status == "rejected" for r in results),
        "files_already_ingested": sum(r.status == "already_ingested" for r in results),
        "source_sha256": ", ".join(r.sha256[:12] for r in results),
        "dagster/row_count": total or 0,
        "preview": dg.MetadataValue.md(preview),
    }


def validate_and_gate(context, warehouse: WarehouseResource, asset: dg.AssetKey, partition: str | None,
                      loaded: list[IngestResult], validations: list[Callable]) -> list[SuiteOutcome]:
    """Runs the suites on what was just loaded; on an error-level failure those files are withdrawn."""
    if not loaded:
        return []
    with warehouse.build_connection() as con:
        outcomes: list[SuiteOutcome] = [validate(con) for validate in validations]
        for outcome in outcomes:
            history.record(con, outcome, asset=asset.to_user_string(), partition=partition, run_id=context.run.run_id)
        failed = [o for o in outcomes if not o.passed]
        if failed:
            reason = "failed quality checks: " + " | ".join(o.describe() for o in failed)
            for result in loaded:
                withdraw(con, result.sha256, reason)
            context.log.error(f"{', '.join(r.file for r in loaded)} withdrawn: {reason}")
    return outcomes


def check_result(asset: dg.AssetKey, check_name: str, outcomes: list[SuiteOutcome]) -> dg.AssetCheckResult:
    failed = any(not o.passed for o in outcomes)
    warned = any(o.warnings for o in outcomes)
    summary = "\n".join(f"- {o.describe()}" for o in outcomes) or "no new file to validate"
    return dg.AssetCheckResult(
        asset_key=asset, check_name=check_name, passed=not failed and not warned,
        severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
        metadata={"summary": dg.MetadataValue.md(summary)})


def _rejections_check(asset: dg.AssetKey, results: list[IngestResult]) -> dg.AssetCheckResult:
    rejected = [r for r in results if r.status == "rejected"]
    return dg.AssetCheckResult(asset_key=asset, check_name="no_rejected_files", passed=not rejected,
                               severity=dg.AssetCheckSeverity.WARN,
                               metadata={"rejected": dg.MetadataValue.json([r.error for r in rejected])})


def _spec(asset: dg.AssetKey, name: str, description: str, blocking: bool = True) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name, asset=asset, blocking=blocking, description=description)


@dg.asset(
    key=ODS_KEY,
    partitions_def=ODS_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),  # several new snapshots are caught up in one run
    group_name="raw",
    pool=BUILD_DB_POOL,
    description="ODS registry exports of one snapshot (partition = snapshot date) landed in raw.ods_cooperatives.",
    check_specs=[
        _spec(ODS_KEY, "ods_snapshot_expectations", "GX suite on the new snapshot: registry numbers, regions, counts, "
              "money, RAT years; cooperatives ±20% and members ±15% of the previous snapshot; quarantine share."),
        _spec(ODS_KEY, "no_rejected_files", "Every ODS file of the snapshot could be read.", blocking=False),
    ],
)
def ods_cooperatives(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    quality = warehouse.paths.quality
    results: list[IngestResult] = []
    outcomes: list[SuiteOutcome] = []
    for partition in sorted(context.partition_keys):  # in date order: each snapshot is compared with the one before
        snapshot = snapshot_date_from_name(partition)
        partition_results = _ingest_all(context, warehouse, "ods", ods_files_for(warehouse, partition))
        loaded = [r for r in partition_results if r.status == "loaded"]
        validations = [lambda con, r=r: checks.ods_snapshot(con, quality, r.sha256, snapshot) for r in loaded]
        validations.append(lambda con, loaded=loaded: checks.file_accounting(con, quality, [r.sha256 for r in loaded]))
        outcomes += validate_and_gate(context, warehouse, ODS_KEY, partition, loaded, validations)
        results += partition_results
    yield dg.MaterializeResult(metadata=_metadata(warehouse, results, "ods_cooperatives"))
    yield check_result(ODS_KEY, "ods_snapshot_expectations", outcomes)
    yield _rejections_check(ODS_KEY, results)


def _table_of(source: str, result: IngestResult) -> str:
    return {("bps", "population"): "bps_population", ("bps", "businesses"): "bps_businesses",
            ("opd", "registry"): "opd_cooperatives", ("opd", "members"): "opd_members"}[(source, result.table_kind)]


# source -> table -> the suites that gate it
SOURCE_CHECKS = {
    "bps": {"bps_population": [checks.bps_population, checks.bps_totals], "bps_businesses": [checks.bps_businesses, checks.bps_totals]},
    "opd": {"opd_cooperatives": [], "opd_members": [checks.opd_members]},
}


def _source_multi_asset(source: str, description: str):
    tables = list(SOURCE_CHECKS[source])
    keys = {t: dg.AssetKey(["raw", t]) for t in tables}
    specs = [_spec(keys[t], f"{t}_expectations", f"GX suites on {t}.") for t in tables if SOURCE_CHECKS[source][t]]
    specs += [_spec(keys[t], "no_rejected_files", f"Every {source.upper()} file could be read.", blocking=False)
              for t in tables]

    @dg.multi_asset(
        name=f"{source}_inbox",
        specs=[dg.AssetSpec(keys[t], group_name="raw", description=f"{description} ({t})") for t in tables],
        check_specs=specs,
        pool=BUILD_DB_POOL,
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        results = _ingest_all(context, warehouse, source, inbox_files(warehouse.paths.inbox, source))
        quality = warehouse.paths.quality
        for table in tables:
            loaded = [r for r in results if r.status == "loaded" and _table_of(source, r) == table]
            mine = loaded + [r for r in results if r.status == "rejected"]
            suites = SOURCE_CHECKS[source][table]
            outcomes = validate_and_gate(context, warehouse, keys[table], None, loaded,
                                         [lambda con, s=s: s(con, quality) for s in suites])
            yield dg.MaterializeResult(asset_key=keys[table], metadata=_metadata(warehouse, mine, table))
            if suites:
                yield check_result(keys[table], f"{table}_expectations", outcomes)
            yield _rejections_check(keys[table], results)

    return _asset


bps_inbox = _source_multi_asset("bps", "BPS tables from inbox/bps")
opd_inbox = _source_multi_asset("opd", "OPD cooperative lists from inbox/opd")
