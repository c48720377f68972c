"""The whole graph, in-process, on a temporary KOPERASI_HOME: the key figures in the marts."""

from __future__ import annotations

import hashlib
import json
import shutil

import duckdb
import pytest

from ingestion.regions import regions
from ingestion.samples import SampleSpec
from ingestion.samples.registry import LATEST_COOPERATIVES, LATEST_MEMBERS, VIRTUAL_RATS
from orchestration.run import execute, republish
from warehouse.paths import KoperasiPaths

pytestmark = pytest.mark.e2e


def _home_with(inbox, tmp_path, monkeypatch) -> KoperasiPaths:
    home = tmp_path / "home"
    shutil.copytree(inbox, home / "inbox")
    monkeypatch.setenv("KOPERASI_HOME", str(home))
    monkeypatch.setenv("KOPERASI_PSEUDONYM_KEY", "e2e-key")
    return KoperasiPaths(home)


@pytest.fixture(scope="module")
def built(built_home):
    return built_home


def _one(paths, query):
    with duckdb.connect(str(paths.build_db), read_only=True) as con:
        return con.execute(query).fetchone()


def test_latest_snapshot_figures(built):
    paths, _ = built
    cooperatives, members, virtual = _one(paths, """
        SELECT count(*), sum(members_total), count(*) FILTER (rat_virtual)
        FROM marts.fct_cooperative_snapshot WHERE snapshot_date = (SELECT max(snapshot_date) FROM marts.fct_cooperative_snapshot)""")
    assert cooperatives == LATEST_COOPERATIVES  # the generator's specification, not a figure of this code
    assert abs(members - LATEST_MEMBERS) <= LATEST_MEMBERS // 100
    assert virtual == VIRTUAL_RATS
    assert _one(paths, "SELECT sum(members) FROM marts.mart_member_counts WHERE snapshot_date = DATE '2024-12-31'")[0] == members
    assert _one(paths, "SELECT count(*) FROM marts.dim_region")[0] == len(regions())
    assert _one(paths, "SELECT count(DISTINCT region_code) FROM marts.mart_member_counts")[0] == len(regions())
    assert _one(paths, "SELECT count(DISTINCT snapshot_date) FROM marts.fct_cooperative_snapshot")[0] == SampleSpec(out=None).snapshots


def test_five_opd_scenario_is_eligible(built):
    paths, _ = built
    eligible, cooperatives, distinct, memberships, band = _one(paths, """
        SELECT is_legally_eligible, member_cooperatives, distinct_members, memberships, combined_health_band
        FROM marts.mart_consolidation_scenario WHERE scenario_id = 'housing_five_opd'""")
    assert eligible and cooperatives == 5
    assert 0 < distinct < memberships, "people in two OPD cooperatives count once"
    assert band in ("Sehat", "Cukup Sehat", "Dalam Pengawasan", "Dalam Pengawasan Khusus")


def test_health_and_coverage_marts(built):
    paths, _ = built
    bands = _one(paths, "SELECT count(DISTINCT health_band) FROM marts.mart_cooperative_health WHERE health_band IS NOT NULL")[0]
    assert bands == 4
    ranks = _one(paths, "SELECT min(development_priority_rank), max(development_priority_rank), count(*) FROM marts.mart_umkm_coverage")
    assert ranks[0] == 1 and ranks[2] == len(regions())


def test_a_run_with_nothing_new_builds_and_publishes_nothing(own_home, capsys):
    """The inputs of the served build unchanged: no dbt node runs, serving.duckdb and its publication stay."""
    paths, _ = own_home
    before = _one(paths, "SELECT count(*) FROM raw.ods_cooperatives")[0]
    serving = hashlib.sha256(paths.serving_db.read_bytes()).hexdigest()
    with duckdb.connect(str(paths.serving_db), read_only=True) as con:
        publication = con.execute("SELECT build_id, published_at FROM meta.publication").fetchall()
    run_results = paths.dbt_target / "run_results.json"
    run_results.unlink()
    outcome = execute(paths)
    assert outcome.ok and outcome.unchanged == publication[0][0] and outcome.exit_status == 0, outcome
    assert not [p for p, _ in outcome.phases if p.startswith("ingest")], "nothing ingested, nothing built"
    assert not run_results.exists(), "no dbt node ran"
    assert hashlib.sha256(paths.serving_db.read_bytes()).hexdigest() == serving
    with duckdb.connect(str(paths.serving_db), read_only=True) as con:
        assert con.execute("SELECT build_id, published_at FROM meta.publication").fetchall() == publication
    assert _one(paths, "SELECT count(*) FROM raw.ods_cooperatives")[0] == before
    assert republish(paths) == 0 and "unchanged:" in capsys.readouterr().out, "koperasi publish: nothing to publish"
    assert hashlib.sha256(paths.serving_db.read_bytes()).hexdigest() == serving
    assert republish(paths, force=True) == 0 and "published build" in capsys.readouterr().out, "unless asked to"
    with duckdb.connect(str(paths.serving_db), read_only=True) as con:
        assert con.execute("SELECT build_id, published_at FROM meta.publication").fetchall() != publication


def test_a_changed_threshold_makes_the_next_run_build_and_publish(own_home, tmp_path, monkeypatch):
    from expectations.config import THRESHOLDS

    paths, _ = own_home
    with duckdb.connect(str(paths.serving_db), read_only=True) as con:
        before = con.execute("SELECT build_id FROM meta.publication").fetchall()
    stricter = tmp_path / "thresholds.yaml"
    stricter.write_text(THRESHOLDS.read_text().replace("quarantine_share_max: 0.05", "quarantine_share_max: 0.04"))
    monkeypatch.setenv("KOPERASI_THRESHOLDS", str(stricter))
    outcome = execute(paths)
    assert outcome.ok and outcome.published and not outcome.unchanged, outcome
    with duckdb.connect(str(paths.serving_db), read_only=True) as con:
        assert con.execute("SELECT build_id FROM meta.publication").fetchall() != before


def test_the_quality_dashboard_names_each_check_by_its_meaning(built):
    """Stewards read what a check verifies, in Indonesian, not dbt's test ids."""
    paths, _ = built
    with duckdb.connect(str(paths.serving_db), read_only=True) as con:
        checks = dict(con.execute("SELECT name, meaning FROM quality.build_checks").fetchall())
    sex = next(name for name in checks if name.startswith("accepted_values_mart_member_counts_sex"))
    assert "hanya boleh berisi: male, female" in checks[sex], checks[sex]
    assert all(meaning and meaning != name for name, meaning in checks.items())


def test_dirty_sample_quarantines_every_defect_and_marts_still_build(tmp_path, dirty_inbox, monkeypatch):
    paths = _home_with(dirty_inbox, tmp_path, monkeypatch)
    outcome = execute(paths)
    assert outcome.ok, outcome.failures
    manifest = json.loads((dirty_inbox / "dirty_manifest.json").read_text())
    with duckdb.connect(str(paths.build_db), read_only=True) as con:
        quarantined = {(f, r) for f, r in con.execute("SELECT file, source_row FROM raw.quarantine").fetchall()}
        rejected = {f for (f,) in con.execute("SELECT file FROM raw.ingested_files WHERE status = 'rejected'").fetchall()}
        warnings = " ".join(w for (w,) in con.execute("SELECT warnings::VARCHAR FROM raw.ingested_files").fetchall())
        assert con.execute("SELECT count(*) FROM marts.mart_member_counts").fetchone()[0] > 0
    for defect in manifest:
        if defect["reason"] == "rejected":
            assert defect["file"] in rejected, defect
        elif defect["reason"] == "total_mismatch":
            assert "total_mismatch" in warnings
        else:
            assert (defect["file"], defect["row"]) in quarantined, defect
    # the stewards' dashboard tables in the serving file: every quarantined row counted per file and reason, the
    # reasons and rejections in the stewards' Indonesian wording, no values
    with duckdb.connect(str(paths.serving_db), read_only=True) as con:
        per_reason = con.execute("SELECT sum(rows) FROM quality.quarantined_rows").fetchall()[0][0]
        reasons = {r for (r,) in con.execute("SELECT alasan FROM quality.quarantined_rows WHERE rows > 0").fetchall()}
        explained = con.execute("SELECT file, keterangan FROM quality.ingested_files "
                                "WHERE status = 'rejected'").fetchall()
        columns = {c for (c,) in con.execute("SELECT column_name FROM information_schema.columns "
                                             "WHERE table_schema = 'quality'").fetchall()}
    assert per_reason == len(quarantined)
    assert "kabupaten/kota tidak dikenal" in reasons and all(r and "_" not in r for r in reasons), reasons
    assert {f for f, _ in explained} == rejected and all(k and ("berkas" in k or "judul" in k) for _, k in explained)
    assert not columns & {"record", "message", "cooperative_nik", "member_key"}, "counts only, no values"
