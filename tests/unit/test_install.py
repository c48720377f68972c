"""The environments resolved as pinned: a wrong resolve is silent (pip falls back to dbt-core 1.5)."""

from importlib import metadata

from packaging.requirements import Requirement
from packaging.version import Version


def _dbt_environment(package: str) -> list[str]:
    """The versions of ``package`` in dbt's own environment (dbt_env/)."""
    from warehouse.dbt_manifest import DBT_ENVIRONMENT

    site = [str(p) for p in DBT_ENVIRONMENT.glob("lib/python*/site-packages")]
    return [d.version for d in metadata.distributions(name=package, path=site)]


def test_dbt_core_is_1_11_in_its_own_environment():
    assert [Version(v).release[:2] for v in _dbt_environment("dbt-core")] == [(1, 11)]
    assert [Version(v).release[:2] for v in _dbt_environment("dbt-duckdb")] == [(1, 11)]


def test_dbt_writes_the_build_database_with_the_projects_duckdb():
    """Both writers of build.duckdb are the same DuckDB (one storage format), and the project has no dbt."""
    assert _dbt_environment("duckdb") == [metadata.version("duckdb")]
    assert not list(metadata.distributions(name="dbt-core"))


def test_pinned_major_versions():
    expected = {"dagster": (1, 13), "dagster-dbt": (0, 29), "duckdb": (2, 0), "great-expectations": (1, 24)}
    for package, release in expected.items():
        assert Version(metadata.version(package)).release[:2] == release, package
    assert Version(metadata.version("polars")).major == 2


def test_no_broken_requirements():
    """What `pip check` does: every installed distribution's requirements are installed and satisfied."""
    installed = {d.metadata["Name"].lower().replace("_", "-"): Version(d.version) for d in metadata.distributions()}
    broken = []
    for dist in metadata.distributions():
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker and not req.marker.evaluate({"extra": ""}):
                continue
            name = req.name.lower().replace("_", "-")
            if name not in installed:
                broken.append(f"{dist.metadata['Name']} needs {req} (missing)")
            elif req.specifier and not req.specifier.contains(installed[name], prereleases=True):
                broken.append(f"{dist.metadata['Name']} needs {req} (have {installed[name]})")
    assert broken == []
