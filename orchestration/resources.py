"""Resources: where the warehouse lives (from KOPERASI_HOME) and the dbt CLI."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from ingestion.landing import connect
from warehouse.paths import KoperasiPaths, koperasi_home

# Every step that writes build.duckdb runs in this pool (limit 1; see dagster.yaml written by the CLI).
BUILD_DB_POOL = "koperasi_build_db"


class WarehouseResource(dg.ConfigurableResource):
    home: str

    @property
    def paths(self) -> KoperasiPaths:
        return KoperasiPaths(Path(self.home))

    @contextmanager
    def build_connection(self):
        con = connect(self.paths.build_db)
        try:
            yield con
        finally:
            con.close()


def default_warehouse() -> WarehouseResource:
    home = koperasi_home()
    os.environ["KOPERASI_HOME"] = str(home)  # dbt's profile reads it
    return WarehouseResource(home=str(home))


def dbt_cli(project: DbtProject) -> DbtCliResource:
    # The dbt of this environment, whether or not the virtualenv is on PATH.
    return DbtCliResource(project_dir=project, dbt_executable=str(Path(sys.executable).parent / "dbt"))
