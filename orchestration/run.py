"""`koperasi run`: materialise the whole graph on what is in the inbox, in-process, and summarise it."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.mapping import SOURCES
from warehouse.paths import KoperasiPaths


# Exit statuses of `koperasi run` (and `koperasi ingest`).
EXIT_OK = 0                     # everything loaded, built, checked and published
EXIT_FAILED = 1                 # nothing published: a step or a blocking check failed (the previous publication stays)
EXIT_PUBLISHED_WITH_WITHDRAWN = 3  # published, but some files were withdrawn or rejected and are not in it


@dataclass
class RunOutcome:
    phases: list[tuple[str, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    withdrawn_files: list[tuple[str, str, str, str]] = field(default_factory=list)  # source, file, status, why
    published: bool = False
    report: Path | None = None  # the stewards' report page written at the end of the run
    unchanged: str | None = None  # the served build, when nothing it is made from changed: nothing built


    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def exit_status(self) -> int:
        if self.unchanged and not self.failures:
            return EXIT_PUBLISHED_WITH_WITHDRAWN if self.withdrawn_files else EXIT_OK
        if self.failures or not self.published:
            return EXIT_FAILED
        return EXIT_PUBLISHED_WITH_WITHDRAWN if self.withdrawn_files else EXIT_OK


# In-process runs keep Dagster's console quiet: the summary names every failed step, check and withdrawn file
# (a withdrawn file fails the ODS step by design); stack traces stay in the UI and the event log.
SILENT = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def execute(paths: KoperasiPaths) -> RunOutcome:
    """Ingests the pending ODS snapshots (one run over their partitions), then refreshes everything else once."""
    os.environ["KOPERASI_HOME"] = str(paths.home)
    from warehouse.lock import pipeline_lock

    with pipeline_lock(paths.warehouse_dir, "koperasi run"):
        outcome = _execute_locked(paths)
        # Under the lock: once it is released another writer may hold the database.
        from stewards.commands import write_report_html

        outcome.report = write_report_html(paths)
        return outcome


def _execute_locked(paths: KoperasiPaths) -> RunOutcome:
    from ingestion.api import inbox_files

    outcome = RunOutcome()
    start = time.perf_counter()
    if not any(inbox_files(paths.inbox, source) for source in SOURCES) and not _has_loaded_files(paths):
        outcome.failures.append(
            f"the inbox {paths.inbox} is empty and nothing was loaded before: put ODS exports in inbox/ods, BPS "
            "tables in inbox/bps and OPD lists in inbox/opd (or 'koperasi sample' for sample data), then run again")
        return outcome
    outcome.unchanged = unchanged_since_served(paths)
    if outcome.unchanged:  # no new file, nothing it is made from changed: no Dagster, no dbt, no publication
        outcome.withdrawn_files = withdrawn_inbox_files(paths)
        outcome.phases.append(("compare inputs with the served build", time.perf_counter() - start))
        return outcome
    from warehouse.dbt_worker import warm_dbt

    with warm_dbt():  # dbt is imported while the files are checked, not when the dbt step starts
        _materialise(paths, outcome, start)
    outcome.withdrawn_files = withdrawn_inbox_files(paths)
    return outcome


def _materialise(paths: KoperasiPaths, outcome: RunOutcome, start: float) -> None:
    """The Dagster runs of `koperasi run`: the pending ODS snapshots, then the refresh of everything else."""
    from ingestion.api import inbox_files, pending_snapshot_dates, snapshot_date_from_name
    from orchestration.instance import local_instance, recover_interrupted_runs
    from orchestration.run_events import failed_checks, failed_steps

    instance = local_instance(paths)
    for run_id in recover_interrupted_runs(instance):
        print(f"marked interrupted run {run_id} as failed")
    from warehouse.dbt_manifest import prepare_manifest

    prepare_manifest(paths)  # the code location is defined from it: current before it is imported
    from orchestration.assets.ingestion import ODS_PARTITIONS
    from orchestration.definitions import defs

    outcome.phases.append(("load definitions", time.perf_counter() - start))
    outcome.skipped_files = [p.name for p in inbox_files(paths.inbox, "ods") if snapshot_date_from_name(p.name) is None]
    pending = pending_snapshot_dates(paths.build_db, paths.inbox)
    known = set(instance.get_dynamic_partitions(ODS_PARTITIONS.name))
    new = [d for d in pending if d not in known]
    if new:
        instance.add_dynamic_partitions(ODS_PARTITIONS.name, new)
    if pending:
        # One run for every pending snapshot: a partition range (single-run backfill policy). Dynamic
        # partitions are ordered as they were added, so the range spans the pending ones in that order.
        order = instance.get_dynamic_partitions(ODS_PARTITIONS.name)
        span = sorted(pending, key=order.index)
        t = time.perf_counter()
        result = defs.resolve_job_def("ods_ingest_job").execute_in_process(
            instance=instance, raise_on_error=False, run_config=SILENT,
            tags={"dagster/asset_partition_range_start": span[0], "dagster/asset_partition_range_end": span[-1]})
        outcome.phases.append((f"ingest + check ODS {pending[0]}..{pending[-1]}", time.perf_counter() - t))
        # A file that fails its checks is withdrawn (listed below), not a failure of the run: the rest goes on.
        outcome.failures += failed_steps(result.all_events, but_failed_checks=True)
        outcome.unchanged = None if outcome.failures else unchanged_since_served(paths)  # e.g. a withdrawn file alone
    if not outcome.failures and not outcome.unchanged:
        t = time.perf_counter()
        result = defs.resolve_job_def("refresh_job").execute_in_process(instance=instance, raise_on_error=False,
                                                                           run_config=SILENT)
        outcome.phases.append(("ingest BPS/OPD, dbt build, checks, publish", time.perf_counter() - t))
        outcome.failures += failed_steps(result.all_events) + failed_checks(result.all_events)
        if not result.success and not outcome.failures:
            outcome.failures.append(f"run {result.run_id} did not succeed")
        for event in result.get_asset_materialization_events():
            if event.asset_key.to_user_string() == "serving/publication":
                metadata = event.materialization.metadata
                outcome.published = bool(metadata["published"].value) if "published" in metadata else True
                if "unchanged_since" in metadata:
                    outcome.unchanged = metadata["unchanged_since"].value
        if outcome.failures:
            _conclude_failed_build(paths, result.run_id, outcome.failures)


def unchanged_since_served(paths: KoperasiPaths) -> str | None:
    """The served build's id when a build now would be made of the same inputs (``warehouse.fingerprint``): no
    inbox file the registry has not seen, the latest build passed with the served build's fingerprint, and that
    fingerprint is today's. ``KOPERASI_DBT_TESTS=all`` (a full test run, as the nightly schedule's) always builds."""
    import duckdb

    from ingestion.api import file_sha256, inbox_files
    from ingestion.registry import done_files
    from warehouse import fingerprint

    if os.environ.get("KOPERASI_DBT_TESTS") == "all" or not paths.build_db.exists():
        return None
    try:
        with duckdb.connect(str(paths.build_db), read_only=True) as con:
            known = done_files(con)
            if any((source, file_sha256(p)) not in known for source in SOURCES for p in inbox_files(paths.inbox, source)):
                return None
            return fingerprint.unchanged_since_served(con, paths.serving_db)
    except duckdb.Error:  # another writer holds the file, or it predates these tables: build as usual
        return None


def _has_loaded_files(paths: KoperasiPaths) -> bool:
    from ingestion.registry import has_loaded_files

    return bool(_read_registry(paths, has_loaded_files))


def _read_registry(paths: KoperasiPaths, read):
    """``read(con)`` on a read-only connection to the build database; None when there is no registry yet."""
    import duckdb

    if not paths.build_db.exists():
        return None
    with duckdb.connect(str(paths.build_db), read_only=True) as con:
        try:
            return read(con)
        except duckdb.CatalogException:
            return None


def _conclude_failed_build(paths: KoperasiPaths, run_id: str, failures: list[str]) -> None:
    """A build the run started but never concluded (publication skipped): record why it failed."""
    from ingestion.landing import connect
    from warehouse import builds

    con = connect(paths.build_db)
    try:
        if builds.latest_build_id(con) == run_id and builds.load(con, run_id).finished_at is None:
            builds.finish(con, run_id, [builds.CheckResult("run", f, False) for f in failures])
    finally:
        con.close()


def withdrawn_inbox_files(paths: KoperasiPaths) -> list[tuple[str, str, str, str]]:
    """Files in the inbox that are not in the warehouse because they failed their checks or could not be read."""
    from ingestion.api import inbox_entries, refused_inbox_entries
    from ingestion.registry import files_not_loaded

    names = {(source, p.name) for source in SOURCES for p in inbox_entries(paths.inbox, source)}
    registered = [row for row in _read_registry(paths, files_not_loaded) or [] if (row[0], row[1]) in names]
    # Entries never read (links, special files) are listed even before a run registered them.
    listed = {(row[0], row[1]) for row in registered}
    return registered + [(source, name, "rejected", why) for source in SOURCES
                         for name, why in refused_inbox_entries(paths.inbox, source) if (source, name) not in listed]


def print_withdrawn(withdrawn: list[tuple[str, str, str, str]]) -> None:
    if not withdrawn:
        return
    print(f"\nWITHDRAWN — {len(withdrawn)} inbox file(s) are not in the warehouse (the rest was built as usual):",
          file=sys.stderr)
    for source, file, status, why in withdrawn:
        label = "failed its checks" if status == "failed_checks" else "could not be read"
        print(f"  {source}/{file} {label}: {why.removeprefix(f'{file}: ')[:400]}", file=sys.stderr)
    print("  They are not retried while their content is unchanged. To resubmit: fix the file and put the corrected\n"
          "  file in the inbox (any name), or run 'koperasi ingest --source SOURCE FILE' to try it again as it is\n"
          "  (e.g. after a mapping or threshold change).", file=sys.stderr)


def run_pipeline(paths: KoperasiPaths) -> int:
    from warehouse.lock import PipelineBusy
    from warehouse.summary import print_summary

    started = time.perf_counter()
    os.environ.setdefault("KOPERASI_QUIET_DBT", "1")  # the summary below says what happened; dbt.log has the rest
    try:
        outcome = execute(paths)
    except PipelineBusy as e:
        print(str(e), file=sys.stderr)
        return EXIT_FAILED
    print_summary(paths, outcome.phases, time.perf_counter() - started, report=outcome.report)
    for name in outcome.skipped_files:
        print(f"skipped {name}: no snapshot date in the file name "
              "(koperasi ingest --source ods --snapshot-date YYYY-MM-DD FILE)")
    print_withdrawn(outcome.withdrawn_files)
    if outcome.failures:
        print("\nFAILED — nothing was published; BI keeps the previous publication. Failed:", file=sys.stderr)
        for failure in outcome.failures:
            print(f"  {failure}", file=sys.stderr)
    elif outcome.unchanged:
        print(f"unchanged: nothing the served build {outcome.unchanged} is made from has changed (files, dbt project, "
              "thresholds, mappings): no build, no publication")
    elif outcome.published:
        print("published: " + ("with the withdrawn files above left out" if outcome.withdrawn_files else "all files"))
    return outcome.exit_status


def republish(paths: KoperasiPaths, force: bool = False) -> int:
    """Publishes the latest build by hand (e.g. after serving.duckdb was deleted), if its verdict passed; a build
    made of the served build's inputs is not published again unless ``force`` (PostgreSQL still catches up)."""
    if not paths.build_db.exists():
        print(f"no build database at {paths.build_db}: run 'koperasi run' first", file=sys.stderr)
        return EXIT_FAILED
    from warehouse.lock import PipelineBusy, pipeline_lock
    from orchestration.labels import steward_labels
    from warehouse.publish import PublishRefused, latest_verdict, publish_build

    try:
        with pipeline_lock(paths.warehouse_dir, "koperasi publish"):
            served = None if force else _served_unchanged(paths)
            if served:
                print(f"unchanged: build {served}, made of today's inputs, is the one served; nothing published")
                if os.environ.get("KOPERASI_POSTGRES_URL"):
                    from warehouse.postgres_publish import catch_up

                    if caught_up := catch_up(os.environ["KOPERASI_POSTGRES_URL"], paths):
                        print(f"  {caught_up}")
                return EXIT_OK
            verdict = latest_verdict(paths)
            result = publish_build(paths, verdict, run_id="manual-publish", labels=steward_labels())
    except PipelineBusy as e:
        print(str(e), file=sys.stderr)
        return EXIT_FAILED
    except PublishRefused as e:
        print(f"refusing to publish: {e}", file=sys.stderr)
        return EXIT_FAILED
    print(f"published build {result.build_id} ({len(result.tables)} tables) to {result.serving_db} and {result.exports}")
    if result.open_data is not None:
        state = "valid" if result.open_data.valid else "NOT valid: the previous open data stays current"
        print(f"  open data: {len(result.open_data.datasets)} datasets in {result.open_data.folder} ({state})")
    if os.environ.get("KOPERASI_POSTGRES_URL"):
        print("  and to PostgreSQL (KOPERASI_POSTGRES_URL): schemas marts, meta and quality, read by koperasi_bi")
    return EXIT_OK


def _served_unchanged(paths: KoperasiPaths) -> str | None:
    import duckdb

    from warehouse.fingerprint import unchanged_since_served

    with duckdb.connect(str(paths.build_db), read_only=True) as con:
        try:
            return unchanged_since_served(con, paths.serving_db)
        except duckdb.CatalogException:  # no builds recorded yet
            return None
