"""`koperasi serve` (make serve) as a user runs it: a fresh home with exports in the inbox, the service started,
the sensor's runs publishing to PostgreSQL, a new export dropped in, Ctrl-C; nothing left running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

from warehouse import postgres_server as pg
from warehouse.postgres_publish import bi_password, bi_url

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, probe, timeout: float, service: subprocess.Popen, log: Path):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert service.poll() is None, f"koperasi serve exited while waiting for {what}:\n{log.read_text()[-3000:]}"
        value = probe()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{log.read_text()[-3000:]}")


def _published_snapshots(url: str) -> list[str]:
    try:
        with psycopg.connect(url, connect_timeout=5) as con:
            return [d.isoformat() for (d,) in con.execute(
                "SELECT DISTINCT snapshot_date FROM marts.mart_member_counts ORDER BY 1").fetchall()]
    except psycopg.Error:
        return []


def _processes_of(home: Path) -> list[str]:
    needle = f"KOPERASI_HOME={home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if needle in (proc / "environ").read_bytes().split(b"\0"):
                    found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
    return found


def test_make_serve_publishes_inbox_files_to_postgres_and_stops_cleanly(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "KOPERASI_HOME": str(home), "KOPERASI_POSTGRES_PORT": str(_free_port()),
           "KOPERASI_UI_PORT": str(_free_port())}
    env.pop("KOPERASI_POSTGRES_URL", None)
    koperasi = [sys.executable, "-m", "orchestration.cli"]
    subprocess.run([*koperasi, "sample"], env=env, check=True, capture_output=True, timeout=300)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        service = subprocess.Popen([*koperasi, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait("the UI", lambda: _answers(f"http://127.0.0.1:{env['KOPERASI_UI_PORT']}/server_info"), 180, service, log)
        assert "BI (PostgreSQL):   postgresql://koperasi_bi:" in log.read_text()
        server = pg.LocalServer(home / "postgres", int(env["KOPERASI_POSTGRES_PORT"]))
        bi = bi_url(server.admin_url(), bi_password(home))
        # the sensor (on by default under serve) finds the sample exports: one run builds and publishes them all
        first = _wait("the first publication", lambda: _published_snapshots(bi), 900, service, log)
        assert first == ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]

        source = next((home / "inbox" / "ods").glob("*2024-09-30.csv"))  # the inbox keeps what it received
        dropped = home / "inbox" / "ods" / "ods_koperasi_sumut_2025-01-31.csv"
        staged = dropped.with_name(".incoming")
        staged.write_bytes(source.read_bytes() + b"\r\n")
        os.replace(staged, dropped)
        started = time.time()
        _wait("the new snapshot in PostgreSQL", lambda: "2025-01-31" in _published_snapshots(bi), 600, service, log)
        print(f"new export queryable by koperasi_bi after {time.time() - started:.1f} s")

        def statuses() -> list[str]:  # the Dagster instance lives in PostgreSQL
            with psycopg.connect(server.admin_url("dagster")) as con:
                return [s for (s,) in con.execute("SELECT status FROM runs").fetchall()]

        # The run records its success a moment after its publication step made the data queryable.
        _wait("the second run's success", lambda: statuses().count("SUCCESS") == 2, 120, service, log)
        assert sorted(statuses()) == ["SUCCESS", "SUCCESS"]
    finally:
        service.send_signal(signal.SIGINT)
        try:
            service.wait(timeout=120)
        except subprocess.TimeoutExpired:
            service.kill()
            raise
    assert service.returncode == 0, log.read_text()[-3000:]
    assert _processes_of(home) == [], "Ctrl-C stops everything the service started"
    assert not pg.running(server)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False
