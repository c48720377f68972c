"""What a build is made from, as one digest: equal inputs give equal digests; any one change gives another."""

from __future__ import annotations

import shutil
import subprocess
import sys

from ingestion import landing
from ingestion.mapping import MAPPINGS_DIR
from warehouse.dbt_manifest import DBT_PROJECT_DIR
from warehouse.fingerprint import input_fingerprint, project_files


def _copies(tmp_path):
    project, mappings = tmp_path / "dbt_project", tmp_path / "mappings"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(MAPPINGS_DIR, mappings)
    return project, mappings


def test_one_seed_value_one_mapping_spelling_one_threshold_change_the_fingerprint(tmp_path, monkeypatch):
    con = landing.connect(tmp_path / "build.duckdb")
    project, mappings = _copies(tmp_path)
    base = input_fingerprint(con, project_files(project, mappings))
    assert input_fingerprint(con, project_files(project, mappings)) == base, "the same inputs, the same digest"

    seed = project / "seeds" / "seed_health_parameters.csv"
    seed.write_text(seed.read_text().replace("band_sehat_min,80", "band_sehat_min,81"))
    seeded = input_fingerprint(con, project_files(project, mappings))
    assert seeded != base

    ods = mappings / "ods.yaml"
    ods.write_text(ods.read_text().replace("aliases: [Nama Koperasi, Nama]", "aliases: [Nama Koperasi, Nama, Nama KSP]"))
    spelled = input_fingerprint(con, project_files(project, mappings))
    assert spelled not in (base, seeded)

    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text("ods_snapshot: {cooperative_count_change_max: 0.3, member_total_change_max: 0.15, "
                          "quarantine_share_max: 0.05}\n")
    monkeypatch.setenv("KOPERASI_THRESHOLDS", str(thresholds))
    assert input_fingerprint(con, project_files(project, mappings)) not in (base, seeded, spelled)

    monkeypatch.setenv("KOPERASI_PROVINCE", "32")
    assert input_fingerprint(con, project_files(project, mappings)) != spelled
    con.close()


def test_a_row_changed_in_a_raw_table_changes_the_fingerprint(tmp_path):
    con = landing.connect(tmp_path / "build.duckdb")
    base = input_fingerprint(con)
    con.execute("INSERT INTO raw.bps_population VALUES ('1201', 2024, 'male', 1, 'x.csv', 'abc', 1, now())")
    assert input_fingerprint(con) != base
    con.close()


def test_loading_the_code_location_imports_neither_great_expectations_nor_scipy_nor_dbt():
    """A step that needs no GX (a publication, a run with nothing new) never pays for it; dbt runs as a child
    process from its own environment, so no step pays for importing it (with pandas: ~2.3 s of every start)."""
    code = ("import sys, orchestration.definitions; "
            "print(sorted(m for m in ('great_expectations', 'scipy', 'dbt', 'pandas') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"

