"""The warm dbt (warehouse.dbt_worker, orchestration/bin/dbt-worker): dbt-child hands its command to the worker,
which runs it with the caller's arguments, environment, folder and output, returns dbt's exit status, and kills
the command when the caller goes away. Real dbt, from its own environment."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from warehouse.dbt_manifest import DBT_EXECUTABLE, DBT_PROJECT_DIR
from warehouse.dbt_worker import WORKER_ENV, warm_dbt

DBT_CHILD = Path(__file__).resolve().parents[2] / "orchestration" / "bin" / "dbt-child"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _worker_pid(socket_path: str) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmdline and socket_path.encode() in cmdline and not cmdline[0].endswith(b"setpriv"):
                return int(entry.name)
    raise AssertionError("no worker process")


@pytest.fixture()
def worker(monkeypatch, tmp_path):
    monkeypatch.setenv("KOPERASI_DBT", str(DBT_EXECUTABLE))
    monkeypatch.setenv("KOPERASI_HOME", str(tmp_path / "home"))
    with warm_dbt() as env:
        socket_path = env[WORKER_ENV]
        deadline = time.time() + 30
        while not Path(socket_path).exists() and time.time() < deadline:  # dbt-child runs dbt itself until then
            time.sleep(0.05)
        yield socket_path
    assert WORKER_ENV not in os.environ and not Path(socket_path).exists()


def test_a_command_runs_in_the_worker_with_the_callers_environment_and_folder(worker, tmp_path):
    command = subprocess.Popen([str(DBT_CHILD), "ls", "--resource-type", "seed", "--output", "name", "--quiet",
                                "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")],
                               cwd=DBT_PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = _worker_pid(worker)
    forks = set()
    while command.poll() is None:
        forks.update(_children(pid))
        time.sleep(0.02)
    out, err = command.communicate()
    assert command.returncode == 0, out[-2000:] + err[-2000:]
    assert forks, "the command did not run in the worker"
    assert "seed_regions" in out.split()  # the project found from the caller's folder, the profile from its env
    assert _children(pid) == []  # the fork that ran it is gone


def test_dbts_exit_status_comes_back(worker):
    refused = subprocess.run([str(DBT_CHILD), "build", "--no-such-option"], capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == 2
    assert "No such option" in refused.stderr


def test_a_command_dies_with_its_caller(worker, tmp_path):
    caller = subprocess.Popen([str(DBT_CHILD), "parse", "--no-partial-parse", "--project-dir", str(DBT_PROJECT_DIR),
                               "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid = _worker_pid(worker)
    deadline = time.time() + 30
    while not _children(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert _children(pid), "the command did not start in the worker"
    caller.send_signal(signal.SIGKILL)
    caller.wait()
    deadline = time.time() + 10
    while _children(pid) and time.time() < deadline:
        time.sleep(0.1)
    assert _children(pid) == []
