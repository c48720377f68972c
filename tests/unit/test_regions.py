"""Official region codes, both ways, kabupaten and kota kept apart, any province by one setting."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from ingestion.api import ingest_file
from ingestion.regions import REGIONS_CSV, region_candidates, regions, resolve_region

from helpers.messy_files import ods_row, write_csv

REFERENCE = Path(__file__).resolve().parents[2] / "reference"


def _seed() -> list[dict]:
    with REGIONS_CSV.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_seed_keeps_every_kabupaten_and_kota_apart():
    rows = _seed()
    assert len(rows) == 514
    assert all(re.fullmatch(r"\d{2}\.\d{2}", r["kemendagri_code"]) for r in rows), "Kemendagri codes are dotted"
    assert len({r["kemendagri_code"] for r in rows}) == len(rows)
    # Same name, two regions: a kabupaten and a kota (Bandung 32.04 and 32.73), never one region.
    names = Counter((r["province_code"], r["region_name"]) for r in rows)
    shared = {name for name, n in names.items() if n > 1}
    assert ("32", "Bandung") in shared and len(shared) >= 20
    for province, name in shared:
        kinds = sorted(r["region_kind"] for r in rows if (r["province_code"], r["region_name"]) == (province, name))
        assert kinds == ["kabupaten", "kota"], (province, name)
    bandung = {r["region_code"]: r["kemendagri_code"] for r in rows if r["region_name"] == "Bandung"}
    assert bandung == {"3204": "32.04", "3273": "32.73"}


def test_north_sumatra_follows_the_offices_2025_list():
    with (REFERENCE / "sumut_kab_kota.csv").open(encoding="utf-8") as f:
        office = {r["kode_bps"]: r for r in csv.DictReader(f)}
    seed = {r["region_code"]: r for r in _seed() if r["province_code"] == "12"}
    assert set(seed) == set(office)
    for code, row in office.items():
        assert seed[code]["kemendagri_code"] == row["kode_kemendagri"]
        assert seed[code]["kemendagri_name"] == row["nama_kemendagri_2025"]
    assert seed["1275"]["kemendagri_code"] == "12.71" and seed["1201"]["kemendagri_code"] == "12.04"
    assert seed["1206"]["region_name"] == "Toba"  # renamed from Toba Samosir in 2020


def test_truncated_crosswalk_names_are_restored():
    names = {r["region_code"]: r["kemendagri_name"] for r in _seed()}
    assert names["7107"] == "Kabupaten Bolaang Mongondow Utara"
    assert names["1608"] == "Kabupaten Ogan Komering Ulu Selatan"
    assert all("  " not in n for n in names.values())


def test_north_sumatra_is_the_default_and_both_numberings_resolve(monkeypatch):
    monkeypatch.delenv("KOPERASI_PROVINCE", raising=False)
    assert len(regions()) == 33
    assert resolve_region("12.71") == "1275"  # Kemendagri Medan
    assert resolve_region("1271") == "1271"   # BPS Sibolga: four digits are a BPS code
    assert resolve_region("Kota Medan") == resolve_region("MEDAN") == "1275"
    assert resolve_region("Kab. Medan") is None, "a kabupaten and a kota never match each other"


def test_a_name_two_regions_share_resolves_only_with_its_kind(monkeypatch):
    monkeypatch.setenv("KOPERASI_PROVINCE", "32")
    assert len(regions()) == 27
    assert resolve_region("Bandung") is None
    assert [r.code for r in region_candidates("Bandung")] == ["3204", "3273"]
    assert resolve_region("Kota Bandung") == "3273" and resolve_region("KABUPATEN BANDUNG") == "3204"
    assert resolve_region("Kab. Bandung") == "3204" and resolve_region("32.73") == "3273"
    assert resolve_region("Bandung Barat") == "3217" and resolve_region("Depok") == "3276"  # unambiguous


def test_an_ambiguous_region_is_quarantined_naming_both_candidates(con, tmp_path, monkeypatch):
    monkeypatch.setenv("KOPERASI_PROVINCE", "32")
    rows = [ods_row(1, NIK="3273000000000001", **{"Kab/Kota": "Kota Bandung"}),
            ods_row(2, NIK="3204000000000002", **{"Kab/Kota": "Bandung"}),
            ods_row(3, NIK="3204000000000003", **{"Kab/Kota": "Kab. Bandung"})]
    path = write_csv(tmp_path / "ods_koperasi_jabar_2024-12-31.csv", rows)
    result = ingest_file(con, path, "ods", tmp_path / "archive")
    assert result.status == "landed" and result.rows_loaded == 2 and result.reasons == {"ambiguous_region": 1}
    message, findings = con.execute("SELECT message, CAST(findings AS VARCHAR) FROM raw.quarantine").fetchall()[0]
    assert "Kabupaten Bandung (32.04)" in message and "Kota Bandung (32.73)" in message
    assert json.loads(findings)[0]["code"] == "ambiguous_region"
    codes = sorted(c for (c,) in con.execute("SELECT region_code FROM raw.ods_cooperatives").fetchall())
    assert codes == ["3204", "3273"]
