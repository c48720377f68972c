"""Times the real pipeline at a named scale against a pure-DuckDB lower bound, in the same run.

    python benchmarks/run.py --scale province|national [--runs N] [--json results.json]

Generates the sample once, then N times (default 3): a full `koperasi run` on a fresh KOPERASI_HOME, the
pure-DuckDB lower bound on the same files, `koperasi run` after one more snapshot arrives, and `koperasi run`
with nothing new. Beside each, the peer a user would pick (dbt and cron): `dbt build` alone on a copy of the
same loaded raw tables (full: a fresh copy; +1: the copy after the new snapshot's rows; no change: the same copy
again). Prints the median of each phase (seconds, rows/s, peak RSS; every run's figures in the JSON), our run /
dbt alone, our run / lower bound, one more snapshot / full build, and writes JSON (default
benchmarks/results/<scale>.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from warehouse.dbt_manifest import DBT_EXECUTABLE

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

SCALES = {
    # scale factor, snapshots, months between snapshots
    "province": (1.0, 4, 3),
    "national": (10.9, 24, 1),  # ~130,000 cooperatives x 24 monthly snapshots ~ 3.1 M registry rows
}


def timed(cmd: list[str], env: dict) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{output[-3000:]}")
    return seconds, usage.ru_maxrss // 1024, output


def step_seconds(home: Path) -> dict[str, float]:
    """Seconds per pipeline phase, from the Dagster event log of the runs just made."""
    import dagster as dg

    phases: dict[str, float] = {}
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        for run in instance.get_runs():
            for step in instance.get_run_step_stats(run.run_id):
                if step.end_time is None or step.start_time is None:
                    continue
                key = step.step_key
                phase = ("checks (marts)" if key == "dbt_test_results" or "check" in key
                         else "dbt build" if "dbt" in key else "publish" if "publication" in key
                         else "ingest + checks (raw)")
                phases[phase] = phases.get(phase, 0.0) + step.end_time - step.start_time
    return phases


def registry_rows(home: Path) -> int:
    import duckdb

    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*) FROM raw.ods_cooperatives").fetchone()[0]


def dbt_alone(home: Path, copy: Path, env: dict, *, fresh: bool) -> float:
    """`dbt build` alone on the raw tables `koperasi run` loaded into ``home`` (copied to ``copy``; ``fresh``:
    nothing built there yet, as a peer's first build)."""
    import duckdb

    (copy / "warehouse").mkdir(parents=True, exist_ok=True)
    build = copy / "warehouse" / "build.duckdb"
    if fresh or not build.exists():
        build.unlink(missing_ok=True)
        with duckdb.connect(str(build)) as con:  # the raw layer only: what a peer's loader would have written
            con.execute(f"ATTACH '{home / 'warehouse' / 'build.duckdb'}' AS loaded (READ_ONLY)")
            con.execute("CREATE SCHEMA raw")
            for (table, kind) in con.execute("SELECT table_name, table_type FROM information_schema.tables "
                                             "WHERE table_catalog = 'loaded' AND table_schema = 'raw'").fetchall():
                if kind == "BASE TABLE":
                    con.execute(f'CREATE TABLE raw."{table}" AS SELECT * FROM loaded.raw."{table}"')
            for (view, sql) in con.execute("SELECT view_name, sql FROM duckdb_views() WHERE database_name = 'loaded' "
                                           "AND schema_name = 'raw'").fetchall():
                con.execute(sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
    else:  # the new snapshot's rows, appended as a peer's loader would
        with duckdb.connect(str(build)) as con:
            con.execute(f"ATTACH '{home / 'warehouse' / 'build.duckdb'}' AS loaded (READ_ONLY)")
            for (table,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = "
                                        "'loaded' AND table_schema = 'raw' AND table_type = 'BASE TABLE'").fetchall():
                con.execute(f'DELETE FROM raw."{table}"')
                con.execute(f'INSERT INTO raw."{table}" SELECT * FROM loaded.raw."{table}"')
    seconds, _, _ = timed([str(DBT_EXECUTABLE), "build", "--quiet", "--project-dir", str(ROOT / "dbt_project"),
                           "--profiles-dir", str(ROOT / "dbt_project"), "--target-path", str(copy / "target")],
                          {**env, "KOPERASI_HOME": str(copy)})
    return seconds


def one_run(generated: Path, work: Path, ods_files: list[Path], base_env: dict) -> dict[str, dict]:
    """One full build on a fresh home, the lower bound, and the build after one more snapshot."""
    home = work / "home"
    env = {**base_env, "KOPERASI_HOME": str(home)}
    for source in ("bps", "opd"):
        shutil.copytree(generated / source, home / "inbox" / source)
    (home / "inbox" / "ods").mkdir(parents=True)
    for path in ods_files[:-1]:
        shutil.copy(path, home / "inbox" / "ods" / path.name)
    phases: dict[str, dict] = {}

    def record(phase: str, seconds: float, rss: int | None, rows: int | None) -> None:
        phases[phase] = {"seconds": round(seconds, 2), "rss_mib": rss,
                         "rows_per_second": round(rows / seconds) if rows and seconds else None}

    seconds, rss, _ = timed([str(BIN / "koperasi"), "run"], env)
    rows = registry_rows(home)
    for phase, phase_seconds in step_seconds(home).items():
        record(f"  {phase}", phase_seconds, None, rows if phase.startswith("ingest") else None)
    record("koperasi run (full)", seconds, rss, rows)
    record("dbt build alone (full)", dbt_alone(home, work / "dbt_alone", env, fresh=True), None, None)

    lower_seconds, lower_rss, lower_output = timed(
        [sys.executable, str(ROOT / "benchmarks" / "lower_bound.py"), "--inbox", str(home / "inbox"),
         "--work", str(work / "lower_bound")], env)
    for line in lower_output.splitlines():
        if line.startswith("phase "):
            _, name, value = line.split()
            record(f"  lower bound {name}", float(value), None, None)
    record("lower bound (pure DuckDB)", lower_seconds, lower_rss, rows)

    shutil.copy(ods_files[-1], home / "inbox" / "ods" / ods_files[-1].name)
    seconds, rss, _ = timed([str(BIN / "koperasi"), "run"], env)
    record("koperasi run (+1 snapshot)", seconds, rss, None)
    record("dbt build alone (+1 snapshot)", dbt_alone(home, work / "dbt_alone", env, fresh=False), None, None)
    seconds, rss, _ = timed([str(BIN / "koperasi"), "run"], env)
    record("koperasi run (no change)", seconds, rss, None)
    record("dbt build alone (no change)", dbt_alone(home, work / "dbt_alone", env, fresh=False), None, None)
    phases["_registry_rows"] = {"rows": rows}
    return phases


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=SCALES, default="province")
    parser.add_argument("--runs", type=int, default=3, help="full/lower-bound/+1 rounds; medians are reported")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args()
    scale, snapshots, months = SCALES[args.scale]
    work = Path(tempfile.mkdtemp(prefix=f"koperasi-bench-{args.scale}-"))
    generated = work / "generated"
    base_env = {**os.environ, "KOPERASI_HOME": str(work / "unused"), "KOPERASI_PSEUDONYM_KEY": "benchmark-key",
                "GX_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(ROOT)}

    # One snapshot more than the full build: it is added afterwards to time an incremental run.
    generate_seconds, generate_rss, _ = timed(
        [str(BIN / "koperasi"), "sample", "--scale", str(scale), "--snapshots", str(snapshots + 1),
         "--months-apart", str(months), "--out", str(generated)], base_env)
    ods_files = sorted((generated / "ods").iterdir(), key=lambda p: re.sub(r"\D", "", p.stem))
    runs = []
    for index in range(args.runs):
        runs.append(one_run(generated, work / f"run{index + 1}", ods_files, base_env))
        if not args.keep:
            shutil.rmtree(work / f"run{index + 1}", ignore_errors=True)
        print(f"run {index + 1}/{args.runs}: full {runs[-1]['koperasi run (full)']['seconds']} s, "
              f"+1 snapshot {runs[-1]['koperasi run (+1 snapshot)']['seconds']} s, "
              f"no change {runs[-1]['koperasi run (no change)']['seconds']} s, "
              f"lower bound {runs[-1]['lower bound (pure DuckDB)']['seconds']} s, "
              f"dbt alone {runs[-1]['dbt build alone (full)']['seconds']} s", flush=True)
    rows = runs[0].pop("_registry_rows")["rows"]
    for run in runs[1:]:
        run.pop("_registry_rows")

    def median(phase: str, key: str):
        values = [run[phase][key] for run in runs if phase in run and run[phase][key] is not None]
        return statistics.median(values) if values else None

    results = [{"phase": "generate", "seconds": round(generate_seconds, 2), "rss_mib": generate_rss,
                "rows_per_second": None}]
    for phase in runs[0]:
        results.append({"phase": phase, "seconds": median(phase, "seconds"), "rss_mib": median(phase, "rss_mib"),
                        "rows_per_second": median(phase, "rows_per_second")})
    full, lower = median("koperasi run (full)", "seconds"), median("lower bound (pure DuckDB)", "seconds")
    incremental = median("koperasi run (+1 snapshot)", "seconds")
    peers = {case: round(median(f"koperasi run ({case})", "seconds") / median(f"dbt build alone ({case})", "seconds"), 2)
             for case in ("full", "+1 snapshot", "no change")}
    summary = {
        "scale": args.scale, "registry_rows": rows, "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "runs": args.runs,
        "pipeline_over_lower_bound": round(full / lower, 2),
        "incremental_over_full": round(incremental / full, 3), "our_run_over_dbt_alone": peers,
        "phases": results, "every_run": runs,
    }
    print(f"\nmedians of {args.runs} run(s)\n{'phase':40s} {'seconds':>9s} {'rows/s':>11s} {'peak RSS':>10s}")
    for r in results:
        rate = f"{r['rows_per_second']:,.0f}" if r["rows_per_second"] else ""
        rss_text = f"{r['rss_mib']:.0f} MiB" if r["rss_mib"] else ""
        print(f"{r['phase']:40s} {r['seconds']:9.2f} {rate:>11s} {rss_text:>10s}")
    print(f"\nregistry rows: {rows:,}; pipeline / lower bound = {summary['pipeline_over_lower_bound']}x; "
          f"incremental / full = {summary['incremental_over_full']:.1%}")
    print("our run / dbt build alone: " + ", ".join(f"{case} {ratio}x" for case, ratio in peers.items()))
    out = args.json or ROOT / "benchmarks" / "results" / f"{args.scale}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"written: {out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
