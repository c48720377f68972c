"""Injects the defects real exports have (``--dirty RATE``) and records each one in a manifest.

Every defect is written down as (file, row, kind, expected quarantine reason) so tests can check that
each one is caught. Row numbers are the ones a spreadsheet shows (1-based, header rows included).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

# kind -> (field index in the canonical ODS column order, replacement, expected reason code)
ODS_ROW_DEFECTS = {
    "nik_scientific_notation": (0, "1,20712E+15", "invalid_registry_number"),
    "nik_wrong_length": (0, None, "invalid_registry_number"),
    "nik_non_digit": (0, None, "invalid_registry_number"),
    "unknown_region": (4, "Kabupaten Antah Berantah", "unknown_region"),
    "unparseable_money": (18, "12,5 juta", "invalid_number"),
    "negative_members": (12, "-5", "invalid_number"),
    "non_integer_members": (13, "12,5", "invalid_number"),
    "missing_name": (1, "", "missing_required"),
    "invalid_date": (3, "31-02-2019", "invalid_date"),
    "duplicate_registry_number": (0, None, "duplicate_registry_number"),
}


@dataclass(frozen=True)
class Defect:
    file: str
    row: int | None
    kind: str
    reason: str


class DefectInjector:
    def __init__(self, rate: float, seed: int):
        self.rate = rate
        self.rng = random.Random(seed)
        self.defects: list[Defect] = []
        self._truncate_next_csv = rate > 0

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def record(self, file: str, row: int | None, kind: str, reason: str) -> None:
        self.defects.append(Defect(file, row, kind, reason))

    def rows(self, file: str, rows: Iterable[list], *, first_row: int, header: Sequence[str]) -> Iterator[list]:
        """Yields the rows of one ODS export, some with a defect; duplicates add a row."""
        row_number = first_row
        for cells in rows:
            if not self.enabled or self.rng.random() >= self.rate:
                yield cells
                row_number += 1
                continue
            kind = self.rng.choice(sorted(ODS_ROW_DEFECTS))
            index, replacement, reason = ODS_ROW_DEFECTS[kind]
            if kind == "duplicate_registry_number":
                yield cells
                yield list(cells)
                self.record(file, row_number, kind, reason)
                self.record(file, row_number + 1, kind, reason)
                row_number += 2
                continue
            cells = list(cells)
            if kind == "nik_wrong_length":
                replacement = str(cells[0])[:-1]
            elif kind == "nik_non_digit":
                replacement = str(cells[0])[:5] + "O" + str(cells[0])[6:]
            cells[index] = replacement
            self.record(file, row_number, kind, reason)
            yield cells
            row_number += 1

    def truncate_last_row(self, path: Path) -> None:
        """Cuts the last row of the first CSV export in half, as an interrupted download does."""
        if not self._truncate_next_csv:
            return
        self._truncate_next_csv = False
        data = path.read_bytes().rstrip(b"\r\n")
        last_break = data.rfind(b"\n")
        last_line = data[last_break + 1:]
        cut = data[: last_break + 1 + len(last_line) // 3]
        path.write_bytes(cut)
        row = cut.count(b"\n") + 1
        self.record(path.name, row, "truncated_row", "truncated_row")

    def write_manifest(self, path: Path) -> None:
        path.write_text(json.dumps([asdict(d) for d in self.defects], indent=1), encoding="utf-8")
