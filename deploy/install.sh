#!/usr/bin/env bash
# Installs the systemd units for a clone of this repository, and the environment file if there is none.
#   deploy/install.sh [--root DIR] [--env-file FILE] [--unit-dir DIR] [--no-systemctl]
# Defaults: --root = this clone, --env-file /etc/koperasi/koperasi.env, --unit-dir /etc/systemd/system.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
env_file=/etc/koperasi/koperasi.env
unit_dir=/etc/systemd/system
systemctl=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="$(cd "$2" && pwd)"; shift 2 ;;
    --env-file) env_file="$2"; shift 2 ;;
    --unit-dir) unit_dir="$2"; shift 2 ;;
    --no-systemctl) systemctl=no; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[ -x "$root/.venv/bin/koperasi" ] || { echo "$root/.venv/bin/koperasi is missing: run 'make install' in $root" >&2; exit 1; }

if [ ! -e "$env_file" ]; then
  (umask 077
   mkdir -p "$(dirname "$env_file")"
   password="$("$root/.venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(18))')"
   sed "s|^KOPERASI_BI_PASSWORD=.*|KOPERASI_BI_PASSWORD=$password|" "$root/deploy/koperasi.env.example" > "$env_file")
  echo "wrote $env_file (mode 0600; the BI password is in it)"
fi
chmod 600 "$env_file"

mkdir -p "$unit_dir"
for unit in "$root"/deploy/systemd/*.service "$root"/deploy/systemd/*.timer; do
  sed -e "s|@ROOT@|$root|g" -e "s|@ENV_FILE@|$env_file|g" "$unit" > "$unit_dir/$(basename "$unit")"
done
echo "installed the units into $unit_dir"
if [ "$systemctl" = yes ]; then
  systemctl daemon-reload
  systemctl enable --now koperasi-postgres.service koperasi-dagster-daemon.service \
    koperasi-dagster-webserver.service koperasi-backup.timer
fi
