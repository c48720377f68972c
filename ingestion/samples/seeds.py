"""What the sample generator takes from the dbt seeds, which own it: agencies and the rules' parameters.

The generator never restates a business rule: a sample that follows the seeds stays right when a seed changes.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def opds() -> tuple[tuple[str, str], ...]:
    """(code, name) of the agencies with an employee cooperative (``seed_opds``; the five of the housing
    scenario in ``seed_consolidation_scenarios`` come first)."""
    return tuple((row["opd_code"], row["opd_name"]) for row in read_seed("seed_opds"))


@cache
def health_parameter(name: str) -> int:
    """A parameter of ``seed_health_parameters`` (e.g. ``active_rat_within_years``) as the models read it."""
    values = {row["parameter"]: row["value"] for row in read_seed("seed_health_parameters")}
    return int(float(values[name]))
