"""The dbt project's prepared manifest: where it lives, when it is stale, how it is parsed. No Dagster here, so
commands that only need to know (``koperasi prepare``, the publication) start quickly.

The prepared manifest lives with the project, not with a KOPERASI_HOME: it describes the code, so every home
shares it and importing the code location never parses. dbt's own partial-parse cache stays per home (its
target folder): dbt keys it on the profile's connection values, which include the build database's path.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from warehouse.paths import KoperasiPaths

ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = ROOT / "dbt_project"
# dbt's own locked environment (dbt_env/, installed by `make install`): the project's environment has no dbt, so
# loading the Dagster code location imports none of it; every dbt command runs this executable.
DBT_ENVIRONMENT = ROOT / ".tools" / "dbt-venv"
DBT_EXECUTABLE = DBT_ENVIRONMENT / "bin" / "dbt"
PREPARED_TARGET = DBT_PROJECT_DIR / "target"
MANIFEST = PREPARED_TARGET / "manifest.json"
_PROJECT_FILES = (".sql", ".yml", ".csv", ".md")


class ManifestNotPrepared(RuntimeError):
    pass


def _newest_project_file() -> float:
    return max(p.stat().st_mtime for p in DBT_PROJECT_DIR.rglob("*")
               if p.suffix in _PROJECT_FILES and not {"target", "logs"} & set(p.relative_to(DBT_PROJECT_DIR).parts))


def manifest_is_current() -> bool:
    return MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_project_file()


def use_dbt_environment(paths: KoperasiPaths) -> None:
    """dbt's profile reads the build database's location from KOPERASI_HOME; dbt runs in a child process that
    inherits this environment. Called where a run or a command starts."""
    os.environ["KOPERASI_HOME"] = str(paths.home)
    os.environ["KOPERASI_DBT"] = str(DBT_EXECUTABLE)  # run by orchestration/bin/dbt-child


def prepare_manifest(paths: KoperasiPaths) -> bool:
    """Parses the dbt project when its manifest is missing or older than its files; True if it parsed.
    Called where a command starts (``make install``, ``koperasi run``, ``serve``, the test session), never on
    import: the Dagster code location is defined from the manifest this writes."""
    if manifest_is_current():
        _private_partial_parse()
        return False
    done = subprocess.run([str(dbt_executable()), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                           str(DBT_PROJECT_DIR), "--target-path", str(PREPARED_TARGET)],
                          cwd=DBT_PROJECT_DIR, capture_output=True, text=True,
                          env={**os.environ, "KOPERASI_HOME": str(paths.home)})  # the profile names it
    if done.returncode != 0:
        raise ManifestNotPrepared(f"dbt parse of {DBT_PROJECT_DIR} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    _private_partial_parse()
    return True


def _private_partial_parse() -> None:
    """dagster-dbt copies the prepared partial_parse.msgpack into each home's dbt target with its mode: it is
    kept owner-only here, so the copy under KOPERASI_HOME is too, whatever umask made the checkout."""
    partial = PREPARED_TARGET / "partial_parse.msgpack"
    if partial.exists() and partial.stat().st_mode & 0o077:
        partial.chmod(0o600)


def dbt_executable() -> Path:
    """dbt's executable, with a clear error when its environment was never installed."""
    if not DBT_EXECUTABLE.exists():
        raise ManifestNotPrepared(f"dbt is not installed at {DBT_EXECUTABLE}: run 'make install'")
    return DBT_EXECUTABLE


def dbt_version() -> str:
    """dbt-core's version in its environment, read from the installed package's metadata (no dbt import)."""
    from importlib import metadata

    found = list(metadata.distributions(name="dbt-core", path=[str(p) for p in DBT_ENVIRONMENT.glob("lib/python*/site-packages")]))
    if not found:
        raise ManifestNotPrepared(f"dbt-core is not installed in {DBT_ENVIRONMENT}: run 'make install'")
    return found[0].version


def prepared_manifest() -> Path:
    """The manifest, with a clear error when it was never prepared."""
    if not MANIFEST.exists():
        raise ManifestNotPrepared(
            f"the dbt manifest {MANIFEST} is missing: run 'make install' or 'koperasi prepare' (it parses the dbt "
            "project once; 'koperasi run' and 'make serve' do it themselves)")
    return MANIFEST
