"""PostgreSQL serving (issue 14, parts 1 and 2) against a real server the project starts itself, on a free port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psycopg
import pytest
import sqlalchemy as sa

from orchestration.run import EXIT_FAILED
from warehouse import postgres_server as pg
from warehouse.paths import KoperasiPaths
from warehouse.postgres_publish import BI_ROLE, bi_password, bi_url

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    mp = pytest.MonkeyPatch()
    mp.setenv("KOPERASI_POSTGRES_PORT", str(port))
    local = pg.local_server(KoperasiPaths(tmp_path_factory.mktemp("pg") / "home"))
    pg.start(local)
    yield local
    pg.stop(local)
    mp.undo()


@pytest.fixture(scope="module")
def home(built_home) -> KoperasiPaths:
    return built_home[0]


def _cli(home: KoperasiPaths, server, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KOPERASI_HOME": str(home.home), "KOPERASI_POSTGRES_URL": server.admin_url(),
           "KOPERASI_POSTGRES_PORT": str(server.port)}
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True,
                          env=env, timeout=900)


def _bi(home: KoperasiPaths, server) -> str:
    return bi_url(server.admin_url(), bi_password(home.home))


def _serving(home: KoperasiPaths, query: str) -> list[tuple]:
    with duckdb.connect(str(home.serving_db), read_only=True) as con:
        return con.execute(query).fetchall()


@pytest.fixture(scope="module")
def published(home, server):
    for _ in range(2):  # the second publication keeps the first as marts_previous
        result = _cli(home, server, "publish", "--force")
        assert result.returncode == 0, result.stderr
    return home


MARTS = ["dim_region", "dim_cooperative", "fct_cooperative_snapshot", "mart_member_counts", "mart_cooperative_health",
         "mart_health_by_region", "mart_consolidation_scenario", "mart_umkm_coverage"]


def test_every_mart_matches_the_build_with_keys_comments_and_types(published, server):
    home = published
    with psycopg.connect(_bi(home, server)) as con:
        for mart in MARTS:
            served = _serving(home, f"SELECT count(*) FROM marts.{mart}")[0]
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = %s "
                "ORDER BY ordinal_position", [mart]).fetchall()]
            assert columns == [c for (c,) in _serving(home, f"SELECT column_name FROM information_schema.columns "
                                                             f"WHERE table_schema = 'marts' AND table_name = '{mart}' "
                                                             "ORDER BY ordinal_position")]
            assert con.execute(f"SELECT count(*) FROM marts.{mart}").fetchall()[0][0] == served[0], mart
        regions = con.execute("SELECT region_code, region_name, population FROM marts.dim_region ORDER BY 1").fetchall()
        assert regions == _serving(home, "SELECT region_code, region_name, population FROM marts.dim_region ORDER BY 1")
        members = con.execute("SELECT snapshot_date, sum(members) FROM marts.mart_member_counts GROUP BY 1 ORDER BY 1")
        assert [(d, int(n)) for d, n in members.fetchall()] == [
            (d, int(n)) for d, n in _serving(home, "SELECT snapshot_date, sum(members) FROM marts.mart_member_counts "
                                                   "GROUP BY 1 ORDER BY 1")]
        types = dict(con.execute("SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
                                 "WHERE table_schema = 'marts'").fetchall())
        assert types["mart_cooperative_health.snapshot_date"] == "date"
        assert types["mart_cooperative_health.is_active"] == "boolean"
        assert types["mart_cooperative_health.total_score"] == "double precision"
        assert types["fct_cooperative_snapshot.assets"] == "bigint", "rupiah as whole numbers, not text"
        keys = con.execute("""SELECT c.conrelid::regclass::text, c.contype FROM pg_constraint c
                              JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'marts'""").fetchall()
        assert {t for t, kind in keys if kind == "p"} == {f"marts.{m}" for m in MARTS}
        assert ("marts.fct_cooperative_snapshot", "f") in keys
        comment = con.execute("SELECT col_description('marts.dim_region'::regclass, 1)").fetchall()[0][0]
        assert comment and "region" in comment.lower()
        assert con.execute("SELECT obj_description('marts.mart_umkm_coverage'::regclass)").fetchall()[0][0]
        publication = con.execute("SELECT build_id, source_snapshots FROM meta.publication").fetchall()
        assert publication == _serving(home, "SELECT build_id, source_snapshots FROM meta.publication")


def test_the_bi_role_reads_the_served_schemas_only(published, server):
    home = published
    with psycopg.connect(server.admin_url(), autocommit=True) as admin:
        admin.execute("CREATE TABLE IF NOT EXISTS public.secret (x int)")
        superuser = admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [BI_ROLE]).fetchall()
        assert superuser == [(False,)]
    with psycopg.connect(_bi(home, server), autocommit=True) as con:
        for statement in ("INSERT INTO marts.dim_region (region_code) VALUES ('9999')", "CREATE TABLE marts.x (a int)",
                          "CREATE TABLE public.x (a int)", "DROP TABLE marts.dim_region", "SELECT * FROM public.secret",
                          "SELECT * FROM marts_previous.dim_region", "SELECT * FROM quality_previous.build_checks",
                          "CREATE SCHEMA y"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(statement)
        # the stewards' quality tables are served too (no personal data): file registry, quarantine counts, checks
        assert con.execute("SELECT count(*) FROM quality.ingested_files").fetchall()[0][0] > 10
        assert con.execute("SELECT count(*) FROM quality.build_checks WHERE NOT passed").fetchall() == [(0,)]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_bi(home, server).replace(f"{BI_ROLE}:", f"{BI_ROLE}:wrong"), connect_timeout=10)


def test_a_failed_build_publishes_nothing_to_postgres_either(published, server):
    home = published
    with psycopg.connect(server.admin_url()) as con:
        before = con.execute("SELECT build_id, published_at FROM meta.publication").fetchall()
    with duckdb.connect(str(home.build_db)) as con:
        con.execute("""INSERT INTO raw.ods_cooperatives SELECT * REPLACE ('1299' AS region_code,
                           '1299000000000002' AS cooperative_nik)
                       FROM raw.current_ods_cooperatives WHERE snapshot_date = DATE '2024-12-31' LIMIT 1""")
    try:
        assert _cli(home, server, "run").returncode == EXIT_FAILED
        refused = _cli(home, server, "publish")
        assert refused.returncode == EXIT_FAILED and "refusing to publish" in refused.stderr
        with psycopg.connect(server.admin_url()) as con:
            assert con.execute("SELECT build_id, published_at FROM meta.publication").fetchall() == before
    finally:
        with duckdb.connect(str(home.build_db)) as con:
            con.execute("DELETE FROM raw.ods_cooperatives WHERE cooperative_nik = '1299000000000002'")
    assert _cli(home, server, "run").returncode == 0


def test_a_run_and_a_publish_with_nothing_new_leave_the_postgresql_publication(published, server):
    home = published
    with psycopg.connect(server.admin_url()) as con:
        before = con.execute("SELECT build_id, published_at FROM meta.publication").fetchall()
    for command in ("run", "publish"):
        result = _cli(home, server, command)
        assert result.returncode == 0 and "unchanged:" in result.stdout, result.stdout + result.stderr
        with psycopg.connect(server.admin_url()) as con:
            assert con.execute("SELECT build_id, published_at FROM meta.publication").fetchall() == before, command


def test_a_publisher_killed_during_the_load_leaves_the_previous_marts_and_is_cleaned_up(published, server):
    home = published
    with psycopg.connect(_bi(home, server)) as con:
        before = con.execute("SELECT build_id, published_at FROM meta.publication").fetchall()
        served_before = con.execute("SELECT count(*) FROM marts.fct_cooperative_snapshot").fetchall()
    env = {**os.environ, "KOPERASI_HOME": str(home.home), "KOPERASI_POSTGRES_URL": server.admin_url()}
    publisher = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "publish", "--force"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    loading = []
    with psycopg.connect(server.admin_url(), autocommit=True) as admin:
        deadline = time.time() + 300
        while not loading and publisher.poll() is None and time.time() < deadline:
            loading = admin.execute("""SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid
                                       WHERE n.nspname LIKE 'marts\\_new\\_%' LIMIT 1""").fetchall()
            time.sleep(0.005)
        publisher.send_signal(signal.SIGKILL)
        publisher.wait()
        assert loading, "the publisher was killed before it began loading PostgreSQL"
        half_loaded = {s for (s,) in admin.execute("SELECT nspname FROM pg_namespace "
                                                     "WHERE nspname LIKE 'marts\\_new\\_%'").fetchall()}
    assert half_loaded, "the kill left a half-loaded schema (this test needs one)"
    with psycopg.connect(_bi(home, server)) as con:  # readers keep the previous marts
        assert con.execute("SELECT build_id, published_at FROM meta.publication").fetchall() == before
        assert con.execute("SELECT count(*) FROM marts.fct_cooperative_snapshot").fetchall() == served_before
    assert _cli(home, server, "publish", "--force").returncode == 0
    with psycopg.connect(server.admin_url()) as con:
        schemas = {s for (s,) in con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'marts%'").fetchall()}
        assert con.execute("SELECT build_id, published_at FROM meta.publication").fetchall() != before
    assert schemas == {"marts", "marts_previous"}


READER = Path(__file__).parent.parent / "helpers" / "bi_reader.py"


def test_four_readers_see_one_whole_publication_during_twenty_publications(published, server, tmp_path):
    """Two different publications (the second with fewer rows) alternate 20 times under four BI readers."""
    from warehouse import postgres_publish

    home = published
    variant = tmp_path / "variant.duckdb"
    shutil.copy(home.serving_db, variant)
    with duckdb.connect(str(variant)) as con:
        con.execute("DELETE FROM marts.fct_cooperative_snapshot WHERE cooperative_nik LIKE '%1'")
        con.execute("DELETE FROM marts.mart_member_counts WHERE sex = 'P'")
    publications = []
    for name, path in (("A", home.serving_db), ("B", variant)):
        with duckdb.connect(str(path), read_only=True) as con:
            tables = {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchall()[0][0] for t in MARTS}
            publication = dict(zip(["build_id", "run_id", "published_at", "source_snapshots", "source_files",
                                    "check_summary"], con.execute("SELECT build_id, run_id, published_at, "
                                    "source_snapshots, source_files::VARCHAR, check_summary::VARCHAR "
                                    "FROM meta.publication").fetchall()[0]))
        publication["source_files"] = json.loads(publication["source_files"])
        publication["check_summary"] = json.loads(publication["check_summary"])
        publications.append((path, {**publication, "tables": tables, "build_id": name}))
    assert publications[0][1]["tables"] != publications[1][1]["tables"]
    stop = tmp_path / "stop"
    readers = [subprocess.Popen([sys.executable, str(READER), _bi(home, server), str(stop)], stdout=subprocess.PIPE,
                                text=True) for _ in range(4)]
    facts = postgres_publish.dbt_facts()
    try:
        time.sleep(1)
        for i in range(20):
            path, publication = publications[i % 2]
            postgres_publish.publish(server.admin_url(), path, {**publication, "run_id": f"load-{i}"},
                                     bi_password=bi_password(home.home), version=f"load{i:02d}", facts=facts)
    finally:
        stop.touch()
    results = [json.loads(r.communicate(timeout=120)[0]) for r in readers]
    for result in results:
        assert result["error_count"] == 0, result["errors"]
        assert result["mismatch_count"] == 0, result["mismatches"]
        assert result["reads"] > 20
    assert len({run for r in results for run in r["seen"]}) > 5, "the readers read while publications changed"
    assert _cli(home, server, "publish").returncode == 0  # back to the real build for the tests after this one


def test_sqlalchemy_reflects_keys_and_comments_as_the_bi_role(published, server):
    engine = sa.create_engine(_bi(published, server).replace("postgresql://", "postgresql+psycopg://"))
    try:
        inspector = sa.inspect(engine)
        assert set(inspector.get_table_names(schema="marts")) == set(MARTS)
        assert inspector.get_pk_constraint("fct_cooperative_snapshot", schema="marts")["constrained_columns"] == [
            "snapshot_date", "cooperative_nik"]
        assert inspector.get_foreign_keys("fct_cooperative_snapshot", schema="marts")[0]["referred_table"] == "dim_region"
        assert inspector.get_table_comment("dim_region", schema="marts")["text"]
    finally:
        engine.dispose()


def test_the_server_stops_starts_and_survives_a_crash(server):
    pid = int((server.data / "postmaster.pid").read_text().splitlines()[0])
    os.kill(pid, signal.SIGKILL)  # a crash: postmaster.pid stays behind
    deadline = time.time() + 30
    while time.time() < deadline and pg.running(server):
        time.sleep(0.2)
    assert (server.data / "postmaster.pid").exists()
    pg.start(server)
    with psycopg.connect(server.admin_url()) as con:
        assert con.execute("SELECT 1").fetchall() == [(1,)]
    pg.stop(server)
    assert not pg.running(server)
    pg.start(server)
    assert pg.running(server)


def test_backup_then_restore_gives_back_the_warehouse_and_the_serving_database(published, server, tmp_path):
    home = published
    backup = tmp_path / "backup"
    result = _cli(home, server, "backup", "--out", str(backup))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in backup.rglob("*") if p.is_file()), "it holds the key"
    assert len(list((backup / "archive").rglob("*.*"))) == len(list(home.archive.rglob("*.*"))) > 10

    restored = KoperasiPaths(tmp_path / "restored")
    env = {**os.environ, "KOPERASI_HOME": str(restored.home)}
    env.pop("KOPERASI_POSTGRES_URL", None)
    for command in (["restore", str(backup)], ["publish"]):
        result = subprocess.run([sys.executable, "-m", "orchestration.cli", *command], capture_output=True,
                                text=True, env=env, timeout=900)
        assert result.returncode == 0, result.stderr
    count_all = " UNION ALL ".join(f"SELECT '{m}', count(*) FROM marts.{m}" for m in MARTS)
    assert sorted(_serving(restored, count_all)) == sorted(_serving(home, count_all))
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["pseudonym_key"].startswith("environment"), "tests set KOPERASI_PSEUDONYM_KEY: not in the backup"
    assert not (backup / "pseudonym.key").exists()

    with psycopg.connect(server.admin_url(), autocommit=True) as con:  # the BI database alone, with pg_restore
        con.execute("DROP DATABASE IF EXISTS restored")
        con.execute("CREATE DATABASE restored")
    subprocess.run([str(pg.bin_dir() / "pg_restore"), "--no-owner", f"--dbname={server.admin_url('restored')}",
                    str(backup / "serving.dump")], check=True, capture_output=True, timeout=600)
    with psycopg.connect(server.admin_url("restored")) as con:
        assert sorted(con.execute(count_all).fetchall()) == sorted(_serving(home, count_all))

    damaged = backup / "build.duckdb"
    damaged.write_bytes(damaged.read_bytes()[:-10])
    result = subprocess.run([sys.executable, "-m", "orchestration.cli", "restore", str(backup)], capture_output=True,
                            text=True, env={**env, "KOPERASI_HOME": str(tmp_path / "again")}, timeout=300)
    assert result.returncode == 1 and "build.duckdb: missing or damaged" in result.stderr
