"""Header mapping configuration (``ingestion/mappings/<source>.yaml``): header spellings -> canonical fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingestion.file_cache import while_unchanged

# The sources the warehouse reads, one mapping file each (ingestion/mappings/<source>.yaml) and one inbox folder.
SOURCES = ("ods", "bps", "opd")

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
_NON_WORD = re.compile(r"[^0-9a-z]+")


def header_key(text: object) -> str:
    """Case, punctuation and spacing do not matter: 'No. BH' and ' no  bh ' match."""
    return _NON_WORD.sub(" ", str(text).lower()).strip() if text is not None else ""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    aliases: tuple[str, ...]
    required: bool = False
    personal: bool = False


@dataclass(frozen=True)
class TableMapping:
    name: str
    fields: tuple[FieldSpec, ...]
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> spelling key -> canonical

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def match(self, headers: list[object]) -> dict[str, int]:
        """Canonical field -> column index, for the headers that match an alias."""
        keys = {header_key(a): f.name for f in self.fields for a in f.aliases}
        found: dict[str, int] = {}
        for index, header in enumerate(headers):
            name = keys.get(header_key(header))
            if name and name not in found:
                found[name] = index
        return found

    def canonical_value(self, field_name: str, text: str | None) -> str | None:
        return self.values.get(field_name, {}).get(header_key(text)) if text is not None else None


def _table(name: str, spec: dict, values: dict) -> TableMapping:
    fields = tuple(
        FieldSpec(n, tuple(str(a) for a in s.get("aliases", [])), bool(s.get("required")), bool(s.get("personal")))
        for n, s in spec["fields"].items())
    value_map = {f: {header_key(sp): canon for canon, spellings in m.items() for sp in [canon, *spellings]}
                 for f, m in (values or {}).items()}
    return TableMapping(name, fields, value_map)


def _mapping_file(source: str) -> Path:
    return MAPPINGS_DIR / f"{source}.yaml"


@while_unchanged(_mapping_file)
def load_mapping(source: str) -> dict[str, TableMapping]:
    """Table name -> mapping. ODS has one table ('registry'); BPS and OPD have several kinds of file."""
    raw = yaml.safe_load(_mapping_file(source).read_text(encoding="utf-8"))
    if "tables" in raw:
        return {name: _table(name, spec, raw.get("values")) for name, spec in raw["tables"].items()}
    return {"registry": _table("registry", raw, raw.get("values"))}


@while_unchanged(_mapping_file)
def source_settings(source: str) -> dict:
    return yaml.safe_load(_mapping_file(source).read_text(encoding="utf-8"))
