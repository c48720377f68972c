"""Which dbt nodes a build must run: those whose definition or input changed since the latest build, if it passed.

A build that passed leaves the build database consistent with its inputs: every model holds what its definition
makes of its inputs, and every test of it passed. A node whose definition (its manifest entry: SQL, YAML, config,
seed checksum) and whose every upstream node and raw input are unchanged since that build would make the same rows
and pass the same tests, so the next build leaves it as it is and carries its results over into its own verdict.
Everything downstream of a change is rebuilt and tested. When there is no such build to compare with (none yet,
the latest failed or was interrupted), when a macro, ``dbt_project.yml``, the province or dbt's version changed,
or when every test must run (the nightly schedule), the build runs everything.

The raw inputs are the dbt sources (``raw.current_*`` views, owned by the ingestion layer): each one's digest is its
view definition, the row count of the table behind it and the current files of its source system.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ingestion.province import province_code
from ingestion.registry import current_files
from warehouse import builds
from warehouse.dbt_manifest import DBT_PROJECT_DIR
from warehouse.paths import KoperasiPaths

BUILDABLE = ("model", "seed", "test", "unit_test", "snapshot")
# Manifest fields that differ between two parses of the same files.
_VOLATILE = ("created_at", "deferred", "compiled", "compiled_code", "extra_ctes", "extra_ctes_injected",
             "relation_name", "build_path", "compiled_path", "root_path")


def input_parts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The digest of each raw input dbt reads (by source name), of the province and of the project settings."""
    parts = {"province": province_code(),
             "project_settings": _digest(*(p.read_bytes() for p in (DBT_PROJECT_DIR / "dbt_project.yml",
                                                                   DBT_PROJECT_DIR / "profiles.yml")))}
    files = con.execute(f"SELECT source, sha256, coalesce(corrects, '') FROM raw.ingested_files "
                        f"WHERE sha256 IN ({current_files()}) ORDER BY ALL").fetchall()
    for view, sql in con.execute("SELECT view_name, sql FROM duckdb_views() WHERE schema_name = 'raw' "
                                 "AND view_name LIKE 'current\\_%' ESCAPE '\\' ORDER BY 1").fetchall():
        table = view.removeprefix("current_")
        system = table.split("_", 1)[0]
        rows = _row_count(con, table)
        parts[f"source:{view}"] = _digest(sql.encode(), str(rows).encode(),
                                          *(f"{s}:{c}".encode() for source, s, c in files if source == system))
    return parts


def _row_count(con: duckdb.DuckDBPyConnection, table: str) -> int | None:
    try:
        return con.execute(f'SELECT count(*) FROM raw."{table}"').fetchall()[0][0]
    except duckdb.CatalogException:
        return None


def _digest(*chunks: bytes) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(hashlib.sha256(chunk).digest())
    return digest.hexdigest()


def node_definition(node: Mapping[str, Any]) -> str:
    """A node's manifest entry without what differs between two parses of the same project."""
    return _digest(json.dumps({k: v for k, v in node.items() if k not in _VOLATILE}, sort_keys=True,
                              default=str).encode())


def _macros(manifest: Mapping[str, Any]) -> str:
    return _digest(*(f"{u}={m.get('macro_sql')}".encode() for u, m in sorted(manifest.get("macros", {}).items())))


def _buildable(manifest: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    return {u: n for u, n in nodes.items() if n.get("resource_type") in BUILDABLE}


def unchanged_nodes(now: Mapping[str, Any], then: Mapping[str, Any] | None, parts_now: Mapping[str, str],
                    parts_then: Mapping[str, str] | None, always: Iterable[str] = ()) -> set[str] | None:
    """The unique ids of the nodes the next build may leave as the latest build left them (``then``: its manifest,
    ``parts_then``: its inputs), never one of ``always``; None when it must build everything."""
    if then is None or not parts_then:
        return None
    if any(parts_now.get(k) != parts_then.get(k) for k in ("province", "project_settings")):
        return None
    if (now.get("metadata", {}).get("dbt_version") != then.get("metadata", {}).get("dbt_version")
            or _macros(now) != _macros(then)):
        return None
    nodes, before = _buildable(now), _buildable(then)
    changed = {u for u, n in nodes.items() if u not in before or node_definition(n) != node_definition(before[u])}
    changed |= {u for u in now.get("sources", {})
                if parts_now.get(f"source:{now['sources'][u]['name']}") !=
                parts_then.get(f"source:{now['sources'][u]['name']}")}
    # A unit test of a model runs with its model: a changed unit test rebuilds its model too.
    unit_models = {u: f"model.{n['package_name']}.{n['model']}" for u, n in now.get("unit_tests", {}).items()}
    changed |= {unit_models[u] for u in changed if u in unit_models}
    rebuilt = _downstream(now, changed)
    rebuilt |= {u for u, model in unit_models.items() if model in rebuilt}
    rebuilt |= set(always)
    return {u for u in nodes if u not in rebuilt}


def _downstream(manifest: Mapping[str, Any], start: set[str]) -> set[str]:
    children = manifest.get("child_map", {})
    seen, todo = set(start), list(start)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def in_dependency_order(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> list[str]:
    """``unique_ids`` with every node after the nodes it depends on."""
    wanted, parents, ordered, seen = set(unique_ids), manifest.get("parent_map", {}), [], set()

    def visit(unique_id: str) -> None:
        stack = [(unique_id, iter(parents.get(unique_id, [])))]
        seen.add(unique_id)
        while stack:
            node, pending = stack[-1]
            parent = next(pending, None)
            if parent is None:
                stack.pop()
                if node in wanted:
                    ordered.append(node)
            elif parent not in seen:
                seen.add(parent)
                stack.append((parent, iter(parents.get(parent, []))))

    for unique_id in sorted(wanted):
        if unique_id not in seen:
            visit(unique_id)
    return ordered


def exclusion_args(manifest: Mapping[str, Any], unchanged: set[str]) -> list[str]:
    """dbt arguments that leave exactly ``unchanged`` out of a `dbt build` (no test is dropped or added because
    of the nodes it depends on: the selection already says which tests run)."""
    if not unchanged:
        return []
    nodes = _buildable(manifest)
    return ["--indirect-selection", "empty", "--exclude",
            " ".join(sorted("fqn:" + ".".join(nodes[u]["fqn"]) for u in unchanged))]


@dataclass(frozen=True)
class Plan:
    """What the next build runs: everything but ``unchanged`` (left as build ``reference`` made them)."""

    parts: dict[str, str]
    unchanged: frozenset[str] = frozenset()
    reference: str | None = None


def _state_dir(paths: KoperasiPaths) -> Path:
    return paths.dbt_target.parent / "state"


def plan(con: duckdb.DuckDBPyConnection, paths: KoperasiPaths, manifest: Mapping[str, Any], *,
         everything: bool = False) -> Plan:
    """The nodes the next build may leave as the latest build left them: none when ``everything`` (every test
    must run), when the latest build did not pass, or when its manifest was not kept (``remember``)."""
    parts = input_parts(con)
    latest = None if everything else builds.latest(con)
    state = _state_dir(paths) / f"{latest.build_id}.json" if latest is not None else None
    if latest is None or not latest.passed or state is None or not state.is_file():
        return Plan(parts)
    required = {n["unique_id"] for n in manifest.get("nodes", {}).values()
                if (n.get("config") or {}).get("meta", {}).get("required_for_publication")}
    unchanged = unchanged_nodes(manifest, json.loads(state.read_text(encoding="utf-8")), parts, latest.input_parts,
                                always=required)
    return Plan(parts) if unchanged is None else Plan(parts, frozenset(unchanged), latest.build_id)


def remember(paths: KoperasiPaths, build_id: str, manifest: Path) -> None:
    """Keeps the manifest a build was made with, for the next build to compare with (only the newest two stay:
    this build's and the one it may have been compared with)."""
    state = _state_dir(paths)
    state.mkdir(parents=True, exist_ok=True)
    kept = state / f"{build_id}.json"
    shutil.copyfile(manifest, kept.with_suffix(".tmp"))
    os.replace(kept.with_suffix(".tmp"), kept)
    for old in sorted(state.glob("*.json"), key=lambda p: p.stat().st_mtime)[:-2]:
        old.unlink(missing_ok=True)
