"""One gate on every path (issue 12): every way in goes through the same file checks, every build gets one
verdict, and only a build whose verdict passed is published, by any path. Each test reproduces a way the
promise was broken: they run the real CLI on a real home (the scale-1 sample, built once for the module)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from helpers.dbt_builds import dbt_build, marts
from orchestration.run import EXIT_FAILED, EXIT_OK, EXIT_PUBLISHED_WITH_WITHDRAWN
from warehouse.paths import KoperasiPaths

pytestmark = pytest.mark.e2e
SHRUNKEN = "2025-03-31"


@pytest.fixture(scope="module")
def home(built_home) -> KoperasiPaths:
    return built_home[0]


def _cli(home: KoperasiPaths, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "KOPERASI_HOME": str(home.home), **env}, timeout=900)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _query(home: KoperasiPaths, sql: str, params: list | None = None, db: Path | None = None) -> list[tuple]:
    with duckdb.connect(str(db or home.build_db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _served(home: KoperasiPaths, sql: str) -> list[tuple]:
    return _query(home, sql, db=home.serving_db)


def _shrunken_snapshot(home: KoperasiPaths, folder: Path, name: str = f"ods_koperasi_sumut_{SHRUNKEN}.csv") -> Path:
    """A new export with 40% fewer cooperatives than the previous snapshot."""
    source = next((home.inbox / "ods").glob("*2024-09-30.csv"))
    lines = source.read_bytes().split(b"\r\n")
    header, rows = lines[0], [r for r in lines[1:] if r]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"\r\n".join([header, *rows[: int(len(rows) * 0.6)]]) + b"\r\n")
    return path


def _cooperatives_served(home: KoperasiPaths, snapshot: str) -> int:
    return _served(home, f"SELECT count(*) FROM marts.fct_cooperative_snapshot WHERE snapshot_date = '{snapshot}'")[0][0]


def test_manual_publish_refuses_a_build_whose_dbt_tests_failed(home):
    serving = _digest(home.serving_db)
    with duckdb.connect(str(home.build_db)) as con:  # any dbt test failure: a region that does not exist
        con.execute("""INSERT INTO raw.ods_cooperatives SELECT * REPLACE ('1299' AS region_code,
                           '1299000000000001' AS cooperative_nik)
                       FROM raw.ods_cooperatives WHERE snapshot_date = DATE '2024-12-31'
                         AND _source_sha256 IN (SELECT sha256 FROM raw.ingested_files WHERE status = 'loaded') LIMIT 1""")
    try:
        run = _cli(home, "run")
        assert run.returncode == EXIT_FAILED and "relationships" in run.stderr
        publish = _cli(home, "publish")
        assert publish.returncode == EXIT_FAILED
        assert "refusing to publish" in publish.stderr and "relationships_stg_ods__cooperatives_region_code" in publish.stderr
        assert _digest(home.serving_db) == serving, "the previous publication stays"
    finally:
        with duckdb.connect(str(home.build_db)) as con:
            con.execute("DELETE FROM raw.ods_cooperatives WHERE region_code = '1299'")
    again = _cli(home, "run")
    assert again.returncode == EXIT_OK, "a later build passes"
    # ... made of the inputs of the served build again: BI keeps that publication, byte for byte
    assert "unchanged:" in again.stdout and _digest(home.serving_db) == serving


def test_a_mart_test_failing_after_its_model_was_rebuilt_blocks_every_publish(home):
    serving = _digest(home.serving_db)
    with duckdb.connect(str(home.build_db)) as con:  # Nias loses its census businesses: the coverage mart test fails
        con.execute("CREATE OR REPLACE TABLE main.kept_rows AS SELECT * FROM raw.bps_businesses WHERE region_code = '1201'")
        con.execute("DELETE FROM raw.bps_businesses WHERE region_code = '1201'")
    try:
        run = _cli(home, "run")
        assert run.returncode == EXIT_FAILED and "assert_region_coverage_is_complete" in run.stderr
        assert _query(home, "SELECT count(*) FROM marts.mart_umkm_coverage WHERE umk_businesses IS NULL")[0][0] == 1, \
            "the mart was rebuilt with the bad row"
        publish = _cli(home, "publish")
        assert publish.returncode == EXIT_FAILED and "assert_region_coverage_is_complete" in publish.stderr
        assert _digest(home.serving_db) == serving
        assert _served(home, "SELECT count(*) FROM marts.mart_umkm_coverage WHERE umk_businesses IS NULL")[0][0] == 0
    finally:
        with duckdb.connect(str(home.build_db)) as con:
            con.execute("INSERT INTO raw.bps_businesses SELECT * FROM main.kept_rows")
            con.execute("DROP TABLE main.kept_rows")
    assert _cli(home, "run").returncode == EXIT_OK


def test_koperasi_ingest_goes_through_the_same_gate(home, tmp_path):
    bad = _shrunken_snapshot(home, tmp_path)
    ingest = _cli(home, "ingest", "--source", "ods", str(bad))
    assert ingest.returncode == 1 and "failed_checks" in ingest.stdout
    assert "expect_table_row_count_to_be_between" in ingest.stdout
    assert _query(home, "SELECT count(*) FROM raw.ods_cooperatives WHERE snapshot_date = ?", [SHRUNKEN])[0][0] == 0
    run = _cli(home, "run")
    assert run.returncode == EXIT_OK, run.stderr  # the withdrawn file is not in the inbox: nothing to report
    assert _cooperatives_served(home, SHRUNKEN) == 0
    assert SHRUNKEN not in str(_served(home, "SELECT source_snapshots FROM meta.publication")[0][0])


def test_a_withdrawn_file_in_the_inbox_is_reported_every_run_and_blocks_nothing(home):
    bad = _shrunken_snapshot(home, home.inbox / "ods", name=f"ods_koperasi_sumut_{SHRUNKEN}_v2.csv")
    with bad.open("ab") as f:
        f.write(b"\r\n")  # other bytes than the file of the previous test: a new file
    new_bps = home.inbox / "bps" / "se2016_usaha_revisi.csv"
    try:
        outputs = []
        for attempt in range(3):
            if attempt == 1:  # a new BPS file arrives between the runs: Nias gets 11.000 micro/small businesses
                original = next((home.inbox / "bps").glob("se2016_*skala*.csv")).read_text(encoding="utf-8")
                assert "Nias,10.907,88,10.995" in original
                new_bps.write_text(original.replace("Nias,10.907,88,10.995", "Nias,11.000,88,11.088"), encoding="utf-8")
            run = _cli(home, "run")
            outputs.append(run)
            assert run.returncode == EXIT_PUBLISHED_WITH_WITHDRAWN, run.stderr
            assert f"ods/{bad.name} failed its checks" in run.stderr and "To resubmit" in run.stderr
            assert _cooperatives_served(home, SHRUNKEN) == 0
        assert _served(home, "SELECT umk_businesses FROM marts.dim_region WHERE region_code = '1201'") == [(11_000,)]
        assert _query(home, "SELECT count(*) FROM raw.ingested_files WHERE file = ?", [bad.name]) == [(1,)]
        assert _query(home, "SELECT count(DISTINCT run_id) FROM quality.check_results WHERE partition_key = ? "
                            "AND run_id <> 'koperasi-ingest'", [SHRUNKEN]) == [(1,)], "parsed and checked once"
    finally:
        bad.unlink(missing_ok=True)
        new_bps.unlink(missing_ok=True)


def test_a_replacement_is_checked_and_the_replaced_file_can_be_restored(home, tmp_path):
    snapshot = "2024-03-31"
    original_file = next((home.inbox / "ods").glob(f"*{snapshot}.csv"))
    before = _cooperatives_served(home, snapshot)
    assert before > 11_000
    lines = original_file.read_bytes().split(b"\r\n")
    fixed = tmp_path / "fixed.csv"
    fixed.write_bytes(b"\r\n".join(lines[:6]) + b"\r\n")  # five rows "fixed" by a steward
    ingest = _cli(home, "ingest", "--source", "ods", "--snapshot-date", snapshot, str(fixed))
    assert ingest.returncode == 1 and "failed_checks" in ingest.stdout
    assert _cli(home, "run").returncode == EXIT_OK
    assert _cooperatives_served(home, snapshot) == before, "a 5-row file never replaces a snapshot"

    reexport = tmp_path / f"ods_reexport_{snapshot}.csv"  # a real corrected re-export: one cooperative fewer
    reexport.write_bytes(b"\r\n".join([lines[0], *[r for r in lines[2:] if r]]) + b"\r\n")
    assert _cli(home, "ingest", "--source", "ods", str(reexport)).returncode == 0
    assert _cli(home, "run").returncode == EXIT_OK
    assert _cooperatives_served(home, snapshot) == before - 1
    assert _query(home, "SELECT status FROM raw.ingested_files WHERE file = ?", [original_file.name]) == [("replaced",)]

    restore = _cli(home, "ingest", "--source", "ods", str(original_file))
    assert restore.returncode == 0 and "restored" in restore.stdout
    assert _cli(home, "run").returncode == EXIT_OK
    assert _cooperatives_served(home, snapshot) == before, "the replaced file is current again"


def test_exports_current_restored_as_a_folder_is_repaired_by_publish(home):
    current = home.exports / "current"
    target = current.resolve()
    current.unlink()
    import shutil

    shutil.copytree(target, current)  # what restoring a backup without symlinks leaves
    result = _cli(home, "publish", "--force")  # the same build: published again only when asked
    assert result.returncode == EXIT_OK, result.stderr
    assert current.is_symlink() and (current / "mart_umkm_coverage.parquet").exists()
    assert list((home.exports / "versions").glob("restored-*")), "the restored folder is kept"


def test_two_writers_at_once_wait_for_each_other(home, tmp_path):
    """Event-driven, not timed: the test holds the pipeline lock as a run would, a second writer says it waits
    (read from its stderr), and only then is the lock released."""
    from warehouse.lock import pipeline_lock

    member_list = _member_list_with_extra_columns(tmp_path, broken_rows=0)
    with pipeline_lock(home.warehouse_dir, "koperasi run"):
        impatient = _cli(home, "publish", KOPERASI_LOCK_WAIT_SECONDS="0.5")
        assert impatient.returncode == EXIT_FAILED and "being written by koperasi run" in impatient.stderr
        patient = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "ingest", "--source", "opd",
                                    str(member_list)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env={**os.environ, "KOPERASI_HOME": str(home.home)})
        said = ""
        while "waiting for koperasi run" not in said and (line := patient.stderr.readline()):
            said += line  # readline blocks until the writer writes: an event, not a timeout
        assert "waiting for koperasi run" in said
    out, err = patient.communicate(timeout=600)
    assert patient.returncode == 0, out + err
    assert _query(home, "SELECT status FROM raw.ingested_files WHERE file = ?", [member_list.name]) == [("loaded",)]


PERSONAL = {"nip": "198203152008011004", "ktp": "1271055503820002", "phone": "0812-6543-2109",
            "address": "Jl. Sisingamangaraja No. 17, Medan", "name": "Rahmawati Siregar"}


def _member_list_with_extra_columns(folder: Path, broken_rows: int = 3) -> Path:
    """A member list as agencies really send them: KTP numbers, addresses and phones in columns the mapping does
    not know, and (optionally) a few broken rows carrying all of it."""
    import xlsxwriter

    nik = _first_opd_cooperative_nik()
    path = folder / f"anggota_koperasi_tambahan_{broken_rows}.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["DAFTAR ANGGOTA KOPERASI PEGAWAI"])
    sheet.write_row(1, 0, [f"NIK Koperasi: {nik}"])
    sheet.write_row(2, 0, ["Posisi: 31 Desember 2024"])
    sheet.write_row(4, 0, ["No", "Nama", "NIP", "NIK KTP", "Alamat", "No HP", "Status Kepegawaian",
                           "Simpanan Pokok", "Memiliki Rumah"])
    row = 5
    for i in range(60):
        sheet.write_row(row, 0, [str(i + 1), f"Anggota {i}", f"1985010120100110{i % 10}{i // 10}", f"1271{i:02d}5503820001",
                                 f"Jl. Melati {i}", f"0813{i:08d}", "ASN", "100.000", "Ya"])
        row += 1
    for i in range(broken_rows):  # a bad status, a bad NIP, a bad amount: each row also carries every personal value
        bad = {"status": ["Pensiunan", "ASN", "ASN"][i % 3], "nip": [PERSONAL["nip"], "12345", PERSONAL["nip"]][i % 3],
               "savings": ["100.000", "100.000", "seratus ribu"][i % 3]}
        sheet.write_row(row, 0, [str(row), PERSONAL["name"], bad["nip"], PERSONAL["ktp"], PERSONAL["address"],
                                 PERSONAL["phone"], bad["status"], bad["savings"], "Tidak"])
        row += 1
    book.close()
    return path


def _first_opd_cooperative_nik() -> str:
    return "1271000000000001"


def test_a_member_list_leaves_no_personal_value_anywhere(home, tmp_path):
    from ingestion import privacy

    member_list = _member_list_with_extra_columns(tmp_path, broken_rows=3)
    ingest = _cli(home, "ingest", "--source", "opd", str(member_list))
    assert _query(home, "SELECT count(*) FROM raw.quarantine WHERE file = ?", [member_list.name]) == [(3,)], \
        ingest.stdout + ingest.stderr
    export = tmp_path / "perbaikan.csv"
    assert _cli(home, "quality", "--quarantine", member_list.name, "--out", str(export)).returncode == 0
    assert "Pensiunan" in export.read_text(encoding="utf-8"), "non-personal cells stay for the steward"
    assert _cli(home, "run").returncode in (EXIT_OK, EXIT_PUBLISHED_WITH_WITHDRAWN)

    def values(db: Path):
        with duckdb.connect(str(db), read_only=True) as con:
            for schema, table, column in con.execute(
                    "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                    "WHERE data_type IN ('VARCHAR', 'JSON') AND table_schema <> 'information_schema'").fetchall():
                for (v,) in con.execute(f'SELECT DISTINCT "{column}"::VARCHAR FROM "{schema}"."{table}"').fetchall():
                    yield f"{db.name}:{schema}.{table}.{column}", v

    texts = [*values(home.build_db), *values(home.serving_db), ("export", export.read_text(encoding="utf-8"))]
    with duckdb.connect() as con:  # every text value of every Parquet export
        for parquet in (home.exports / "current").glob("*.parquet"):
            frame = con.execute(f"SELECT * FROM read_parquet('{parquet}')").fetchall()
            texts += [(parquet.name, str(v)) for row in frame for v in row if isinstance(v, str)]
    leaks = [(where, kind) for where, text in texts if text for kind, value in PERSONAL.items() if value in text]
    assert leaks == []
    assert privacy.scan(texts) == [], "the scan the gate and the export use finds nothing either"


def test_an_empty_home_publishes_nothing(tmp_path):
    empty = KoperasiPaths(tmp_path / "empty")
    run = _cli(empty, "run")
    assert run.returncode == EXIT_FAILED and "inbox" in run.stderr and "is empty" in run.stderr
    assert "Traceback" not in run.stderr
    publish = _cli(empty, "publish")
    assert publish.returncode == EXIT_FAILED and not empty.serving_db.exists()


def test_changing_a_health_seed_rescores_every_snapshot(home, tmp_path):
    import shutil

    from orchestration.dbt_project import DBT_PROJECT_DIR

    work = tmp_path / "home"
    (work / "warehouse").mkdir(parents=True)
    shutil.copyfile(home.build_db, work / "warehouse" / "build.duckdb")
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    before = marts(work / "warehouse" / "build.duckdb")
    seed = project / "seeds" / "seed_health_parameters.csv"
    seed.write_text(seed.read_text().replace("band_sehat_min,80", "band_sehat_min,60")
                    .replace("active_rat_within_years,3", "active_rat_within_years,1"))
    incremental_build = dbt_build(project, work)  # incremental: nothing new was loaded, only the seed changed
    assert incremental_build.returncode == 0, incremental_build.stdout[-3000:] + incremental_build.stderr[-2000:]
    incremental = marts(work / "warehouse" / "build.duckdb")
    full_build = dbt_build(project, work, "--full-refresh")
    assert full_build.returncode == 0, full_build.stdout[-3000:] + full_build.stderr[-2000:]
    assert incremental == marts(work / "warehouse" / "build.duckdb"), "incremental = full rebuild, row for row"
    with duckdb.connect(str(work / "warehouse" / "build.duckdb"), read_only=True) as con:
        oldest = con.execute("SELECT count(*) FILTER (health_band = 'Sehat'), count(*) FILTER (is_active) "
                             "FROM marts.mart_cooperative_health WHERE snapshot_date = DATE '2024-03-31'").fetchall()[0]
    with duckdb.connect(str(home.build_db), read_only=True) as con:
        was = con.execute("SELECT count(*) FILTER (health_band = 'Sehat'), count(*) FILTER (is_active) "
                          "FROM marts.mart_cooperative_health WHERE snapshot_date = DATE '2024-03-31'").fetchall()[0]
    assert oldest[0] > was[0] and oldest[1] < was[1], "the oldest snapshot was re-scored with the new seed"
    assert incremental != before
