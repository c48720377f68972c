"""Pseudonymous member keys: a keyed hash (HMAC-SHA256) of the NIP. The NIP itself is never stored."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

ENV_VAR = "KOPERASI_PSEUDONYM_KEY"


class MissingPseudonymKey(Exception):
    pass


def pseudonym_key(key_file: Path | None = None) -> bytes:
    """The key from ``KOPERASI_PSEUDONYM_KEY``; else the key file that ``koperasi sample`` writes for demo data."""
    value = os.environ.get(ENV_VAR)
    if value:
        return value.encode("utf-8")
    if key_file is not None and key_file.exists():
        return key_file.read_text(encoding="utf-8").strip().encode("utf-8")
    raise MissingPseudonymKey(
        f"{ENV_VAR} is not set: OPD member lists carry civil-servant numbers (NIP) that must be pseudonymised "
        f"with a secret key before they are stored. Set {ENV_VAR} to the office's key (keep it out of git)."
    )


def member_key(key: bytes, nip: str) -> str:
    return hmac.new(key, nip.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
