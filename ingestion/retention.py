"""Retention of the originals that carry personal data: OPD lists (member lists with names and NIPs, registry
lists with the chair's KTP, phone and address) are kept in ``archive/`` only as long as the office decides.

``purge_opd_originals`` deletes the archived originals of OPD files received before a date. The registry keeps
that each file existed (name, hash, counts, status) and says when its original was removed (``purged_at``); the
pseudonymised rows it loaded stay in the warehouse. Backups made earlier still hold the originals: they age out
with the backups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb


@dataclass
class Purged:
    file: str
    sha256: str
    received: date


def purge_opd_originals(con: duckdb.DuckDBPyConnection, archive_dir: Path, before: date, *,
                        dry_run: bool = False) -> list[Purged]:
    con.execute("ALTER TABLE raw.ingested_files ADD COLUMN IF NOT EXISTS purged_at TIMESTAMP")
    rows = con.execute("""
        SELECT DISTINCT file, sha256, archived_as, CAST(min(started_at) OVER (PARTITION BY sha256) AS DATE)
        FROM raw.ingested_files
        WHERE source = 'opd' AND archived_as IS NOT NULL AND purged_at IS NULL
        QUALIFY CAST(min(started_at) OVER (PARTITION BY sha256) AS DATE) < ?
        ORDER BY 4, 1""", [before]).fetchall()
    purged = [Purged(file, sha, received) for file, sha, _, received in rows]
    if dry_run:
        return purged
    for _, sha, archived_as, _ in rows:
        (archive_dir / sha[:2] / archived_as).unlink(missing_ok=True)
        con.execute("UPDATE raw.ingested_files SET purged_at = now()::TIMESTAMP WHERE sha256 = ? AND source = 'opd'",
                    [sha])
    return purged
