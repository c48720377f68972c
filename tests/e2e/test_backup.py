"""koperasi backup / restore on a small home (the full round trip with PostgreSQL is in test_postgres.py)."""

from __future__ import annotations

import json
import stat

import duckdb
import pytest

from warehouse.backup import BackupError, backup, restore
from warehouse.paths import KoperasiPaths


def _small_home(root) -> KoperasiPaths:
    paths = KoperasiPaths(root)
    paths.warehouse_dir.mkdir(parents=True)
    with duckdb.connect(str(paths.build_db)) as con:
        con.execute("CREATE TABLE registry AS SELECT 'abc' AS sha256")
    (paths.archive / "ab").mkdir(parents=True)
    (paths.archive / "ab" / "abc.csv").write_text("kode;nama\n1201;Nias\n")
    paths.pseudonym_key_file.write_text("a-secret-key\n")
    return paths


def test_a_backup_restores_the_database_archive_and_key_into_an_empty_home(tmp_path, monkeypatch):
    monkeypatch.delenv("KOPERASI_PSEUDONYM_KEY", raising=False)
    home = _small_home(tmp_path / "home")
    target = backup(home, tmp_path / "backup")
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert json.loads((target / "manifest.json").read_text())["pseudonym_key"] == "pseudonym.key"
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in target.rglob("*") if p.is_file())

    restored = KoperasiPaths(tmp_path / "restored")
    restore(target, restored)
    assert restored.pseudonym_key_file.read_text() == "a-secret-key\n"
    assert (restored.archive / "ab" / "abc.csv").read_text() == (home.archive / "ab" / "abc.csv").read_text()
    with duckdb.connect(str(restored.build_db), read_only=True) as con:
        assert con.execute("SELECT sha256 FROM registry").fetchall() == [("abc",)]

    with pytest.raises(BackupError, match="restore into an empty KOPERASI_HOME"):
        restore(target, restored)
    (target / "archive" / "ab" / "abc.csv").write_text("kode;nama\n1201;Nias Selatan\n")
    with pytest.raises(BackupError, match="abc.csv: missing or damaged"):
        restore(target, KoperasiPaths(tmp_path / "again"))
    with pytest.raises(BackupError, match="not empty"):
        backup(home, target)
