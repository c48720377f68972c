"""The short summary `koperasi run` prints: rows per mart, quarantine per source, where things are, timings."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from warehouse.opendata import read_validation
from warehouse.paths import KoperasiPaths


def print_summary(paths: KoperasiPaths, phases: list[tuple[str, float]], total_seconds: float,
                  report: Path | None = None) -> None:
    print("\n== koperasi run ==")
    try:
        _print_counts(paths)
    except duckdb.IOException:  # another writer took the database once the run released it
        print("(row counts skipped: the build database is being written by another command)")
    if paths.pseudonym_key_file.exists() and not os.environ.get("KOPERASI_PSEUDONYM_KEY"):
        print(f"pseudonym key:    {paths.pseudonym_key_file}  (generated for this installation: back it up; "
              "member lists loaded later must use the same key)")
    print(f"build database:   {paths.build_db}")
    if paths.serving_db.exists():
        print(f"serving database: {paths.serving_db}  (BI reads this, read-only)")
        print(f"parquet exports:  {paths.exports / 'current'}")
    opendata = read_validation(paths.opendata / "current")
    if opendata is not None:
        datasets = opendata["datasets"]
        valid = sum(1 for d in datasets if d["valid"])
        print(f"open data:        {paths.opendata / 'current'}  ({len(datasets)} datasets for the Satu Data portal, "
              f"{valid} valid; datapackage.json, katalog.jsonld)")
    if report is not None:
        print(f"quality report:   {report}  (for stewards, in Indonesian; or: .venv/bin/koperasi quality)")
    if paths.data_docs.exists():
        print(f"GX Data Docs:     {paths.data_docs / 'index.html'}")
    print("phases:")
    for name, seconds in phases:
        print(f"  {name:45s} {seconds:6.1f} s")
    print(f"  {'total':45s} {total_seconds:6.1f} s")


def _print_counts(paths: KoperasiPaths) -> None:
    if not paths.build_db.exists():
        return
    with duckdb.connect(str(paths.build_db), read_only=True) as con:
        marts = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1").fetchall()
        if marts:
            print("rows per mart:")
            for (name,) in marts:
                count = con.execute(f'SELECT count(*) FROM marts."{name}"').fetchone()[0]
                print(f"  {name:32s} {count:>10,}")
        quarantine = con.execute(
            "SELECT source, count(*) FROM raw.quarantine GROUP BY 1 ORDER BY 1").fetchall()
        print("quarantined rows per source: " + (", ".join(f"{s} {n:,}" for s, n in quarantine) or "none"))
