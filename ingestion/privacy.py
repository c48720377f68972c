"""The privacy rule, for every source: what of a file's row may be kept outside the archive, and a scan.

The rule (``shown_columns``): of a row that is kept anywhere (the quarantine, a correction workbook, a
steward's CSV) only the cells of columns the source's mapping recognises as a non-personal field are kept;
every other cell, including every column no mapping knows (a registry list's chair, KTP, phone, e-mail,
address, birth date; a member list's name and NIP), is written as ``MASK``. Messages never quote a cell of a
file without a recognised header (see ``ingestion.findings``).

The scan (``scan``, ``mask``) is the second line of defence behind that rule: run by the gate over every
quarantined record and message (a finding is a blocking failure: the file is withdrawn), by the steward
exports before they write, and by the tests over every table, file and export. Patterns, not names: a
person's name cannot be told from other text, which is why names are kept out by the rule, not the scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


MASK = "[masked]"


def shown_columns(headers: list[str], columns: dict[str, str], personal_fields: set[str]) -> set[str]:
    """Grid columns (c0..cN) whose cells may be kept: mapped to a field of the mapping that is not personal."""
    return {column for field_name, column in columns.items() if field_name not in personal_fields}


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


def findings_in(text: str | None, where: str, kinds: Iterable[str] | None = None) -> list[Finding]:
    if not text or text == MASK:
        return []
    return [Finding(kind, where) for kind, pattern in PATTERNS.items()
            if (kinds is None or kind in kinds) and pattern.search(text)]


def scan(items: Iterable[tuple[str, str | None]], kinds: Iterable[str] | None = None) -> list[Finding]:
    """(where, text) pairs -> findings, naming where but never quoting what was found; ``kinds``: only these
    patterns (default: all)."""
    kinds = None if kinds is None else set(kinds)
    found: list[Finding] = []
    for where, text in items:
        found += findings_in(text, where, kinds)
    return found


def mask(text: str | None) -> str | None:
    """The text with every personal-looking value replaced by the mask."""
    if not text:
        return text
    for pattern in PATTERNS.values():
        text = pattern.sub(MASK, text)
    return text
