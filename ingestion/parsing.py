"""Parsing rules for the text cells of Indonesian exports, as polars expressions.

Every source column is read as text. Each rule returns the parsed value, whether the cell is invalid,
and a message naming the value, so a row with any error is quarantined instead of silently becoming a
different number. The rules are written to be cheap on millions of cells: one anchored regex test for
the shape of a cell (a DFA pass), then literal string operations that are only right for that shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import polars as pl

_NIK = r"^([0-9]{16})$"  # group 1: the registry number (ASCII digits only, unlike \d)
_SCIENTIFIC = r"^(?i:\d+(?:[.,]\d+)?e[+-]?\d+)$"
_NIL = "-"
# "1.234.567", "1234567", "1.234.567,00", "Rp 1.234.567" (a zero fraction is still a whole number).
_WHOLE_NUMBER = r"^(?i:rp\.?\s*)?-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,0+)?$"
_CURRENCY = r"^(?i:rp\.?\s*)"
_ZERO_FRACTION = r",0+$"

TRUE_WORDS = ("ya", "y", "yes", "true", "1", "aktif", "sudah", "ada", "v", "benar")
FALSE_WORDS = ("tidak", "t", "no", "n", "false", "0", "tidak aktif", "non aktif", "nonaktif", "belum", "tidak ada", "-")
_BOOLEANS = {**{w: True for w in TRUE_WORDS}, **{w: False for w in FALSE_WORDS}}

# Dates: '/' and '.' separators are read as '-', so two patterns cover DD-MM-YYYY and YYYY-MM-DD in all three.
_DAY_FIRST, _YEAR_FIRST = "%d-%m-%Y", "%Y-%m-%d"
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"  # how spreadsheets hand over a date cell
_EXCEL_SERIAL = r"^\d{5}$"
_EXCEL_EPOCH = pl.date(1899, 12, 30)


@dataclass(frozen=True)
class Parsed:
    """How one column parses: its trimmed text, the typed value made from that text, whether a cell is
    invalid and the message for an invalid cell (from the text and the value).

    polars does not share sub-expressions between these, so on large files the text and the value are
    computed once each, as columns of their own, and ``staged`` reads them back (see ods.py). ``value``,
    ``invalid`` and ``message`` are the same rule as self-contained expressions over the raw column.
    ``message`` formats text and is meant to be evaluated on the invalid rows only (see quarantine.split)."""

    column: str
    reason: str
    value_of: Callable[[pl.Expr], pl.Expr]
    invalid_of: Callable[[pl.Expr, pl.Expr], pl.Expr]
    message_of: Callable[[pl.Expr, pl.Expr], pl.Expr]
    text_of: Callable[[str], pl.Expr] = field(default=lambda column: cell(column))

    @property
    def text(self) -> pl.Expr:
        return self.text_of(self.column)

    @property
    def value(self) -> pl.Expr:
        return self.value_of(self.text)

    @property
    def invalid(self) -> pl.Expr:
        return self.invalid_of(self.text, self.value).fill_null(False)

    @property
    def message(self) -> pl.Expr:
        return self.message_of(self.text, self.value)

    @property
    def error(self) -> pl.Expr:
        """The message where the cell is invalid, else null (evaluates the message on every row)."""
        return pl.when(self.invalid).then(self.message)

    @property
    def check(self) -> tuple[str, pl.Expr, pl.Expr]:
        return (self.reason, self.invalid, self.message)

    def staged(self, text_column: str, value_column: str) -> tuple[str, pl.Expr, pl.Expr]:
        """The check, reading the text and the value from columns computed before it."""
        text, value = pl.col(text_column), pl.col(value_column)
        return (self.reason, self.invalid_of(text, value).fill_null(False), self.message_of(text, value))


def cell(column: str) -> pl.Expr:
    """The trimmed cell; empty and whitespace-only cells are null."""
    text = pl.col(column).str.strip_chars()
    return pl.when(text != "").then(text)


def clean_text(column: str, *, nbsp: bool = True) -> pl.Expr:
    """Trimmed text with non-breaking spaces normalised; empty cells become null.
    (``nbsp=False``: no cell has one, see ``has_nbsp``.)"""
    text = pl.col(column)
    text = (text.str.replace_all("\u00a0", " ", literal=True) if nbsp else text).str.strip_chars()
    return pl.when(text != "").then(text)


# Facts about the raw cells of one batch, each one cheap pass without building strings, that let the rules
# skip work; raw-cell facts hold for the trimmed cells too, so they never change a result.
def has_nbsp(column: str) -> pl.Expr:
    return pl.col(column).str.contains("\u00a0", literal=True).any()


def all_match(column: str, pattern: str) -> pl.Expr:
    """Every filled cell matches the pattern."""
    return pl.col(column).str.contains(pattern).fill_null(True).all()


PLAIN_REGISTRY_NUMBER = r"^[0-9]{16}$"
PLAIN_DATE = r"^[0-9]{2}-[0-9]{2}-[0-9]{4}$"  # DD-MM-YYYY


def row_finding(code: str, **params: pl.Expr | str) -> pl.Expr:
    """A row finding (``ingestion.findings.ROW_TEXTS``) as one JSON object per row, escaped by polars: the message
    of a check, rendered to English and Indonesian from it (never parsed back)."""
    fields = [pl.lit(code).alias("code")] + [
        (value if isinstance(value, pl.Expr) else pl.lit(value)).cast(pl.String).alias(name)
        for name, value in params.items()]
    return pl.struct(fields).struct.json_encode()


def _problem(column: str, header: str, text: pl.Expr, code: str) -> pl.Expr:
    return row_finding(code, header=header or column, value=text)


def may_be_decorated(column: str) -> pl.Expr:
    """Whether any cell of the column could carry 'Rp' or a ',00' fraction (a cheap character search)."""
    return pl.col(column).str.contains(r"[,rR]").any()


def whole_number(column: str, header: str = "", *, allow_negative: bool = False, nil_is_zero: bool = True,
                 decorated: bool = True) -> Parsed:
    """Indonesian whole numbers: thousands with '.', optional ',00', optional 'Rp', '-' for nil.

    ``decorated=False`` (no cell has 'Rp' or a fraction, see ``may_be_decorated``) skips two text
    replacements per cell; the shape check is the same either way."""
    nil_value = pl.lit(0, pl.Int64) if nil_is_zero else pl.lit(None, pl.Int64)

    def value_of(text: pl.Expr) -> pl.Expr:
        bare = text.str.replace(_CURRENCY, "").str.replace(_ZERO_FRACTION, "") if decorated else text
        digits = bare.str.replace_all(".", "", literal=True)
        # Only text of the right shape is converted, so "1.23.456" never becomes 123456.
        number = pl.when(text.str.contains(_WHOLE_NUMBER)).then(digits.cast(pl.Int64, strict=False))
        return pl.when(text == _NIL).then(nil_value).otherwise(number)

    def invalid_of(text: pl.Expr, value: pl.Expr) -> pl.Expr:
        bad = value.is_null() if allow_negative else (value.is_null() | (value < 0))
        return text.is_not_null() & (text != _NIL) & bad

    def message_of(text: pl.Expr, value: pl.Expr) -> pl.Expr:
        return (pl.when(value.is_null()).then(_problem(column, header, text, "not_whole_number"))
                .otherwise(_problem(column, header, text, "negative")))

    return Parsed(column, "invalid_number", value_of, invalid_of, message_of)


def _none_parsed(text: pl.Expr, value: pl.Expr) -> pl.Expr:
    """A filled cell that gave no value."""
    return text.is_not_null() & value.is_null()


def registry_number(column: str, header: str = "", *, plain: bool = False) -> Parsed:
    """A 16-digit Nomor Induk Koperasi. Excel's scientific notation is unrecoverable: never guessed.
    (``plain``: every cell is 16 digits already, see ``all_match(column, PLAIN_REGISTRY_NUMBER)``.)"""

    def value_of(text: pl.Expr) -> pl.Expr:
        if plain:
            return text
        return text.str.replace_all(r"[\s.\-]", "").str.extract(_NIK, 1)

    def message_of(text: pl.Expr, value: pl.Expr) -> pl.Expr:
        return (pl.when(text.str.contains(_SCIENTIFIC))
                .then(_problem(column, header, text, "scientific_notation"))
                .otherwise(_problem(column, header, text, "not_registry_number")))

    return Parsed(column, "invalid_registry_number", value_of, _none_parsed, message_of)


def boolean(column: str, header: str = "", *, spellings: list[str] | None = None) -> Parsed:
    """Ya/Tidak and their variants. ``spellings`` (the distinct trimmed cells of the batch) lets the words be
    looked up once per spelling instead of lower-casing every cell."""

    def value_of(text: pl.Expr) -> pl.Expr:
        if spellings is None:
            return text.str.to_lowercase().replace_strict(_BOOLEANS, default=None, return_dtype=pl.Boolean)
        known = {s: _BOOLEANS[s.lower()] for s in spellings if s.lower() in _BOOLEANS}
        return text.replace_strict(known, default=None, return_dtype=pl.Boolean)

    return Parsed(column, "invalid_boolean", value_of, _none_parsed,
                  lambda text, _: _problem(column, header, text, "not_boolean"))


def calendar_date(column: str, header: str = "", *, excel_serials: bool = False, plain: bool = False) -> Parsed:
    """DD-MM-YYYY or YYYY-MM-DD with '-', '/' or '.', a spreadsheet timestamp, or an Excel day number.
    (``plain``: every cell is DD-MM-YYYY, see ``all_match(column, PLAIN_DATE)``: one pattern to try.)"""

    def value_of(text: pl.Expr) -> pl.Expr:
        if plain:
            return text.str.to_date(_DAY_FIRST, strict=False)
        dashed = text.str.replace_all("/", "-", literal=True).str.replace_all(".", "-", literal=True)
        candidates = [dashed.str.to_date(_DAY_FIRST, strict=False), dashed.str.to_date(_YEAR_FIRST, strict=False),
                      pl.when(text.str.contains(_TIMESTAMP)).then(text.str.slice(0, 10).str.to_date(_YEAR_FIRST, strict=False))]
        if excel_serials:
            serial = pl.when(text.str.contains(_EXCEL_SERIAL)).then(text.cast(pl.Int32, strict=False))
            candidates.append(_EXCEL_EPOCH + pl.duration(days=serial))
        return pl.coalesce(candidates)

    return Parsed(column, "invalid_date", value_of, _none_parsed,
                  lambda text, _: _problem(column, header, text, "not_date"))


def year(column: str, header: str = "") -> Parsed:
    """A calendar year; '-' or blank means none (e.g. never held a RAT)."""
    return Parsed(column, "invalid_year",
                  lambda text: pl.when(text.str.contains(r"^(19|20)\d{2}$")).then(text.cast(pl.Int32, strict=False)),
                  lambda text, value: text.is_not_null() & (text != _NIL) & value.is_null(),
                  lambda text, _: _problem(column, header, text, "not_year"))


def required(column: str, header: str = "", text: pl.Expr | None = None) -> pl.Expr:
    """Error when a required cell is empty (``text``: the trimmed cell, when already computed)."""
    return pl.when((cell(column) if text is None else text).is_null()).then(row_finding("empty", header=header or column))
