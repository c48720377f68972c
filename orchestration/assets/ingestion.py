"""Ingestion assets: land the inbox files of each source into raw.* by calling the ingestion package."""


import dagster as dg

from ingestion.api import IngestResult, inbox_files, ingest_file, snapshot_date_from_name
from orchestration.resources import BUILD_DB_POOL, WarehouseResource
from warehouse.inspect import preview_markdown, table_row_count

ODS_PARTITIONS = dg.DynamicPartitionsDefinition(name="ods_snapshots")


def ods_files_for(warehouse: WarehouseResource, partition_key: str) -> list:
    return [p for p in inbox_files(warehouse.paths.inbox, "ods")
            if (d := snapshot_date_from_name(p.name)) is not None and d.isoformat() == partition_key]


def _ingest_all(warehouse: WarehouseResource, source: str, files) -> list[IngestResult]:
    with warehouse.build_connection() as con:
        return [ingest_file(con, path, source, warehouse.paths.archive, key_file=warehouse.paths.pseudonym_key_file)
                for path in files]


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


@dg.asset(
    key=dg.AssetKey(["raw", "ods_cooperatives"]),
    partitions_def=ODS_PARTITIONS,
    group_name="raw",
    pool=BUILD_DB_POOL,
    description="ODS registry exports of one snapshot (partition = snapshot date) landed in raw.ods_cooperatives.",
)
def ods_cooperatives(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    files = ods_files_for(warehouse, context.partition_key)
    results = _ingest_all(warehouse, "ods", files)
    for r in results:
        if r.status == "rejected":
            context.log.warning(f"rejected: {r.error}")
    return dg.MaterializeResult(metadata=_metadata(warehouse, results, "ods_cooperatives"))


def _source_multi_asset(source: str, tables: list[str], description: str):
    @dg.multi_asset(
        name=f"{source}_inbox",
        specs=[dg.AssetSpec(["raw", t], group_name="raw", description=f"{description} ({t})") for t in tables],
        pool=BUILD_DB_POOL,
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        results = _ingest_all(warehouse, source, inbox_files(warehouse.paths.inbox, source))
        for r in results:
            if r.status == "rejected":
                context.log.warning(f"rejected: {r.error}")
        for table in tables:
            kinds = [r for r in results if r.status != "loaded" or _table_of(source, r) == table]
            yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", table]), metadata=_metadata(warehouse, kinds, table))

    return _asset


def _table_of(source: str, result: IngestResult) -> str:
    return {("bps", "population"): "bps_population", ("bps", "businesses"): "bps_businesses",
            ("opd", "registry"): "opd_cooperatives", ("opd", "members"): "opd_members"}[(source, result.table_kind)]


bps_inbox = _source_multi_asset("bps", ["bps_population", "bps_businesses"], "BPS tables from inbox/bps")
opd_inbox = _source_multi_asset("opd", ["opd_cooperatives", "opd_members"], "OPD cooperative lists from inbox/opd")
