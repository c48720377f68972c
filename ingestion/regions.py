"""Region names as they appear in real files -> BPS region codes.

The reference list is the dbt seed ``seed_regions.csv`` (one file, reviewed like code); the spelling
variants below are the ones seen in real files (FACTS.md, "Regions").
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from ingestion.file_cache import while_unchanged

REGIONS_CSV = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "seed_regions.csv"

# Variant key -> canonical key; keys are produced by ``region_key``.
_ALIASES = {
    "TOBASAMOSIR": "TOBA",
    "PADANGSIDEMPUAN": "PADANGSIDIMPUAN",
    "PAKPAKBARAT": "PAKPAKBHARAT",
}
_PREFIX = re.compile(r"^(KABUPATEN|KAB\.?|KOTA|KOTAMADYA|KODYA)\s+")
_NON_ALNUM = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True)
class Region:
    code: str
    kemendagri_code: str
    name: str  # e.g. "Labuhanbatu"
    kind: str  # "kabupaten" | "kota"
    bps_name: str  # e.g. "KABUPATEN LABUHAN BATU"
    population_male: int
    population_female: int


def region_key(text: str) -> str:
    """Spelling-insensitive key: upper case, no KAB./KOTA prefix, no spaces or punctuation."""
    upper = " ".join(text.upper().replace("\u00a0", " ").split())
    stripped = _PREFIX.sub("", upper)
    key = _NON_ALNUM.sub("", stripped)
    return _ALIASES.get(key, key)


def _seed() -> Path:
    return REGIONS_CSV


@while_unchanged(_seed, maxsize=1)
def regions() -> tuple[Region, ...]:
    with REGIONS_CSV.open(encoding="utf-8") as f:
        return tuple(
            Region(
                code=row["region_code"],
                kemendagri_code=row["kemendagri_code"],
                name=row["region_name"],
                kind=row["region_kind"],
                bps_name=row["bps_name"],
                population_male=int(row["population_male_2024"]),
                population_female=int(row["population_female_2024"]),
            )
            for row in csv.DictReader(f)
        )


@while_unchanged(_seed, maxsize=1)
def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for r in regions():
        for spelling in (r.name, r.bps_name):
            table[region_key(spelling)] = r.code
    return table


@while_unchanged(_seed, maxsize=1)
def _codes() -> dict[str, str]:
    """BPS codes ('1275') and Kemendagri codes ('12.71'): two numberings, so matched exactly, never by key."""
    return {code: r.code for r in regions() for code in (r.code, r.kemendagri_code)}


def resolve_region(text: str | None) -> str | None:
    """BPS code for a region name, BPS code or Kemendagri code; None when unknown."""
    if text is None:
        return None
    code = _codes().get(text.strip())
    return code if code else _lookup().get(region_key(text))


def closest_region_names(text: str, n: int = 3) -> list[str]:
    names = {region_key(r.name): f"{'Kota' if r.kind == 'kota' else 'Kabupaten'} {r.name}" for r in regions()}
    matches = difflib.get_close_matches(region_key(text), list(names), n=n, cutoff=0.0)
    return [names[m] for m in matches]
