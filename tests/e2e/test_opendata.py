"""Every publication writes the office's open data for the Satu Data portals: portal shape, official codes,
metadata, a valid Data Package and a DCAT catalog; any province by one setting."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestion.samples.registry import LATEST_COOPERATIVES, LATEST_MEMBERS, VIRTUAL_RATS

pytestmark = pytest.mark.e2e
PORTAL_COLUMNS = ["kode_wilayah", "kode_bps", "level_wilayah", "nama_wilayah", "judul", "satuan", "tahun", "periode",
                  "data"]
REQUIRED = {"jumlah_koperasi", "jumlah_koperasi_aktif", "jumlah_anggota_koperasi", "jumlah_anggota_koperasi_laki_laki",
            "jumlah_anggota_koperasi_perempuan", "jumlah_koperasi_rat", "jumlah_koperasi_rat_daring",
            "jumlah_koperasi_sehat", "jumlah_koperasi_dalam_pengawasan_khusus", "koperasi_per_1000_penduduk",
            "anggota_koperasi_per_1000_penduduk"}
REFERENCE = Path(__file__).resolve().parents[2] / "reference"


@pytest.fixture(scope="module")
def opendata(built_home) -> Path:
    return built_home[0].opendata / "current"


def _rows(folder: Path, dataset: str) -> list[dict]:
    with (folder / f"{dataset}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_data_package_is_valid_for_frictionless(opendata):
    from frictionless import validate

    report = validate(str(opendata / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:5]
    package = json.loads((opendata / "datapackage.json").read_text(encoding="utf-8"))
    tabular = {r["name"]: r for r in package["resources"] if r.get("format") == "csv"}
    assert REQUIRED <= set(tabular)
    about = tabular["jumlah_koperasi_aktif"]["metadata_indikator"]
    for key in ("judul", "konsep", "definisi", "rumus", "satuan", "interpretasi", "frekuensi", "produsen_data",
                "penanggung_jawab", "sumber", "kode_referensi"):
        assert about[key], key
    assert "3 tahun" in about["definisi"], "the active rule's window, from seed_health_parameters"
    assert "Sumatera Utara" in about["produsen_data"]
    assert package["version"] == json.loads((opendata / "validasi.json").read_text())["build_id"]


def test_each_dataset_is_in_the_portals_long_shape_on_kemendagri_codes(opendata):
    with (REFERENCE / "sumut_kab_kota.csv").open(encoding="utf-8") as f:
        kemendagri = {r["kode_bps"]: r["kode_kemendagri"] for r in csv.DictReader(f)}
    for dataset in REQUIRED:
        raw = (opendata / f"{dataset}.csv").read_bytes()
        raw.decode("utf-8")
        assert raw.split(b"\n", 1)[0].decode() == ",".join(PORTAL_COLUMNS)
        rows = _rows(opendata, dataset)
        assert rows and all(kemendagri[r["kode_bps"]] == r["kode_wilayah"] for r in rows), dataset
        assert all(len(r["periode"]) == 10 and r["periode"][4] == "-" for r in rows)
        parquet = duckdb.sql(f"SELECT count(*) FROM '{opendata / (dataset + '.parquet')}'").fetchall()[0][0]
        assert parquet == len(rows)
    medan = [r for r in _rows(opendata, "jumlah_koperasi") if r["kode_bps"] == "1275"]
    assert {r["kode_wilayah"] for r in medan} == {"12.71"} and medan[0]["nama_wilayah"] == "Kota Medan"


def test_the_open_data_holds_the_offices_figures(opendata):
    def latest_total(dataset: str) -> float:
        rows = _rows(opendata, dataset)
        latest = max(r["periode"] for r in rows)
        return sum(float(r["data"]) for r in rows if r["periode"] == latest)

    assert latest_total("jumlah_koperasi") == LATEST_COOPERATIVES
    assert abs(latest_total("jumlah_anggota_koperasi") - LATEST_MEMBERS) <= LATEST_MEMBERS // 100
    assert latest_total("jumlah_koperasi_rat_daring") == VIRTUAL_RATS
    assert latest_total("jumlah_anggota_koperasi_laki_laki") + latest_total("jumlah_anggota_koperasi_perempuan") \
        == latest_total("jumlah_anggota_koperasi")
    assert len({r["kode_wilayah"] for r in _rows(opendata, "jumlah_koperasi")}) == 33


def test_the_dcat_catalog_is_json_ld_a_harvester_reads(opendata):
    from rdflib import Graph, Namespace, RDF

    dcat = Namespace("http://www.w3.org/ns/dcat#")
    graph = Graph().parse(str(opendata / "katalog.jsonld"), format="json-ld")
    datasets = set(graph.subjects(RDF.type, dcat.Dataset))
    assert len(datasets) == len(json.loads((opendata / "validasi.json").read_text())["datasets"])
    for dataset in datasets:
        distributions = list(graph.objects(dataset, dcat.distribution))
        assert len(distributions) == 2
        assert {str(m) for d in distributions for m in graph.objects(d, dcat.mediaType)} == {
            "text/csv", "application/vnd.apache.parquet"}


def test_stewards_see_what_the_publication_wrote(built_home):
    home = built_home[0]
    result = subprocess.run([sys.executable, "-m", "orchestration.cli", "quality"], capture_output=True, text=True,
                            env={**os.environ, "KOPERASI_HOME": str(home.home)})
    assert result.returncode == 0, result.stderr
    assert "Data terbuka (Satu Data Indonesia): 13 set data" in result.stdout and "semua lolos validasi" in result.stdout
    assert "Jumlah Koperasi Aktif (jumlah_koperasi_aktif.csv)" in result.stdout


def test_west_java_by_one_setting_publishes_on_its_own_codes(tmp_path):
    """`koperasi sample --province 32`, then `koperasi run` with KOPERASI_PROVINCE=32: 27 kabupaten/kota, the
    Kabupaten/Kota pairs kept apart, every region resolved to its own code, open data on Jawa Barat's codes."""
    env = {**os.environ, "KOPERASI_HOME": str(tmp_path / "home"), "KOPERASI_PSEUDONYM_KEY": "jabar-test"}
    sample = subprocess.run([sys.executable, "-m", "orchestration.cli", "sample", "--scale", "0.05", "--province",
                             "32"], capture_output=True, text=True, env=env, timeout=600)
    assert sample.returncode == 0, sample.stderr
    run = subprocess.run([sys.executable, "-m", "orchestration.cli", "run"], capture_output=True, text=True,
                         env={**env, "KOPERASI_PROVINCE": "32"}, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "open data:" in run.stdout
    serving = tmp_path / "home" / "warehouse" / "serving.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        regions = dict(con.execute("SELECT region_code, kemendagri_code FROM marts.dim_region").fetchall())
        covered = {c for (c,) in con.execute("SELECT DISTINCT region_code FROM marts.fct_cooperative_snapshot").fetchall()}
    with duckdb.connect(str(tmp_path / "home" / "warehouse" / "build.duckdb"), read_only=True) as con:
        quarantined = con.execute("SELECT count(*) FROM raw.quarantine").fetchall()[0][0]
    assert len(regions) == 27 and regions["3204"] == "32.04" and regions["3273"] == "32.73"
    assert covered == set(regions) and quarantined == 0
    rows = _rows(tmp_path / "home" / "exports" / "opendata" / "current", "jumlah_koperasi")
    assert {r["kode_wilayah"] for r in rows} == set(regions.values())
    assert {r["nama_wilayah"] for r in rows if r["kode_bps"] in ("3204", "3273")} == {"Kabupaten Bandung", "Kota Bandung"}
