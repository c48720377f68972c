"""The simulated ODS registry: a population of cooperatives that evolves across snapshots.

Targets at scale 1 (FACTS.md): 11,917 cooperatives and 900,000 members in the latest snapshot, exactly
93 whose last RAT was held virtually (in 2020 or 2021).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import numpy as np

from ingestion.regions import Region
from ingestion.samples import seeds, vocab
from ingestion.samples.province import SampleProvince

LATEST_COOPERATIVES = 11_917
LATEST_MEMBERS = 900_000
VIRTUAL_RATS = 93
QUARTERLY_CHURN = 0.006  # share of cooperatives founded (and, at 2/3 of that, dissolved) per quarter


def snapshot_dates(count: int, end: date = date(2024, 12, 31), months_apart: int = 3) -> list[date]:
    dates = []
    year, month = end.year, end.month
    for _ in range(count):
        dates.append(date(year, month, calendar.monthrange(year, month)[1]))
        month -= months_apart
        while month <= 0:
            month += 12
            year -= 1
    return sorted(dates)


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(np.int64)
    remainder = total - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:remainder]] += 1
    return counts


@dataclass
class CooperativeRow:
    """One cooperative as one snapshot shows it (typed; the writers format it)."""

    nik: str
    name: str
    legal_entity_number: str
    legal_entity_date: date
    region: Region
    district: str
    cooperative_type: str
    cooperative_group: str
    cooperative_form: str
    is_active: bool
    last_rat_year: int | None
    rat_virtual: bool
    members_male: int
    members_female: int
    managers: int
    employees: int
    own_capital: int
    external_capital: int
    assets: int
    business_volume: int
    surplus: int
    has_nik_certificate: bool


class Registry:
    """All cooperatives ever seen over the snapshots, with per-cooperative attributes as arrays."""

    def __init__(self, rng: np.random.Generator, scale: float, dates: list[date], opd_member_counts: list[int],
                 province: SampleProvince):
        self.rng = rng
        self.province = province
        self.dates = dates
        k = len(dates)
        survivors = round(LATEST_COOPERATIVES * scale)
        churn = QUARTERLY_CHURN * self._months_apart() / 3
        founded_later = rng.binomial(survivors, min(0.5, churn * (k - 1))) if k > 1 else 0
        dissolved = rng.binomial(survivors, min(0.5, churn * 2 / 3 * (k - 1))) if k > 1 else 0
        n = survivors + dissolved
        self.n, self.survivors = n, survivors

        # Lifetimes: index of the first and last snapshot a cooperative appears in.
        self.first = np.zeros(n, dtype=np.int64)
        self.last = np.full(n, k - 1, dtype=np.int64)
        if k > 1:
            self.first[:founded_later] = rng.integers(1, k, founded_later)
            self.last[survivors:] = rng.integers(0, k - 1, dissolved)
            self.first[survivors:] = 0

        all_regions = province.regions
        population = province.population()
        region_of_survivor = np.repeat(np.arange(len(all_regions)), _largest_remainder(survivors, population))
        region_idx = np.concatenate([rng.permutation(region_of_survivor),
                                     rng.choice(len(all_regions), dissolved, p=population / population.sum())])
        self.region_idx = region_idx
        self.regions = all_regions

        types, type_p = zip(*vocab.COOPERATIVE_TYPES)
        self.type_idx = rng.choice(len(types), n, p=np.array(type_p) / sum(type_p))
        self.types = types
        groups = vocab.COOPERATIVE_GROUPS
        self.group_idx = rng.choice(len(groups), n, p=np.array([g[2] for g in groups]) / sum(g[2] for g in groups))
        savings_groups = {0, 1}
        for i in np.flatnonzero(np.isin(self.group_idx, list(savings_groups))):
            self.type_idx[i] = 0
        self.secondary = rng.random(n) < 0.01
        # Founded before the first snapshot, or (new cooperatives) in the month before the one they appear in.
        self.founded = np.array([date(int(y), int(m), int(d)) for y, m, d in zip(
            rng.integers(1975, dates[0].year, n), rng.integers(1, 13, n), rng.integers(1, 29, n))], dtype=object)
        for i in np.flatnonzero(self.first > 0):
            appeared = dates[int(self.first[i])]
            self.founded[i] = date(appeared.year, appeared.month, 1)
        sequence = rng.permutation(n) + 1
        self.nik = [f"{province.code}{all_regions[r].code[2:]}{s:012d}" for r, s in zip(region_idx, sequence)]
        self.district_idx = rng.integers(0, len(vocab.DISTRICT_SUFFIXES), n)
        self.name_idx = rng.integers(0, len(vocab.NAME_WORDS), n)
        self.name_number = rng.integers(1, 40, n)

        # OPD employee cooperatives: KPRI in the provincial capital whose size matches the OPD member lists.
        capital = [i for i in range(self.survivors) if self.regions[self.region_idx[i]].code == province.capital.code]
        self.opd_cooperatives = capital[: len(opd_member_counts)]
        self._assign_rat(rng)
        self._assign_size(rng, scale, opd_member_counts)

    def _months_apart(self) -> int:
        if len(self.dates) < 2:
            return 3
        a, b = self.dates[-2], self.dates[-1]
        return (b.year - a.year) * 12 + b.month - a.month

    def _assign_rat(self, rng: np.random.Generator) -> None:
        """Year of the last RAT as of the end of the latest snapshot's year, the month it is held in."""
        n, end_year = self.n, self.dates[-1].year
        offsets = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, -1], n, p=[0.36, 0.14, 0.09, 0.07, 0.07, 0.06, 0.08, 0.08, 0.05])
        last_rat = np.where(offsets < 0, 0, end_year - offsets)  # 0: never held
        self.rat_month = rng.integers(2, 7, n)  # RAT within six months after the financial year
        self.regular = rng.random(n) < 0.85  # held every year up to the last one
        # Exactly VIRTUAL_RATS cooperatives held their last RAT online, in 2020 or 2021 (COVID-19).
        virtual_count = round(VIRTUAL_RATS * self.survivors / LATEST_COOPERATIVES)
        eligible = np.setdiff1d(np.arange(self.survivors), self.opd_cooperatives)
        candidates = rng.permutation(eligible)[:virtual_count]
        last_rat[candidates] = rng.choice([end_year - 4, end_year - 3], virtual_count) if end_year >= 2024 else 2020
        pandemic = np.isin(last_rat, [2020, 2021])
        last_rat[pandemic & ~np.isin(np.arange(n), candidates)] = end_year - 5  # keep the 93 exact
        self.virtual = np.zeros(n, dtype=bool)
        self.virtual[candidates] = True
        self.last_rat = last_rat
        self.certificate_uptake = rng.random(n) < 0.8

    def _assign_size(self, rng: np.random.Generator, scale: float, opd_member_counts: list[int]) -> None:
        n = self.n
        members = np.maximum(9, rng.lognormal(3.7, 0.95, n)).astype(np.int64)
        for i, size in zip(self.opd_cooperatives, opd_member_counts):
            members[i] = size
            self.group_idx[i] = 3
            self.type_idx[i] = 0
            self.founded[i] = date(1985 + i % 20, 3, 1 + i % 27)
            self.last_rat[i] = self.dates[-1].year
            self.regular[i] = True
        fixed = np.zeros(n, dtype=bool)
        fixed[self.opd_cooperatives] = True
        target = round(LATEST_MEMBERS * scale)
        free = ~fixed & (np.arange(n) < self.survivors)
        budget = target - members[fixed].sum()
        scaled = np.maximum(9, np.floor(members[free] * budget / members[free].sum())).astype(np.int64)
        shortfall = budget - scaled.sum()
        order = np.argsort(-scaled, kind="stable")
        step = 1 if shortfall > 0 else -1
        for j in range(abs(int(shortfall))):
            scaled[order[j % len(order)]] += step
        members[free] = scaled
        self.members = members
        self.female_share = np.clip(rng.normal(0.46, 0.12, n), 0.05, 0.95)
        self.female_share[self.group_idx == 5] = 1.0
        self.growth = rng.normal(0.012, 0.02, n) * self._months_apart() / 3
        self.capital_per_member = rng.lognormal(np.log(2_500_000), 0.8, n)
        self.leverage = rng.lognormal(np.log(0.8), 0.6, n)
        self.turnover = rng.lognormal(np.log(1.2), 0.5, n)
        self.margin = rng.normal(0.045, 0.035, n)
        self.managers = rng.integers(0, 3, n)
        self.employees = rng.poisson(4, n)

    def last_rat_as_of(self, i: int, on: date) -> int | None:
        last = int(self.last_rat[i])
        if last == 0:
            return None
        held_by = on.year if on.month >= self.rat_month[i] else on.year - 1
        if last <= held_by:
            return last
        earlier = held_by if self.regular[i] else min(held_by, last - 3)
        return earlier if earlier >= self.founded[i].year else None  # no RAT held yet as of that date

    def alive_at(self, k: int) -> np.ndarray:
        return np.flatnonzero((self.first <= k) & (self.last >= k))

    def row(self, i: int, k: int) -> CooperativeRow:
        on = self.dates[k]
        steps_back = len(self.dates) - 1 - k
        growth = (1 + self.growth[i]) ** (-steps_back)
        members = int(self.members[i]) if steps_back == 0 else max(9, round(self.members[i] * growth))
        female = round(members * self.female_share[i])
        last_rat = self.last_rat_as_of(i, on)
        active = last_rat is not None and last_rat >= on.year - seeds.health_parameter("active_rat_within_years")
        own = round(members * self.capital_per_member[i] * (1 if active else 0.6), -3)
        external = round(own * self.leverage[i], -3)
        assets = round((own + external) * 1.05, -3)
        volume = round(assets * self.turnover[i] * (1 if active else 0.2), -3)
        surplus = round(volume * self.margin[i], -3)
        region = self.regions[self.region_idx[i]]
        group_name, prefix, _ = vocab.COOPERATIVE_GROUPS[self.group_idx[i]]
        name = self._name(i, prefix, region)
        founded = self.founded[i]
        legal_number = (f"{100 + i % 900}/BH/{_roman(founded.month)}/{founded.year}" if founded.year < 2018
                        else f"AHU-{i % 10_000_000:07d}.AH.01.26.TAHUN {founded.year}")
        return CooperativeRow(
            nik=self.nik[i], name=name, legal_entity_number=legal_number, legal_entity_date=founded,
            region=region, district=f"{region.name} {vocab.DISTRICT_SUFFIXES[self.district_idx[i]]}",
            cooperative_type=self.types[self.type_idx[i]], cooperative_group=group_name,
            cooperative_form="Sekunder" if self.secondary[i] else "Primer",
            is_active=active, last_rat_year=last_rat, rat_virtual=bool(self.virtual[i]),
            members_male=members - female, members_female=female,
            managers=int(self.managers[i]), employees=int(self.employees[i]) if active else 0,
            own_capital=int(own), external_capital=int(external), assets=int(assets),
            business_volume=int(volume), surplus=int(surplus),
            has_nik_certificate=bool(active and last_rat is not None
                                     and last_rat >= on.year - seeds.health_parameter("rat_held_within_years")
                                     and self.certificate_uptake[i]),
        )

    def _name(self, i: int, prefix: str, region: Region) -> str:
        if i in self.opd_cooperatives:
            code, opd = seeds.opds()[self.opd_cooperatives.index(i)]
            return f"KPRI {opd} Provinsi {self.province.name}"
        word = vocab.NAME_WORDS[self.name_idx[i]]
        style = i % 10
        if style == 0:
            return f"{prefix} \u201c{word}\u201d {region.name}"  # curly quotes, as typed in Word
        if style == 1:
            return f"{prefix} {word} \u2013 {region.name}"  # en dash
        if style == 2:
            return f"{prefix} {word} {self.name_number[i]}"
        return f"{prefix} {word}"


def _roman(month: int) -> str:
    return ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")[month - 1]
