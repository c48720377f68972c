"""What a steward opens in Excel or LibreOffice holds no live formula: cells that a spreadsheet would evaluate
are written as text.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel and LibreOffice
when a CSV is opened (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``), unless it is a number. In a CSV such a cell
gets a leading apostrophe (the spreadsheet convention for "this is text"); in an XLSX it is a string cell with
the quote-prefix style, so it stays text even when the steward edits it.
"""

from __future__ import annotations

import re

_ACTIVE = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d+)*|\d*[.,]\d+)(?:[eE][+-]?\d+)?$")


def is_active(text: str) -> bool:
    """Would a spreadsheet evaluate this cell?"""
    return text.startswith(_ACTIVE) and not _NUMBER.match(text)


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as the text it is."""
    if not isinstance(value, str):
        return value
    return "'" + value if is_active(value) else value
