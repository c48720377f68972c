"""Ingestion throughput against DuckDB's own read_csv of the same file, side by side in one run.

    python benchmarks/ingest_throughput.py [--rows 1000000] [--repeat 3]

Target: our ingest (parse every cell, quarantine, lineage, registry, archive) at >= 50% of the
throughput of `CREATE TABLE AS SELECT * FROM read_csv(...)`, and peak RSS under 1 GiB for 1M rows.
Each side runs --repeat times in fresh processes, alternating; the median time and the largest peak RSS count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent("""
    import sys, time, json
    from pathlib import Path
    mode, path, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    # Imports and connections are made before the clock starts on both sides: this times the loading work.
    import duckdb
    if mode == "duckdb":
        con = duckdb.connect(str(work / "duck.duckdb"))
        con.execute("SET preserve_insertion_order = false")
    else:
        from ingestion.api import ingest_file
        from ingestion.landing import connect
        con = connect(work / "ours.duckdb")
    start = time.perf_counter()
    if mode == "duckdb":
        con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, delim=';', header=true)", [str(path)])
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    else:
        result = ingest_file(con, path, "ods", work / "archive")
        assert result.status == "loaded", result.error
        rows = result.rows_loaded
    print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows}))
""")


def child(mode: str, path: Path, work: Path) -> dict:
    process = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(path), str(work)], stdout=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output
    return {**json.loads(output.strip().splitlines()[-1]), "rss_mib": usage.ru_maxrss // 1024}


def csv_of_rows(generated: Path, rows: int, out: Path) -> Path:
    """Concatenates generated CSV exports (same header) until the file has `rows` data rows."""
    sources = sorted(p for p in (generated / "ods").iterdir() if p.suffix == ".csv")
    header = None
    written = 0
    with out.open("wb") as f:
        while written < rows:
            for source in sources:
                lines = source.read_bytes().split(b"\r\n")
                header = header or lines[0]
                if written == 0:
                    f.write(header + b"\r\n")
                body = [line for line in lines[1:] if line][: rows - written]
                # Fresh registry numbers per copy so the rows stay unique.
                copy = written // max(1, len(body))
                f.write(b"".join(b"%02d" % (copy % 100) + line[2:] + b"\r\n" for line in body))
                written += len(body)
                if written >= rows:
                    break
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="koperasi-ingest-bench-"))
    generated = work / "generated"
    subprocess.run([str(Path(sys.executable).parent / "koperasi"), "sample", "--scale", "10", "--snapshots", "1",
                    "--out", str(generated)], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "KOPERASI_HOME": str(work / "home")})
    # DuckDB reads no Windows-1252: both sides read the same UTF-8 re-encoding of the export.
    exported = next((generated / "ods").glob("*.csv"))
    snapshot = work / exported.name
    snapshot.write_bytes(exported.read_bytes().decode("cp1252").encode("utf-8"))
    exported.unlink()
    exported.with_name(snapshot.name).write_bytes(snapshot.read_bytes())
    big = csv_of_rows(generated, args.rows, work / "ods_big_2024-12-31.csv")
    report = {}
    for label, path in (("scale-10 snapshot", snapshot), (f"{args.rows:,}-row CSV", big)):
        trials = {"duckdb": [], "ours": []}
        for attempt in range(args.repeat):
            for mode in trials:
                target = work / f"{mode}-{path.stem}-{attempt}"
                target.mkdir()
                trials[mode].append(child(mode, path, target))
                shutil.rmtree(target)
        runs = {mode: {"seconds": statistics.median(t["seconds"] for t in results), "rows": results[0]["rows"],
                       "rss_mib": max(t["rss_mib"] for t in results), "all_seconds": [round(t["seconds"], 3) for t in results]}
                for mode, results in trials.items()}
        ratio = (runs["ours"]["rows"] / runs["ours"]["seconds"]) / (runs["duckdb"]["rows"] / runs["duckdb"]["seconds"])
        report[label] = {**runs, "throughput_ratio": round(ratio, 2)}
        print(f"{label}: duckdb read_csv {runs['duckdb']['seconds']:.2f} s ({runs['duckdb']['rss_mib']} MiB), "
              f"koperasi ingest {runs['ours']['seconds']:.2f} s ({runs['ours']['rss_mib']} MiB), "
              f"throughput ratio {ratio:.2f} (target >= 0.5)")
    out = ROOT / "benchmarks" / "results" / "ingest_throughput.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
