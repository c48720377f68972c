"""Resources: where the warehouse lives (from KOPERASI_HOME) and the dbt CLI."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from ingestion.landing import connect
from warehouse.lock import pipeline_lock
from warehouse.paths import KoperasiPaths, koperasi_home

# Every step that writes build.duckdb runs in this pool (limit 1; see dagster.yaml written by the CLI).
BUILD_DB_POOL = "koperasi_build_db"


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse lives; an empty ``home`` means $KOPERASI_HOME at run time."""

    home: str = ""

    @property
    def paths(self) -> KoperasiPaths:
        return KoperasiPaths(Path(self.home) if self.home else koperasi_home())

    @contextmanager
    def writing(self, purpose: str = "a Dagster run", log=None):
        """Holds the pipeline lock (shared with the CLI; re-entrant within `koperasi run`)."""
        with pipeline_lock(self.paths.warehouse_dir, purpose, announce=log):
            yield

    @contextmanager
    def build_connection(self, purpose: str = "a Dagster run", log=None):
        """A read-write connection to build.duckdb, under the pipeline lock."""
        with self.writing(purpose, log):
            con = connect(self.paths.build_db)
            try:
                yield con
            finally:
                con.close()


def default_warehouse() -> WarehouseResource:
    return WarehouseResource()
