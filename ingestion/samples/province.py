"""The province a sample is made for: its kabupaten/kota from the region seed, their population (Dukcapil where
the office has it, otherwise a plausible synthetic figure), and the names its files carry."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import cache

import numpy as np

from ingestion.province import province_code
from ingestion.regions import Region, _regions_of

# The short names the office's own files use (ods_koperasi_sumut_..., daftar_koperasi_opd_provsu.xlsx).
_SHORT = {"12": ("sumut", "provsu"), "32": ("jabar", "provjabar")}


@dataclass(frozen=True)
class SampleProvince:
    code: str
    name: str
    regions: tuple[Region, ...]  # every region with a population (male, female)

    @property
    def slug(self) -> str:
        return _SHORT.get(self.code, (re.sub(r"[^a-z]", "", self.name.lower()), ""))[0]

    @property
    def opd_slug(self) -> str:
        return _SHORT.get(self.code, ("", f"prov{self.slug}"))[1]

    @property
    def capital(self) -> Region:
        """Where the provincial agencies' employee cooperatives are: the most populous kota."""
        kota = [r for r in self.regions if r.kind == "kota"] or list(self.regions)
        return max(kota, key=lambda r: r.population_male + r.population_female)

    def population(self) -> np.ndarray:
        return np.array([r.population_male + r.population_female for r in self.regions], dtype=float)


def _synthetic(region: Region) -> Region:
    """A plausible Dukcapil figure, stable per region code (kabupaten 0.4-3.5 M, kota 0.15-2.5 M)."""
    rng = np.random.default_rng(zlib.crc32(region.code.encode()))
    low, high = (400_000, 3_500_000) if region.kind == "kabupaten" else (150_000, 2_500_000)
    total = int(rng.uniform(low, high))
    male = int(total * rng.uniform(0.49, 0.52))
    return Region(**{**region.__dict__, "population_male": male, "population_female": total - male})


@cache
def sample_province(code: str | None = None) -> SampleProvince:
    code = code or province_code()
    regions = tuple(r if r.population_male is not None else _synthetic(r) for r in _regions_of(code))
    return SampleProvince(code, regions[0].province_name, regions)
