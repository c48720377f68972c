"""What is wrong with a whole file, as a code with typed parameters: the one place its texts are written.

A finding never carries a value read from a file's cells: its parameters are of the kinds below, each checked
when the finding is made, so a message cannot quote a person's name, NIP or address by construction. The
English text (logs, the registry's ``error``, Dagster events) and the Indonesian text (the stewards' report and
the quality dashboard) are both rendered here, from the code and the parameters; nothing is parsed back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# Parameter kinds a finding may show. Every other kind of value is refused when the finding is made.
COUNT = "count"      # a row number, a byte offset, a number of columns: an int
BOUND = "bound"      # a limit of the reader, as text written by the code ("64 MiB")
FIELDS = "fields"    # canonical field names of a mapping (code, never file content)
KNOWN = "known"      # headers of the file that a mapping recognises (aliases written in ingestion/mappings)
SYSTEM = "system"    # text made by the platform, not read from the file (an exception's type, a key fingerprint)

_KINDS = {
    "row": COUNT, "rows": COUNT, "offset": COUNT, "columns": COUNT, "limit_columns": COUNT, "unknown": COUNT,
    "found": COUNT, "bound": BOUND, "missing": FIELDS, "expected": FIELDS, "headers": KNOWN, "error_type": SYSTEM,
    "detail": SYSTEM, "origin": SYSTEM, "what": SYSTEM,
}

# code -> (English, Indonesian). The English text follows the file name ("<file>: <text>").
TEXTS: dict[str, tuple[str, str]] = {
    "empty": ("is empty", "berkas kosong"),
    "no_data_rows": ("has a header row (row {row}) but no data rows",
                     "hanya berisi baris judul kolom (baris {row}), tanpa data"),
    "binary": ("is not a readable spreadsheet or text file (binary content)",
               "bukan lembar kerja Excel atau berkas teks yang dapat dibaca"),
    "unreadable_csv": ("is not a readable CSV file ({error_type})", "berkas CSV tidak dapat dibaca ({error_type})"),
    "unreadable_xlsx": ("is not a readable XLSX workbook ({error_type})",
                        "buku kerja Excel tidak dapat dibaca ({error_type})"),
    "empty_sheet": ("has an empty first sheet", "lembar pertama kosong"),
    "no_header": ("no header row found in the first {rows} rows (expected columns {expected}; the first non-empty "
                  "row has {found} filled cell(s), none of them a known header)",
                  "judul kolom yang dikenal tidak ditemukan di {rows} baris pertama (baris pertama yang berisi punya "
                  "{found} sel terisi). Apakah ini berkas sumber lain (ditaruh di folder inbox yang salah)?"),
    "missing_columns": ("missing required column(s) {missing}; recognised headers: {headers}; {unknown} other "
                        "column(s) (add a spelling to ingestion/mappings if a header is named differently)",
                        "kolom wajib {missing} tidak ada; judul kolom yang dikenal: {headers}; {unknown} kolom lain "
                        "tidak dikenal (tim data dapat menambah ejaan judul di ingestion/mappings)"),
    "bad_utf8_mark": ("starts with a UTF-8 mark but byte {offset} is not UTF-8",
                      "berkas bertanda UTF-8 tetapi byte ke-{offset} bukan UTF-8; simpan ulang sebagai CSV UTF-8"),
    "unknown_encoding": ("is neither UTF-8 nor Windows-1252 text (undecodable byte at offset {offset})",
                         "pengodean teks berkas tidak dikenal; simpan ulang sebagai CSV UTF-8"),
    "too_many_columns": ("has {columns} columns, more than the {limit_columns} a file may have",
                         "berkas punya {columns} kolom, lebih dari batas {limit_columns} kolom"),
    "field_too_long": ("a cell in the first rows is longer than {bound}",
                       "ada sel di baris-baris awal yang lebih panjang dari {bound}"),
    "over_bound": ("is over a reader bound: {what} exceeds {bound}",
                   "berkas melampaui batas pembacaan: {what} lebih dari {bound}"),
    "no_snapshot_date": ("no snapshot date: put it in the file name (YYYY-MM-DD or YYYYMMDD) or pass --snapshot-date",
                         "tanggal snapshot tidak ada di nama berkas (tulis TTTT-BB-HH di namanya)"),
    "no_census_year": ("no year found in the title rows or the file name (e.g. 'Sensus Ekonomi 2016')",
                       "tahun sensus tidak ditemukan di judul tabel atau nama berkas (misalnya 'Sensus Ekonomi 2016')"),
    "no_cooperative_line": ("member list does not say which cooperative it belongs to (expected a line "
                            "'NIK Koperasi: <16 digits>' above the header)",
                            "daftar anggota tidak menyebut koperasinya (tulis baris 'NIK Koperasi: <16 digit>' di "
                            "atas judul kolom)"),
    "pseudonym_key": ("{detail}", "kunci samaran anggota tidak cocok atau tidak ada: hubungi tim data"),
    "not_regular": ("is not a regular file inside the inbox ({what}): refused, never opened",
                    "bukan berkas biasa di dalam folder inbox ({what}): ditolak dan tidak dibuka"),
    "unexpected": ("could not be read: unexpected {error_type} while reading it",
                   "berkas tidak dapat dibaca karena galat tak terduga ({error_type}); hubungi tim data"),
    "unreadable_file": ("cannot be opened ({error_type})", "berkas tidak dapat dibuka ({error_type})"),
}


def _check(name: str, value: object) -> object:
    kind = _KINDS.get(name)
    if kind is None:
        raise ValueError(f"finding parameter {name!r} has no declared kind: it cannot be shown")
    if kind == COUNT and not (isinstance(value, int) and not isinstance(value, bool)):
        raise TypeError(f"finding parameter {name!r} must be an int, not {type(value).__name__}")
    if kind in (FIELDS, KNOWN) and not (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
        raise TypeError(f"finding parameter {name!r} must be a list of names")
    if kind in (BOUND, SYSTEM) and not isinstance(value, str):
        raise TypeError(f"finding parameter {name!r} must be text made by the code")
    return list(value) if kind in (FIELDS, KNOWN) else value


def _shown(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(value) if value else "-"
    return str(value)


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a whole file: ``code`` (a key of ``TEXTS``) and showable parameters."""

    code: str
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in TEXTS:
            raise ValueError(f"unknown finding code {self.code!r}")
        object.__setattr__(self, "params", {k: _check(k, v) for k, v in self.params.items()})

    def english(self) -> str:
        return TEXTS[self.code][0].format(**{k: _shown(v) for k, v in self.params.items()})

    def indonesian(self) -> str:
        return TEXTS[self.code][1].format(**{k: _shown(v) for k, v in self.params.items()})

    def to_json(self) -> str:
        return json.dumps({"code": self.code, "params": self.params}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Finding | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(data["code"], data.get("params") or {})
        except (ValueError, KeyError, TypeError):
            return None


def indonesian(finding_json: str | None) -> str | None:
    """The Indonesian text of a stored finding (None when there is none, e.g. a registry row of an older version)."""
    finding = Finding.from_json(finding_json)
    return finding.indonesian() if finding else None
