"""dbt's data and unit tests as Dagster asset checks: one check per tested model and severity, whose result lists
every test of that model with what it asserts, its status and its failing rows.

``dbt_tests`` (severity error) blocks what is downstream; ``dbt_warnings`` (severity warn) does not. A check per
test cost three events each (planned, evaluated, output: ~370 of a province refresh's 507 events); per model
it is ~100 (236 in all). The tests themselves run inside the dbt step's `dbt build` (so a failing test still stops dbt from
building on bad data); these checks report this run's results, recorded in the build's verdict. Run alone
(from the UI's check tab, with no dbt build in the run), a check runs its model's tests with `dbt test`.
"""

import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt_project import KoperasiTranslator, describe_test
from orchestration.resources import BUILD_DB_POOL, WarehouseResource
from warehouse import builds
from warehouse.dbt_manifest import use_dbt_environment

BLOCKING, WARNING = "dbt_tests", "dbt_warnings"


@dataclass(frozen=True)
class DbtTest:
    result_name: str  # as the build's verdict names it (unique_id without "test.<project>.")
    dbt_name: str  # as dbt names it, shown beside what it asserts
    asserts: str  # what it asserts, in words
    model: str  # the dbt name of the node it tests (for `dbt test --select`)
    check: dg.AssetCheckKey
    other_inputs: frozenset[dg.AssetKey]  # e.g. the dimension a relationships test compares with


def _tested_node(manifest: Mapping[str, Any], unique_id: str, node: Mapping[str, Any]) -> str | None:
    """The node a test is about: a generic test's attached node, a unit test's model, a singular test's only
    parent, or the model named in its meta (dagster.ref) when it has several."""
    if node["resource_type"] == "unit_test":
        return f"model.{node['package_name']}.{node['model']}"
    if node.get("attached_node"):
        return node["attached_node"]
    parents = manifest["parent_map"].get(unique_id, [])
    if len(parents) == 1:
        return parents[0]
    ref = (((node.get("config") or {}).get("meta") or node.get("meta") or {}).get("dagster") or {}).get("ref") or {}
    return next((u for u, n in manifest["nodes"].items() if ref and n.get("name") == ref.get("name")
                 and n["resource_type"] in ("model", "seed")), None)


def dbt_tests(manifest: Mapping[str, Any]) -> list[DbtTest]:
    translator = KoperasiTranslator()
    nodes = {u: n for u, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed", "snapshot")}
    inputs = {**nodes, **manifest.get("sources", {})}

    def key(unique_id: str) -> dg.AssetKey:
        return translator.get_asset_key(inputs[unique_id])

    tests = []
    for unique_id, node in {**manifest["nodes"], **manifest.get("unit_tests", {})}.items():
        if node["resource_type"] not in ("test", "unit_test"):
            continue
        tested = _tested_node(manifest, unique_id, node)
        if tested is None or tested not in nodes:
            continue  # a test of a source, or of nothing: dbt still runs it and the build's verdict records it
        severity = ((node.get("config") or {}).get("severity") or "error").lower()
        asset = key(tested)
        parents = {key(p) for p in manifest["parent_map"].get(unique_id, []) if p in inputs} - {asset}
        tests.append(DbtTest(unique_id.split(".", 2)[-1], node["name"], describe_test(node), nodes[tested]["name"],
                             dg.AssetCheckKey(asset, WARNING if severity == "warn" else BLOCKING),
                             frozenset(parents)))
    return tests


def check_specs(by_check: Mapping[dg.AssetCheckKey, list[DbtTest]]) -> list[dg.AssetCheckSpec]:
    specs = []
    for check, members in sorted(by_check.items(), key=lambda kv: kv[0].to_user_string()):
        kind = "blocking" if check.name == BLOCKING else "warning-only (severity warn)"
        description = (f"{len(members)} {kind} dbt test(s) of this model, run by the dbt step:\n"
                       + "\n".join(f"- {t.asserts} (`{t.dbt_name}`)" for t in sorted(members, key=lambda t: t.asserts)))
        specs.append(dg.AssetCheckSpec(check.name, asset=check.asset_key, description=description,
                                       blocking=check.name == BLOCKING,
                                       additional_deps=sorted(set().union(*(t.other_inputs for t in members)),
                                                              key=lambda k: k.to_user_string())))
    return specs


def _test_results(results) -> dict[str, builds.CheckResult]:
    """The dbt data and unit test results among a build's results, by name."""
    return {r.name: r for r in results if r.kind in ("dbt_test", "dbt_unit_test")}


def summarise(check: dg.AssetCheckKey, members: list[DbtTest],
              results: Mapping[str, builds.CheckResult]) -> dg.AssetCheckResult:
    """One check's result from its tests' results: passed when every test passed; a table of all of them."""
    rows, failed, missing = [], [], []
    for test in sorted(members, key=lambda t: (t.result_name in results and results[t.result_name].passed,
                                                t.asserts)):
        result = results.get(test.result_name)
        if result is None:
            missing.append(test)
            status = "not run"
        else:
            status = "pass" if result.passed else (result.detail or "fail").split(":")[0]
            if not result.passed:
                failed.append(test)
        detail = "" if result is None or result.passed else (result.detail or "").replace("|", "/")[:200]
        rows.append(f"| {test.asserts.replace('|', '/')} | `{test.dbt_name}` | {status} | {detail} |")
    table = "| test | dbt test | status | detail |\n|---|---|---|---|\n" + "\n".join(rows)
    passed = not failed and not missing
    return dg.AssetCheckResult(
        asset_key=check.asset_key, check_name=check.name, passed=passed,
        severity=dg.AssetCheckSeverity.ERROR if check.name == BLOCKING else dg.AssetCheckSeverity.WARN,
        description=None if passed else "; ".join(
            [f"failed: {t.asserts}" for t in failed] + [f"not run: {t.asserts}" for t in missing])[:1000],
        metadata={"tests": dg.MetadataValue.md(table), "tests_run": len(members) - len(missing),
                  "tests_failed": len(failed)})


@lru_cache(maxsize=None)
def _tests_by_check(manifest_path: Path) -> dict[dg.AssetCheckKey, list[DbtTest]]:
    by_check: dict[dg.AssetCheckKey, list[DbtTest]] = defaultdict(list)
    for test in dbt_tests(json.loads(manifest_path.read_text(encoding="utf-8"))):
        by_check[test.check].append(test)
    return dict(by_check)


def failed_build_evaluations(manifest_path: Path, built: set[dg.AssetKey],
                             results: list[builds.CheckResult]) -> list[dg.AssetCheckEvaluation]:
    """When `dbt build` fails, its step fails and the check step after it is skipped: the dbt step reports the
    checks of the models it ran itself, so the UI shows which tests failed (and which never ran)."""
    by_name = _test_results(results)
    evaluations = []
    for check, members in _tests_by_check(manifest_path).items():
        if check.asset_key in built:
            result = summarise(check, members, by_name)
            evaluations.append(dg.AssetCheckEvaluation(
                asset_key=result.asset_key, check_name=result.check_name, passed=result.passed,
                severity=result.severity, description=result.description, metadata=result.metadata))
    return evaluations


def dbt_test_checks(manifest_path: Path) -> dg.AssetChecksDefinition:
    by_check = _tests_by_check(manifest_path)

    @dg.multi_asset_check(specs=check_specs(by_check), can_subset=True, name="dbt_test_results", pool=BUILD_DB_POOL,
                          description="The dbt tests of each model, as run by this run's dbt build.")
    def dbt_test_results(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, dbt: DbtCliResource):
        selected = [k for k in by_check if k in context.selected_asset_check_keys]
        with warehouse.build_connection(f"Dagster run {context.run.run_id[:8]} (dbt test results)",
                                        context.log.info) as con:
            build_id = builds.build_for_run(con, context.run.run_id)
            verdict = builds.load(con, build_id) if build_id else None
        if verdict is not None:
            results = _test_results(verdict.results)
        else:  # no dbt build in this run: run the selected models' tests now
            results = _run_tests(dbt, warehouse, sorted({t.model for k in selected for t in by_check[k]}))
        for check in selected:
            yield summarise(check, by_check[check], results)

    return dbt_test_results


def _run_tests(dbt: DbtCliResource, warehouse: WarehouseResource, models: list[str]) -> dict[str, builds.CheckResult]:
    use_dbt_environment(warehouse.paths)
    with warehouse.writing("dbt test (asset checks run alone)"), tempfile.TemporaryDirectory() as target:
        dbt.cli(["test", "--select", *models], target_path=Path(target), raise_on_error=False).wait()
        try:
            run_results = json.loads((Path(target) / "run_results.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            run_results = {}
    return _test_results(builds.dbt_results(run_results))
