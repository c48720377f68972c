"""Writes one ODS registry export per snapshot, alternating CSV and XLSX as stewards receive them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from ingestion.regions import Region, region_key, shared_names
from ingestion.samples import vocab
from ingestion.samples.defects import DefectInjector
from ingestion.samples.formats import XlsxSheet, id_date, id_long_date, id_number, write_csv
from ingestion.samples.registry import CooperativeRow, Registry

# Spellings seen in real files for the same place (FACTS.md, "Regions").
_REAL_WORLD_VARIANTS = {
    "1206": ("Toba Samosir", "KAB. TOBA SAMOSIR"), "1207": ("Labuhan Batu",), "1222": ("Labuhan Batu Selatan",),
    "1223": ("Labuhan Batu Utara",), "1272": ("Tanjung Balai",), "1273": ("Pematang Siantar",),
    "1277": ("Padangsidempuan",), "1219": ("Batubara",), "1216": ("Pakpak Barat",),
}
# Exports this large arrive as CSV (and Excel tops out near a million rows): above it, no XLSX.
XLSX_MAX_ROWS = 60_000
SOURCE_NOTE = "Sumber: ODS Kementerian Koperasi dan UKM RI, diolah Dinas Koperasi dan UKM Provinsi {province}"


def region_spellings(region: Region, shared_names: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """How exports write a region; a name a kabupaten and a kota share is always written with its kind."""
    prefix = "Kota" if region.kind == "kota" else "Kab."
    bare = () if region_key(region.name) in shared_names else (region.name.upper(), region.name)
    return (region.bps_name, f"{prefix} {region.name}", *bare, *_REAL_WORLD_VARIANTS.get(region.code, ()))


def _yes_no(flag: bool, upper: bool = False) -> str:
    text = "Ya" if flag else "Tidak"
    return text.upper() if upper else text


def _text_cells(row: CooperativeRow, i: int, money_suffix: str) -> list[str]:
    spellings = region_spellings(row.region, shared_names(row.region.province_code))

    def money(n: int) -> str:
        return ("-" + id_number(-n) if n < 0 else id_number(n)) + money_suffix

    return [
        row.nik, row.name, row.legal_entity_number, id_date(row.legal_entity_date), spellings[i % len(spellings)],
        row.district, row.cooperative_type, row.cooperative_group, row.cooperative_form,
        "Aktif" if row.is_active else "Tidak Aktif", str(row.last_rat_year) if row.last_rat_year else "-",
        _yes_no(row.rat_virtual), str(row.members_male), str(row.members_female), str(row.managers),
        str(row.employees), money(row.own_capital), money(row.external_capital), money(row.assets),
        money(row.business_volume), money(row.surplus), _yes_no(row.has_nik_certificate),
    ]


def _xlsx_cells(row: CooperativeRow, i: int) -> list[object]:
    cells: list[object] = _text_cells(row, i, "")
    cells[3] = row.legal_entity_date
    cells[9] = cells[9].upper()
    cells[11], cells[21] = _yes_no(row.rat_virtual, True), _yes_no(row.has_nik_certificate, True)
    numbers = (row.members_male, row.members_female, row.managers, row.employees, row.own_capital,
               row.external_capital, row.assets, row.business_volume, row.surplus)
    for offset, value in enumerate(numbers):
        # Some cells come typed as text in real workbooks ("1.234.567"); most are numbers.
        cells[12 + offset] = cells[12 + offset] if (i + offset) % 17 == 0 else value
    return cells


def _totals(rows: list[CooperativeRow]) -> dict[str, int]:
    return {f: sum(getattr(r, f) for r in rows) for f in (
        "members_male", "members_female", "own_capital", "external_capital", "assets", "business_volume", "surplus")}


def write_ods_snapshot(registry: Registry, k: int, out_dir: Path, injector: DefectInjector) -> Path:
    on = registry.dates[k]
    alive = registry.alive_at(k)
    order = sorted(alive, key=lambda i: (registry.regions[registry.region_idx[i]].code, registry.nik[i]))
    rows = [registry.row(int(i), k) for i in order]
    header = vocab.ODS_HEADER_VARIANTS[k % len(vocab.ODS_HEADER_VARIANTS)]
    fmt = k % 4
    if fmt in (1, 3) and len(rows) <= XLSX_MAX_ROWS:  # XLSX
        path = out_dir / f"ODS_Koperasi_{registry.province.slug.capitalize()}_{on:%Y%m%d}.xlsx"
        return _write_xlsx(path, on, header, rows, injector, registry.province.name)
    path = out_dir / f"ods_koperasi_{registry.province.slug}_{on.isoformat()}.csv"
    encoding, suffix = ("cp1252", "") if fmt == 0 else ("utf-8-sig", ",00")
    cells = (_text_cells(r, i, suffix) for i, r in enumerate(rows))
    write_csv(path, header, injector.rows(path.name, cells, first_row=2, header=header), encoding=encoding)
    injector.truncate_last_row(path)
    return path


def _write_xlsx(path: Path, on: date, header, rows: list[CooperativeRow], injector: DefectInjector,
                province: str) -> Path:
    sheet = XlsxSheet(path, "Data Koperasi")
    sheet.workbook.set_properties({"created": datetime(on.year, on.month, on.day)})
    sheet.write([f"DATA KOPERASI PROVINSI {province.upper()}"], bold=True)
    sheet.write([f"Posisi data: {id_long_date(on)}"])
    sheet.skip()
    header_row = sheet.write(list(header), bold=True)
    cells = (_xlsx_cells(r, i) for i, r in enumerate(rows))
    for values in injector.rows(path.name, cells, first_row=header_row + 1, header=header):
        sheet.write(values)
    totals = _totals(rows)
    total_cells: list[object] = ["", "JUMLAH"] + [""] * 10 + [
        totals["members_male"], totals["members_female"], "", "", totals["own_capital"], totals["external_capital"],
        totals["assets"], totals["business_volume"], totals["surplus"]]
    sheet.write(total_cells, bold=True)
    sheet.skip()
    sheet.write([SOURCE_NOTE.format(province=province)])
    sheet.close()
    return path

