"""PostgreSQL serving (issue 14, parts 1 and 2) against a real server the project starts itself, on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

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
        result = _cli(home, server, "publish")
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


def test_the_bi_role_reads_marts_and_meta_only(published, server):
    home = published
    with psycopg.connect(server.admin_url(), autocommit=True) as admin:
        admin.execute("CREATE TABLE IF NOT EXISTS public.secret (x int)")
        superuser = admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [BI_ROLE]).fetchall()
        assert superuser == [(False,)]
    with psycopg.connect(_bi(home, server), autocommit=True) as con:
        for statement in ("INSERT INTO marts.dim_region (region_code) VALUES ('9999')", "CREATE TABLE marts.x (a int)",
                          "CREATE TABLE public.x (a int)", "DROP TABLE marts.dim_region", "SELECT * FROM public.secret",
                          "SELECT * FROM marts_previous.dim_region", "CREATE SCHEMA y"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(statement)
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


def test_a_half_loaded_schema_of_a_killed_publisher_is_cleaned_up(published, server):
    home = published
    with psycopg.connect(server.admin_url(), autocommit=True) as con:
        con.execute("CREATE SCHEMA marts_new_killed")
        con.execute("CREATE TABLE marts_new_killed.dim_region (region_code text)")
        served_before = con.execute("SELECT count(*) FROM marts.fct_cooperative_snapshot").fetchall()
    assert served_before[0][0] > 0, "readers keep the previous marts meanwhile"
    assert _cli(home, server, "publish").returncode == 0
    with psycopg.connect(server.admin_url()) as con:
        schemas = {s for (s,) in con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'marts%'").fetchall()}
    assert schemas == {"marts", "marts_previous"}


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
