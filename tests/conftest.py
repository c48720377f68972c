from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")

from ingestion.landing import connect  # noqa: E402
from ingestion.samples import SampleSpec, generate_samples  # noqa: E402

TEST_PSEUDONYM_KEY = "test-pseudonym-key"


def pytest_sessionstart(session):
    """The dbt manifest the code location is defined from, current before any test imports it (as
    `make install` and `koperasi run` do)."""
    from warehouse.dbt_manifest import prepare_manifest
    from warehouse.paths import KoperasiPaths

    prepare_manifest(KoperasiPaths(Path(session.config.rootpath) / "data"))


@pytest.fixture(scope="session")
def sample_inbox(tmp_path_factory) -> Path:
    """The scale-1 sample (province size), generated once per test session."""
    out = tmp_path_factory.mktemp("sample") / "inbox"
    generate_samples(SampleSpec(out=out))
    return out


@pytest.fixture(scope="session")
def dirty_inbox(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dirty") / "inbox"
    generate_samples(SampleSpec(out=out, scale=0.2, dirty=0.01))
    return out


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    """A fresh KOPERASI_HOME with a pseudonym key, as an operator would configure it."""
    monkeypatch.setenv("KOPERASI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KOPERASI_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)
    return tmp_path / "home"


@pytest.fixture()
def con(tmp_path):
    connection = connect(tmp_path / "build.duckdb")
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def province_build(tmp_path_factory, sample_inbox):
    """The scale-1 sample built once per session by the real pipeline (`koperasi run`). Never changed: a module
    or test that builds on it gets its own copy (``built_home``, ``own_home``)."""
    from orchestration.run import execute
    from warehouse.paths import KoperasiPaths

    root = tmp_path_factory.mktemp("province") / "home"
    shutil.copytree(sample_inbox, root / "inbox")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KOPERASI_HOME", str(root))
        mp.setenv("KOPERASI_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)
        outcome = execute(KoperasiPaths(root))
    assert outcome.ok, outcome.failures
    return root, outcome


def _copy_of_build(province_build, root: Path, mp: pytest.MonkeyPatch):
    from warehouse.paths import KoperasiPaths

    source, outcome = province_build
    shutil.copytree(source, root, symlinks=True)  # exports/current is a relative link into exports/versions
    mp.setenv("KOPERASI_HOME", str(root))
    mp.setenv("KOPERASI_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)
    return KoperasiPaths(root), outcome


@pytest.fixture(scope="module")
def built_home(tmp_path_factory, province_build):
    """(paths, outcome): a copy of the session's province build for one module, which may change it."""
    with pytest.MonkeyPatch.context() as mp:
        yield _copy_of_build(province_build, tmp_path_factory.mktemp("built") / "home", mp)


@pytest.fixture()
def own_home(tmp_path, province_build, monkeypatch):
    """(paths, outcome): a copy of the province build for one test, so tests that change it are independent."""
    return _copy_of_build(province_build, tmp_path / "home", monkeypatch)
