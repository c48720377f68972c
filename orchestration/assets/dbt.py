"""The dbt project as Dagster assets: one `dbt build` per run (models, seeds, tests as asset checks)."""


import contextlib
import functools
import json
import os
import sys
import time
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_checks import failed_build_evaluations
from orchestration.dbt_project import DBT_PROJECT, DBT_TESTS_TAG, KoperasiTranslator
from orchestration.resources import BUILD_DB_POOL, WarehouseResource
from warehouse import builds, selection
from warehouse.fingerprint import input_fingerprint, unchanged_since_served
from warehouse.dbt_manifest import prepared_manifest, use_dbt_environment
from warehouse.inspect import table_row_count


@contextlib.contextmanager
def _environment(name: str, value: str | None):
    """``name=value`` in the environment inside the block (unchanged when value is None), as it was after it."""
    if value is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)
        if before is not None:
            os.environ[name] = before


@dbt_assets(manifest=prepared_manifest(), project=DBT_PROJECT, dagster_dbt_translator=KoperasiTranslator(),
            pool=BUILD_DB_POOL)
def koperasi_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """One `dbt build`: a new build of the marts, whose every node result goes into the build's verdict."""
    # One target folder per KOPERASI_HOME (runs are serialised by the pipeline lock): dbt's partial parse
    # cache survives between runs instead of a full parse each time.
    target = warehouse.paths.dbt_target
    use_dbt_environment(warehouse.paths)
    with warehouse.writing(f"Dagster run {context.run.run_id[:8]} (dbt build)", context.log.info):
        tests = context.run.tags.get(DBT_TESTS_TAG)
        with warehouse.build_connection() as con:
            inputs = input_fingerprint(con)
            # e.g. a run the sensor started for a file that was withdrawn: the marts BI has are the marts of these
            # inputs. Nothing is built, so nothing downstream (checks, publication) runs. A full test run builds.
            every_test = "all" in (tests, os.environ.get("KOPERASI_DBT_TESTS"))
            served = None if every_test else unchanged_since_served(con, warehouse.paths.serving_db, inputs)
            if served:
                context.log.info(f"inputs unchanged since the served build {served}: no dbt build, nothing to publish")
                return
            # Only what changed since the latest build (when it passed) is rebuilt and tested; the rest keeps that
            # build's rows and results. A run of part of the graph (from the UI) builds what it selected.
            selected = context.op_execution_context.selected_output_names
            whole_graph = set(selected) == set(context.assets_def.node_keys_by_output_name)
            plan = selection.plan(con, warehouse.paths, _manifest(), everything=every_test or not whole_graph)
            builds.start(con, context.run.run_id, input_fingerprint=inputs, input_parts=plan.parts)
            if plan.unchanged:
                carried = builds.carry_over(con, context.run.run_id, plan.reference,
                                            {builds.result_name(u) for u in plan.unchanged})
                context.log.info(f"{len(plan.unchanged)} dbt nodes unchanged since build {plan.reference} are not "
                                 f"run again ({carried} of their results carried over)")
        selection.remember(warehouse.paths, context.run.run_id, prepared_manifest())
        (target / "run_results.json").unlink(missing_ok=True)  # a stale file would judge this build
        # Events are collected first: dbt holds the DuckDB file until it exits; row counts are read afterwards.
        # The nightly schedule's tag tests every row, not only the rebuilt snapshots: for this invocation only
        # (dagster-dbt copies the environment when the invocation starts), never for a later run in this process.
        with _environment("KOPERASI_DBT_TESTS", tests):
            invocation = dbt.cli(["build", *selection.exclusion_args(_manifest(), plan.unchanged)], context=context,
                                 target_path=target, raise_on_error=False)
        started = time.perf_counter()
        # dagster-dbt echoes every dbt log line to stdout; the CLI keeps its own output short (dbt.log has it all).
        quiet = os.environ.get("KOPERASI_QUIET_DBT") == "1"
        with open(os.devnull, "w") if quiet else contextlib.nullcontext(sys.stdout) as sink, \
                contextlib.redirect_stdout(sink):
            events = list(invocation.stream())
        context.log.info(f"dbt build and event stream: {time.perf_counter() - started:.1f} s")
        results, run_results = _node_results(target, invocation.is_successful())
        relations = _relations()
        # Gathered with the database open, yielded once it is closed (Dagster may stop reading this step midway).
        with warehouse.build_connection() as con:
            builds.record(con, context.run.run_id, builds.with_failing_rows(con, results, run_results))
            # What is left as the reference build made it is current too: downstream steps (checks, publication)
            # run on it, and the UI says it was not rebuilt. Nothing unchanged depends on anything rebuilt, so
            # these come first (Dagster wants a step's assets in dependency order).
            outputs = list(_unchanged_outputs(context, con, plan, relations))
            for event in events:
                if isinstance(event, dg.AssetObservation):
                    continue  # a dbt test's result: reported per model by the dbt_test_results checks
                if isinstance(event, dg.Output):
                    unique_id = event.metadata.get("unique_id")
                    relation = relations.get(unique_id.value if unique_id is not None else None)
                    if relation:
                        count = table_row_count(con, *relation)
                        if count is not None:
                            event = event.with_metadata({**event.metadata, "dagster/row_count": count})
                outputs.append(event)
    yield from outputs
    if not invocation.is_successful():
        # Models that did build are reported above; the step fails so nothing downstream (publish) runs.
        yield from failed_build_evaluations(prepared_manifest(), set(context.selected_asset_keys), results)
        failed = [r.describe() for r in results if r.blocking and not r.passed and r.detail != builds.SKIPPED]
        raise dg.Failure(description="dbt build failed: " + (", ".join(failed) or "see the dbt log"))


def _unchanged_outputs(context: dg.AssetExecutionContext, con, plan: selection.Plan,
                       relations: dict[str, tuple[str, str]]):
    translator = KoperasiTranslator()
    nodes = _manifest()["nodes"]
    for unique_id in selection.in_dependency_order(_manifest(), plan.unchanged):
        node = nodes.get(unique_id)
        if node is None or node["resource_type"] not in ("model", "seed"):
            continue
        output = context.assets_def.get_output_name_for_asset_key(translator.get_asset_key(node))
        if output not in context.op_execution_context.selected_output_names:
            continue
        metadata = {"unique_id": unique_id, "rebuilt": False, "unchanged_since_build": plan.reference}
        count = table_row_count(con, *relations[unique_id])
        if count is not None:
            metadata["dagster/row_count"] = count
        yield dg.Output(None, output_name=output, metadata=metadata)


def _node_results(target_path: Path, succeeded: bool) -> tuple[list[builds.CheckResult], dict]:
    """Every dbt node of this invocation as a build result (and run_results.json); a dbt that failed before
    running any node (a parse or connection error) is a failure of its own."""
    try:
        run_results = json.loads((target_path / "run_results.json").read_text())
    except (OSError, ValueError):
        run_results = {}
    results = builds.dbt_results(run_results, _manifest())
    if not succeeded and not any(r.blocking and not r.passed for r in results):
        results.append(builds.CheckResult("step", "dbt build", False, detail="dbt failed; see the dbt log"))
    return results, run_results


@functools.cache
def _manifest() -> dict:
    return json.loads(prepared_manifest().read_text())


@functools.cache
def _relations() -> dict[str, tuple[str, str]]:
    """unique_id -> (schema, table) of every model and seed, read once from the prepared manifest."""
    manifest = _manifest()
    return {n["unique_id"]: (n["schema"], n["alias"]) for n in manifest["nodes"].values()
            if n["resource_type"] in ("model", "seed")}
