"""Backups an office can restore from: ``koperasi backup`` and ``koperasi restore``.

A backup is one folder (mode 0700, files 0600: it holds the pseudonym key) with
- ``build.duckdb``: the build database (registry of every file, raw and quarantined rows, corrections, marts,
  verdicts), copied under the pipeline lock so no run writes it meanwhile;
- ``archive/``: every source file ever received, by content hash (with ``build.duckdb``'s registry of names
  and snapshot dates this rebuilds everything: ``koperasi restore`` then ``koperasi run``);
- ``pseudonym.key``: without it, member lists loaded later would get other pseudonyms (when the key comes from
  ``KOPERASI_PSEUDONYM_KEY`` instead, the manifest says so: the environment file must be backed up too);
- ``serving.dump``: ``pg_dump -Fc`` of the PostgreSQL serving schemas (marts, meta) when PostgreSQL is used,
  restorable on its own with ``pg_restore`` (a BI database back without touching the warehouse);
- ``manifest.json``: what is in it, with sizes and SHA-256 sums, checked by ``koperasi restore``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from ingestion.private_files import copy_private, private_output
from ingestion.pseudonym import ENV_VAR as PSEUDONYM_ENV_VAR
from warehouse.lock import pipeline_lock
from warehouse.paths import KoperasiPaths


class BackupError(RuntimeError):
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _private_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    copy_private(source, target)


def backup(paths: KoperasiPaths, out: Path | None = None, *, postgres_url: str | None = None) -> Path:
    if not paths.build_db.exists():
        raise BackupError(f"nothing to back up: no build database at {paths.build_db}")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = out or paths.home / "backups" / stamp
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    old_umask = os.umask(0o077)
    try:
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        with pipeline_lock(paths.warehouse_dir, "koperasi backup"):
            _private_copy(paths.build_db, target / "build.duckdb")
            archived = 0
            for file in sorted(paths.archive.rglob("*")) if paths.archive.exists() else []:
                if file.is_file():
                    copy = target / "archive" / file.relative_to(paths.archive)
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    _private_copy(file, copy)
                    archived += 1
            if os.environ.get(PSEUDONYM_ENV_VAR):
                key_source = f"environment ({PSEUDONYM_ENV_VAR}): back up the environment file too"
            elif paths.pseudonym_key_file.exists():
                _private_copy(paths.pseudonym_key_file, target / "pseudonym.key")
                key_source = "pseudonym.key"
            else:
                key_source = "none yet"
        if postgres_url:
            _pg_dump(postgres_url, target / "serving.dump")
        files = {str(p.relative_to(target)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
                 for p in sorted(target.rglob("*")) if p.is_file()}
        with private_output(target / "manifest.json", encoding="utf-8") as f:
            f.write(json.dumps({"created_at": stamp, "home": str(paths.home), "archived_files": archived,
                                "pseudonym_key": key_source, "postgres": bool(postgres_url), "files": files},
                               indent=1))
    finally:
        os.umask(old_umask)
    return target


def _pg_dump(url: str, target: Path) -> None:
    """``pg_dump`` with the password in its environment (PGPASSWORD), never on its command line, where every
    local user could read it (ps, /proc); the dump is created under the process's 0077 umask."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from warehouse.postgres_server import bin_dir

    info = conninfo_to_dict(url)
    password = info.pop("password", None)
    env = {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}
    result = subprocess.run([str(bin_dir() / "pg_dump"), "--format=custom", "--schema=marts", "--schema=meta",
                             "--no-owner", f"--file={target}", f"--dbname={make_conninfo(**info)}"],
                            capture_output=True, text=True, timeout=3600, env=env)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def restore(source: Path, paths: KoperasiPaths) -> None:
    """Puts a backup's build database, archive and key into an empty home (then: ``koperasi publish``)."""
    manifest_path = source / "manifest.json"
    if not manifest_path.exists():
        raise BackupError(f"{source} is not a koperasi backup (no manifest.json)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    listed = {}
    for name, expected in manifest["files"].items():
        file = source / name
        if Path(name).is_absolute() or ".." in Path(name).parts or file.is_symlink():
            raise BackupError(f"{manifest_path}: lists {name!r}, which is not a file inside the backup")
        if not file.is_file() or _sha256(file) != expected["sha256"]:
            raise BackupError(f"{file}: missing or damaged (its SHA-256 differs from the manifest)")
        listed[name] = file
    if paths.build_db.exists():
        raise BackupError(f"{paths.build_db} exists: restore into an empty KOPERASI_HOME")
    if "build.duckdb" not in listed:
        raise BackupError(f"{manifest_path}: lists no build.duckdb")
    # Only what the manifest lists and its sums vouch for is restored, owner-only like everything in the home.
    _private_copy(listed["build.duckdb"], paths.build_db)
    for name, file in listed.items():
        if Path(name).parts[0] == "archive":
            _private_copy(file, paths.archive / Path(*Path(name).parts[1:]))
    if "pseudonym.key" in listed:
        _private_copy(listed["pseudonym.key"], paths.pseudonym_key_file)
