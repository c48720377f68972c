"""The inbox sensor: each new file starts exactly one run; a file dropped twice starts nothing.

The cursor remembers (path, size, mtime) -> sha256 so unchanged files are not hashed again; run keys
are the content hash, so a copy of an already-seen file under another name starts nothing either.
"""


import json

import dagster as dg

from ingestion.api import file_sha256, inbox_files, snapshot_date_from_name
from orchestration.assets.ingestion import ODS_PARTITIONS
from orchestration.jobs import ods_snapshot_job, refresh_job
from orchestration.resources import WarehouseResource
from warehouse.paths import SOURCES


@dg.sensor(jobs=[ods_snapshot_job, refresh_job], minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult:
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    requested = set(seen.values())
    runs: list[dg.RunRequest] = []
    new_partitions: list[str] = []
    known_partitions = set(context.instance.get_dynamic_partitions(ODS_PARTITIONS.name))
    for source in SOURCES:
        for path in inbox_files(warehouse.paths.inbox, source):
            stat = path.stat()
            fingerprint = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
            if fingerprint in seen:
                continue
            sha = file_sha256(path)
            seen[fingerprint] = sha
            if sha in requested:
                continue
            requested.add(sha)
            if source == "ods":
                snapshot = snapshot_date_from_name(path.name)
                if snapshot is None:
                    context.log.warning(f"{path.name}: no snapshot date in the name; ingest it with "
                                        "'koperasi ingest --source ods --snapshot-date YYYY-MM-DD'")
                    continue
                key = snapshot.isoformat()
                if key not in known_partitions and key not in new_partitions:
                    new_partitions.append(key)
                runs.append(dg.RunRequest(run_key=f"ods:{sha}", job_name=ods_snapshot_job.name, partition_key=key,
                                          tags={"koperasi/file": path.name}))
            else:
                runs.append(dg.RunRequest(run_key=f"{source}:{sha}", job_name=refresh_job.name,
                                          tags={"koperasi/file": path.name}))
    return dg.SensorResult(
        run_requests=runs, cursor=json.dumps(seen),
        dynamic_partitions_requests=[ODS_PARTITIONS.build_add_request(new_partitions)] if new_partitions else [])


daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh", job=refresh_job, cron_schedule="0 2 * * *", execution_timezone="Asia/Jakarta",
    default_status=dg.DefaultScheduleStatus.RUNNING, description="Full refresh every night at 02:00 WIB.")
