"""Checks, block by block, that a file is UTF-8: never a whole file in memory, SIMD-fast (polars)."""

from __future__ import annotations

import polars as pl


class Utf8Check:
    """Feed a file's blocks in order; ``bad_offset`` is then the offset of its first non-UTF-8 byte, or None."""

    def __init__(self) -> None:
        self._carry = b""
        self._offset = 0
        self.bad_offset: int | None = None
        self.has_nul = False  # a NUL byte anywhere (valid UTF-8, but never text of a cell)

    def feed(self, block: bytes) -> None:
        self.has_nul = self.has_nul or b"\x00" in block
        if self.bad_offset is not None:
            return
        data = self._carry + block if self._carry else block  # usually no copy: blocks end on a character
        end = _complete_prefix(data)
        whole, self._carry = (data, b"") if end == len(data) else (data[:end], data[end:])
        try:
            pl.Series([whole], dtype=pl.Binary).cast(pl.String)
        except pl.exceptions.ComputeError:
            self.bad_offset = self._offset + (_first_bad_byte(whole) or 0)
        self._offset += len(whole)

    def finish(self) -> Utf8Check:
        """After the last block (the part after the last line break is checked here)."""
        if self.bad_offset is None and self._carry and (bad := _first_bad_byte(self._carry)) is not None:
            self.bad_offset = self._offset + bad
        self._carry = b""
        return self


def _complete_prefix(data: bytes) -> int:
    """Length of the part of ``data`` that does not end inside a multi-byte character."""
    continuation = 0
    while continuation < 3 and continuation < len(data) and 0x80 <= data[-1 - continuation] < 0xC0:
        continuation += 1
    if continuation == len(data):
        return len(data)
    lead = data[-1 - continuation]
    needed = 4 if lead >= 0xF0 else 3 if lead >= 0xE0 else 2 if lead >= 0xC0 else 1
    # A character still missing bytes waits for the next block; anything else is judged now.
    return len(data) - continuation - 1 if continuation + 1 < needed else len(data)


def _first_bad_byte(data: bytes) -> int | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start
    return None


def check_file(path, block_size: int = 1 << 22) -> Utf8Check:
    check = Utf8Check()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(block_size), b""):
            check.feed(block)
    return check.finish()
