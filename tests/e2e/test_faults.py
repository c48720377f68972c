"""Faults end cleanly: a killed run takes its dbt with it, the next writer waits instead of crashing, and a
folder that cannot be written gives one line naming it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingestion.samples import SampleSpec, generate_samples

pytestmark = pytest.mark.e2e
KOPERASI = [sys.executable, "-m", "orchestration.cli"]


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition, what: str, limit: float = 600):
    """Polls a process state the test cannot be told about otherwise (the kernel's /proc), up to ``limit``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_run_takes_its_dbt_with_it_and_the_next_writer_goes_on(tmp_path):
    home = tmp_path / "home"
    generate_samples(SampleSpec(out=home / "inbox", scale=0.2))
    env = {**os.environ, "KOPERASI_HOME": str(home)}
    run = subprocess.Popen(KOPERASI + ["run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dbt = _wait_for(lambda: next((p for p in _children(run.pid) if " build" in _cmdline(p)
                                  and "dbt" in _cmdline(p) and "setpriv" not in _cmdline(p)), None),
                    "the run's dbt build")
    started = _children(run.pid)  # dbt's caller, the warm dbt and the fork running the build among them
    assert any("dbt-worker serve" in _cmdline(p) for p in started), "the run started a warm dbt"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    _wait_for(lambda: not _alive(dbt), "dbt to end with its parent", limit=10)
    _wait_for(lambda: not any(_alive(p) for p in started), "every process the run started to end", limit=10)
    again = subprocess.run(KOPERASI + ["run"], env=env, capture_output=True, text=True, timeout=1800)
    assert "Traceback" not in again.stderr, again.stderr[-3000:]
    assert again.returncode in (0, 3), again.stdout[-2000:] + again.stderr[-2000:]


def test_a_folder_that_cannot_be_written_is_one_line(tmp_path):
    if os.geteuid() == 0:
        # root writes anywhere: a file standing where the warehouse folder should be is unwritable for anyone
        home = tmp_path / "home"
        home.mkdir()
        (home / "warehouse").write_text("not a folder")
    else:
        home = tmp_path / "home"
        home.mkdir()
        home.chmod(0o500)
    result = subprocess.run(KOPERASI + ["ingest", "--source", "ods", str(tmp_path / "x.csv")], capture_output=True,
                            text=True, env={**os.environ, "KOPERASI_HOME": str(home)}, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(home) in lines[0], result.stderr
