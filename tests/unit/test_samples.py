"""The sample exports: deterministic and reproducing the office's figures the generator is specified to
(``ingestion/samples/registry.py``: cooperatives, members, virtual RATs), counted from the files."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import fastexcel
import polars as pl

from ingestion.samples import SampleSpec, generate_samples
from ingestion.samples.registry import LATEST_COOPERATIVES, LATEST_MEMBERS, VIRTUAL_RATS
from ingestion.samples.seeds import read_seed


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(tmp_path):
    a = generate_samples(SampleSpec(out=tmp_path / "a", scale=0.05, seed=7, dirty=0.02))
    b = generate_samples(SampleSpec(out=tmp_path / "b", scale=0.05, seed=7, dirty=0.02))
    assert len(a.files) == len(b.files) > 10
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


def test_other_seed_other_bytes(tmp_path):
    generate_samples(SampleSpec(out=tmp_path / "a", scale=0.05, seed=1))
    generate_samples(SampleSpec(out=tmp_path / "b", scale=0.05, seed=2))
    assert _digests(tmp_path / "a") != _digests(tmp_path / "b")


def _latest_ods_rows(inbox: Path) -> pl.DataFrame:
    """Reads the latest snapshot back with fastexcel alone (not the generator, not our readers)."""
    latest = max((inbox / "ods").iterdir(), key=lambda p: re.sub(r"\D", "", p.stem))
    assert latest.name.endswith("20241231.xlsx")
    grid = fastexcel.read_excel(str(latest)).load_sheet(0, header_row=None, dtypes="string").to_polars()
    header_index = next(i for i, row in enumerate(grid.rows()) if row[0] and "NIK" in row[0].upper())
    header = [str(h) for h in grid.row(header_index)]
    data = grid.slice(header_index + 1)
    data.columns = header
    return data.filter(pl.col(header[0]).str.contains(r"^\d{16}$").fill_null(False))


def _number(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(".", "", literal=True).cast(pl.Int64)


def test_latest_snapshot_reproduces_the_facts(sample_inbox):
    rows = _latest_ods_rows(sample_inbox)
    assert rows.height == LATEST_COOPERATIVES
    assert rows.get_column(rows.columns[0]).n_unique() == LATEST_COOPERATIVES
    members = rows.select(_number("JUMLAH ANGGOTA PRIA") + _number("JUMLAH ANGGOTA WANITA")).to_series().sum()
    assert abs(members - LATEST_MEMBERS) <= LATEST_MEMBERS // 100
    virtual = rows.filter((pl.col("RAT DARING") == "YA") & pl.col("TAHUN RAT TERAKHIR").is_in(["2020", "2021"]))
    assert virtual.height == VIRTUAL_RATS
    assert rows.filter(pl.col("RAT DARING") == "YA").height == VIRTUAL_RATS
    regions = rows.get_column("KAB/KOTA").str.to_uppercase().str.replace(r"^(KABUPATEN|KAB\.|KOTA) ", "").str.replace_all(" ", "")
    assert 33 <= regions.n_unique() <= 60  # 33 places, several spellings each
    savings_and_loan = rows.filter(pl.col("JENIS KOPERASI") == "Simpan Pinjam").height / rows.height
    assert savings_and_loan > 0.5
    active = rows.filter(pl.col("STATUS KOPERASI") == "AKTIF").height / rows.height
    assert 0.4 < active < 0.9


def test_snapshots_evolve(sample_inbox):
    files = sorted((sample_inbox / "ods").iterdir())
    assert len(files) == 4
    assert {p.suffix for p in files} == {".csv", ".xlsx"}
    first_csv = next(p for p in files if p.suffix == ".csv")
    niks_first = {line.split(";")[0] for line in first_csv.read_text(encoding="cp1252").splitlines()[1:]}
    niks_latest = set(_latest_ods_rows(sample_inbox).get_column(_latest_ods_rows(sample_inbox).columns[0]))
    assert niks_latest - niks_first, "new cooperatives appear"
    assert niks_first - niks_latest, "some cooperatives are dissolved"


def test_bps_tables_sum_to_the_real_totals(sample_inbox):
    text = (sample_inbox / "bps" / "se2016_usaha_menurut_skala_kabkota_sumut.csv").read_text(encoding="utf-8")
    lines = [line.split(",") for line in text.splitlines()]
    medan = next(line for line in lines if line[0] == "Kota Medan")
    assert medan[3] == "234.420"
    total = next(line for line in lines if line[0] == "Sumatera Utara")
    assert total[1:] == ["1.161.480", "17.120", "1.178.600"]
    assert text.splitlines()[-1].startswith('"Sumber:') or text.splitlines()[-1].startswith("Sumber:")


def test_opd_lists_cover_the_five_agencies_and_overlap(sample_inbox):
    registry = fastexcel.read_excel(str(sample_inbox / "opd" / "daftar_koperasi_opd_provsu.xlsx")).load_sheet(
        0, header_row=3, dtypes="string").to_polars()
    codes = set(registry.get_column("Kode OPD").drop_nulls())
    five = {row["opd_code"] for row in read_seed("seed_consolidation_scenarios") if row["scenario_id"] == "housing_five_opd"}
    assert len(five) == 5 and five <= codes
    nips: dict[str, int] = {}
    for path in (sample_inbox / "opd").glob("anggota_*.xlsx"):
        members = fastexcel.read_excel(str(path)).load_sheet(0, header_row=4, dtypes="string").to_polars()
        for nip in members.get_column("NIP").drop_nulls():
            if re.fullmatch(r"\d{18}", nip):
                nips[nip] = nips.get(nip, 0) + 1
    assert any(count > 1 for count in nips.values()), "some people are in two OPD cooperatives"


def test_dirty_manifest_lists_every_defect(dirty_inbox):
    manifest = json.loads((dirty_inbox / "dirty_manifest.json").read_text())
    kinds = {d["kind"] for d in manifest}
    assert {"truncated_row", "empty_file", "binary_garbage", "wrong_source", "total_mismatch"} <= kinds
    assert len(manifest) > 30
