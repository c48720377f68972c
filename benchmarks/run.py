"""Times the real pipeline at a named scale against a pure-DuckDB lower bound, in the same run.

    python benchmarks/run.py --scale province|national [--json results.json]

Prints a table (phase, seconds, rows/s, peak RSS) and the ratio pipeline / lower bound, and writes
the same as JSON (default benchmarks/results/<scale>.json). Everything runs in a temporary KOPERASI_HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
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
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    import dagster as dg

    phases: dict[str, float] = {}
    with dg.DagsterInstance.get() as instance:
        for run in instance.get_runs():
            for step in instance.get_run_step_stats(run.run_id):
                if step.end_time is None or step.start_time is None:
                    continue
                key = step.step_key
                phase = ("dbt build" if "dbt" in key else "publish" if "publication" in key
                         else "checks (marts)" if "expectations" in key or "check" in key else "ingest + checks (raw)")
                phases[phase] = phases.get(phase, 0.0) + step.end_time - step.start_time
    return phases


def registry_rows(home: Path) -> int:
    import duckdb

    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*) FROM raw.ods_cooperatives").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=SCALES, default="province")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the temporary KOPERASI_HOME")
    args = parser.parse_args()
    scale, snapshots, months = SCALES[args.scale]
    work = Path(tempfile.mkdtemp(prefix=f"koperasi-bench-{args.scale}-"))
    home, generated = work / "home", work / "generated"
    env = {**os.environ, "KOPERASI_HOME": str(home), "KOPERASI_PSEUDONYM_KEY": "benchmark-key",
           "GX_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(ROOT)}
    results: list[dict] = []

    def record(phase: str, seconds: float, rss: int | None, rows: int | None) -> None:
        results.append({"phase": phase, "seconds": round(seconds, 2), "rss_mib": rss,
                        "rows_per_second": round(rows / seconds) if rows and seconds else None})

    # One snapshot more than the full build: it is added afterwards to time an incremental run.
    seconds, rss, _ = timed([str(BIN / "koperasi"), "sample", "--scale", str(scale), "--snapshots", str(snapshots + 1),
                             "--months-apart", str(months), "--out", str(generated)], env)
    ods_files = sorted((generated / "ods").iterdir(), key=lambda p: re.sub(r"\D", "", p.stem))
    for source in ("bps", "opd"):
        shutil.copytree(generated / source, home / "inbox" / source)
    (home / "inbox" / "ods").mkdir(parents=True)
    for path in ods_files[:-1]:
        shutil.copy(path, home / "inbox" / "ods" / path.name)
    record("generate", seconds, rss, None)

    seconds, rss, output = timed([str(BIN / "koperasi"), "run"], env)
    rows = registry_rows(home)
    for phase, phase_seconds in step_seconds(home).items():
        record(f"  {phase}", phase_seconds, None, rows if phase.startswith("ingest") else None)
    record("koperasi run (full)", seconds, rss, rows)
    full = seconds

    lower_seconds, lower_rss, lower_output = timed(
        [sys.executable, str(ROOT / "benchmarks" / "lower_bound.py"), "--inbox", str(home / "inbox"),
         "--work", str(work / "lower_bound")], env)
    for line in lower_output.splitlines():
        if line.startswith("phase "):
            _, name, value = line.split()
            record(f"  lower bound {name}", float(value), None, None)
    record("lower bound (pure DuckDB)", lower_seconds, lower_rss, rows)

    shutil.copy(ods_files[-1], home / "inbox" / "ods" / ods_files[-1].name)
    inc_seconds, inc_rss, _ = timed([str(BIN / "koperasi"), "run"], env)
    record("koperasi run (+1 snapshot)", inc_seconds, inc_rss, None)

    summary = {
        "scale": args.scale, "registry_rows": rows, "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "pipeline_over_lower_bound": round(full / lower_seconds, 2),
        "incremental_over_full": round(inc_seconds / full, 3),
        "phases": results,
    }
    print(f"\n{'phase':40s} {'seconds':>9s} {'rows/s':>11s} {'peak RSS':>10s}")
    for r in results:
        rate = f"{r['rows_per_second']:,}" if r["rows_per_second"] else ""
        rss_text = f"{r['rss_mib']} MiB" if r["rss_mib"] else ""
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
