"""A local PostgreSQL server the project starts itself: a cluster under ``$KOPERASI_HOME/postgres``.

``initdb`` creates it on first start (admin role ``koperasi_admin`` with a generated password, stored 0600 next to
the cluster), ``pg_ctl`` starts it on 127.0.0.1 (``KOPERASI_POSTGRES_PORT``, default 5433) and stops it. PostgreSQL
refuses to run as root, so as root the server runs as the Debian ``postgres`` account (``runuser``); the cluster's
folder is then owned by it, and the folders above it get the traverse bit it needs. A ``postmaster.pid`` left by a
crash is removed when no server answers. Debian's ``postgresql`` package is installed when ``initdb`` is missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ingestion.private_files import stored_secret, write_secret
from warehouse.paths import KoperasiPaths

DEFAULT_PORT = 5433
ADMIN = "koperasi_admin"
DATABASE = "koperasi"
SERVICE_ACCOUNT = "postgres"


class PostgresError(RuntimeError):
    pass


@dataclass(frozen=True)
class LocalServer:
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sockets(self) -> Path:
        return self.root / "run"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def password_file(self) -> Path:
        return self.root / "admin.password"

    def admin_url(self, database: str = DATABASE) -> str:
        return f"postgresql://{ADMIN}:{self.password_file.read_text().strip()}@127.0.0.1:{self.port}/{database}"


def local_server(paths: KoperasiPaths) -> LocalServer:
    return LocalServer(paths.home / "postgres", int(os.environ.get("KOPERASI_POSTGRES_PORT", DEFAULT_PORT)))


def bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True, timeout=900,
                       env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise PostgresError("PostgreSQL server binaries not found: install Debian's 'postgresql' package")
    return Path(found[-1]).parent


def _as_server_user(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", SERVICE_ACCOUNT, "--", *command]
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def _hand_over(server: LocalServer) -> None:
    """As root: the cluster's folder belongs to the server account, and it can reach it."""
    if os.geteuid() != 0:
        return
    shutil.chown(server.root, SERVICE_ACCOUNT, SERVICE_ACCOUNT)
    for path in server.root.rglob("*"):
        shutil.chown(path, SERVICE_ACCOUNT, SERVICE_ACCOUNT)
    _reach(server)


def _reach(server: LocalServer) -> None:
    """As root: traverse only (x), never read, on the folders above the cluster, checked before every pg_ctl
    call because something may take it away meanwhile (pytest resets its temporary root to 0700)."""
    if os.geteuid() != 0 or not server.root.exists():
        return
    for folder in server.root.resolve().parents:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            folder.chmod(mode | 0o001)


def _ctl(server: LocalServer, *args: str) -> subprocess.CompletedProcess:
    _reach(server)
    return _as_server_user([str(bin_dir() / "pg_ctl"), "-D", str(server.data), *args], timeout=120)


def running(server: LocalServer) -> bool:
    if not server.data.exists():
        return False
    status = _ctl(server, "status")
    if status.returncode not in (0, 3):  # 3: not running; 4: the data folder cannot be read
        raise PostgresError(f"cannot tell whether PostgreSQL runs in {server.data}: {status.stderr.strip()}")
    return status.returncode == 0


def _initdb(server: LocalServer) -> None:
    server.root.mkdir(parents=True, exist_ok=True)
    server.sockets.mkdir(exist_ok=True)
    stored_secret(server.password_file, 24)  # created 0600
    pwfile = server.root / ".initdb.pw"  # handed to the server account for initdb only
    pwfile.unlink(missing_ok=True)
    write_secret(pwfile, server.password_file.read_text())
    _hand_over(server)
    try:
        result = _as_server_user([str(bin_dir() / "initdb"), "-D", str(server.data), "-U", ADMIN, "--pwfile",
                                  str(pwfile), "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
                                 timeout=300)
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        raise PostgresError(f"initdb failed: {result.stderr.strip()[-1000:]}")
    if os.geteuid() == 0:  # the password file stays with whoever started the server
        shutil.chown(server.password_file, "root", "root")


def login_url(url: str, *, user: str | None = None, password: str | None = None, database: str | None = None) -> str:
    """The same server as ``url`` (a URL or a libpq string), with another login and/or database, as a URL (what
    BI tools and SQLAlchemy read)."""
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(url)
    user = user or info.get("user", "")
    password = password if password is not None else info.get("password")
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return (f"postgresql://{auth}@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/"
            f"{database or info.get('dbname', 'postgres')}")


def ensure_database(url: str, database: str) -> None:
    """Creates ``database`` on the server of ``url`` when it is missing."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchall():
            con.execute(f'CREATE DATABASE "{database}"')


def start(server: LocalServer) -> None:
    """Creates the cluster when there is none, starts it, and creates the ``koperasi`` database."""
    if not (server.data / "PG_VERSION").exists():
        _initdb(server)
    if running(server):
        return
    (server.data / "postmaster.pid").unlink(missing_ok=True)  # stale: no server answered for it
    _hand_over(server)
    options = f"-c listen_addresses=127.0.0.1 -p {server.port} -c unix_socket_directories={server.sockets}"
    result = _ctl(server, "-l", str(server.log), "-o", options, "-w", "-t", "60", "start")
    if result.returncode != 0:
        log = server.log.read_text(errors="replace")[-1500:] if server.log.exists() else ""
        raise PostgresError(f"PostgreSQL did not start on port {server.port}: {result.stderr.strip()} {log}")
    ensure_database(server.admin_url("postgres"), DATABASE)


def stop(server: LocalServer) -> None:
    if running(server):
        result = _ctl(server, "-m", "fast", "-w", "stop")
        if result.returncode != 0:
            raise PostgresError(f"PostgreSQL did not stop: {result.stderr.strip()}")
