"""Parsing rules for the text cells of Indonesian exports, as polars expressions.

Every source column is read as text. Each rule returns the parsed value and an error message
(null when the cell is fine), so a row with any error is quarantined with the value in the message
instead of silently becoming a different number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Callable

import polars as pl

# "1.234.567", "1234567", "1.234.567,00", "Rp 1.234.567" (a zero fraction is still a whole number).
_NIK = r"^\d{16}$"
_SCIENTIFIC = r"^(?i:\d+(?:[.,]\d+)?e[+-]?\d+)$"
_NIL = "-"

TRUE_WORDS = ("ya", "y", "yes", "true", "1", "aktif", "sudah", "ada", "v", "benar")
FALSE_WORDS = ("tidak", "t", "no", "n", "false", "0", "tidak aktif", "non aktif", "nonaktif", "belum", "tidak ada", "-")

DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S")
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Parsed:
    """A parsed column: the typed value, whether the cell is invalid, and the message for invalid cells.

    ``invalid`` is cheap and evaluated on every row; ``message`` formats text and is meant to be evaluated
    on the invalid rows only (see quarantine.split)."""

    value: pl.Expr
    invalid: pl.Expr
    message: pl.Expr
    reason: str
    # The same rule as `invalid`, written against the already computed value (cheaper on large files).
    invalid_given_value: Callable[[pl.Expr], pl.Expr] | None = None

    def bound_to(self, value_column: str) -> "Parsed":
        """This rule with `invalid` reading the value from a column computed once, instead of re-parsing."""
        if self.invalid_given_value is None:
            return self
        return replace(self, invalid=self.invalid_given_value(pl.col(value_column)).fill_null(False))

    @property
    def error(self) -> pl.Expr:
        """The message where the cell is invalid, else null (evaluates the message on every row)."""
        return pl.when(self.invalid).then(self.message)

    @property
    def check(self) -> tuple[str, pl.Expr, pl.Expr]:
        return (self.reason, self.invalid, self.message)


def clean_text(column: str) -> pl.Expr:
    """Trimmed text with non-breaking spaces normalised; empty cells become null."""
    text = pl.col(column).str.replace_all("\u00a0", " ", literal=True).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _describe(column: str, header: str) -> str:
    return f"column '{header}' ({column})" if header and header != column else f"column '{column}'"


def _problem(column: str, header: str, text: pl.Expr, what: str) -> pl.Expr:
    return pl.format(f"{_describe(column, header)}: '{{}}' {what}", text)


_WHOLE_NUMBER_PARTS = r"^(?i:rp\.?\s*)?(-?(?:\d{1,3}(?:\.\d{3})+|\d+))(?:,0+)?$"


def whole_number(column: str, header: str = "", *, allow_negative: bool = False, nil_is_zero: bool = True) -> Parsed:
    """Indonesian whole numbers: thousands with '.', optional ',00', optional 'Rp', '-' for nil."""
    text = clean_text(column)
    is_nil = text == _NIL
    digits = text.str.extract(_WHOLE_NUMBER_PARTS, 1)  # one regex: the digits, or null when it does not parse
    number = digits.str.replace_all(".", "", literal=True).cast(pl.Int64, strict=False)
    nil_value = pl.lit(0, pl.Int64) if nil_is_zero else pl.lit(None, pl.Int64)
    value = pl.when(is_nil).then(nil_value).otherwise(number)
    present = text.is_not_null() & ~is_nil

    def invalid_given(parsed: pl.Expr) -> pl.Expr:
        bad = parsed.is_null() if allow_negative else (parsed.is_null() | (parsed < 0))
        return present & bad

    message = (pl.when(number.is_null()).then(_problem(column, header, text, "is not a whole number (expected e.g. 1.234.567)"))
               .otherwise(_problem(column, header, text, "is negative")))
    return Parsed(value, invalid_given(value).fill_null(False), message, "invalid_number", invalid_given)


def registry_number(column: str, header: str = "") -> Parsed:
    """A 16-digit Nomor Induk Koperasi. Excel's scientific notation is unrecoverable: never guessed."""
    text = clean_text(column)
    compact = text.str.replace_all(r"[\s.\-]", "")
    valid = compact.str.contains(_NIK)
    message = (pl.when(text.str.contains(_SCIENTIFIC))
               .then(_problem(column, header, text, "was turned into scientific notation by Excel; the 16 digits cannot be recovered"))
               .otherwise(_problem(column, header, text, "is not a 16-digit registry number")))
    return Parsed(pl.when(valid).then(compact), (text.is_not_null() & ~valid).fill_null(False), message,
                  "invalid_registry_number", lambda parsed: text.is_not_null() & parsed.is_null())


def boolean(column: str, header: str = "") -> Parsed:
    text = clean_text(column)
    lowered = text.str.to_lowercase()
    value = pl.when(lowered.is_in(TRUE_WORDS)).then(True).when(lowered.is_in(FALSE_WORDS)).then(False)
    return Parsed(value, text.is_not_null() & value.is_null(), _problem(column, header, text, "is not yes/no (Ya/Tidak)"),
                  "invalid_boolean", lambda parsed: text.is_not_null() & parsed.is_null())


def calendar_date(column: str, header: str = "", *, excel_serials: bool = False) -> Parsed:
    text = clean_text(column)
    candidates = [text.str.to_date(fmt, strict=False) for fmt in DATE_FORMATS]
    if excel_serials:
        serial = pl.when(text.str.contains(r"^\d{5}$")).then(text.cast(pl.Int32, strict=False))
        candidates.append(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial))
    value = pl.coalesce(candidates)
    return Parsed(value, text.is_not_null() & value.is_null(),
                  _problem(column, header, text, "is not a date (expected DD-MM-YYYY)"), "invalid_date",
                  lambda parsed: text.is_not_null() & parsed.is_null())


def year(column: str, header: str = "") -> Parsed:
    """A calendar year; '-' or blank means none (e.g. never held a RAT)."""
    text = clean_text(column)
    valid = text.str.contains(r"^(19|20)\d{2}$")
    value = pl.when(valid).then(text.cast(pl.Int32, strict=False))
    return Parsed(value, (text.is_not_null() & (text != _NIL) & ~valid).fill_null(False),
                  _problem(column, header, text, "is not a year"), "invalid_year",
                  lambda parsed: text.is_not_null() & (text != _NIL) & parsed.is_null())


def required(column: str, header: str = "") -> pl.Expr:
    """Error when a required cell is empty."""
    return pl.when(clean_text(column).is_null()).then(pl.lit(f"{_describe(column, header)} is empty"))
