"""Which dbt nodes a build leaves as the latest build made them (warehouse.selection), on small manifests written
out here: a change rebuilds itself and everything downstream of it, nothing else; some changes rebuild all."""

from __future__ import annotations

import copy

from warehouse.selection import exclusion_args, in_dependency_order, unchanged_nodes

PARTS = {"province": "12", "project_settings": "p", "source:current_ods": "o1", "source:current_bps": "b1"}


def _node(unique_id: str, sql: str = "select 1", **extra) -> dict:
    resource_type, package, name = unique_id.split(".")[:3]
    return {"unique_id": unique_id, "resource_type": resource_type, "package_name": package, "name": name,
            "fqn": [package, name], "raw_code": sql, "created_at": 1.0, **extra}


def _manifest() -> dict:
    """sources ods -> stg_ods -> fct; bps -> stg_bps -> dim; fct and dim -> mart; a seed -> dim; tests on each."""
    nodes = {u: _node(u) for u in (
        "model.k.stg_ods", "model.k.stg_bps", "model.k.fct", "model.k.dim", "model.k.mart", "seed.k.regions",
        "test.k.not_null_stg_ods", "test.k.not_null_stg_bps", "test.k.relationships_fct_dim",
        "test.k.assert_reconciles")}
    nodes["test.k.assert_reconciles"]["config"] = {"meta": {"required_for_publication": True}}
    parents = {"model.k.stg_ods": ["source.k.current_ods"], "model.k.stg_bps": ["source.k.current_bps"],
               "model.k.fct": ["model.k.stg_ods"], "model.k.dim": ["model.k.stg_bps", "seed.k.regions"],
               "model.k.mart": ["model.k.fct", "model.k.dim"], "test.k.not_null_stg_ods": ["model.k.stg_ods"],
               "test.k.not_null_stg_bps": ["model.k.stg_bps"],
               "test.k.relationships_fct_dim": ["model.k.fct", "model.k.dim"],
               "test.k.assert_reconciles": ["model.k.stg_bps", "model.k.mart"], "seed.k.regions": []}
    children: dict[str, list[str]] = {}
    for child, ps in parents.items():
        for parent in ps:
            children.setdefault(parent, []).append(child)
    unit = {"unit_test.k.mart.sums": {"unique_id": "unit_test.k.mart.sums", "resource_type": "unit_test",
                                      "package_name": "k", "model": "mart", "name": "sums",
                                      "fqn": ["k", "mart", "sums"], "given": [1]}}
    return {"metadata": {"dbt_version": "1.11.0"}, "nodes": nodes, "unit_tests": unit,
            "sources": {"source.k.current_ods": {"name": "current_ods"}, "source.k.current_bps": {"name": "current_bps"}},
            "macros": {"macro.k.m": {"macro_sql": "{% macro m() %}1{% endmacro %}"}},
            "parent_map": parents, "child_map": children}


def test_nothing_changed_leaves_every_node_but_the_required_tests():
    before = _manifest()
    now = copy.deepcopy(before)
    for node in now["nodes"].values():
        node["created_at"] = 2.0  # another parse of the same files
    unchanged = unchanged_nodes(now, before, PARTS, PARTS, always=["test.k.assert_reconciles"])
    assert unchanged == {u for u in [*now["nodes"], *now["unit_tests"]]} - {"test.k.assert_reconciles"}


def test_new_rows_in_one_source_rebuild_what_is_downstream_of_it_only():
    before = _manifest()
    unchanged = unchanged_nodes(_manifest(), before, PARTS, {**PARTS, "source:current_ods": "o0"})
    assert unchanged == {"model.k.stg_bps", "model.k.dim", "seed.k.regions", "test.k.not_null_stg_bps"}


def test_a_changed_seed_rebuilds_the_dimension_and_all_after_it():
    now = _manifest()
    now["nodes"]["seed.k.regions"]["checksum"] = {"name": "sha256", "checksum": "new"}
    unchanged = unchanged_nodes(now, _manifest(), PARTS, PARTS)
    assert unchanged == {"model.k.stg_ods", "model.k.stg_bps", "model.k.fct", "test.k.not_null_stg_ods",
                         "test.k.not_null_stg_bps"}


def test_a_changed_unit_test_rebuilds_its_model():
    now = _manifest()
    now["unit_tests"]["unit_test.k.mart.sums"]["given"] = [2]
    unchanged = unchanged_nodes(now, _manifest(), PARTS, PARTS)
    assert "model.k.mart" not in unchanged and "unit_test.k.mart.sums" not in unchanged
    assert "model.k.fct" in unchanged


def test_what_cannot_be_compared_rebuilds_everything():
    now = _manifest()
    assert unchanged_nodes(now, None, PARTS, PARTS) is None  # no build kept
    assert unchanged_nodes(now, _manifest(), PARTS, None) is None  # built before parts were recorded
    assert unchanged_nodes(now, _manifest(), PARTS, {**PARTS, "province": "32"}) is None
    assert unchanged_nodes(now, _manifest(), PARTS, {**PARTS, "project_settings": "q"}) is None
    changed_macro = _manifest()
    changed_macro["macros"]["macro.k.m"]["macro_sql"] = "{% macro m() %}2{% endmacro %}"
    assert unchanged_nodes(changed_macro, _manifest(), PARTS, PARTS) is None
    other_dbt = _manifest()
    other_dbt["metadata"]["dbt_version"] = "1.11.1"
    assert unchanged_nodes(other_dbt, _manifest(), PARTS, PARTS) is None


def test_unchanged_nodes_come_after_what_they_depend_on():
    manifest = _manifest()
    order = in_dependency_order(manifest, ["model.k.mart", "model.k.stg_bps", "model.k.dim", "seed.k.regions"])
    assert sorted(order) == ["model.k.dim", "model.k.mart", "model.k.stg_bps", "seed.k.regions"]
    assert order.index("model.k.dim") > max(order.index("model.k.stg_bps"), order.index("seed.k.regions"))
    assert order.index("model.k.mart") > order.index("model.k.dim")


def test_the_exclusion_names_each_node_and_adds_no_test_through_its_parents():
    manifest = _manifest()
    assert exclusion_args(manifest, set()) == []
    args = exclusion_args(manifest, {"model.k.dim", "test.k.not_null_stg_bps"})
    assert args == ["--indirect-selection", "empty", "--exclude", "fqn:k.dim fqn:k.not_null_stg_bps"]
