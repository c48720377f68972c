"""`koperasi serve` (`make serve`): the warehouse as an always-on service on one machine.

Starts the local PostgreSQL (unless ``KOPERASI_POSTGRES_URL`` points at another server), `dagster-daemon` and
`dagster-webserver` with the Dagster instance (runs, event log, schedules) in PostgreSQL, a queued run coordinator
running one run at a time, and the inbox sensor and nightly schedule on. Every publication then also goes to
PostgreSQL. Ctrl-C (or SIGTERM, as systemd sends) stops everything it started.

The service has its own Dagster home (``$KOPERASI_HOME/dagster-service``): `koperasi run` and `make dev` keep
their local SQLite instance, so a command run by hand never needs the service to be up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from orchestration.instance_config import write_instance_config
from warehouse.dbt_worker import warm_dbt
from warehouse import postgres_server as pg
from warehouse.paths import KoperasiPaths

DAGSTER_DATABASE = "dagster"
SERVICE_MARK = "KOPERASI_SERVICE_ID"  # inherited by every process the service starts: how stop finds them all


@dataclass(frozen=True)
class ServiceConfig:
    home: Path
    postgres_url: str  # where the marts are published
    dagster_url: str  # the Dagster instance
    bi_url: str
    ui: str
    local_server: pg.LocalServer | None  # started by us, stopped by us


def service_home(paths: KoperasiPaths) -> Path:
    return paths.home / "dagster-service"


def prepare(paths: KoperasiPaths, *, host: str, port: int) -> ServiceConfig:
    """PostgreSQL up, the Dagster database and instance configuration in place, the dbt manifest current."""
    from warehouse.dbt_manifest import prepare_manifest
    from warehouse.postgres_publish import bi_password, bi_url

    prepare_manifest(paths)  # the daemon's and the UI's code servers define the assets from it

    local = None
    url = os.environ.get("KOPERASI_POSTGRES_URL")
    if not url:
        local = pg.local_server(paths)
        started = not pg.running(local)
        pg.start(local)
        url = local.admin_url()
        local = local if started else None
    dagster_url = os.environ.get("KOPERASI_DAGSTER_POSTGRES_URL")
    if not dagster_url:
        pg.ensure_database(url, DAGSTER_DATABASE)
        dagster_url = pg.login_url(url, database=DAGSTER_DATABASE)
    home = service_home(paths)
    write_instance_config(home, service=True)
    return ServiceConfig(home, url, dagster_url, bi_url(url, bi_password(paths.home)), f"http://{host}:{port}", local)


def catch_up(paths: KoperasiPaths, config: ServiceConfig) -> str | None:
    """Publishes the current serving file to PostgreSQL when the server does not hold its build (first start, a
    new or rebuilt server), so BI sees the marts at once rather than after the next run. Returns what it did."""
    from warehouse import postgres_publish
    from warehouse.lock import pipeline_lock

    with pipeline_lock(paths.warehouse_dir, "koperasi serve (PostgreSQL catching up)"):
        return postgres_publish.catch_up(config.postgres_url, paths)


def _service_env(paths: KoperasiPaths, config: ServiceConfig, mark: str) -> dict[str, str]:
    return {**os.environ, "KOPERASI_HOME": str(paths.home), "DAGSTER_HOME": str(config.home),
            "KOPERASI_POSTGRES_URL": config.postgres_url, "KOPERASI_DAGSTER_POSTGRES_URL": config.dagster_url,
            "KOPERASI_AUTOMATION": "on", SERVICE_MARK: mark, "GX_ANALYTICS_ENABLED": "false"}


def _commands(host: str, port: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    module = ["-m", "orchestration.definitions"]
    return {"dagster-daemon": [str(bin_dir / "dagster-daemon"), "run", *module],
            "dagster-webserver": [str(bin_dir / "dagster-webserver"), *module, "-h", host, "-p", str(port)]}


def exec_component(paths: KoperasiPaths, component: str, *, host: str, port: int) -> int:
    """One piece of the service for a process supervisor (systemd, deploy/): ``prepare`` readies PostgreSQL
    and the instance and returns; ``daemon`` and ``webserver`` replace this process with Dagster's, so the
    supervisor watches and stops the real process."""
    config = prepare(paths, host=host, port=port)
    if component != "webserver":  # the UI starts at once, even while a run holds the pipeline lock
        done = catch_up(paths, config)
        if done:
            print(done, flush=True)
    if component == "prepare":
        return 0
    command = _commands(host, port)[f"dagster-{component}"]
    os.chdir(Path(__file__).resolve().parent.parent)
    os.execve(command[0], command, _service_env(paths, config, uuid.uuid4().hex))


def _marked_processes(mark: str) -> list[int]:
    """Every process carrying this service's mark in its environment (run workers and code servers included)."""
    needle = f"{SERVICE_MARK}={mark}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if needle in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def _stop_all(children: list[subprocess.Popen], mark: str, grace: float = 20.0) -> None:
    for child in children:
        if child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.time() + grace
    while time.time() < deadline and (any(c.poll() is None for c in children) or _marked_processes(mark)):
        time.sleep(0.2)
    for pid in _marked_processes(mark):  # whatever ignored SIGTERM
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for child in children:
        child.wait()


def serve(paths: KoperasiPaths, *, host: str = "127.0.0.1", port: int = 3000) -> int:
    config = prepare(paths, host=host, port=port)
    mark = uuid.uuid4().hex
    children: list[subprocess.Popen] = []
    stopping = False

    def _stop(signum, frame):
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    warm = contextlib.ExitStack()
    try:
        done = catch_up(paths, config)
        if done:
            print(done)
        # One warm dbt for every run the daemon starts: no run pays dbt's import (warehouse.dbt_worker).
        env = warm.enter_context(warm_dbt(_service_env(paths, config, mark)))
        logs = paths.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        started: dict[str, subprocess.Popen] = {}
        for name, command in _commands(host, port).items():
            log = (logs / f"{name}.log").open("ab")
            started[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True, cwd=Path(__file__).resolve().parent.parent)
            children.append(started[name])
        print(f"Dagster UI:        {config.ui}  (inbox sensor and nightly schedule on; logs in {logs})")
        print(f"Inbox:             {paths.inbox}  (new exports are picked up within a minute)")
        print(f"BI (PostgreSQL):   {config.bi_url}  (read-only: schemas marts, meta and quality)")
        print("Stop with Ctrl-C.", flush=True)
        while not stopping:
            for name, child in started.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping (see {logs / (name + '.log')})",
                          file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        print("stopping...", flush=True)
        _stop_all(children, mark)
        warm.close()
        if config.local_server is not None:
            pg.stop(config.local_server)
            print(f"PostgreSQL stopped ({config.local_server.data})", flush=True)
        else:
            print("PostgreSQL left running (it was running before serve started, or is not ours)", flush=True)
        for s, handler in previous.items():
            signal.signal(s, handler)
        print("stopped.", flush=True)
