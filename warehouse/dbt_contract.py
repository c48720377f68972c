"""What the dbt project declares about the marts, read from its manifest: descriptions and keys.

One place for both serving targets (the DuckDB serving file and PostgreSQL): a ``unique`` or
``unique_combination`` test makes the primary key (the narrowest one declared), a ``relationships`` test to
another mart a foreign key, a ``not_null`` test a NOT NULL column, and the model and column descriptions of
the dbt docs become comments.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from warehouse.dbt_manifest import MANIFEST


@dataclass
class DbtFacts:
    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)
    primary_keys: dict[str, list[str]] = field(default_factory=dict)
    foreign_keys: list[tuple[str, str, str, str]] = field(default_factory=list)  # table, column, referenced table, column
    not_null: set[tuple[str, str]] = field(default_factory=set)
    # Marts dbt rebuilds a snapshot at a time, stamping its rows with the build's time (built_at):
    # snapshot_incremental_config() declares it (meta.replaces_whole_snapshots).
    snapshot_marts: set[str] = field(default_factory=set)

    def required(self, table: str, column: str) -> bool:
        return (table, column) in self.not_null or column in self.primary_keys.get(table, [])

    def usable_foreign_keys(self, tables: set[str]) -> list[tuple[str, str, str, str]]:
        """Foreign keys whose referenced column is the whole primary key of a mart being published."""
        return [fk for fk in self.foreign_keys
                if fk[0] in tables and fk[2] in tables and self.primary_keys.get(fk[2]) == [fk[3]]]

    def load_order(self, tables: list[str]) -> list[str]:
        """Referenced tables before the tables that reference them."""
        references = {t: {target for (source, _, target, _) in self.usable_foreign_keys(set(tables)) if source == t}
                      for t in tables}
        ordered: list[str] = []
        while len(ordered) < len(tables):
            ready = [t for t in tables if t not in ordered and references[t] <= set(ordered) | {t}]
            if not ready:
                raise ValueError(f"circular foreign keys between {sorted(set(tables) - set(ordered))}")
            ordered.extend(ready)
        return ordered


def dbt_facts(manifest_path: Path = MANIFEST) -> DbtFacts:
    if not manifest_path.exists():
        raise FileNotFoundError(f"{manifest_path} is missing: run 'koperasi run' (dbt writes it) before publishing")
    nodes = json.loads(manifest_path.read_text(encoding="utf-8")).get("nodes", {})
    facts = DbtFacts()
    marts = {n["name"] for n in nodes.values() if n["resource_type"] == "model" and n.get("schema") == "marts"}
    for node in nodes.values():
        if node["resource_type"] == "model" and node["name"] in marts:
            facts.tables[node["name"]] = node.get("description") or ""
            if (node.get("config") or {}).get("meta", {}).get("replaces_whole_snapshots"):
                facts.snapshot_marts.add(node["name"])
            for column, props in node.get("columns", {}).items():
                facts.columns[(node["name"], column)] = props.get("description") or ""
    unique: dict[str, list[list[str]]] = {}
    for node in nodes.values():
        metadata = node.get("test_metadata") or {}
        table = (node.get("attached_node") or "").split(".")[-1]
        if node["resource_type"] != "test" or table not in marts or node.get("config", {}).get("where"):
            continue
        kwargs = metadata.get("kwargs") or {}
        if metadata.get("name") == "unique":
            unique.setdefault(table, []).append([node["column_name"]])
        elif metadata.get("name") == "unique_combination":
            unique.setdefault(table, []).append(list(kwargs.get("columns") or []))
        elif metadata.get("name") == "not_null":
            facts.not_null.add((table, node["column_name"]))
        elif metadata.get("name") == "relationships":
            target = re.search(r"ref\('([^']+)'\)", kwargs.get("to") or "")
            if target and target[1] in marts:
                facts.foreign_keys.append((table, node["column_name"], target[1], kwargs.get("field")))
    for table, keys in unique.items():
        facts.primary_keys[table] = min(keys, key=len)  # the narrowest declared grain
    return facts
