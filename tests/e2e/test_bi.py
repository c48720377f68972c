"""The dashboards in a real Apache Superset (bi/), against the DuckDB serving file and the PostgreSQL serving
database: the REST API lists them and every chart returns data, three numbers agree with the marts, and headless
Chromium logs in and photographs each dashboard (no error, no empty chart). Slow (Superset starts twice):
skip locally with ``pytest -m "not bi"``; `make test` and CI run it."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from warehouse import postgres_server as pg
from helpers.debian import debian_program
from warehouse.paths import KoperasiPaths

pytestmark = [pytest.mark.e2e, pytest.mark.bi]

ROOT = Path(__file__).resolve().parents[2]
BI_PYTHON = ROOT / ".tools" / "bi-venv" / "bin" / "python"
DASHBOARDS = {"ringkasan-koperasi": "Ringkasan Koperasi Sumatera Utara", "kesehatan-koperasi": "Kesehatan Koperasi",
              "skenario-koperasi-sekunder": "Skenario Koperasi Sekunder", "cakupan-umkm": "Cakupan UMKM",
              "kualitas-data": "Kualitas Data"}
PASSWORD = "uji-superset-" + "7" * 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Superset:
    def __init__(self, home: Path, extra_env: dict[str, str], log: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.home = home
        env = {**os.environ, "KOPERASI_HOME": str(home), "KOPERASI_BI_PORT": str(self.port),
               "KOPERASI_BI_ADMIN_USER": "admin", "KOPERASI_BI_ADMIN_PASSWORD": PASSWORD, **extra_env}
        if "KOPERASI_POSTGRES_URL" not in extra_env:
            env.pop("KOPERASI_POSTGRES_URL", None)
        assert BI_PYTHON.exists(), "make test installs Superset's environment (make bi-install)"
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen([str(BI_PYTHON), str(ROOT / "bi" / "launch.py")], env=env, stdout=out,
                                            stderr=subprocess.STDOUT)
        deadline = time.time() + 900
        while time.time() < deadline:
            assert self.process.poll() is None, f"Superset exited:\n{log.read_text()[-4000:]}"
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(2)
        else:
            raise AssertionError(f"Superset did not answer:\n{log.read_text()[-4000:]}")
        self.token = self.call("/api/v1/security/login", {"username": "admin", "password": PASSWORD,
                                                          "provider": "db", "refresh": False})["access_token"]

    def call(self, path: str, data: dict | None = None):
        headers = {"Authorization": f"Bearer {self.token}"} if hasattr(self, "token") else {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, headers=headers,
                                         data=json.dumps(data).encode() if data is not None else None)
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{path}: HTTP {e.code}: {e.read().decode()[:1000]}") from None

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)  # what Ctrl-C does: gunicorn stops its workers and exits
        self.process.wait(timeout=60)


def _chart_data(superset: Superset) -> dict[str, list[dict]]:
    charts = superset.call("/api/v1/chart/?q=(page_size:100)")["result"]
    return {c["slice_name"]: superset.call(f"/api/v1/chart/{c['id']}/data/")["result"][0]["data"] for c in charts}


def _check_api_against_marts(superset: Superset, serving: KoperasiPaths) -> None:
    titles = {d["dashboard_title"] for d in superset.call("/api/v1/dashboard/?q=(page_size:100)")["result"]}
    assert titles == set(DASHBOARDS.values())
    data = _chart_data(superset)
    assert len(data) >= 20
    assert [name for name, rows in data.items() if not rows] == [], "every chart returns rows"

    def mart(query: str):
        with duckdb.connect(str(serving.serving_db), read_only=True) as con:
            return con.execute(query).fetchall()[0][0]

    latest = max(data["Anggota koperasi"], key=lambda row: row["snapshot_date"])
    assert latest["anggota"] == mart("SELECT sum(members_total) FROM marts.fct_cooperative_snapshot WHERE "
                                     "snapshot_date = (SELECT max(snapshot_date) FROM marts.fct_cooperative_snapshot)")
    assert sum(row["sehat"] for row in data["Predikat kesehatan menurut kabupaten/kota"]) == mart(
        "SELECT count(*) FROM marts.mart_cooperative_health WHERE health_band = 'Sehat' "
        "AND snapshot_date = (SELECT max(snapshot_date) FROM marts.mart_cooperative_health)")
    five_opd = [row for row in data["Skenario koperasi sekunder, berdampingan"]
                if row["scenario_name"].endswith("lima OPD")]
    assert [row["distinct_members"] for row in five_opd] == [mart(
        "SELECT distinct_members FROM marts.mart_consolidation_scenario WHERE scenario_id = 'housing_five_opd'")]
    assert data["Skenario koperasi sekunder, berdampingan"][0] == five_opd[0], "the five-OPD scenario comes first"


def _photograph(superset: Superset, folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([str(BI_PYTHON), str(ROOT / "tests" / "helpers" / "bi_screenshots.py"), superset.base, "admin",
                             PASSWORD, str(folder), *DASHBOARDS], capture_output=True, text=True, timeout=900,
                            env={**os.environ, "KOPERASI_CHROMIUM": _chromium()})
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout)


def _chromium() -> str:
    return debian_program("chromium", "chromium")


def _check_screenshots(report: dict, folder: Path) -> None:
    from PIL import Image

    for slug in DASHBOARDS:
        page = report[slug]
        assert page["problems"] == [], (slug, page["problems"])
        assert page["charts"] >= 2, slug
        image = Image.open(folder / f"{slug}.png").convert("RGB")
        colours = image.resize((200, 200)).getcolors(40000) or []
        assert len(colours) > 50, f"{slug}: the screenshot is nearly blank"


def test_superset_shows_the_dashboards_over_the_duckdb_serving_file(built_home, tmp_path):
    home = built_home[0]
    superset = Superset(home.home, {}, tmp_path / "superset.log")
    try:
        _check_api_against_marts(superset, home)
        folder = home.home / "bi" / "screenshots"
        _check_screenshots(_photograph(superset, folder), folder)
    finally:
        superset.stop()
    again = subprocess.run([str(BI_PYTHON), str(ROOT / "bi" / "launch.py"), "--setup-only"], capture_output=True,
                           text=True, timeout=900, env={**os.environ, "KOPERASI_HOME": str(home.home),
                                                        "KOPERASI_BI_ADMIN_PASSWORD": PASSWORD})
    assert again.returncode == 0, again.stderr[-3000:]  # re-running is idempotent
    with sqlite3.connect(home.home / "bi" / "superset.db") as con:  # still five dashboards, not ten
        assert con.execute("SELECT count(*) FROM dashboards").fetchall()[0][0] == len(DASHBOARDS)


def test_superset_shows_the_dashboards_over_the_postgresql_serving_database(built_home, tmp_path):
    home = built_home[0]
    server = pg.LocalServer(tmp_path / "pg", _free_port())
    pg.start(server)
    try:
        env = {**os.environ, "KOPERASI_HOME": str(home.home), "KOPERASI_POSTGRES_URL": server.admin_url()}
        published = subprocess.run([str(ROOT / ".venv" / "bin" / "koperasi"), "publish"], env=env,
                                   capture_output=True, text=True, timeout=900)
        assert published.returncode == 0, published.stderr
        superset = Superset(home.home, {"KOPERASI_POSTGRES_URL": server.admin_url()}, tmp_path / "superset.log")
        try:
            assert "-> PostgreSQL 127.0.0.1" in superset.log.read_text(), "registered as the PostgreSQL database"
            _check_api_against_marts(superset, home)
            folder = tmp_path / "screenshots"
            _check_screenshots(_photograph(superset, folder), folder)
        finally:
            superset.stop()
    finally:
        pg.stop(server)
