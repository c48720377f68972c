"""The block-wise UTF-8 check agrees with Python's decoder wherever the blocks are cut."""

from __future__ import annotations

import pytest

from ingestion.utf8 import Utf8Check

TEXT = "NIK;Nama\r\n1207;KSP \u201cHoras\u201d \u2013 Medan \U0001F600\r\n1208;Koperasi Maju\r\n".encode()


def _check(data: bytes, size: int) -> int | None:
    check = Utf8Check()
    for start in range(0, len(data), size):
        check.feed(data[start:start + size])
    return check.finish().bad_offset


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_valid_text_passes_whatever_the_block_boundaries(size):
    assert _check(TEXT, size) is None


@pytest.mark.parametrize("size", [1, 3, 7, 64])
@pytest.mark.parametrize("data", [TEXT.replace(b"\xe2\x80\x93", b"\x96"), TEXT[:-20] + b"\xe2\x80", b"\xff" + TEXT])
def test_the_first_bad_byte_is_found_where_python_finds_it(size, data):
    with pytest.raises(UnicodeDecodeError) as e:
        data.decode("utf-8")
    assert _check(data, size) == e.value.start
