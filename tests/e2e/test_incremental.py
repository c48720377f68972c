"""A new snapshot costs what it adds (issue 16), and gives the same answers: after each kind of change the
incremental build (snapshot-incremental models, data tests on the rebuilt snapshots only) holds the same marts,
row for row, as a full rebuild of the same database; and the nightly scope (every snapshot) still catches a
fault in a snapshot the run did not rebuild."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from helpers.dbt_builds import dbt_build, marts
from ingestion.api import snapshot_date_from_name
from ingestion.samples import SampleSpec, generate_samples
from orchestration.run import execute
from warehouse import builds
from warehouse.dbt_manifest import DBT_PROJECT_DIR, prepared_manifest
from warehouse.paths import KoperasiPaths

pytestmark = pytest.mark.e2e


def _full_rebuild(paths: KoperasiPaths, work: Path, project: Path = DBT_PROJECT_DIR) -> dict[str, list[tuple]]:
    """The same build database rebuilt from scratch (dbt --full-refresh) in a copy."""
    if work.exists():
        shutil.rmtree(work)
    (work / "warehouse").mkdir(parents=True)
    shutil.copyfile(paths.build_db, work / "warehouse" / "build.duckdb")
    result = dbt_build(project, work, "--full-refresh", target=work / "target")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return marts(work / "warehouse" / "build.duckdb")


def _assert_same(incremental: dict, full: dict) -> None:
    assert incremental.keys() == full.keys()
    for table in full:
        assert incremental[table] == full[table], f"marts.{table}: incremental build differs from a full rebuild"


@pytest.fixture()
def small_home(tmp_path, monkeypatch):
    """A home built by the real pipeline from three of four quarterly snapshots (scale 0.2); the fourth waits."""
    generated = tmp_path / "generated"
    generate_samples(SampleSpec(out=generated, scale=0.2, snapshots=4))
    root = tmp_path / "home"
    for source in ("bps", "opd"):
        shutil.copytree(generated / source, root / "inbox" / source)
    ods = sorted((generated / "ods").iterdir(), key=lambda p: snapshot_date_from_name(p.name))
    (root / "inbox" / "ods").mkdir(parents=True)
    for path in ods[:-1]:
        shutil.copy(path, root / "inbox" / "ods" / path.name)
    monkeypatch.setenv("KOPERASI_HOME", str(root))
    monkeypatch.setenv("KOPERASI_PSEUDONYM_KEY", "test-pseudonym-key")
    paths = KoperasiPaths(root)
    outcome = execute(paths)
    assert outcome.ok and outcome.published, outcome.failures
    return paths, ods


def _assert_served_is_built(paths: KoperasiPaths) -> None:
    """The serving file (brought up to date, not rebuilt) holds exactly the build's marts."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{paths.build_db}' AS build (READ_ONLY)")
        con.execute(f"ATTACH '{paths.serving_db}' AS serving (READ_ONLY)")
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = "
                                            "'build' AND table_schema = 'marts' AND table_type = 'BASE TABLE'").fetchall()]
        for t in tables:
            build, served = f'build.marts."{t}"', f'serving.marts."{t}"'
            differing = con.execute(f"SELECT count(*) FROM ((SELECT * FROM {build} EXCEPT ALL SELECT * FROM {served}) "
                                    f"UNION ALL (SELECT * FROM {served} EXCEPT ALL SELECT * FROM {build}))").fetchall()
            assert differing == [(0,)], f"serving marts.{t} differs from the build"
    for t in tables:
        parquet = duckdb.sql(f"SELECT count(*) FROM '{paths.exports / 'current' / (t + '.parquet')}'").fetchall()
        with duckdb.connect(str(paths.build_db), read_only=True) as con:
            assert parquet == con.execute(f'SELECT count(*) FROM marts."{t}"').fetchall(), t


def _rebuilt_snapshots(paths: KoperasiPaths) -> list[str]:
    with duckdb.connect(str(paths.build_db), read_only=True) as con:
        return [str(d) for (d,) in con.execute(
            "SELECT DISTINCT snapshot_date FROM marts.fct_cooperative_snapshot "
            "WHERE built_at = (SELECT max(built_at) FROM marts.fct_cooperative_snapshot) ORDER BY 1").fetchall()]


def _assert_only_what_depends_on_ods_ran(paths: KoperasiPaths) -> None:
    """After new ODS rows only: dbt ran no seed and nothing that reads only BPS or OPD rows, yet the build's verdict
    has a result for every node (those not run carried over from the build before, saying so)."""
    ran = {r["unique_id"] for r in json.loads((paths.dbt_target / "run_results.json").read_text())["results"]}
    assert not {u for u in ran if u.startswith("seed.")}, "the seeds did not change"
    assert "model.koperasi.stg_bps__population" not in ran and "model.koperasi.stg_ods__cooperatives" in ran
    manifest = json.loads(prepared_manifest().read_text())
    buildable = {u for u, n in {**manifest["nodes"], **manifest["unit_tests"]}.items()
                 if n["resource_type"] in ("model", "seed", "test", "unit_test")}
    with duckdb.connect(str(paths.build_db), read_only=True) as con:
        verdict = builds.latest(con)
    dbt_results = {r.name: r for r in verdict.results if r.kind.startswith("dbt_")}
    assert verdict.passed and set(dbt_results) == {builds.result_name(u) for u in buildable}
    carried = {name for name, r in dbt_results.items() if builds.UNCHANGED in (r.detail or "")}
    assert carried == {builds.result_name(u) for u in buildable - ran}


def test_incremental_builds_equal_a_full_rebuild(small_home, tmp_path):
    paths, ods = small_home

    # A new snapshot: only it is rebuilt (it has no successor to look back at it), and the marts match.
    newest = ods[-1]
    shutil.copy(newest, paths.inbox / "ods" / newest.name)
    outcome = execute(paths)
    assert outcome.ok and outcome.published, outcome.failures
    assert _rebuilt_snapshots(paths) == [str(snapshot_date_from_name(newest.name))]
    _assert_only_what_depends_on_ods_ran(paths)
    _assert_same(marts(paths.build_db), _full_rebuild(paths, tmp_path / "full1"))
    _assert_served_is_built(paths)

    # A corrected re-export of an older snapshot (one cooperative fewer): that snapshot and the one after it.
    corrected = next(p for p in ods[1:-1] if p.suffix == ".csv")
    lines = corrected.read_bytes().split(b"\r\n")
    reexport = paths.inbox / "ods" / f"reexport_{corrected.name}"
    reexport.write_bytes(b"\r\n".join([lines[0], *[r for r in lines[2:] if r]]) + b"\r\n")
    outcome = execute(paths)
    assert outcome.ok and outcome.published, outcome.failures
    snapshot = snapshot_date_from_name(corrected.name)
    following = min(snapshot_date_from_name(p.name) for p in ods if snapshot_date_from_name(p.name) > snapshot)
    assert _rebuilt_snapshots(paths) == [str(snapshot), str(following)]
    _assert_same(marts(paths.build_db), _full_rebuild(paths, tmp_path / "full2"))
    _assert_served_is_built(paths)

    # A changed seed (in a copy of the project): every snapshot is re-scored, incremental = full rebuild.
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    seed = project / "seeds" / "seed_health_parameters.csv"
    seed.write_text(seed.read_text().replace("band_sehat_min,80", "band_sehat_min,60"))
    work = tmp_path / "seeded"
    (work / "warehouse").mkdir(parents=True)
    shutil.copyfile(paths.build_db, work / "warehouse" / "build.duckdb")
    result = dbt_build(project, work, target=work / "target")
    assert result.returncode == 0, result.stdout[-3000:]
    incremental = marts(work / "warehouse" / "build.duckdb")
    assert incremental != marts(paths.build_db), "the seed changed the health bands"
    rebuilt = KoperasiPaths(work)
    _assert_same(incremental, _full_rebuild(rebuilt, tmp_path / "full3", project))


def test_nightly_scope_tests_snapshots_the_run_did_not_rebuild(small_home, tmp_path):
    """A duplicate planted in an old snapshot: a run's tests (rebuilt snapshots only) do not look at it; the
    nightly scope (KOPERASI_DBT_TESTS=all, set by the schedule's run tag) fails on it."""
    paths, _ = small_home
    work = tmp_path / "work"
    (work / "warehouse").mkdir(parents=True)
    shutil.copyfile(paths.build_db, work / "warehouse" / "build.duckdb")
    with duckdb.connect(str(work / "warehouse" / "build.duckdb")) as con:
        oldest = con.execute("SELECT min(snapshot_date) FROM marts.fct_cooperative_snapshot").fetchall()[0][0]
        con.execute("INSERT INTO marts.fct_cooperative_snapshot SELECT * FROM marts.fct_cooperative_snapshot "
                    "WHERE snapshot_date = ? LIMIT 1", [oldest])

    # The generic tests on the table (the singular reconciliation test reads every snapshot in any scope).
    tests_of_the_table = ("--select", "fct_cooperative_snapshot,test_type:generic", "--resource-type", "test")
    scoped = dbt_build(DBT_PROJECT_DIR, work, *tests_of_the_table, target=work / "target")
    assert scoped.returncode == 0, scoped.stdout[-3000:]
    nightly = dbt_build(DBT_PROJECT_DIR, work, *tests_of_the_table, target=work / "target", KOPERASI_DBT_TESTS="all")
    assert nightly.returncode != 0
    assert "unique_combination_fct_cooperative_snapshot" in nightly.stdout


def test_publishing_brings_the_serving_file_up_to_date(small_home):
    """A publication copies the previous serving file and rewrites only the marts that differ; a change to a
    mart others reference (their foreign keys forbid deleting its rows) rebuilds the file. Either way the served
    marts and the Parquet exports are the build's."""
    from warehouse.publish import latest_verdict, publish_build

    paths, _ = small_home
    verdict = latest_verdict(paths)
    assert publish_build(paths, verdict, run_id="same-build").rewritten == []
    _assert_served_is_built(paths)

    with duckdb.connect(str(paths.serving_db)) as con:  # a served mart no other mart references, changed
        con.execute("UPDATE marts.mart_umkm_coverage SET region_name = 'x' WHERE region_code = "
                    "(SELECT min(region_code) FROM marts.mart_umkm_coverage)")
    assert publish_build(paths, verdict, run_id="one-mart").rewritten == ["mart_umkm_coverage"]
    _assert_served_is_built(paths)

    with duckdb.connect(str(paths.serving_db)) as con:  # the region dimension every mart references, changed
        con.execute("UPDATE marts.dim_region SET region_name = 'x' WHERE region_code = "
                    "(SELECT min(region_code) FROM marts.dim_region)")
    rebuilt = publish_build(paths, verdict, run_id="dimension")
    assert rebuilt.rewritten == sorted(rebuilt.tables)
    _assert_served_is_built(paths)
