"""Times the real pipeline at a named scale against a pure-DuckDB lower bound, in the same run.

    python benchmarks/run.py --scale province|national [--runs N] [--json results.json]

Generates the sample once, then N times (default 3): a full `koperasi run` on a fresh KOPERASI_HOME, the
pure-DuckDB lower bound on the same files, and `koperasi run` after one more snapshot arrives. Prints the
median of each phase (seconds, rows/s, peak RSS; every run's figures in the JSON), the ratios pipeline / lower
bound and one more snapshot / full build, and writes JSON (default benchmarks/results/<scale>.json).
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
              f"lower bound {runs[-1]['lower bound (pure DuckDB)']['seconds']} s", flush=True)
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
    summary = {
        "scale": args.scale, "registry_rows": rows, "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "runs": args.runs,
        "pipeline_over_lower_bound": round(full / lower, 2),
        "incremental_over_full": round(incremental / full, 3),
        "phases": results, "every_run": runs,
    }
    print(f"\nmedians of {args.runs} run(s)\n{'phase':40s} {'seconds':>9s} {'rows/s':>11s} {'peak RSS':>10s}")
    for r in results:
        rate = f"{r['rows_per_second']:,.0f}" if r["rows_per_second"] else ""
        rss_text = f"{r['rss_mib']:.0f} MiB" if r["rss_mib"] else ""
        print(f"{r['phase']:40s} {r['seconds']:9.2f} {rate:>11s} {rss_text:>10s}")
    print(f"\nregistry rows: {rows:,}; pipeline / lower bound = {summary['pipeline_over_lower_bound']}x; "
          f"incremental / full = {summary['incremental_over_full']:.1%}")
    out = args.json or ROOT / "benchmarks" / "results" / f"{args.scale}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"written: {out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
