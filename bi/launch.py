"""`make bi`: Apache Superset over the koperasi serving database, with the office's dashboards.

Runs with the Python of Superset's own environment (``.tools/bi-venv``, locked in ``bi/uv.lock``; Superset pins
SQLAlchemy < 2 and pandas < 2.2, so it cannot share ``.venv``). Idempotent:

1. ``$KOPERASI_HOME/bi`` (0700) with a generated secret key (0600) and Superset's SQLite metadata database,
   upgraded (``superset db upgrade``) and initialised (``superset init``);
2. the admin login from ``KOPERASI_BI_ADMIN_USER`` / ``KOPERASI_BI_ADMIN_PASSWORD``, or ``admin`` with a password
   generated once into ``$KOPERASI_HOME/bi/admin.password`` (0600);
3. the serving database registered read-only: the DuckDB serving file, or with ``KOPERASI_POSTGRES_URL`` the
   PostgreSQL serving database as ``koperasi_bi``; the dashboards of ``bi/assets`` imported (overwriting the
   previous import), and every dataset's columns refreshed from the database;
4. then, unless ``--setup-only``, this process becomes gunicorn on 127.0.0.1:``KOPERASI_BI_PORT`` (8088);
   Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

BI_DIR = Path(__file__).resolve().parent
ROOT = BI_DIR.parent
ASSETS = BI_DIR / "assets"
BIN = Path(sys.executable).parent
DATABASE_NAME = "Gudang Data Koperasi"


def _private_file(path: Path, make) -> str:
    """A secret kept in ``path``, created 0600 in one step (never written first and chmod-ed after)."""
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(make() + "\n")
    return path.read_text(encoding="utf-8").strip()


def admin_login(bi_home: Path) -> tuple[str, str, str]:
    """(user, password, where the password comes from)."""
    user = os.environ.get("KOPERASI_BI_ADMIN_USER") or "admin"
    if os.environ.get("KOPERASI_BI_ADMIN_PASSWORD"):
        return user, os.environ["KOPERASI_BI_ADMIN_PASSWORD"], "KOPERASI_BI_ADMIN_PASSWORD"
    stored = bi_home / "admin.password"
    return user, _private_file(stored, lambda: secrets.token_urlsafe(16)), str(stored)


def serving_uri(home: Path) -> tuple[str, dict]:
    """The SQLAlchemy URI of the serving database and the engine's connect arguments."""
    url = os.environ.get("KOPERASI_POSTGRES_URL")
    if not url:
        return f"duckdb:///{home / 'warehouse' / 'serving.duckdb'}", {"read_only": True}
    from psycopg2.extensions import parse_dsn  # a libpq URL or key=value string

    info = parse_dsn(url)
    password = os.environ.get("KOPERASI_BI_PASSWORD") or (home / "postgres" / "bi.password").read_text().strip()
    return (f"postgresql+psycopg2://koperasi_bi:{quote(password, safe='')}@{info.get('host', '127.0.0.1')}:"
            f"{info.get('port', 5432)}/{info.get('dbname', 'postgres')}", {})


def province_name(home: Path) -> str:
    """The province the published marts are about (``dim_region``), named in the dashboards' titles."""
    import duckdb

    try:
        with duckdb.connect(str(home / "warehouse" / "serving.duckdb"), read_only=True) as con:
            return con.execute("SELECT any_value(province_name) FROM marts.dim_region").fetchall()[0][0] or ""
    except duckdb.Error:
        return ""


def bundle(uri: str, connect_args: dict, target: Path, province: str = "") -> Path:
    """The dashboards of bi/assets as an import bundle, the database rendered for this installation."""
    import yaml

    for path in sorted(ASSETS.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8").replace("{provinsi}", province)
        if path.parent.name == "databases":
            database = yaml.safe_load(text)
            database["sqlalchemy_uri"] = uri
            database["extra"]["engine_params"] = {"connect_args": connect_args} if connect_args else {}
            text = yaml.safe_dump(database, allow_unicode=True, sort_keys=False)
        copy = target / path.relative_to(ASSETS)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(text, encoding="utf-8")
    return target


def _superset(env: dict, *args: str, answers: str | None = None) -> str:
    """``superset ARGS``; ``answers`` go to its prompts on stdin (a password: never on the command line)."""
    result = subprocess.run([str(BIN / "superset"), *args], env=env, capture_output=True, text=True, timeout=900,
                            input=answers)
    if result.returncode != 0:
        raise SystemExit(f"superset {' '.join(args[:2])} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result.stdout + result.stderr


def setup(home: Path, env: dict) -> tuple[str, str, str]:
    bi_home = home / "bi"
    user, password, source = admin_login(bi_home)
    _superset(env, "db", "upgrade")
    users = _superset(env, "fab", "list-users")
    if f"username:{user} |" in users:  # `fab list-users` prints "username:admin | email:..."
        _superset(env, "fab", "reset-password", "--username", user, answers=f"{password}\n{password}\n")
    else:
        _superset(env, "fab", "create-admin", "--username", user, "--firstname", "Admin", "--lastname", "Koperasi",
                  "--email", f"{user}@localhost", answers=f"{password}\n{password}\n")
    _superset(env, "init")
    uri, connect_args = serving_uri(home)
    with tempfile.TemporaryDirectory() as tmp:  # holds the rendered URI (a password with PostgreSQL): private
        subprocess.run([sys.executable, str(BI_DIR / "import_assets.py"), str(bundle(uri, connect_args, Path(tmp), province_name(home))),
                        user], env=env, check=True, timeout=900)
    return user, password, source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup-only", action="store_true", help="prepare and import, do not start the server")
    args = parser.parse_args(argv)
    home = Path(os.environ.get("KOPERASI_HOME") or ROOT / "data").resolve()
    if not (home / "warehouse" / "serving.duckdb").exists() and not os.environ.get("KOPERASI_POSTGRES_URL"):
        print(f"nothing published yet ({home / 'warehouse' / 'serving.duckdb'}): run 'make run' first", file=sys.stderr)
        return 1
    bi_home = home / "bi"
    os.umask(0o077)  # Superset's metadata and logs are the owner's only, like everything under KOPERASI_HOME
    bi_home.mkdir(mode=0o700, parents=True, exist_ok=True)
    bi_home.chmod(0o700)
    _private_file(bi_home / "secret.key", lambda: secrets.token_urlsafe(42))
    env = {**os.environ, "KOPERASI_HOME": str(home), "SUPERSET_CONFIG_PATH": str(BI_DIR / "superset_config.py"),
           "FLASK_APP": "superset", "PYTHONPATH": str(BI_DIR), "SUPERSET_LOAD_EXAMPLES": "no"}
    user, password, source = setup(home, env)
    port = os.environ.get("KOPERASI_BI_PORT", "8088")
    shown = password if source != "KOPERASI_BI_ADMIN_PASSWORD" else "(KOPERASI_BI_ADMIN_PASSWORD)"
    print(f"Superset:  http://127.0.0.1:{port}/  login {user} / {shown}  (password from {source})")
    uri = serving_uri(home)[0]
    where = f"PostgreSQL {uri.split('@')[-1]} as koperasi_bi" if "@" in uri else uri.split(":///")[-1]
    print(f"Database:  {DATABASE_NAME} -> {where}  (read-only)")
    print(f"Dashboards: Ringkasan Koperasi {province_name(home)}, Kesehatan Koperasi, Skenario Koperasi Sekunder, "
          "Cakupan UMKM, Kualitas Data")
    if args.setup_only:
        return 0
    print("Stop with Ctrl-C.", flush=True)
    gunicorn = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "gthread",
                "--threads", "4", "--timeout", "120", "--access-logfile", "-", "--log-level", "warning",
                "superset.app:create_app()"]
    os.execve(gunicorn[0], gunicorn, env)


if __name__ == "__main__":
    sys.exit(main())
