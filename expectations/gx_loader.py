"""Great Expectations, imported once and only when something is validated: its import costs seconds."""

from __future__ import annotations

import os
import threading
from functools import lru_cache


@lru_cache(maxsize=None)
def gx():
    # Read by GX when it is imported: no usage analytics (no network here), no progress bars in run logs.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    import great_expectations
    import great_expectations.expectations  # noqa: F401  (the expectation classes the suites use)

    return great_expectations


# Imported on the caller's thread before GX's own import starts in the background: these register global hooks
# (SQLAlchemy's ORM registers an inspector that Dagster's SQL storage then calls) or are imported by the caller too
# (pandas, by pyarrow's to_pandas), and a module half-initialised by one thread is seen by the other. Seen: Dagster's
# event log failing a step with "partially initialized module 'sqlalchemy.orm.exc'" while GX imported the ORM.
SHARED_DEPENDENCIES = ("sqlalchemy.orm", "pandas")


def preload() -> None:
    """Imports GX in a background thread, called where a run starts work that waits on DuckDB, polars or a
    dbt process: the import overlaps that work instead of following it."""
    import importlib

    for module in SHARED_DEPENDENCIES:
        importlib.import_module(module)
    threading.Thread(target=gx, name="import-great-expectations", daemon=True).start()
