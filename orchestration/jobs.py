"""Jobs: one ODS snapshot (partition) with everything downstream; the refresh of everything else."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.ingestion import ods_cooperatives

ODS_KEY = ods_cooperatives.key

# New ODS exports: ingest their snapshot partitions (one partition or a range, in one run) and whatever else
# arrived in the BPS/OPD inboxes, then rebuild the warehouse (marts over all snapshots) and publish. The whole
# dbt project is selected, not only what depends on ODS: publishing needs every mart built.
ods_snapshot_job = dg.define_asset_job(
    "ods_snapshot_job", selection=dg.AssetSelection.all(),
    description="Ingest new ODS snapshots and new BPS/OPD files, rebuild the warehouse, check and publish.")

# Only the ODS partition: used to catch up several snapshots before one refresh.
ods_ingest_job = dg.define_asset_job(
    "ods_ingest_job", selection=dg.AssetSelection.assets(ODS_KEY)
    - dg.AssetSelection.checks(dg.AssetCheckKey(ODS_KEY, "ods_export_freshness")),  # the refresh runs it
    description="Ingest one ODS snapshot only.")

# Everything but the partitioned ODS ingestion: BPS and OPD inboxes, dbt build and checks, publish.
# The ODS freshness warning runs with it (every night, from the schedule).
refresh_job = dg.define_asset_job(
    "refresh_job", selection=dg.AssetSelection.all() - dg.AssetSelection.assets(ODS_KEY)
    | dg.AssetSelection.checks_for_assets(ODS_KEY) - dg.AssetSelection.checks(
        dg.AssetCheckKey(ODS_KEY, "ods_snapshot_expectations"), dg.AssetCheckKey(ODS_KEY, "no_rejected_files")),
    description="Ingest new BPS and OPD files, rebuild the warehouse, check and publish.")
