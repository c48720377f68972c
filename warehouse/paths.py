"""Every runtime path derives from one setting, ``KOPERASI_HOME`` (default ``./data``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from expectations.layout import data_docs_dir


@dataclass(frozen=True)
class KoperasiPaths:
    home: Path

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    def inbox_for(self, source: str) -> Path:
        return self.inbox / source

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def build_db(self) -> Path:
        return self.warehouse_dir / "build.duckdb"

    @property
    def serving_db(self) -> Path:
        return self.warehouse_dir / "serving.duckdb"

    @property
    def exports(self) -> Path:
        return self.home / "exports"

    @property
    def opendata(self) -> Path:
        """The open datasets for the Satu Data portals (``current`` links to the newest version)."""
        return self.exports / "opendata"

    @property
    def quality(self) -> Path:
        return self.home / "quality"

    @property
    def data_docs(self) -> Path:
        return data_docs_dir(self.quality)

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def dbt_target(self) -> Path:
        return self.home / "dbt" / "target"

    @property
    def pseudonym_key_file(self) -> Path:
        return self.home / "pseudonym.key"


def koperasi_home() -> Path:
    return Path(os.environ.get("KOPERASI_HOME", "data")).resolve()


def get_paths() -> KoperasiPaths:
    return KoperasiPaths(koperasi_home())
