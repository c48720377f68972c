"""The one Dagster instance configuration (``dagster.yaml``), for `koperasi run`/`make dev` and for the service.

Both run one run at a time and one step at a time in the build-database pool, because DuckDB allows a single
read-write process. The service (`koperasi serve`) keeps its instance in PostgreSQL and queues runs for the daemon.
"""

from __future__ import annotations

from pathlib import Path

_COMMON = """\
telemetry:
  enabled: false
nux:
  enabled: false  # no onboarding pop-up over the first page
concurrency:
  runs:
    max_concurrent_runs: 1
  pools:
    default_limit: 1
"""

# The password is never written here: the URL comes from the environment serve sets.
_SERVICE = """\
storage:
  postgres:
    postgres_url:
      env: KOPERASI_DAGSTER_POSTGRES_URL
run_coordinator:  # runs wait in a queue; the daemon starts them one at a time
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1  # Dagster's 5 s would be up to 4 s of a new export's way to BI
"""


def instance_yaml(*, service: bool) -> str:
    writer = "`koperasi serve`" if service else "koperasi (local SQLite instance)"
    return f"# Written by {writer}; kept current on every start.\n" + _COMMON + (_SERVICE if service else "")


def write_instance_config(dagster_home: Path, *, service: bool) -> Path:
    """``dagster_home/dagster.yaml`` as this version writes it (rewritten only when it differs)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    text = instance_yaml(service=service)
    if not config.exists() or config.read_text(encoding="utf-8") != text:
        config.write_text(text, encoding="utf-8")
    return config
