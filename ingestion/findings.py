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
KNOWN_ONE = "known_one"  # one such header
SYSTEM = "system"    # text made by the platform, not read from the file (an exception's type, a key fingerprint)

_KINDS = {
    "row": COUNT, "rows": COUNT, "offset": COUNT, "columns": COUNT, "limit_columns": COUNT, "unknown": COUNT,
    "found": COUNT, "bound": BOUND, "missing": FIELDS, "expected": FIELDS, "headers": KNOWN, "error_type": SYSTEM,
    "detail": SYSTEM, "origin": SYSTEM, "what": SYSTEM, "header": KNOWN_ONE, "reported": COUNT, "summed": COUNT,
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
    # Warnings: the file is loaded, but something about it as a whole needs a look.
    "total_mismatch": ("the total row (row {row}) column '{header}' reports {reported} but the regions loaded sum "
                       "to {summed}",
                       "baris Jumlah (baris {row}) kolom '{header}' berisi {reported}, padahal wilayah yang dimuat "
                       "berjumlah {summed}"),
    "no_total_row": ("the table has no province total row to reconcile against",
                     "tabel tidak punya baris Jumlah provinsi untuk dicocokkan"),
    "new_pseudonym_key": ("generated a new pseudonym key in {origin}: back it up (member lists loaded later must use "
                          "the same key)", "kunci samaran anggota baru dibuat: tim data perlu mencadangkannya"),
}


def _check(name: str, value: object) -> object:
    kind = _KINDS.get(name)
    if kind is None:
        raise ValueError(f"finding parameter {name!r} has no declared kind: it cannot be shown")
    if kind == COUNT and not (isinstance(value, int) and not isinstance(value, bool)):
        raise TypeError(f"finding parameter {name!r} must be an int, not {type(value).__name__}")
    if kind in (FIELDS, KNOWN) and not (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
        raise TypeError(f"finding parameter {name!r} must be a list of names")
    if kind in (BOUND, SYSTEM, KNOWN_ONE) and not isinstance(value, str):
        raise TypeError(f"finding parameter {name!r} must be text made by the code")
    return list(value) if kind in (FIELDS, KNOWN) else value


_FIGURES = {"reported", "summed"}  # figures of a table, written as the office writes numbers (1.234.567)


def _shown(name: str, value: object) -> str:
    if isinstance(value, list):
        return ", ".join(value) if value else "-"
    if name in _FIGURES:
        return f"{value:,}".replace(",", ".")
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
        return TEXTS[self.code][0].format(**{k: _shown(k, v) for k, v in self.params.items()})

    def indonesian(self) -> str:
        return TEXTS[self.code][1].format(**{k: _shown(k, v) for k, v in self.params.items()})

    def as_dict(self) -> dict:
        return {"code": self.code, "params": self.params}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: object) -> Finding | None:
        try:
            return cls(data["code"], data.get("params") or {})
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    @classmethod
    def from_json(cls, text: str | None) -> Finding | None:
        if not text:
            return None
        try:
            return cls.from_dict(json.loads(text))
        except ValueError:
            return None


def indonesian(finding_json: str | None) -> str | None:
    """The Indonesian text of a stored finding (None when there is none, e.g. a registry row of an older version)."""
    finding = Finding.from_json(finding_json)
    return finding.indonesian() if finding else None


# Findings of one row (why it is quarantined). Made in polars by ``row_finding`` as one JSON object per problem
# (``{"code": ..., "header": ..., "value": ...}``); a quarantined row keeps the list of them (``raw.quarantine.
# findings``), and its English ``message`` and the stewards' Indonesian text are rendered from that list here.
# ``header`` is a header the mapping recognised, ``value`` the cell of a mapped non-personal field (the privacy
# rule: member lists' findings carry no value), the others are made by the code.
ROW_TEXTS: dict[str, tuple[str, str]] = {
    "not_whole_number": ("column '{header}': '{value}' is not a whole number (expected e.g. 1.234.567)",
                         "kolom '{header}': '{value}' bukan angka bulat"),
    "negative": ("column '{header}': '{value}' is negative", "kolom '{header}': '{value}' negatif"),
    "scientific_notation": ("column '{header}': '{value}' was turned into scientific notation by Excel; the 16 "
                            "digits cannot be recovered",
                            "kolom '{header}': '{value}' diubah Excel menjadi notasi ilmiah; 16 digitnya hilang"),
    "not_registry_number": ("column '{header}': '{value}' is not a 16-digit registry number",
                            "kolom '{header}': '{value}' bukan nomor induk 16 digit"),
    "not_boolean": ("column '{header}': '{value}' is not yes/no (Ya/Tidak)", "kolom '{header}': '{value}' bukan Ya/Tidak"),
    "not_date": ("column '{header}': '{value}' is not a date (expected DD-MM-YYYY)",
                 "kolom '{header}': '{value}' bukan tanggal (HH-BB-TTTT)"),
    "not_year": ("column '{header}': '{value}' is not a year", "kolom '{header}': '{value}' bukan tahun"),
    "empty": ("column '{header}' is empty", "kolom '{header}' kosong"),
    "unknown_region": ("column '{header}': '{value}' is not a region of {province} (closest: {closest})",
                       "kolom '{header}': '{value}' bukan kabupaten/kota {province} (terdekat: {closest})"),
    "ambiguous_region": ("column '{header}': '{value}' could be {candidates}: write 'Kabupaten' or 'Kota' before "
                         "the name", "kolom '{header}': '{value}' bisa berarti {candidates}; tulis 'Kabupaten' atau "
                         "'Kota' di depan namanya"),
    "not_category": ("column '{header}': '{value}' is not one of {accepted}",
                     "kolom '{header}': '{value}' bukan salah satu dari {accepted}"),
    "duplicate_registry_number": ("registry number {value} appears more than once in this snapshot (rows {rows})",
                                  "nomor induk {value} muncul lebih dari sekali di snapshot ini (baris {rows})"),
    "truncated_row": ("the last row is cut short (the file ends in the middle of a row): re-export the file",
                      "baris terakhir terpotong (berkas berakhir di tengah baris)"),
    "formula_without_value": ("a formula cell has no saved value: open the file in Excel, let it calculate, "
                              "save it again", "ada sel rumus tanpa nilai tersimpan"),
    "nul_byte": ("a cell holds a NUL byte (binary content, not text): re-export the file",
                 "ada sel berisi karakter NUL (isi biner, bukan teks)"),
    "row_total_mismatch": ("'Jumlah' is {value} but the parts sum to {parts_sum}",
                           "kolom Jumlah berisi {value}, padahal rinciannya berjumlah {parts_sum}"),
    "duplicate_region": ("region {value} appears more than once", "kabupaten/kota {value} muncul lebih dari sekali"),
    "duplicate_opd": ("OPD code {value} is listed more than once", "kode OPD {value} muncul lebih dari sekali"),
    "invalid_nip": ("column '{header}': not an 18-digit NIP (value masked)",
                    "kolom '{header}': NIP tidak 18 digit (nilai disamarkan)"),
    "invalid_status": ("column '{header}': not ASN, PPPK or Honorer (value masked)",
                       "kolom '{header}': bukan ASN, PPPK atau Honorer (nilai disamarkan)"),
}
ROW_PARAMS = ("header", "value", "closest", "accepted", "rows", "parts_sum", "province", "candidates")


def row_finding_json(code: str, **params: str) -> str:
    """One row finding as JSON, made in Python (for lookups by spelling: one text per distinct cell)."""
    if code not in ROW_TEXTS or set(params) - set(ROW_PARAMS):
        raise ValueError(f"row finding {code!r} with parameters {sorted(params)} is not declared")
    return json.dumps({"code": code, **params}, ensure_ascii=False)


def render_row_findings(findings_json: str | None, language: int) -> str:
    """The findings of one row as text: ``language`` 0 English, 1 Indonesian; problems joined by '; '."""
    try:
        findings = json.loads(findings_json) if findings_json else []
    except ValueError:
        return ""
    parts = []
    for finding in findings if isinstance(findings, list) else []:
        texts = ROW_TEXTS.get(finding.get("code"))
        if texts is None:
            continue
        shown = {k: "" if finding.get(k) is None else str(finding[k]) for k in ROW_PARAMS}
        parts.append(texts[language].format(**shown))
    return "; ".join(parts)


def english_rows(findings_json: str | None) -> str:
    return render_row_findings(findings_json, 0)


def indonesian_rows(findings_json: str | None) -> str:
    return render_row_findings(findings_json, 1)
