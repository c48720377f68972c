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


def test_new_files_arriving_together_start_one_run_and_duplicates_none(tmp_path, sample_inbox):
    home = tmp_path / "home"
    (home / "inbox" / "ods").mkdir(parents=True)
    (home / "inbox" / "bps").mkdir(parents=True)
    instance = dg.DagsterInstance.ephemeral()

    result, cursor = _tick(instance, home, None)
    assert result.run_requests == []

    exports = sorted(p for p in (sample_inbox / "ods").iterdir() if "2024-03-31" in p.name or "2024-09-30" in p.name)
    for export in exports:
        shutil.copy(export, home / "inbox" / "ods" / export.name)
    population = next((sample_inbox / "bps").glob("penduduk*"))
    shutil.copy(population, home / "inbox" / "bps" / population.name)
    result, cursor = _tick(instance, home, cursor)
    (run,) = result.run_requests
    assert run.job_name == "ods_snapshot_job", "two snapshots and a BPS table: one run"
    assert (run.tags["dagster/asset_partition_range_start"], run.tags["dagster/asset_partition_range_end"]) == \
        ("2024-03-31", "2024-09-30")
    (added,) = result.dynamic_partitions_requests
    assert list(added.partition_keys) == ["2024-03-31", "2024-09-30"]

    result, cursor = _tick(instance, home, cursor)
    assert result.run_requests == [], "the same files start nothing the second time"

    shutil.copy(exports[0], home / "inbox" / "ods" / ("copy_of_" + exports[0].name))
    result, cursor = _tick(instance, home, cursor)
    assert result.run_requests == [], "a copy of an already-seen file starts nothing"

    businesses = next((sample_inbox / "bps").glob("se2016*"))
    shutil.copy(businesses, home / "inbox" / "bps" / businesses.name)
    result, cursor = _tick(instance, home, cursor)
    (run,) = result.run_requests
    assert run.job_name == "refresh_job" and run.run_key.startswith("inbox:bps:")


def test_files_the_warehouse_already_has_start_no_run(built_home):
    """`make dev` after `make run`: every inbox file is in the file registry, so the sensor starts nothing."""
    home, _ = built_home
    result, cursor = _tick(dg.DagsterInstance.ephemeral(), home.home, None)
    assert result.run_requests == [] and cursor


def test_sensor_and_schedule_are_off_by_default():
    from orchestration.sensors import daily_refresh_schedule

    assert inbox_sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert daily_refresh_schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_ods_file_without_a_date_starts_nothing(tmp_path, sample_inbox):
    home = tmp_path / "home"
    (home / "inbox" / "ods").mkdir(parents=True)
    export = next((sample_inbox / "ods").glob("*.csv"))
    shutil.copy(export, home / "inbox" / "ods" / "export_tanpa_tanggal.csv")
    result, _ = _tick(dg.DagsterInstance.ephemeral(), home, None)
    assert result.run_requests == []


def test_the_sensor_skips_its_tick_while_another_process_writes(tmp_path, sample_inbox):
    """DuckDB refuses a writer while another process has the file open, so the sensor must not open the build
    database while a run's step may connect: it skips the tick when the pipeline lock is held elsewhere."""
    import subprocess
    import sys

    import duckdb

    home = tmp_path / "home"
    shutil.copytree(sample_inbox, home / "inbox")
    (home / "warehouse").mkdir(parents=True)
    duckdb.connect(str(home / "warehouse" / "build.duckdb")).close()
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom pathlib import Path\nfrom warehouse.lock import pipeline_lock\n"
        f"with pipeline_lock(Path({str(home / 'warehouse')!r}), 'a test writer'):\n"
        "    print('held', flush=True)\n    time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "held"
        result = inbox_sensor(dg.build_sensor_context(
            instance=dg.DagsterInstance.ephemeral(), resources={"warehouse": WarehouseResource(home=str(home))},
            definitions=defs))
        assert isinstance(result, dg.SkipReason) and "writing" in result.skip_message
    finally:
        writer.kill()
        writer.wait()
    result, _ = _tick(dg.DagsterInstance.ephemeral(), home, None)
    assert len(result.run_requests) == 1, "with the lock free, the same tick starts the run"


def test_sensor_and_schedule_are_on_by_default_under_the_service():
    import os
    import subprocess
    import sys

    probe = ("from orchestration.sensors import inbox_sensor, daily_refresh_schedule as s\n"
             "print(inbox_sensor.default_status.value, s.default_status.value)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "KOPERASI_AUTOMATION": "on"})
    assert result.stdout.split() == ["RUNNING", "RUNNING"], result.stderr
