"""Builds the region seeds from the reference files in this folder (run by hand when they change; the seeds are
committed): ``dbt_project/seeds/seed_regions.csv`` (every kabupaten/kota of Indonesia, BPS and Kemendagri codes)
and ``seed_region_population.csv`` (Dukcapil population where the office has it). The fixes to the public
crosswalk are listed in README.md and made here, nowhere else.

    python reference/build_seed_regions.py
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent / "dbt_project" / "seeds"

CROSSWALK_SOURCE = "Kemendagri 2020 (crosswalk from BPS bridging service, retrieved 2022-05-22)"
VERIFIED_2025 = "Kepmendagri 300.2.2-2138/2025"

# Names the crosswalk truncated (its nama_dagri column was cut at a fixed width), by BPS code.
TRUNCATED = {
    "1608": "KAB. OGAN KOMERING ULU SELATAN", "1609": "KAB. OGAN KOMERING ULU TIMUR",
    "1612": "KAB. PENUKAL ABAB LEMATANG ILIR", "7107": "KAB. BOLAANG MONGONDOW UTARA",
    "7108": "KAB. KEPULAUAN SIAU TAGULANDANG BIARO", "7110": "KAB. BOLAANG MONGONDOW SELATAN",
    "7111": "KAB. BOLAANG MONGONDOW TIMUR",
}
_PREFIX = re.compile(r"^(KAB\.?|KOTA)\s+(ADM\.\s+)?")
_LOWER = {"DAN"}
_UPPER = {"DKI", "DI"}


def _title(text: str) -> str:
    words = text.replace("KEP. ", "KEPULAUAN ").split()
    return " ".join(w.lower() if w in _LOWER else w if w in _UPPER else w.capitalize() for w in words)


def _dotted(code: str) -> str:
    return f"{code[:2]}.{code[2:]}"  # the crosswalk drops the dot: 1271 is 12.71


def main() -> None:
    provinces = {r["kode_bps"]: _title(r["nama_bps"]) for r in csv.DictReader((HERE / "provinsi_bps_kemendagri.csv").open())}
    verified = {r["kode_bps"]: r for r in csv.DictReader((HERE / "sumut_kab_kota.csv").open(encoding="utf-8"))}
    rows = []
    for r in csv.DictReader((HERE / "kabkota_bps_kemendagri.csv").open(encoding="utf-8")):
        code = r["kode_bps"]
        dagri = " ".join(TRUNCATED.get(code, r["nama_dagri"]).split()).replace("KAB ", "KAB. ", 1)
        kind = "kota" if dagri.startswith("KOTA") else "kabupaten"
        name = _title(_PREFIX.sub("", dagri))
        row = {"region_code": code, "kemendagri_code": _dotted(r["kode_dagri"]), "province_code": code[:2],
               "province_name": provinces[code[:2]], "bps_name": f"{'KOTA' if kind == 'kota' else 'KABUPATEN'} "
               f"{' '.join(r['nama_bps'].split())}", "kemendagri_name": f"{kind.capitalize()} {name}",
               "region_kind": kind, "region_name": name, "kemendagri_reference": CROSSWALK_SOURCE}
        if code in verified:  # the office's own list, checked against the 2025 Kepmendagri
            v = verified[code]
            row.update(kemendagri_code=v["kode_kemendagri"], bps_name=v["nama_bps_mfd"],
                       kemendagri_name=v["nama_kemendagri_2025"],
                       region_name=re.sub(r"^(Kabupaten|Kota) ", "", v["nama_kemendagri_2025"]),
                       kemendagri_reference=VERIFIED_2025)
        rows.append(row)
    with (SEEDS / "seed_regions.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with (SEEDS / "seed_region_population.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["region_code", "population_male_2024", "population_female_2024", "population_total_2024"])
        for code, v in sorted(verified.items()):
            writer.writerow([code, v["penduduk_pria_dukcapil_2024s2"], v["penduduk_wanita"], v["penduduk_total"]])


if __name__ == "__main__":
    main()
