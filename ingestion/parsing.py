"""Parsing rules for the text cells of Indonesian exports, as polars expressions.

Every source column is read as text. Each rule returns the parsed value and an error message
(null when the cell is fine), so a row with any error is quarantined with the value in the message
instead of silently becoming a different number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

# "1.234.567", "1234567", "1.234.567,00" (a zero fraction is still a whole number).
_WHOLE_NUMBER = r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,0+)?$"
_CURRENCY_PREFIX = r"^(?i:rp)\.?\s*"
_NIK = r"^\d{16}$"
_SCIENTIFIC = r"^(?i:\d+(?:[.,]\d+)?e[+-]?\d+)$"
_NIL = "-"

TRUE_WORDS = ("ya", "y", "yes", "true", "1", "aktif", "sudah", "ada", "v", "benar")
FALSE_WORDS = ("tidak", "t", "no", "n", "false", "0", "tidak aktif", "non aktif", "nonaktif", "belum", "tidak ada", "-")

DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S")
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Parsed:
    """A parsed column: the typed value and an error message expression (null when valid)."""

    value: pl.Expr
    error: pl.Expr
    reason: str


def clean_text(column: str) -> pl.Expr:
    """Trimmed text with non-breaking spaces normalised; empty cells become null."""
    text = pl.col(column).str.replace_all("\u00a0", " ", literal=True).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _describe(column: str, header: str) -> str:
    return f"column '{header}' ({column})" if header and header != column else f"column '{column}'"


def _problem(column: str, header: str, text: pl.Expr, what: str) -> pl.Expr:
    return pl.format(f"{_describe(column, header)}: '{{}}' {what}", text)


def whole_number(column: str, header: str = "", *, allow_negative: bool = False, nil_is_zero: bool = True) -> Parsed:
    """Indonesian whole numbers: thousands with '.', optional ',00', optional 'Rp', '-' for nil."""
    text = clean_text(column)
    digits_text = text.str.replace(_CURRENCY_PREFIX, "")
    is_nil = digits_text == _NIL
    valid = digits_text.str.contains(_WHOLE_NUMBER)
    number = digits_text.str.replace(r",0+$", "").str.replace_all(".", "", literal=True).cast(pl.Int64, strict=False)
    nil_value = pl.lit(0, pl.Int64) if nil_is_zero else pl.lit(None, pl.Int64)
    value = pl.when(is_nil).then(nil_value).when(valid).then(number).otherwise(None)
    error = (
        pl.when(text.is_null() | is_nil)
        .then(None)
        .when(~valid | number.is_null())
        .then(_problem(column, header, text, "is not a whole number (expected e.g. 1.234.567)"))
        .when(~pl.lit(allow_negative) & (number < 0))
        .then(_problem(column, header, text, "is negative"))
    )
    return Parsed(value, error, "invalid_number")


def registry_number(column: str, header: str = "") -> Parsed:
    """A 16-digit Nomor Induk Koperasi. Excel's scientific notation is unrecoverable: never guessed."""
    text = clean_text(column)
    compact = text.str.replace_all(r"[\s.\-]", "")
    valid = compact.str.contains(_NIK)
    error = (
        pl.when(text.is_null())
        .then(None)
        .when(text.str.contains(_SCIENTIFIC))
        .then(_problem(column, header, text, "was turned into scientific notation by Excel; the 16 digits cannot be recovered"))
        .when(~valid)
        .then(_problem(column, header, text, "is not a 16-digit registry number"))
    )
    return Parsed(pl.when(valid).then(compact), error, "invalid_registry_number")


def boolean(column: str, header: str = "") -> Parsed:
    text = clean_text(column)
    lowered = text.str.to_lowercase()
    value = pl.when(lowered.is_in(TRUE_WORDS)).then(True).when(lowered.is_in(FALSE_WORDS)).then(False)
    error = pl.when(text.is_not_null() & value.is_null()).then(_problem(column, header, text, "is not yes/no (Ya/Tidak)"))
    return Parsed(value, error, "invalid_boolean")


def calendar_date(column: str, header: str = "", *, excel_serials: bool = False) -> Parsed:
    text = clean_text(column)
    candidates = [text.str.to_date(fmt, strict=False) for fmt in DATE_FORMATS]
    if excel_serials:
        serial = pl.when(text.str.contains(r"^\d{5}$")).then(text.cast(pl.Int32, strict=False))
        candidates.append(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial))
    value = pl.coalesce(candidates)
    error = pl.when(text.is_not_null() & value.is_null()).then(_problem(column, header, text, "is not a date (expected DD-MM-YYYY)"))
    return Parsed(value, error, "invalid_date")


def year(column: str, header: str = "") -> Parsed:
    """A calendar year; '-' or blank means none (e.g. never held a RAT)."""
    text = clean_text(column)
    valid = text.str.contains(r"^(19|20)\d{2}$")
    value = pl.when(valid).then(text.cast(pl.Int32, strict=False))
    error = pl.when(text.is_not_null() & (text != _NIL) & ~valid).then(_problem(column, header, text, "is not a year"))
    return Parsed(value, error, "invalid_year")


def required(column: str, header: str = "") -> pl.Expr:
    """Error when a required cell is empty."""
    return pl.when(clean_text(column).is_null()).then(pl.lit(f"{_describe(column, header)} is empty"))
