"""BPS tables in their download layout: title, two-row header, thousands separators, '-', total row, source."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from ingestion.regions import Region, region_key, shared_names
from ingestion.samples.defects import DefectInjector
from ingestion.samples.formats import XlsxSheet, csv_line, id_number, write_text
from ingestion.samples.province import SampleProvince
from ingestion.samples.registry import _largest_remainder

# SE2016 Sumatera Utara (BPS press release 31/05/12/Th. XX): 1.18 M businesses, UMK 98.55%, 17.12 thousand
# medium/large; Kota Medan 234.42 thousand (19.89%). Other provinces: the same shape, scaled to their population
# (North Sumatra has 7.5 businesses per 100 inhabitants).
SE2016_SUMUT = {"umk": 1_161_480, "umb": 17_120, "capital_total": 234_420, "capital_umb": 5_150}
BUSINESSES_PER_INHABITANT = 1_178_600 / 15_640_905
UMB_SHARE, CAPITAL_SHARE, CAPITAL_UMB_SHARE = 0.0145, 0.1989, 0.022


def bps_label(region: Region) -> str:
    """BPS writes a kabupaten by its bare name and a kota as 'Kota X'; where a kabupaten and a kota share the name
    (Bandung) the office's copy says 'Kab.' too: the bare name would be ambiguous (and quarantined)."""
    if region.kind == "kota":
        return f"Kota {region.name}"
    return f"Kab. {region.name}" if region_key(region.name) in shared_names(region.province_code) else region.name


def _cell(n: int) -> str:
    return "-" if n == 0 else id_number(n)


def write_population(out_dir: Path, injector: DefectInjector, province: SampleProvince, year: int = 2024) -> Path:
    path = out_dir / f"penduduk_kabkota_jenis_kelamin_{province.slug}_{year}.xlsx"
    sheet = XlsxSheet(path, "Penduduk")
    sheet.workbook.set_properties({"created": datetime(year, 12, 31)})
    sheet.write([f"Jumlah Penduduk Menurut Kabupaten/Kota dan Jenis Kelamin di Provinsi {province.name}, {year}"],
                bold=True)
    sheet.skip()
    sheet.write(["Kabupaten/Kota", "Jenis Kelamin"], bold=True)
    sheet.write(["", "Laki-laki", "Perempuan", "Jumlah"], bold=True)
    male_total = female_total = 0
    for i, r in enumerate(province.regions):
        male, female = r.population_male, r.population_female
        male_total, female_total = male_total + male, female_total + female
        if i % 5 == 0:  # typed as text, the way copied tables arrive
            sheet.write([bps_label(r), id_number(male), id_number(female), id_number(male + female)])
        else:
            sheet.write([bps_label(r), male, female, male + female])
    reported_male = male_total
    if injector.enabled:
        reported_male += 1000  # the table's own total disagrees with its rows
        injector.record(path.name, sheet.row + 1, "total_mismatch", "total_mismatch")
    sheet.write([province.name, reported_male, female_total, male_total + female_total], bold=True)
    sheet.skip()
    sheet.write([f"Sumber: Dinas Kependudukan dan Pencatatan Sipil, Semester II {year}"])
    sheet.close()
    return path


def _se2016_totals(province: SampleProvince) -> dict[str, int]:
    if province.code == "12":
        return SE2016_SUMUT
    total = round(province.population().sum() * BUSINESSES_PER_INHABITANT)
    capital = round(total * CAPITAL_SHARE)
    return {"umk": total - round(total * UMB_SHARE), "umb": round(total * UMB_SHARE), "capital_total": capital,
            "capital_umb": round(capital * CAPITAL_UMB_SHARE)}


def se2016_businesses(rng: np.random.Generator, province: SampleProvince) -> list[tuple[Region, int, int]]:
    """Synthetic per-region UMK/UMB counts that sum to the provincial totals (North Sumatra's real ones, Medan at
    234,420), the capital at its share."""
    totals, capital = _se2016_totals(province), province.capital
    others = [r for r in province.regions if r.code != capital.code]
    population = np.array([r.population_male + r.population_female for r in others], dtype=float)
    umk_weights = population * rng.uniform(0.8, 1.2, len(others))
    umk = _largest_remainder(totals["umk"] - (totals["capital_total"] - totals["capital_umb"]), umk_weights)
    umb = _largest_remainder(totals["umb"] - totals["capital_umb"], population ** 1.3)
    by_code = {r.code: (int(a), int(b)) for r, a, b in zip(others, umk, umb)}
    by_code[capital.code] = (totals["capital_total"] - totals["capital_umb"], totals["capital_umb"])
    return [(r, *by_code[r.code]) for r in province.regions]


def write_businesses(out_dir: Path, rng: np.random.Generator, province: SampleProvince) -> Path:
    path = out_dir / f"se2016_usaha_menurut_skala_kabkota_{province.slug}.csv"
    lines = [csv_line(["Jumlah Usaha/Perusahaan Non Pertanian Menurut Kabupaten/Kota dan Skala Usaha, "
                       f"Provinsi {province.name}, Sensus Ekonomi 2016", "", "", ""], ","),
             csv_line(["Kabupaten/Kota", "Skala Usaha", "", ""], ","),
             csv_line(["", "UMK", "UMB", "Jumlah"], ",")]
    rows = se2016_businesses(rng, province)
    for region, umk, umb in rows:
        lines.append(csv_line([bps_label(region), _cell(umk), _cell(umb), _cell(umk + umb)], ","))
    total_umk, total_umb = sum(r[1] for r in rows), sum(r[2] for r in rows)
    lines.append(csv_line([province.name, _cell(total_umk), _cell(total_umb), _cell(total_umk + total_umb)], ","))
    lines.append(csv_line([f"Sumber: BPS Provinsi {province.name}, Sensus Ekonomi 2016 (diolah)", "", "", ""], ","))
    write_text(path, "".join(lines), encoding="utf-8")
    return path
