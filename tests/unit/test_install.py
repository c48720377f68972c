"""The environment resolved as pinned: a wrong resolve is silent (pip falls back to dbt-core 1.5)."""

from importlib import metadata

from packaging.requirements import Requirement
from packaging.version import Version


def test_dbt_core_is_1_11():
    assert Version(metadata.version("dbt-core")).release[:2] == (1, 11)


def test_pinned_major_versions():
    expected = {"dagster": (1, 13), "dagster-dbt": (0, 29), "dbt-duckdb": (1, 11), "duckdb": (2, 0),
                "great-expectations": (1, 24)}
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
