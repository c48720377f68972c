"""What `koperasi quality` shows a data steward: the latest result of every check (failed first),
the quarantine per source, file and reason, and where the Data Docs are; and the rows of one file."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import duckdb

from ingestion import privacy
from ingestion.landing import files_not_loaded
from warehouse import builds
from warehouse.paths import KoperasiPaths


def _rows(con, query: str, params: list | None = None) -> list[tuple]:
    try:
        return con.execute(query, params or []).fetchall()
    except duckdb.CatalogException:
        return []


def latest_checks(con) -> list[tuple]:
    return _rows(con, """
        SELECT check_name, asset, partition_key, severity, passed, observed_value, checked_at FROM quality.check_results
        QUALIFY row_number() OVER (PARTITION BY check_name, asset, partition_key ORDER BY checked_at DESC) = 1
        ORDER BY passed, severity, asset, check_name, partition_key""")


def quarantine_summary(con) -> list[tuple]:
    return _rows(con, "SELECT source, file, reason, count(*) FROM raw.quarantine GROUP BY ALL ORDER BY 1, 2, 4 DESC")


def export_quarantine(con, file: str, out: Path) -> tuple[int, int]:
    """The quarantined rows of one file as CSV: row, reason, message, then the original columns. Every value
    passes the personal-data scan first; what looks personal is masked (returns rows written, values masked)."""
    rows = _rows(con, "SELECT source_row, reason, message, record FROM raw.quarantine WHERE file = ? "
                      "ORDER BY source_row", [file])
    columns: list[str] = []
    records = []
    masked = 0
    for row, reason, message, record in rows:
        data = json.loads(record) if record else {}
        columns += [c for c in data if c not in columns]
        clean = {c: privacy.mask(None if v is None else str(v)) for c, v in data.items()}
        masked += sum(clean[c] != (None if v is None else str(v)) for c, v in data.items())
        clean_message = privacy.mask(message)
        masked += clean_message != message
        records.append((row, reason, clean_message, clean))
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["source_row", "reason", "message", *columns])
        for row, reason, message, data in records:
            writer.writerow([row, reason, message, *[data.get(c) for c in columns]])
    return len(records), masked


def quality_report(paths: KoperasiPaths, quarantine_file: str | None = None, out: str | None = None) -> int:
    if not paths.build_db.exists():
        print(f"no build database at {paths.build_db}: run 'koperasi run' first", file=sys.stderr)
        return 1
    with duckdb.connect(str(paths.build_db), read_only=True) as con:
        if quarantine_file:
            name = Path(quarantine_file).name
            if not _rows(con, "SELECT 1 FROM raw.ingested_files WHERE file = ?", [name]):
                print(f"no file named {name} was ever ingested: nothing to export", file=sys.stderr)
                return 1
            target = Path(out) if out else Path(f"{name}.quarantine.csv")
            count, masked = export_quarantine(con, name, target)
            print(f"wrote {count} quarantined rows of {name} to {target}")
            if masked:
                print(f"  {masked} values that look like personal data (NIP, KTP, phone, e-mail) were masked")
            return 0 if count else 1
        try:
            verdict = builds.latest(con)
        except duckdb.CatalogException:
            verdict = None
        if verdict is not None:
            summary = verdict.summary()
            print(f"latest build {verdict.build_id}: {verdict.verdict} ({summary['checks']} blocking and warning "
                  f"results, {summary['failed_blocking']} failed, {summary['warnings']} warnings)")
            for line in verdict.explain():
                print(f"  FAIL {line}")
        checks = latest_checks(con)
        print(f"checks ({len(checks)}, failed first):")
        for check, asset, partition, severity, passed, observed, _ in checks:
            state = "PASS" if passed else ("FAIL" if severity == "error" else "WARN")
            where = f"{asset}[{partition}]" if partition else asset
            print(f"  {state:4s} {where}: {check}" + ("" if passed else f" (observed {observed})"))
        print("quarantine (source, file, reason, rows):")
        summary = quarantine_summary(con)
        for source, file, reason, count in summary:
            print(f"  {source:4s} {file}: {reason} {count:,}")
        if not summary:
            print("  empty")
        try:
            failed_files = files_not_loaded(con)
        except duckdb.CatalogException:
            failed_files = []
        for _, file, status, error in failed_files:
            print(f"  {status}: {file}: {error}")
    print(f"Data Docs: {paths.data_docs / 'index.html'}")
    return 0
