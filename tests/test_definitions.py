"""The Dagster graph: one connected lineage from the inbox to the marts, every writer in the one pool."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from orchestration.dbt_project import DBT_PROJECT_DIR
from orchestration.definitions import defs
from orchestration.resources import BUILD_DB_POOL

INBOX_KEYS = {dg.AssetKey(["raw", t]) for t in
              ("ods_cooperatives", "bps_population", "bps_businesses", "opd_cooperatives", "opd_members")}


@pytest.fixture(scope="module")
def graph():
    return defs.resolve_asset_graph()


def test_every_mart_is_reachable_from_the_inbox_assets(graph):
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert {"mart_member_counts", "mart_cooperative_health", "mart_health_by_region", "mart_consolidation_scenario",
            "mart_umkm_coverage", "dim_region", "dim_cooperative", "fct_cooperative_snapshot"} <= {k.path[-1] for k in marts}
    reachable = set()
    frontier = set(INBOX_KEYS)
    while frontier:
        key = frontier.pop()
        reachable.add(key)
        frontier |= set(graph.get(key).child_keys) - reachable
    assert marts <= reachable


def test_no_dbt_source_is_left_unmapped(graph):
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    # A source that is a view over an ingested table (meta.ingested_as) maps onto that table's asset.
    source_keys = {dg.AssetKey([s["source_name"], (s.get("meta") or {}).get("ingested_as") or s["name"]])
                   for s in manifest["sources"].values()}
    # The file registry is written by every ingestion asset (the gate): staging reads which files are current.
    registry = dg.AssetKey(["raw", "ingested_files"])
    assert registry in source_keys
    source_keys -= {registry}
    assert source_keys == INBOX_KEYS
    for key in source_keys:
        node = graph.get(key)
        assert node.is_materializable, f"{key} is a dbt source without an ingestion asset"


def test_every_writing_asset_is_in_the_build_database_pool(graph):
    writers = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    assert writers
    for assets_def in writers:
        pools = {assets_def.node_def.pool} if hasattr(assets_def.node_def, "pool") else set()
        assert pools == {BUILD_DB_POOL}, assets_def.keys


def test_groups_follow_the_dbt_folders(graph):
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups["marts/mart_member_counts"] == "marts"
    assert groups["staging/stg_ods__cooperatives"] == "staging"
    assert groups["reference/seed_regions"] == "reference"
    assert groups["raw/ods_cooperatives"] == "raw"


def test_ods_is_partitioned_by_snapshot(graph):
    node = graph.get(dg.AssetKey(["raw", "ods_cooperatives"]))
    assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)


def test_dbt_tests_are_asset_checks_and_errors_block(graph):
    checks = [graph.get_check_spec(k) for k in graph.asset_check_keys]
    assert len(checks) > 50
    contract_marts = [c for c in checks if c.asset_key.path[0] == "marts"]
    warnings = {"assert_ods_active_status_mostly_agrees"}  # dbt severity warn: for stewards, not a gate
    assert contract_marts and all(c.blocking for c in contract_marts if c.name not in warnings)
    assert not any(c.blocking for c in contract_marts if c.name in warnings)


def test_schedule_runs_the_full_refresh():
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.job_name == "refresh_job"
    assert schedule.cron_schedule == "0 2 * * *"
    with dg.build_schedule_context() as context:
        requests = schedule.evaluate_tick(context).run_requests
    assert len(requests) == 1
