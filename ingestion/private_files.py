"""Owner-only files: what the warehouse writes under ``KOPERASI_HOME`` holds personal data or secrets.

Every command starts with ``private_umask`` (files 0600, folders 0700, whatever the shell's umask); secrets
and steward exports are created with their mode in the ``open`` call itself, never chmod-ed afterwards, so
there is no moment where another local user could read them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO

PRIVATE_UMASK = 0o077


def private_umask() -> None:
    """Files and folders this process creates are the owner's only (a process-wide setting: called where a
    command starts, never on import)."""
    os.umask(PRIVATE_UMASK)


def private_home(home: Path) -> None:
    """``KOPERASI_HOME`` as a folder only its owner can enter (created so, or narrowed when it exists)."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if home.stat().st_mode & 0o077 and home.stat().st_uid == os.geteuid():
        home.chmod(0o700)


def private_output(path: Path, mode: str = "w", **kwargs) -> IO:
    """A file opened for writing, created 0600 (an existing file keeps its owner-only mode)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    return os.fdopen(fd, mode, **kwargs)


def write_secret(path: Path, text: str) -> None:
    """Writes a secret into a new file created 0600, in one step (O_EXCL: never over another file or link)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def stored_secret(path: Path, nbytes: int = 18) -> str:
    """The secret in ``path``, generated (0600 from its creation) when the file is missing."""
    if not path.exists():
        try:
            write_secret(path, secrets.token_urlsafe(nbytes) + "\n")
        except FileExistsError:  # another process made it first: use theirs
            pass
    return path.read_text(encoding="utf-8").strip()


def copy_private(source: Path, target: Path) -> None:
    """Copies a file into a new owner-only file (0600 from its creation, whatever the source's mode)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    with source.open("rb") as src, os.fdopen(os.open(target, flags, 0o600), "wb") as dst:
        while block := src.read(1 << 22):
            dst.write(block)
