"""The Dagster code location: wiring only."""

import dagster as dg

from orchestration.assets.dbt import koperasi_dbt
from orchestration.assets.ingestion import bps_inbox, ods_cooperatives, opd_inbox
from orchestration.assets.publish import publication
from orchestration.checks import ods_freshness_check
from orchestration.dbt_checks import dbt_test_checks
from orchestration.jobs import ods_ingest_job, ods_snapshot_job, refresh_job
from orchestration.dbt_project import DBT_PROJECT, dbt_cli
from orchestration.resources import default_warehouse
from warehouse.dbt_manifest import prepared_manifest
from orchestration.sensors import daily_refresh_schedule, inbox_sensor

defs = dg.Definitions(
    assets=[ods_cooperatives, bps_inbox, opd_inbox, koperasi_dbt, publication],
    asset_checks=[ods_freshness_check, dbt_test_checks(prepared_manifest())],
    jobs=[ods_snapshot_job, ods_ingest_job, refresh_job],
    sensors=[inbox_sensor],
    schedules=[daily_refresh_schedule],
    resources={"warehouse": default_warehouse(), "dbt": dbt_cli(DBT_PROJECT)},
    executor=dg.in_process_executor,  # a process per step costs ~4 s on 2 cores; steps share one database anyway
)
