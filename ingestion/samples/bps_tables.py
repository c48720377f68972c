"""BPS tables in their download layout: title, two-row header, thousands separators, '-', total row, source."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from ingestion.regions import Region, regions
from ingestion.samples.defects import DefectInjector
from ingestion.samples.formats import XlsxSheet, csv_line, id_number, write_text
from ingestion.samples.registry import _largest_remainder

# SE2016 Sumatera Utara (BPS press release 31/05/12/Th. XX): 1.18 M businesses, UMK 98.55%, 17.12 thousand
# medium/large; Kota Medan 234.42 thousand (19.89%).
SE2016_UMK_TOTAL = 1_161_480
SE2016_UMB_TOTAL = 17_120
SE2016_MEDAN_TOTAL = 234_420
SE2016_MEDAN_UMB = 5_150


def bps_label(region: Region) -> str:
    return f"Kota {region.name}" if region.kind == "kota" else region.name


def _cell(n: int) -> str:
    return "-" if n == 0 else id_number(n)


def write_population(out_dir: Path, injector: DefectInjector, year: int = 2024) -> Path:
    path = out_dir / f"penduduk_kabkota_jenis_kelamin_sumut_{year}.xlsx"
    sheet = XlsxSheet(path, "Penduduk")
    sheet.workbook.set_properties({"created": datetime(year, 12, 31)})
    sheet.write([f"Jumlah Penduduk Menurut Kabupaten/Kota dan Jenis Kelamin di Provinsi Sumatera Utara, {year}"],
                bold=True)
    sheet.skip()
    sheet.write(["Kabupaten/Kota", "Jenis Kelamin"], bold=True)
    sheet.write(["", "Laki-laki", "Perempuan", "Jumlah"], bold=True)
    male_total = female_total = 0
    for i, r in enumerate(regions()):
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
    sheet.write(["Sumatera Utara", reported_male, female_total, male_total + female_total], bold=True)
    sheet.skip()
    sheet.write([f"Sumber: Dinas Kependudukan dan Pencatatan Sipil, Semester II {year}"])
    sheet.close()
    return path


def se2016_businesses(rng: np.random.Generator) -> list[tuple[Region, int, int]]:
    """Synthetic per-region UMK/UMB counts that sum to the real provincial totals, Medan at 234,420."""
    all_regions = regions()
    others = [r for r in all_regions if r.code != "1275"]
    population = np.array([r.population_male + r.population_female for r in others], dtype=float)
    umk_weights = population * rng.uniform(0.8, 1.2, len(others))
    umk = _largest_remainder(SE2016_UMK_TOTAL - (SE2016_MEDAN_TOTAL - SE2016_MEDAN_UMB), umk_weights)
    umb = _largest_remainder(SE2016_UMB_TOTAL - SE2016_MEDAN_UMB, population ** 1.3)
    by_code = {r.code: (int(a), int(b)) for r, a, b in zip(others, umk, umb)}
    by_code["1275"] = (SE2016_MEDAN_TOTAL - SE2016_MEDAN_UMB, SE2016_MEDAN_UMB)
    return [(r, *by_code[r.code]) for r in all_regions]


def write_businesses(out_dir: Path, rng: np.random.Generator) -> Path:
    path = out_dir / "se2016_usaha_menurut_skala_kabkota_sumut.csv"
    lines = [csv_line(["Jumlah Usaha/Perusahaan Non Pertanian Menurut Kabupaten/Kota dan Skala Usaha, "
                       "Provinsi Sumatera Utara, Sensus Ekonomi 2016", "", "", ""], ","),
             csv_line(["Kabupaten/Kota", "Skala Usaha", "", ""], ","),
             csv_line(["", "UMK", "UMB", "Jumlah"], ",")]
    rows = se2016_businesses(rng)
    for region, umk, umb in rows:
        lines.append(csv_line([bps_label(region), _cell(umk), _cell(umb), _cell(umk + umb)], ","))
    total_umk, total_umb = sum(r[1] for r in rows), sum(r[2] for r in rows)
    lines.append(csv_line(["Sumatera Utara", _cell(total_umk), _cell(total_umb), _cell(total_umk + total_umb)], ","))
    lines.append(csv_line(["Sumber: BPS Provinsi Sumatera Utara, Sensus Ekonomi 2016 (diolah)", "", "", ""], ","))
    write_text(path, "".join(lines), encoding="utf-8")
    return path
