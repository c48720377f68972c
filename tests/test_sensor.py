"""The inbox sensor: a new file starts exactly one run; the same file dropped twice starts nothing."""

from __future__ import annotations

import shutil

import dagster as dg

from orchestration.definitions import defs
from orchestration.resources import WarehouseResource
from orchestration.sensors import inbox_sensor


def _tick(instance, home, cursor):
    context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                      resources={"warehouse": WarehouseResource(home=str(home))}, definitions=defs)
    result = inbox_sensor(context)
    return result, result.cursor


def test_new_files_start_one_run_each_and_duplicates_none(tmp_path, sample_inbox):
    home = tmp_path / "home"
    (home / "inbox" / "ods").mkdir(parents=True)
    (home / "inbox" / "bps").mkdir(parents=True)
    instance = dg.DagsterInstance.ephemeral()

    result, cursor = _tick(instance, home, None)
    assert result.run_requests == []

    export = next(p for p in sorted((sample_inbox / "ods").iterdir()) if "2024-03-31" in p.name)
    shutil.copy(export, home / "inbox" / "ods" / export.name)
    result, cursor = _tick(instance, home, cursor)
    (run,) = result.run_requests
    assert run.job_name == "ods_snapshot_job" and run.partition_key == "2024-03-31"
    assert run.run_key.startswith("ods:")
    (added,) = result.dynamic_partitions_requests
    assert list(added.partition_keys) == ["2024-03-31"]

    result, cursor = _tick(instance, home, cursor)
    assert result.run_requests == [], "the same file starts nothing the second time"

    shutil.copy(export, home / "inbox" / "ods" / ("copy_of_" + export.name))
    result, cursor = _tick(instance, home, cursor)
    assert result.run_requests == [], "a copy of an already-seen file starts nothing"

    population = next((sample_inbox / "bps").glob("penduduk*"))
    shutil.copy(population, home / "inbox" / "bps" / population.name)
    result, cursor = _tick(instance, home, cursor)
    (run,) = result.run_requests
    assert run.job_name == "refresh_job" and run.run_key.startswith("bps:")


def test_ods_file_without_a_date_starts_nothing(tmp_path, sample_inbox):
    home = tmp_path / "home"
    (home / "inbox" / "ods").mkdir(parents=True)
    export = next((sample_inbox / "ods").glob("*.csv"))
    shutil.copy(export, home / "inbox" / "ods" / "export_tanpa_tanggal.csv")
    result, _ = _tick(dg.DagsterInstance.ephemeral(), home, None)
    assert result.run_requests == []
