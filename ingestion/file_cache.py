"""Caches of what is read from a project file (mappings, the region seed), valid while the file is unchanged.

A long-lived process (the Dagster code server under ``make serve``) must see a steward's new header alias or a
corrected seed at the next run, not at the next restart: the cache key includes the file's size and mtime.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path


def while_unchanged(path_of: Callable[..., Path], maxsize: int = 32):
    """Cache ``fn(*args)`` for as long as the file ``path_of(*args)`` keeps its size and modification time."""
    def decorate(fn):
        @functools.lru_cache(maxsize=maxsize)
        def cached(_stamp: tuple, *args):
            return fn(*args)

        @functools.wraps(fn)
        def wrapper(*args):
            path = path_of(*args)
            stat = path.stat()
            return cached((str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns), *args)

        return wrapper
    return decorate
