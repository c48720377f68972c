"""Each parsing rule on its edge cases."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from ingestion import parsing
from ingestion.findings import english_rows
from ingestion.regions import closest_region_names, resolve_region


def _apply(parsed: parsing.Parsed, values: list[str | None]):
    """Values and, for invalid cells, the English text rendered from the rule's row finding."""
    frame = pl.DataFrame({"x": values}, schema={"x": pl.String})
    out = frame.select(parsed.value.alias("value"), parsed.error.alias("error"))
    errors = [None if e is None else english_rows(f"[{e}]") for e in out.get_column("error").to_list()]
    return out.get_column("value").to_list(), errors


@pytest.mark.parametrize("text, expected", [
    ("1.234.567", 1_234_567), ("Rp 1.234.567", 1_234_567), ("Rp. 1.234.567", 1_234_567),
    ("1.234.567,00", 1_234_567), ("1234567", 1_234_567), ("  12 ", 12), ("-", 0), ("0", 0), ("999", 999),
])
def test_whole_numbers(text, expected):
    values, errors = _apply(parsing.whole_number("x"), [text])
    assert values == [expected] and errors == [None]


@pytest.mark.parametrize("text", ["12,5 juta", "12,5", "1.23.456", "1,234,567", "12.5", "abc", "1.234.567,50", "--"])
def test_numbers_that_do_not_parse_exactly_are_errors_with_the_value(text):
    values, errors = _apply(parsing.whole_number("x"), [text])
    assert values == [None]
    assert errors[0] is not None and text.strip() in errors[0]


def test_negative_numbers_only_where_allowed():
    assert _apply(parsing.whole_number("x"), ["-5"])[1][0].endswith("is negative")
    assert _apply(parsing.whole_number("x", allow_negative=True), ["-1.500"]) == ([-1500], [None])


def test_blank_is_null_not_zero():
    assert _apply(parsing.whole_number("x"), [None, ""]) == ([None, None], [None, None])


@pytest.mark.parametrize("text, expected", [
    ("1207123456789012", "1207123456789012"), (" 1207123456789012 ", "1207123456789012"),
    ("1207.1234.5678.9012", "1207123456789012"),
])
def test_registry_numbers(text, expected):
    assert _apply(parsing.registry_number("x"), [text]) == ([expected], [None])


@pytest.mark.parametrize("text, fragment", [
    ("1,20712E+15", "scientific notation"), ("1.20712e15", "scientific notation"),
    ("120712345678901", "16-digit"), ("12071234567890123", "16-digit"), ("12O7123456789012", "16-digit"),
])
def test_bad_registry_numbers_are_never_guessed(text, fragment):
    values, errors = _apply(parsing.registry_number("x"), [text])
    assert values == [None] and fragment in errors[0]


@pytest.mark.parametrize("text, expected", [
    ("Ya", True), ("YA", True), ("y", True), ("Aktif", True), ("Tidak", False), ("TIDAK AKTIF", False),
    ("t", False), ("0", False), ("1", True), (None, None),
])
def test_booleans(text, expected):
    assert _apply(parsing.boolean("x"), [text]) == ([expected], [None])


def test_unknown_boolean_is_an_error():
    assert "Ya/Tidak" in _apply(parsing.boolean("x"), ["mungkin"])[1][0]


@pytest.mark.parametrize("text, expected", [
    ("12-10-2015", date(2015, 10, 12)), ("12/10/2015", date(2015, 10, 12)), ("2015-10-12", date(2015, 10, 12)),
    ("2015-10-12 00:00:00", date(2015, 10, 12)), ("42289", date(2015, 10, 12)),
])
def test_dates(text, expected):
    assert _apply(parsing.calendar_date("x", excel_serials=True), [text]) == ([expected], [None])


@pytest.mark.parametrize("text", ["31-02-2019", "kemarin", "2019-13-01"])
def test_bad_dates(text):
    values, errors = _apply(parsing.calendar_date("x"), [text])
    assert values == [None] and text in errors[0]


def test_years():
    assert _apply(parsing.year("x"), ["2021", "-", None]) == ([2021, None, None], [None, None, None])
    assert _apply(parsing.year("x"), ["21"])[1][0] is not None


@pytest.mark.parametrize("text, code", [
    ("Labuhan Batu", "1207"), ("Labuhanbatu", "1207"), ("KABUPATEN LABUHAN BATU", "1207"), ("kab. labuhanbatu", "1207"),
    ("Toba Samosir", "1206"), ("Toba", "1206"), ("KAB TOBA", "1206"), ("Tanjung Balai", "1272"),
    ("Kota Tanjungbalai", "1272"), ("Pematang Siantar", "1273"), ("PEMATANGSIANTAR", "1273"),
    ("Padangsidempuan", "1277"), ("Padangsidimpuan", "1277"), ("Batu Bara", "1219"), ("Batubara", "1219"),
    ("Pakpak Barat", "1216"), ("Pakpak Bharat", "1216"), ("KOTA MEDAN", "1275"), ("Medan", "1275"),
    ("1275", "1275"), ("12.71", "1275"), ("Labuhan Batu Selatan", "1222"), ("  Kab.  Nias   Selatan ", "1214"),
])
def test_region_spellings(text, code):
    assert resolve_region(text) == code


def test_unknown_region_suggests_close_names():
    assert resolve_region("Labuan Bato") is None
    assert any("Labuhanbatu" in name for name in closest_region_names("Labuan Bato"))


@pytest.mark.parametrize("text, expected", [("1.234.567", 1_234_567), ("1234567", 1_234_567), ("-", 0)])
def test_undecorated_fast_path_reads_plain_numbers_alike(text, expected):
    assert _apply(parsing.whole_number("x", decorated=False), [text]) == ([expected], [None])


@pytest.mark.parametrize("text", ["1.23.456", "12.5", "Rp 1.234", "1.234,00"])
def test_undecorated_fast_path_never_accepts_a_different_number(text):
    values, errors = _apply(parsing.whole_number("x", decorated=False), [text])
    assert values[0] in (None, 1234) and (values[0] is None) == (errors[0] is not None)
    assert values[0] != 123_456


def test_decorated_columns_are_detected():
    frame = pl.DataFrame({"plain": ["1.234", "5"], "rp": ["Rp 5", "6"], "fraction": ["7,00", "8"]})
    found = frame.select(parsing.may_be_decorated(c).alias(c) for c in frame.columns).row(0, named=True)
    assert found == {"plain": False, "rp": True, "fraction": True}


def test_batch_facts_pick_cheaper_rules_that_agree_with_the_general_ones():
    plain = {"nik": ["1207123456789012", None], "date": ["12-10-2015", None], "flag": ["Ya", "TIDAK"],
             "name": ["KSP Horas", " Maju "]}
    frame = pl.DataFrame(plain)
    facts = frame.select(nik=parsing.all_match("nik", parsing.PLAIN_REGISTRY_NUMBER),
                         date=parsing.all_match("date", parsing.PLAIN_DATE), nbsp=parsing.has_nbsp("name")).row(0)
    assert facts == (True, True, False)
    pairs = [(parsing.registry_number("nik", plain=True), parsing.registry_number("nik")),
             (parsing.calendar_date("date", plain=True), parsing.calendar_date("date", excel_serials=True)),
             (parsing.boolean("flag", spellings=["Ya", "TIDAK"]), parsing.boolean("flag"))]
    for fast, general in pairs:
        assert frame.select(fast.value).equals(frame.select(general.value))
    assert frame.select(parsing.clean_text("name", nbsp=False)).equals(frame.select(parsing.clean_text("name")))
    assert not pl.DataFrame({"nik": ["1207.1234.5678.9012"]}).select(
        parsing.all_match("nik", parsing.PLAIN_REGISTRY_NUMBER)).item()


def test_a_new_header_spelling_is_seen_without_a_restart(tmp_path, monkeypatch):
    """A long-lived process (the code server of `make serve`) reads a steward's new alias at the next file."""
    import os
    import shutil

    from ingestion import mapping

    shutil.copytree(mapping.MAPPINGS_DIR, tmp_path / "mappings")
    monkeypatch.setattr(mapping, "MAPPINGS_DIR", tmp_path / "mappings")
    assert mapping.load_mapping("ods")["registry"].match(["Nama Lembaga"]) == {}
    ods = tmp_path / "mappings" / "ods.yaml"
    ods.write_text(ods.read_text(encoding="utf-8").replace("aliases: [Nama Koperasi, Nama]",
                                                           "aliases: [Nama Koperasi, Nama, Nama Lembaga]"),
                   encoding="utf-8")
    os.utime(ods, ns=(ods.stat().st_atime_ns, ods.stat().st_mtime_ns + 1_000_000_000))
    assert mapping.load_mapping("ods")["registry"].match(["Nama Lembaga"]) == {"cooperative_name": 0}
