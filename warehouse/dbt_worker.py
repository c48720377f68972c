"""A warm dbt for the dbt commands of a run or of the service (``orchestration/bin/dbt-worker``).

Every `dbt` command imports dbt first (~2.5 s here). Inside ``warm_dbt()`` a worker process that has imported it
once runs each command as a fork of itself: ``orchestration/bin/dbt-child`` (the executable dagster-dbt starts)
hands the command to the worker's socket, named by ``KOPERASI_DBT_WORKER``. The worker starts importing when the
block begins, so for `koperasi run` the import overlaps the file gate; a command that comes before it is ready waits
for it, and without a worker (or with a broken one) dbt-child runs dbt itself, as before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.dbt_manifest import DBT_ENVIRONMENT

WORKER = Path(__file__).resolve().parent.parent / "orchestration" / "bin" / "dbt-worker"
WORKER_ENV = "KOPERASI_DBT_WORKER"


def worker_command(socket_path: str) -> list[str]:
    """The worker in dbt's environment, dying with the process that starts it (util-linux setpriv, when present)."""
    command = [str(DBT_ENVIRONMENT / "bin" / "python"), "-I", str(WORKER), "serve", socket_path]
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *command] if setpriv else command


@contextmanager
def warm_dbt(env: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """A worker for the block's dbt commands: its socket is in ``os.environ`` (or in ``env`` when given, for the
    processes a service starts) until the block ends and the worker is stopped. Nested blocks share the outer one."""
    target = os.environ if env is None else env
    if target.get(WORKER_ENV) or not (DBT_ENVIRONMENT / "bin" / "python").exists():
        yield target
        return
    folder = tempfile.mkdtemp(prefix="koperasi-dbt-")  # owner-only; short enough for a socket path
    socket_path = os.path.join(folder, "worker.sock")
    worker = subprocess.Popen(worker_command(socket_path), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              env={**os.environ, **(env or {})})
    target[WORKER_ENV] = socket_path
    try:
        yield target
    finally:
        target.pop(WORKER_ENV, None)
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        shutil.rmtree(folder, ignore_errors=True)
