"""The pipeline lock: one writer of the build database at a time, across processes.

DuckDB allows one read-write process. Every writer takes this lock: ``koperasi ingest``, ``koperasi run``,
``koperasi publish`` and every Dagster step that writes (through the warehouse resource), whether the run was
started by the CLI, the UI or the daemon. The lock is re-entrant within a process, so ``koperasi run`` holds
it for the whole run and the steps it executes in-process take it again without waiting for themselves.

A second writer waits (saying for whom) up to ``KOPERASI_LOCK_WAIT_SECONDS`` (default 900), then fails with
``PipelineBusy``. The lock is an advisory ``flock``: the kernel releases it when its holder dies, so a killed
writer never leaves the warehouse locked.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

DEFAULT_WAIT_SECONDS = 900.0
_POLL_SECONDS = 0.2

_held: dict[str, tuple[int, int]] = {}  # lock path -> (file descriptor, depth) held by this process
_guard = threading.RLock()


class PipelineBusy(Exception):
    pass


def lock_path(warehouse_dir: Path) -> Path:
    return warehouse_dir / ".pipeline.lock"


def _wait_limit() -> float:
    return float(os.environ.get("KOPERASI_LOCK_WAIT_SECONDS", DEFAULT_WAIT_SECONDS))


def holder(warehouse_dir: Path) -> str:
    """Who holds (or last held) the lock, as its holder wrote it."""
    try:
        info = json.loads(lock_path(warehouse_dir).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another koperasi process"
    return f"{info.get('command', 'a koperasi process')} (pid {info.get('pid', '?')}, since {info.get('since', '?')})"


@contextmanager
def pipeline_lock(warehouse_dir: Path, purpose: str, *, wait: float | None = None, announce=None):
    """Holds the pipeline lock for the block; waits for another writer up to ``wait`` seconds."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    path = str(lock_path(warehouse_dir).resolve())
    with _guard:
        if path in _held:
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                fd, depth = _held[path]
                _held[path] = (fd, depth - 1)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, warehouse_dir, purpose, _wait_limit() if wait is None else wait, announce)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": purpose,
                                  "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}).encode(), 0)
        with _guard:
            _held[path] = (fd, 1)
        try:
            yield
        finally:
            with _guard:
                del _held[path]
            os.ftruncate(fd, 0)  # a free lock names no holder (a stale name would mislead whoever waits)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, warehouse_dir: Path, purpose: str, wait: float, announce) -> None:
    deadline = time.monotonic() + wait
    announced = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if time.monotonic() >= deadline:
            raise PipelineBusy(f"{purpose}: the warehouse is being written by {holder(warehouse_dir)}; "
                               f"gave up after {wait:.0f} s. Try again when it has finished.")
        if not announced:
            message = f"{purpose}: waiting for {holder(warehouse_dir)} to finish writing the warehouse ..."
            (announce or (lambda m: print(m, file=sys.stderr, flush=True)))(message)
            announced = True
        time.sleep(_POLL_SECONDS)
