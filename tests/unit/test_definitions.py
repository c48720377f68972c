"""The Dagster graph: one connected lineage from the inbox to the marts, every writer in the one pool."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from orchestration.dbt_project import DBT_PROJECT_DIR, DBT_TESTS_TAG
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


def test_dbt_tests_are_one_check_per_model_and_errors_block(graph):
    """Every dbt data and unit test of a model is reported by one check of that model (fewer events than a
    check per test): 'dbt_tests' blocks, 'dbt_warnings' (severity warn) does not; each test is listed."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    checks = {k: graph.get_check_spec(k) for k in graph.asset_check_keys}
    dbt_checks = {k: spec for k, spec in checks.items() if k.name in ("dbt_tests", "dbt_warnings")}
    assert all(spec.blocking == (k.name == "dbt_tests") for k, spec in dbt_checks.items())
    marts = {k.asset_key.path[-1] for k in dbt_checks if k.asset_key.path[0] == "marts" and k.name == "dbt_tests"}
    assert marts == {"dim_region", "dim_cooperative", "fct_cooperative_snapshot", "mart_member_counts",
                     "mart_cooperative_health", "mart_health_by_region", "mart_consolidation_scenario",
                     "mart_umkm_coverage"}
    warning = checks[dg.AssetCheckKey(dg.AssetKey(["marts", "fct_cooperative_snapshot"]), "dbt_warnings")]
    assert "`assert_ods_active_status_mostly_agrees`" in warning.description
    health = checks[dg.AssetCheckKey(dg.AssetKey(["marts", "mart_cooperative_health"]), "dbt_tests")]
    assert "mart_cooperative_health.health_band only takes the values Sehat" in health.description
    tested = [n for n in {**manifest["nodes"], **manifest["unit_tests"]}.values()
              if n["resource_type"] in ("test", "unit_test")
              and not (n.get("attached_node") or "").startswith("source.")]
    listed = sum(spec.description.count("\n- ") for spec in dbt_checks.values())
    assert listed == len(tested) > 100, "every dbt test of a model or seed is listed in exactly one check"
    assert len(dbt_checks) < 45


def test_importing_the_code_location_does_no_work(tmp_path):
    """No dbt parse, no write into the source tree, no environment change on import (issue 16)."""
    import os
    import subprocess
    import sys

    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    before = manifest.stat().st_mtime_ns
    model = DBT_PROJECT_DIR / "models" / "marts" / "dim_region.sql"
    os.utime(model)  # the manifest is now older than a model: the old import parsed again here
    # Libraries first (polars sets its allocator's variable when imported): the probe judges our modules.
    probe = ("import os, json, polars, duckdb, pandas, dagster, dagster_dbt; before = dict(os.environ); "
             "import orchestration.definitions; print(json.dumps(sorted(set(os.environ.items()) ^ set(before.items()))))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPERASI_", "POLARS_", "GX_", "TQDM_"))}
    try:
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                              env={**env, "KOPERASI_HOME": str(tmp_path / "home")})
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout.strip().splitlines()[-1]) == [], "importing changed the environment"
        assert manifest.stat().st_mtime_ns == before, "importing parsed the dbt project"
        assert not (tmp_path / "home").exists()
    finally:
        from warehouse.dbt_manifest import prepare_manifest
        from warehouse.paths import KoperasiPaths

        prepare_manifest(KoperasiPaths(tmp_path / "home"))  # current again for the rest of the session


def test_a_missing_manifest_is_a_clear_error(tmp_path, monkeypatch):
    from warehouse import dbt_manifest

    monkeypatch.setattr(dbt_manifest, "MANIFEST", tmp_path / "manifest.json")
    with pytest.raises(dbt_manifest.ManifestNotPrepared, match="koperasi prepare"):
        dbt_manifest.prepared_manifest()


def test_schedule_runs_the_full_refresh():
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.job_name == "refresh_job"
    assert schedule.cron_schedule == "0 2 * * *"
    with dg.build_schedule_context() as context:
        requests = schedule.evaluate_tick(context).run_requests
    assert len(requests) == 1
    # The nightly run tests every snapshot; other runs test the snapshots they rebuilt.
    assert requests[0].tags.get(DBT_TESTS_TAG) == "all"


def test_the_nightly_test_scope_does_not_outlive_its_dbt_invocation(monkeypatch):
    """A run tagged for every test sets KOPERASI_DBT_TESTS for its dbt invocation only: the next run in the same
    process (`koperasi run` runs two jobs in one) tests what it rebuilt."""
    import os

    from orchestration.assets.dbt import _environment

    monkeypatch.delenv("KOPERASI_DBT_TESTS", raising=False)
    with _environment("KOPERASI_DBT_TESTS", "all"):
        assert os.environ["KOPERASI_DBT_TESTS"] == "all"
    assert "KOPERASI_DBT_TESTS" not in os.environ
    monkeypatch.setenv("KOPERASI_DBT_TESTS", "all")  # an operator's own setting is kept
    with _environment("KOPERASI_DBT_TESTS", None):
        assert os.environ["KOPERASI_DBT_TESTS"] == "all"
    assert os.environ["KOPERASI_DBT_TESTS"] == "all"
