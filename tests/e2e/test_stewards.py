"""The data steward's day (issue 13): the Indonesian report names what failed and the rows behind it, and a
correction workbook merges fixed rows into their snapshot. Real CLI, real home (the scale-1 sample)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import fastexcel
import pytest
import xlsxwriter

from orchestration.run import EXIT_FAILED, EXIT_OK, EXIT_PUBLISHED_WITH_WITHDRAWN
from warehouse.paths import KoperasiPaths

pytestmark = pytest.mark.e2e
NEW_SNAPSHOT = "2025-06-30"


@pytest.fixture(scope="module")
def home(built_home) -> KoperasiPaths:
    return built_home[0]


def _cli(home: KoperasiPaths, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "KOPERASI_HOME": str(home.home)}, timeout=900)


def _query(home: KoperasiPaths, sql: str, params: list | None = None, db: Path | None = None) -> list[tuple]:
    with duckdb.connect(str(db or home.build_db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _export_with_broken_rows(home: KoperasiPaths, folder: Path, name: str, broken: int) -> tuple[Path, list[str]]:
    """The 2024-09-30 export as a new snapshot, with the registry number of ``broken`` rows mistyped
    (a letter O for a zero), as happens when numbers are typed by hand. Returns the file and the true numbers."""
    source = next((home.inbox / "ods").glob("*2024-09-30.csv"))
    lines = source.read_bytes().split(b"\r\n")
    header, rows = lines[0], [r for r in lines[1:] if r]
    true_numbers = []
    for i in range(100, 100 + broken * 50, 50):
        cells = rows[i].split(b";")
        true_numbers.append(cells[0].decode())
        cells[0] = cells[0][:5] + b"O" + cells[0][6:]
        rows[i] = b";".join(cells)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"\r\n".join([header, *rows]) + b"\r\n")
    return path, true_numbers


def test_the_report_names_the_dbt_failure_the_withdrawn_file_and_the_quarantined_value(home, tmp_path):
    bps_copy = home.inbox / "ods" / "salah_folder_2025-01-31.csv"  # a BPS table dropped in the ODS inbox
    bps_copy.write_bytes(next((home.inbox / "bps").glob("*.csv")).read_bytes())
    shrunken = home.inbox / "ods" / "ods_koperasi_sumut_2025-03-31.csv"
    source = next((home.inbox / "ods").glob("*2024-09-30.csv")).read_bytes().split(b"\r\n")
    shrunken.write_bytes(b"\r\n".join(source[: len(source) // 2]) + b"\r\n")  # half the cooperatives
    misplaced = home.inbox / "ods" / "ods_koperasi_sumut_2025-04-30.csv"  # one row in a region that does not exist
    cells = source[10].split(b";")
    cells[4] = b"Kabupaten Antah Berantah"
    misplaced.write_bytes(b"\r\n".join([*source[:10], b";".join(cells), *source[11:]]))
    with duckdb.connect(str(home.build_db)) as con:  # a dbt relationships test fails on region 1299
        con.execute("""INSERT INTO raw.ods_cooperatives SELECT * REPLACE ('1299' AS region_code,
                           '1299000000000001' AS cooperative_nik)
                       FROM raw.current_ods_cooperatives WHERE snapshot_date = DATE '2024-12-31' LIMIT 1""")
    try:
        run = _cli(home, "run")
        assert run.returncode == EXIT_FAILED
        assert run.stderr.count(bps_copy.name) == 1 and run.stderr.count(shrunken.name) == 1, \
            "each withdrawn or rejected file once per summary"
        report = _cli(home, "quality")
        assert report.returncode == 0 and "Traceback" not in report.stderr
        text = report.stdout
        assert "Pembangunan terakhir: GAGAL" in text
        assert "harus ada di" in text and "kode kabupaten/kota=1299" in text, "the dbt failure with its row"
        assert f"{shrunken.name} (snapshot 31-03-2025) DITARIK" in text and "jumlah baris antara" in text
        assert f"{bps_copy.name} DITOLAK" in text and "sumber lain" in text
        assert f"{misplaced.name} (snapshot 30-04-2025) dimuat" in text
        assert "1 baris dikarantina: kabupaten/kota tidak dikenal" in text
        assert "baris 11: kolom 'Kabupaten Kota': 'Kabupaten Antah Berantah' bukan kabupaten/kota Sumatera Utara" in text
        assert "Langkah berikutnya" in text
        html_path = tmp_path / "laporan.html"
        assert _cli(home, "quality", "--html", str(html_path)).returncode == 0
        html = html_path.read_text(encoding="utf-8")
        assert "kode kabupaten/kota=1299" in html and shrunken.name in html
        assert "http://" not in html and "https://" not in html and "<script" not in html, "self-contained"
    finally:
        with duckdb.connect(str(home.build_db)) as con:
            con.execute("DELETE FROM raw.ods_cooperatives WHERE cooperative_nik = '1299000000000001'")
        bps_copy.unlink()
        shrunken.unlink()


def test_a_correction_workbook_merges_fixed_rows_into_their_snapshot(home, tmp_path):
    export, true_numbers = _export_with_broken_rows(home, tmp_path, f"ods_koperasi_sumut_{NEW_SNAPSHOT}.csv", broken=6)
    assert _cli(home, "ingest", "--source", "ods", str(export)).returncode == 0
    snapshot = f"SELECT cooperative_nik, members_male, assets FROM raw.current_ods_cooperatives " \
               f"WHERE snapshot_date = DATE '{NEW_SNAPSHOT}'"
    before = set(_query(home, snapshot))
    quarantined = _query(home, "SELECT source_row FROM raw.quarantine WHERE file = ? ORDER BY 1", [export.name])
    assert len(quarantined) == 6

    report = _cli(home, "quality")
    assert f"{export.name} (snapshot 30-06-{NEW_SNAPSHOT[:4]}) dimuat" in report.stdout
    assert "nomor induk koperasi tidak 16 digit" in report.stdout and true_numbers[0][:5] + "O" in report.stdout

    workbook = tmp_path / "koreksi.xlsx"
    made = _cli(home, "quality", "--koreksi", str(workbook))
    assert made.returncode == 0, made.stderr
    reader = fastexcel.read_excel(str(workbook))
    assert reader.sheet_names[0] == "Petunjuk"
    sheet = export.name[:31]  # Excel keeps 31 characters of a sheet name
    assert sheet in reader.sheet_names
    frame = reader.load_sheet(sheet, dtypes="string").to_polars()
    assert frame.height == 6 and frame.columns[:3] == ["Berkas", "Baris", "Alasan"]
    assert all("nomor induk" in reason for reason in frame.get_column("Alasan")), "the reason, in Indonesian"

    fixed = tmp_path / "koreksi_diperbaiki.xlsx"  # what the steward saves: 5 rows fixed, 1 still wrong
    book = xlsxwriter.Workbook(str(fixed))
    out = book.add_worksheet(sheet)
    for c, title in enumerate(frame.columns):
        out.write_string(0, c, title)
    key_column = frame.columns[3]
    for r, row in enumerate(frame.iter_rows(named=True), start=1):
        if r <= 5:
            row[key_column] = row[key_column].replace("O", "0")
        for c, title in enumerate(frame.columns):
            if row[title] is not None:
                out.write_string(r, c, row[title])
    book.close()

    merged = _cli(home, "ingest", "--corrections", str(fixed))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "5 baris pindah dari karantina" in merged.stdout and "1 baris masih dikarantina" in merged.stdout
    after = set(_query(home, snapshot))
    assert before <= after, "a correction never removes or changes rows it does not carry"
    assert sorted(nik for nik, *_ in after - before) == sorted(true_numbers[:5])
    still_open = _query(home, "SELECT file, reason FROM raw.quarantine q WHERE q.sha256 IN "
                              "(SELECT sha256 FROM raw.ingested_files WHERE corrects IS NOT NULL AND status = 'loaded')")
    assert still_open == [(f"{fixed.name} › {export.name}", "invalid_registry_number")]
    lineage = _query(home, "SELECT count(*) FROM raw.corrected_rows")
    assert lineage == [(6,)], "every row of the correction names the row it fixes"
    from ingestion.api import file_sha256

    sha = file_sha256(fixed)
    assert (home.archive / sha[:2] / f"{sha}.xlsx").is_file(), "the workbook is archived"

    again = _cli(home, "quality")
    assert f"{fixed.name} › {export.name}" in again.stdout

    run = _cli(home, "run")
    assert run.returncode in (EXIT_OK, EXIT_PUBLISHED_WITH_WITHDRAWN), run.stderr
    served = _query(home, f"SELECT count(*) FROM marts.fct_cooperative_snapshot WHERE snapshot_date = '{NEW_SNAPSHOT}'",
                    db=home.serving_db)
    assert served == [(len(before) + 5,)]


def test_steward_commands_explain_instead_of_failing(home, tmp_path):
    unknown = _cli(home, "quality", "--quarantine", "ods_koperasi_sumut_2024-3-31.csv")
    assert unknown.returncode == 1 and "ods_koperasi_sumut_2024-03-31.csv" in unknown.stderr, "close names offered"
    empty = KoperasiPaths(tmp_path / "kosong")
    quality = _cli(empty, "quality")
    assert quality.returncode == 1 and "koperasi sample" in quality.stderr and "Traceback" not in quality.stderr
    run = _cli(empty, "run")
    assert run.returncode == EXIT_FAILED and "koperasi sample" in run.stderr and "Traceback" not in run.stderr
