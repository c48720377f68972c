"""Pseudonymous member keys: a keyed hash (HMAC-SHA256) of the NIP. The NIP itself is never stored.

The key is a secret of the installation, never a value in the repository: ``KOPERASI_PSEUDONYM_KEY``, or else
a random key generated on first use into ``$KOPERASI_HOME/pseudonym.key`` (mode 0600; back it up: without it,
member lists loaded later cannot be matched with earlier ones). A fingerprint of the key (a keyed hash of a
constant, from which the key cannot be recovered) is stored with the data, so that a list pseudonymised with
another key is refused instead of silently producing member keys that match nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "KOPERASI_PSEUDONYM_KEY"
_FINGERPRINT_MESSAGE = b"koperasi pseudonym key fingerprint v1"


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes
    origin: str  # where it came from, for messages (never the key itself)
    generated: bool = False

    @property
    def fingerprint(self) -> str:
        return hmac.new(self.secret, _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]


class MissingPseudonymKey(Exception):
    pass


def pseudonym_key(key_file: Path | None) -> PseudonymKey:
    """The key from ``KOPERASI_PSEUDONYM_KEY``; else the installation's key file, generated when missing."""
    value = os.environ.get(ENV_VAR)
    if value:
        return PseudonymKey(value.encode("utf-8"), f"${ENV_VAR}")
    if key_file is None:
        raise MissingPseudonymKey(f"no pseudonym key: set {ENV_VAR} or give the installation's key file")
    if key_file.exists():
        text = key_file.read_text(encoding="utf-8").strip()
        if text:
            return PseudonymKey(text.encode("utf-8"), str(key_file))
    key_file.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    # Created with mode 0600 from the start: the key is never readable by others, not even for a moment.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    return PseudonymKey(secret.encode("utf-8"), str(key_file), generated=True)


def member_key(key: bytes, nip: str) -> str:
    return hmac.new(key, nip.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def key_mismatch_message(stored: str, key: PseudonymKey) -> str:
    return (f"the pseudonym key from {key.origin} (fingerprint {key.fingerprint}) is not the key the stored member "
            f"lists were pseudonymised with (fingerprint {stored}): their member keys would silently stop matching. "
            f"Use the installation's original key (set {ENV_VAR} to it, or restore the backed-up key file).")
