"""The one DbtProject of the code location, and the translator that maps dbt onto Dagster asset keys.

Asset keys and groups follow the dbt folder layout (staging / intermediate / marts; seeds in
'reference'); dbt sources map onto the ingestion assets (``raw/<table>``), so lineage is one graph.
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

import dagster as dg
from packaging.version import Version
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject

from warehouse.dbt_manifest import DBT_PROJECT_DIR, PREPARED_TARGET, dbt_version

# Run tag read by the dbt step: "all" makes the data tests on the snapshot tables cover every snapshot, not only
# those rebuilt by the run (dbt_project/macros/test_scope.sql). The nightly schedule sets it.
DBT_TESTS_TAG = "koperasi/dbt_tests"

# Paths only (no parse here): the manifest is prepared where a command starts (warehouse.dbt_manifest).
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, target_path=PREPARED_TARGET.relative_to(DBT_PROJECT_DIR))


class KoperasiDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two start-up costs measured at ~4.7 s per run on these machines:
    `dbt --version` in a subprocess (the version is known from the installed package) and an in-process
    dbt adapter (only used to fetch row counts, which we read from DuckDB after dbt exits)."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(dbt_version())

    def _initialize_dbt_core_adapter(self, args):
        return None


DBT_CHILD = Path(__file__).resolve().parent / "bin" / "dbt-child"


def dbt_cli(project: DbtProject) -> DbtCliResource:
    """dbt through ``bin/dbt-child``, which runs dbt's own environment's dbt (KOPERASI_DBT, set where the dbt step
    starts: ``warehouse.dbt_manifest.use_dbt_environment``) so that it dies with the process that started it."""
    return KoperasiDbtCliResource(project_dir=project, dbt_executable=str(DBT_CHILD))


class KoperasiTranslator(DagsterDbtTranslator):
    """dbt tests are not one Dagster check each: orchestration.dbt_checks groups them per model."""

    def __init__(self):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "source":
            # A view over an ingested table (meta.ingested_as) is that table's asset: lineage stays one graph.
            table = (dbt_resource_props.get("meta") or {}).get("ingested_as") or dbt_resource_props["name"]
            return dg.AssetKey([dbt_resource_props["source_name"], table])
        return dg.AssetKey([self._layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._layer(dbt_resource_props)

    @staticmethod
    def _layer(dbt_resource_props: Mapping[str, Any]) -> str:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


_TEST_TEXTS = {
    "not_null": "{model}.{column} is never null",
    "unique": "{model}.{column} is unique",
    "accepted_values": "{model}.{column} only takes the values {values}",
    "relationships": "every {model}.{column} exists in {to}.{field}",
    "not_negative": "{model}.{column} is never negative",
    "unique_combination": "({columns}) is unique in {model}",
    "between": "{model}.{column} lies between {min_value} and {max_value}",
    "has_rows": "{model} has at least {min_rows} rows",
}


def describe_test(node: Mapping[str, Any]) -> str:
    """A dbt test's description for the Dagster UI: its own (singular and unit tests have one in YAML), else
    what the generic test with its arguments asserts."""
    if (node.get("description") or "").strip():
        return node["description"].strip()
    metadata = node.get("test_metadata") or {}
    kwargs = dict(metadata.get("kwargs") or {})
    attached = (node.get("attached_node") or "").split(".")[-1]
    to = kwargs.get("to") or ""
    values = {"model": attached, "column": node.get("column_name") or kwargs.get("column_name") or "",
              "values": ", ".join(map(str, kwargs.get("values") or [])), "field": kwargs.get("field") or "",
              "to": to.split("'")[1] if "'" in to else to, "columns": ", ".join(kwargs.get("columns") or []),
              "min_value": kwargs.get("min_value"), "max_value": kwargs.get("max_value"),
              "min_rows": kwargs.get("min_rows", 1)}
    template = _TEST_TEXTS.get(metadata.get("name") or "")
    return template.format(**values) if template else f"dbt test {node.get('name')}"
