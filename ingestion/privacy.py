"""A scan for personal values in text: the last line of defence behind masking at ingestion.

Run by the gate over every member list's quarantined records (a finding is a blocking failure: the file is
withdrawn), by ``koperasi quality --quarantine`` before it writes a steward's CSV, and by the tests over every
table, file and export. Patterns, not names: a person's name cannot be told from other text, so names are
kept out structurally (member lists keep only allow-listed columns, see ``quarantine.record_json``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ingestion.quarantine import MASK

# NIP (civil-servant number): 18 digits, birth date YYYYMMDD first. Dots or spaces are sometimes typed in.
# Lookarounds on word characters: a digit run inside a hex key or a longer code is not a number of a person.
_NIP = re.compile(r"(?<!\w)(19[4-9]\d|20[0-2]\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])[\s.]?\d{6}[\s.]?\d[\s.]?\d{3}(?!\w)")
# KTP NIK (resident number): 16 digits; province 11-94, regency, district, then DDMMYY (DD + 40 for women).
_KTP = re.compile(r"(?<!\w)(1[1-9]|[2-8]\d|9[0-4])\d{4}(0[1-9]|[12]\d|3[01]|4[1-9]|[56]\d|7[01])(0[1-9]|1[0-2])\d{2}\d{4}(?!\w)")
# Indonesian mobile or landline numbers: +62 / 62 / 0, then 8-12 more digits, with optional separators.
_PHONE = re.compile(r"(?<![\w])(\+62|62|0)[\s-]?8\d{1,3}[\s-]?\d{3,4}[\s-]?\d{3,5}(?!\w)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")

PATTERNS = {"nip": _NIP, "ktp_nik": _KTP, "phone": _PHONE, "email": _EMAIL}


@dataclass(frozen=True)
class Finding:
    kind: str
    where: str

    def describe(self) -> str:  # never the value itself
        return f"{self.kind} in {self.where}"


def findings_in(text: str | None, where: str) -> list[Finding]:
    if not text or text == MASK:
        return []
    return [Finding(kind, where) for kind, pattern in PATTERNS.items() if pattern.search(text)]


def scan(items: Iterable[tuple[str, str | None]]) -> list[Finding]:
    """(where, text) pairs -> findings, naming where but never quoting what was found."""
    found: list[Finding] = []
    for where, text in items:
        found += findings_in(text, where)
    return found


def mask(text: str | None) -> str | None:
    """The text with every personal-looking value replaced by the mask."""
    if not text:
        return text
    for pattern in PATTERNS.values():
        text = pattern.sub(MASK, text)
    return text
