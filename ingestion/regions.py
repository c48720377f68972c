"""Region names and codes as they appear in real files -> BPS region codes of the warehouse's province.

The reference list is the dbt seed ``seed_regions.csv`` (every kabupaten/kota of Indonesia with its BPS and
Kemendagri codes, built by ``reference/build_seed_regions.py``), read for the province of ``KOPERASI_PROVINCE``.
A kabupaten and a kota of the same name (Kabupaten Bandung 32.04, Kota Bandung 32.73) are two regions: a name
is matched with its kind (``Kab.``/``Kabupaten``/``Kota``), and without one only where the province has a single
region of that name; otherwise the cell is ambiguous and its row is quarantined naming both candidates.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from ingestion.file_cache import while_unchanged
from ingestion.province import UnknownProvince, province_code

SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"
REGIONS_CSV = SEEDS / "seed_regions.csv"
POPULATION_CSV = SEEDS / "seed_region_population.csv"

# Variant key -> canonical key; keys are produced by ``region_key`` (spellings seen in real files).
_ALIASES = {
    "TOBASAMOSIR": "TOBA",
    "PADANGSIDEMPUAN": "PADANGSIDIMPUAN",
    "PAKPAKBARAT": "PAKPAKBHARAT",
}
_PREFIX = re.compile(r"^(?:(KABUPATEN|KAB)\.?|(KOTA\s+ADMINISTRASI|KOTA\s+ADM\.?|KOTAMADYA|KODYA|KOTA)\.?)\s+")
_NON_ALNUM = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True)
class Region:
    code: str
    kemendagri_code: str
    name: str  # e.g. "Labuhanbatu"
    kind: str  # "kabupaten" | "kota"
    bps_name: str  # e.g. "KABUPATEN LABUHAN BATU"
    population_male: int | None = None  # Dukcapil, where the office has it (seed_region_population.csv)
    population_female: int | None = None
    province_code: str = ""
    province_name: str = ""

    @property
    def full_name(self) -> str:
        return f"{'Kota' if self.kind == 'kota' else 'Kabupaten'} {self.name}"


def parse_region_text(text: str) -> tuple[str | None, str]:
    """(kind or None, spelling-insensitive key of the name): upper case, no prefix, no spaces or punctuation."""
    upper = " ".join(text.upper().replace("\u00a0", " ").split())
    match = _PREFIX.match(upper)
    kind = None if match is None else ("kabupaten" if match.group(1) else "kota")
    key = _NON_ALNUM.sub("", upper[match.end():] if match else upper)
    return kind, _ALIASES.get(key, key)


def region_key(text: str) -> str:
    return parse_region_text(text)[1]


@while_unchanged(lambda province=None: REGIONS_CSV, maxsize=4)
def _regions_of(province: str) -> tuple[Region, ...]:
    with POPULATION_CSV.open(encoding="utf-8") as f:
        population = {row["region_code"]: row for row in csv.DictReader(f)}
    with REGIONS_CSV.open(encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if row["province_code"] == province]
    if not rows:
        raise UnknownProvince(f"KOPERASI_PROVINCE={province}: no kabupaten/kota of that province in {REGIONS_CSV.name}")
    return tuple(
        Region(code=row["region_code"], kemendagri_code=row["kemendagri_code"], name=row["region_name"],
               kind=row["region_kind"], bps_name=row["bps_name"],
               population_male=int(population[row["region_code"]]["population_male_2024"])
               if row["region_code"] in population else None,
               population_female=int(population[row["region_code"]]["population_female_2024"])
               if row["region_code"] in population else None,
               province_code=row["province_code"], province_name=row["province_name"])
        for row in rows)


def regions() -> tuple[Region, ...]:
    """The kabupaten/kota of the warehouse's province."""
    return _regions_of(province_code())


def province_name() -> str:
    return regions()[0].province_name


@while_unchanged(lambda province=None: REGIONS_CSV, maxsize=4)
def _lookup(province: str) -> dict[str, tuple[Region, ...]]:
    """Name key -> the regions of that name in the province (two when a kabupaten and a kota share it)."""
    table: dict[str, set[Region]] = {}
    for r in _regions_of(province):
        for spelling in (r.name, r.bps_name):
            table.setdefault(region_key(spelling), set()).add(r)
    return {k: tuple(sorted(v, key=lambda r: r.code)) for k, v in table.items()}


@while_unchanged(lambda province=None: REGIONS_CSV, maxsize=4)
def _codes(province: str) -> dict[str, str]:
    """BPS codes ('1275') and Kemendagri codes ('12.71'): two numberings, so matched exactly, never by key."""
    return {code: r.code for r in _regions_of(province) for code in (r.code, r.kemendagri_code)}


def region_candidates(text: str) -> tuple[Region, ...]:
    """The regions of the province a cell can mean: one when it resolves, two or more when it is ambiguous."""
    province = province_code()
    code = _codes(province).get(text.strip())
    if code:
        return tuple(r for r in _regions_of(province) if r.code == code)
    kind, key = parse_region_text(text)
    found = _lookup(province).get(key, ())
    return tuple(r for r in found if kind is None or r.kind == kind)


def resolve_region(text: str | None) -> str | None:
    """BPS code for a region name, BPS code or Kemendagri code; None when unknown or ambiguous."""
    if text is None:
        return None
    found = region_candidates(text)
    return found[0].code if len(found) == 1 else None


def closest_region_names(text: str, n: int = 3) -> list[str]:
    names = {}
    for r in regions():
        names.setdefault(region_key(r.name), []).append(r.full_name)
    matches = difflib.get_close_matches(region_key(text), list(names), n=n, cutoff=0.0)
    return [full for m in matches for full in names[m]][:n]


def region_problems(header: str, spellings: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """For cells that do not resolve (raw cell -> its trimmed text): (unknown, ambiguous), each raw cell -> its row
    finding (``ingestion.findings``), the ambiguous ones naming every candidate with its Kemendagri code."""
    from ingestion.findings import row_finding_json

    unknown, ambiguous = {}, {}
    for raw, text in spellings.items():
        found = region_candidates(text)
        if len(found) > 1:
            ambiguous[raw] = row_finding_json("ambiguous_region", header=header, value=text, candidates=" atau ".join(
                f"{r.full_name} ({r.kemendagri_code})" for r in found))
        elif not found:
            unknown[raw] = row_finding_json("unknown_region", header=header, value=text, province=province_name(),
                                            closest=", ".join(closest_region_names(text)))
    return unknown, ambiguous


def shared_names(province: str | None = None) -> frozenset[str]:
    """Name keys that two regions of the province share (understood only with Kabupaten/Kota)."""
    return frozenset(k for k, found in _lookup(province or province_code()).items() if len(found) > 1)
