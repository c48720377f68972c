"""The province the warehouse serves: one setting, ``KOPERASI_PROVINCE`` (its BPS code, e.g. ``12``).

Its default is the dbt project's ``vars.default_province`` (``dbt_project/dbt_project.yml``), which dbt reads
too: regions, population and census tables, the file gate and the sample generator all follow this value.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from ingestion.file_cache import while_unchanged

DBT_PROJECT_YML = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"


class UnknownProvince(ValueError):
    """KOPERASI_PROVINCE names no province of the region seed."""


@while_unchanged(lambda: DBT_PROJECT_YML, maxsize=1)
def default_province() -> str:
    return str(yaml.safe_load(DBT_PROJECT_YML.read_text(encoding="utf-8"))["vars"]["default_province"])


def province_code() -> str:
    """The BPS code of the province (two digits), from ``KOPERASI_PROVINCE`` or the project's default."""
    code = (os.environ.get("KOPERASI_PROVINCE") or default_province()).strip()
    if not (len(code) == 2 and code.isdigit()):
        raise UnknownProvince(f"KOPERASI_PROVINCE={code!r}: expected the two-digit BPS code of a province, e.g. 12")
    return code
