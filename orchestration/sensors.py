"""The inbox sensor and the nightly schedule.

The sensor starts work only for files the warehouse has never seen: a file already in the file registry
(loaded, replaced, withdrawn or rejected, whoever brought it: `koperasi run`, `koperasi ingest`, an earlier
run) starts nothing, so `make dev` after `make run` starts no run. Files that arrive together are processed
by one run: new ODS snapshots as one run over their partitions (which also takes new BPS/OPD files), else one
refresh run for new BPS/OPD files.

The cursor remembers (path, size, mtime) -> sha256 so unchanged files are not hashed again, and which
contents were requested already, so a copy of a file under another name starts nothing either.

Both are off by default: a development server (`make dev`) should not start rebuilding and republishing the
warehouse on its own. The service (`koperasi serve`, `make serve`) sets ``KOPERASI_AUTOMATION=on``, which turns
them on by default; a status set in the UI (Automation) wins over either default.
"""

import json
import os

import dagster as dg
import duckdb

from ingestion.api import file_sha256, inbox_files, snapshot_date_from_name
from ingestion.mapping import SOURCES
from ingestion.registry import done_files
from orchestration.assets.ingestion import ODS_PARTITIONS
from orchestration.dbt_project import DBT_TESTS_TAG
from orchestration.jobs import ods_snapshot_job, refresh_job
from orchestration.resources import WarehouseResource
from warehouse.lock import PipelineBusy, pipeline_lock

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _registered(warehouse: WarehouseResource) -> set[tuple[str, str]] | None:
    """(source, sha256) of every file the registry knows and is done with; None while a run writes the database.

    Read under the pipeline lock, without waiting for it: DuckDB refuses a writer while any other process has the
    file open, so an unlocked read at the moment a run's step connects would fail that step."""
    database = warehouse.paths.build_db
    if not database.exists():
        return set()
    try:
        with pipeline_lock(warehouse.paths.warehouse_dir, "inbox sensor (reading the file registry)", wait=0):
            with duckdb.connect(str(database), read_only=True) as con:
                return done_files(con)
    except duckdb.CatalogException:
        return set()
    except (PipelineBusy, duckdb.IOException):  # a run holds the database: look again at the next tick
        return None


def _automation_on() -> bool:
    return os.environ.get("KOPERASI_AUTOMATION") == "on"


@dg.sensor(jobs=[ods_snapshot_job, refresh_job], minimum_interval_seconds=5,
           default_status=dg.DefaultSensorStatus.RUNNING if _automation_on() else dg.DefaultSensorStatus.STOPPED)
def inbox_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    registered = _registered(warehouse)
    if registered is None:
        return dg.SkipReason("a run is writing the warehouse; the inbox is looked at again at the next tick")
    state = json.loads(context.cursor) if context.cursor else {}
    if "files" not in state:  # cursors of the earlier one-run-per-file sensor: fingerprints only
        state = {"files": state, "requested": sorted(set(state.values()))}
    seen, requested = state["files"], set(state["requested"])
    new_snapshots: list[str] = []
    new_files: list[str] = []
    other_sources: list[str] = []
    for source in SOURCES:
        for path in inbox_files(warehouse.paths.inbox, source):
            stat = path.stat()
            fingerprint = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
            sha = seen.get(fingerprint) or file_sha256(path)
            seen[fingerprint] = sha
            if (source, sha) in registered or f"{source}:{sha}" in requested:
                continue
            if source == "ods":
                snapshot = snapshot_date_from_name(path.name)
                if snapshot is None:
                    context.log.warning(f"{path.name}: no snapshot date in the name; ingest it with "
                                        "'koperasi ingest --source ods --snapshot-date YYYY-MM-DD'")
                    continue
                if snapshot.isoformat() not in new_snapshots:
                    new_snapshots.append(snapshot.isoformat())
            elif source not in other_sources:
                other_sources.append(source)
            requested.add(f"{source}:{sha}")
            new_files.append(f"{source}:{sha}")
    cursor = json.dumps({"files": seen, "requested": sorted(requested)})
    if not new_files:
        return dg.SensorResult(run_requests=[], cursor=cursor)
    run_key = "inbox:" + ",".join(sorted(new_files))
    partitions_requests = []
    if new_snapshots:
        known = context.instance.get_dynamic_partitions(ODS_PARTITIONS.name)
        added = [s for s in sorted(new_snapshots) if s not in known]
        if added:
            partitions_requests.append(ODS_PARTITIONS.build_add_request(added))
        order = [*known, *added]
        span = sorted(new_snapshots, key=order.index)
        # One run for every new snapshot: a partition range (the ODS asset's single-run backfill policy).
        tags = {RANGE_START: span[0], RANGE_END: span[-1]} if len(span) > 1 else {}
        request = dg.RunRequest(run_key=run_key, job_name=ods_snapshot_job.name, tags=tags,
                                partition_key=span[0] if len(span) == 1 else None)
    else:
        request = dg.RunRequest(run_key=run_key, job_name=refresh_job.name,
                                tags={"koperasi/sources": ",".join(other_sources)})
    return dg.SensorResult(run_requests=[request], cursor=cursor, dynamic_partitions_requests=partitions_requests)


daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh", job=refresh_job, cron_schedule="0 2 * * *", execution_timezone="Asia/Jakarta",
    tags={DBT_TESTS_TAG: "all"},  # other runs test the snapshots they rebuilt; this one tests all of them
    default_status=dg.DefaultScheduleStatus.RUNNING if _automation_on() else dg.DefaultScheduleStatus.STOPPED,
    description="Full refresh every night at 02:00 WIB, with dbt's data tests over every snapshot (on under "
                "`koperasi serve`; else turn it on in the UI).")
