"""Ingestion assets: every inbox file goes through the file gate (ingestion.gate, the same function
`koperasi ingest` uses): landed, checked by its blocking suites, then admitted or withdrawn."""

import dagster as dg

from expectations.config import ods_snapshot_limits
from expectations.file_suites import SUITES, file_judge
from expectations.runner import SuiteOutcome
from ingestion.api import IngestResult, inbox_entries, inbox_files, not_a_regular_file, snapshot_date_from_name
from ingestion.gate import Admission, admit_files
from orchestration.resources import BUILD_DB_POOL, WarehouseResource
from warehouse.inspect import preview_markdown, table_row_count

ODS_PARTITIONS = dg.DynamicPartitionsDefinition(name="ods_snapshots")
ODS_KEY = dg.AssetKey(["raw", "ods_cooperatives"])


def ods_files_for(warehouse: WarehouseResource, partition_key: str) -> list:
    return [p for p in inbox_files(warehouse.paths.inbox, "ods")
            if (d := snapshot_date_from_name(p.name)) is not None and d.isoformat() == partition_key]


def _admit_all(context, warehouse: WarehouseResource, source: str, files) -> list[Admission]:
    with warehouse.build_connection(f"Dagster run {context.run.run_id[:8]} ({source} inbox)", context.log.info) as con:
        admissions = admit_files(con, files, source, warehouse.paths, file_judge(), run_id=context.run.run_id,
                                 log=context.log.warning)
    for a in admissions:
        if a.withdrawn and a.result.status == "known":
            context.log.warning(f"{a.result.file} is not loaded ({a.result.known_status}: {a.result.error}); "
                                f"it is not retried until its content changes. To resubmit, put a corrected file "
                                f"in the inbox or run 'koperasi ingest --source {source} FILE'.")
    return admissions


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
        "files_withdrawn": sum(r.status == "failed_checks" for r in results),
        "files_already_ingested": sum(r.status == "already_ingested" for r in results),
        "source_sha256": ", ".join(r.sha256[:12] for r in results),
        "dagster/row_count": total or 0,
        "preview": dg.MetadataValue.md(preview),
    }


def check_result(asset: dg.AssetKey, check_name: str, outcomes: list[SuiteOutcome], *,
                 withdrawn: dg.AssetCheckSeverity = dg.AssetCheckSeverity.WARN) -> dg.AssetCheckResult:
    """The new files' suites. A file that failed a blocking suite was withdrawn by the gate already: that is the
    file's verdict, not the build's. BPS and OPD files are judged in the run that builds the marts: there the
    check fails with severity WARN and the build goes on with every other file (`koperasi run` exits 3 naming
    the file, as for an ODS file). An ODS snapshot is judged in a run of its own partition (``withdrawn=ERROR``):
    with its file withdrawn there is nothing new downstream, so that partition's build is skipped."""
    failed = any(not o.passed for o in outcomes)
    warned = any(o.warnings for o in outcomes)
    summary = "\n".join(f"- {o.describe()}" for o in outcomes) or "no new file to validate"
    if failed:
        summary = "Withdrawn (not in this build, the rest goes on):\n" + summary
    return dg.AssetCheckResult(
        asset_key=asset, check_name=check_name, passed=not failed and not warned,
        severity=withdrawn if failed else dg.AssetCheckSeverity.WARN,
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
              f"money, RAT years; {ods_snapshot_limits()}."),
        _spec(ODS_KEY, "no_rejected_files", "Every ODS file of the snapshot could be read.", blocking=False),
    ],
)
def ods_cooperatives(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    admissions: list[Admission] = []
    for partition in sorted(context.partition_keys):  # in date order: each snapshot is compared with the one before
        admissions += _admit_all(context, warehouse, "ods", ods_files_for(warehouse, partition))
    refused = [p for p in inbox_entries(warehouse.paths.inbox, "ods") if not_a_regular_file(p) is not None]
    admissions += _admit_all(context, warehouse, "ods", refused) if refused else []  # registered, never opened
    results = [a.result for a in admissions]
    yield dg.MaterializeResult(metadata=_metadata(warehouse, results, "ods_cooperatives"))
    yield check_result(ODS_KEY, "ods_snapshot_expectations", [o for a in admissions for o in a.outcomes],
                       withdrawn=dg.AssetCheckSeverity.ERROR)
    yield _rejections_check(ODS_KEY, results)


def _source_multi_asset(source: str, tables: list[str], description: str):
    keys = {t: dg.AssetKey(["raw", t]) for t in tables}
    specs = [_spec(keys[t], f"{t}_expectations", f"GX suites on each new {t} file.") for t in tables if SUITES[t]]
    specs += [_spec(keys[t], "no_rejected_files", f"Every {source.upper()} file could be read.", blocking=False)
              for t in tables]

    @dg.multi_asset(
        name=f"{source}_inbox",
        specs=[dg.AssetSpec(keys[t], group_name="raw", description=f"{description} ({t})") for t in tables],
        check_specs=specs,
        pool=BUILD_DB_POOL,
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        admissions = _admit_all(context, warehouse, source, inbox_entries(warehouse.paths.inbox, source))
        results = [a.result for a in admissions]
        for table in tables:
            mine = [a for a in admissions if a.table == table]
            shown = [a.result for a in mine] + [r for r in results if r.status == "rejected"]
            yield dg.MaterializeResult(asset_key=keys[table], metadata=_metadata(warehouse, shown, table))
            if SUITES[table]:
                yield check_result(keys[table], f"{table}_expectations", [o for a in mine for o in a.outcomes])
            yield _rejections_check(keys[table], results)

    return _asset


bps_inbox = _source_multi_asset("bps", ["bps_population", "bps_businesses"], "BPS tables from inbox/bps")
opd_inbox = _source_multi_asset("opd", ["opd_cooperatives", "opd_members"], "OPD cooperative lists from inbox/opd")
