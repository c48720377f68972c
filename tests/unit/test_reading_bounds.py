"""The readers within their bounds, file by file: any bytes at all give a load, a quarantine or a rejection
with a registry row, never an exception out of ``ingest_file``. Also the findings, the privacy rule, the
inert steward cells, sheet names and the retention of OPD originals."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.api import ingest_file, inbox_files, refused_inbox_entries
from ingestion.findings import Finding
from ingestion.retention import purge_opd_originals
from stewards.inert import csv_cell, is_active
from stewards.workbook import _sheet_name

from helpers import hostile_files as hf
from helpers.messy_files import HEADER, ods_row, write_csv

SNAPSHOT = "2024-12-31"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _good_csv() -> bytes:
    buffer = io.StringIO()
    buffer.write(";".join(HEADER) + "\n")
    for n in range(1, 30):
        buffer.write(";".join(ods_row(n)) + "\n")
    return buffer.getvalue().encode("utf-8")


def _good_xlsx() -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for n in range(1, 30):
        sheet.write_row(n, 0, ods_row(n))
    book.close()
    return buffer.getvalue()


def _ingest_bytes(con, folder: Path, data: bytes, suffix: str, source: str = "ods"):
    path = folder / f"ods_{SNAPSHOT}{suffix}"
    path.write_bytes(data)
    result = ingest_file(con, path, source, folder / "archive", retry_known=True)
    assert result.status in ("landed", "rejected"), result
    if result.status == "rejected":
        registered = con.execute("SELECT status, finding FROM raw.ingested_files WHERE sha256 = ?",
                                 [result.sha256]).fetchall()
        assert registered and registered[0][0] == "rejected" and json.loads(registered[0][1])["code"]
    return result


@SETTINGS
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_random_bytes_never_raise(con, tmp_path, data, suffix):
    _ingest_bytes(con, tmp_path, data, suffix)


@SETTINGS
@given(cut=st.floats(min_value=0.0, max_value=1.0), flip=st.integers(min_value=0, max_value=255),
       kind=st.sampled_from(["csv", "xlsx"]))
def test_truncated_and_damaged_files_never_raise(con, tmp_path, cut, flip, kind):
    whole = _good_csv() if kind == "csv" else _good_xlsx()
    data = bytearray(whole[: int(len(whole) * cut)])
    if data:
        data[len(data) // 2] ^= flip  # one damaged byte in what is left
    _ingest_bytes(con, tmp_path, bytes(data), f".{kind}")


@pytest.mark.parametrize("build, bound", [
    (hf.huge_dimension_xlsx, "16384 columns, more than the 1024"),
    (hf.far_cell_xlsx, "16384 columns, more than the 1024"),
    (lambda p: hf.shared_strings_bomb_xlsx(p, 300), "its shared strings exceeds 256 MiB"),
])
def test_a_workbook_over_a_bound_is_rejected_naming_it(con, tmp_path, build, bound):
    path = build(tmp_path / "list.xlsx")
    assert path.stat().st_size < 2 * 1024 * 1024  # small on disk, huge once opened
    result = ingest_file(con, path, "opd", tmp_path / "archive")
    assert result.status == "rejected" and bound in result.error


def test_csv_bounds(con, tmp_path):
    long = ingest_file(con, hf.long_field_csv(tmp_path / f"ods_{SNAPSHOT}_a.csv", HEADER), "ods", tmp_path / "a")
    wide = ingest_file(con, hf.wide_header_csv(tmp_path / f"ods_{SNAPSHOT}_b.csv", HEADER), "ods", tmp_path / "a")
    assert long.status == "rejected" and "longer than 128 KiB" in long.error
    assert wide.status == "rejected" and "more than the 1024" in wide.error


def test_a_nul_byte_past_the_head_quarantines_its_row(con, tmp_path):
    rows = [ods_row(n) for n in range(1, 400)]
    path = hf.nul_after_head_csv(tmp_path / f"ods_{SNAPSHOT}.csv", HEADER, rows, bad_row=300)
    result = ingest_file(con, path, "ods", tmp_path / "archive")
    assert result.reasons == {"nul_byte": 1}
    assert con.execute("SELECT count(*) FROM raw.ods_cooperatives WHERE cooperative_name LIKE '%' || chr(0) || '%'"
                       ).fetchall()[0][0] == 0
    assert "\\u0000" not in con.execute("SELECT record FROM raw.quarantine").fetchall()[0][0]


def test_a_list_without_its_header_is_rejected_without_quoting_it(con, tmp_path):
    result = ingest_file(con, hf.headerless_member_list(tmp_path / "anggota.xlsx"), "opd", tmp_path / "archive")
    assert result.status == "rejected" and "no header row" in result.error
    stored = json.dumps(con.execute("SELECT * FROM raw.ingested_files").fetchall(), default=str)
    assert [k for k, v in hf.PERSON.items() if v in result.error + stored] == []


def test_a_registry_list_keeps_no_personal_cell(con, tmp_path):
    path = hf.registry_list_with_persons(tmp_path / "daftar.xlsx", ["1271000000000001", "1271000000000002"])
    result = ingest_file(con, path, "opd", tmp_path / "archive")
    assert result.rows_quarantined == 1
    record = json.loads(con.execute("SELECT record FROM raw.quarantine").fetchall()[0][0])
    assert record["NIK Koperasi"] == "12345" and record["Nama Koperasi"] == "KPRI Badan 0"
    assert {record[c] for c in ("Nama Ketua", "NIK KTP Ketua", "No HP", "E-mail", "Alamat", "Tanggal Lahir")} == {
        "[masked]"}


def test_links_and_special_files_are_refused_unopened(con, tmp_path):
    inbox = tmp_path / "inbox"
    outside = write_csv(tmp_path / "outside.csv", [ods_row(1)])
    hf.links(inbox, outside)
    assert inbox_files(inbox, "opd") == [] and inbox_files(inbox, "bps") == []
    assert {name for name, _ in refused_inbox_entries(inbox, "opd")} == {"passwd.csv", "pipe.csv"}
    result = ingest_file(con, inbox / "opd" / "passwd.csv", "opd", tmp_path / "archive")
    assert result.status == "rejected" and "symbolic link" in result.error
    again = ingest_file(con, inbox / "opd" / "passwd.csv", "opd", tmp_path / "archive")
    assert again.status == "known"  # one registry row, not one per run
    assert not (tmp_path / "archive").exists()


def test_a_finding_refuses_a_parameter_it_cannot_show():
    with pytest.raises(ValueError):
        Finding("no_header", {"first_row": "Siti, 198503122010012003"})
    with pytest.raises(TypeError):
        Finding("no_data_rows", {"row": "Siti"})
    finding = Finding("no_data_rows", {"row": 4})
    assert Finding.from_json(finding.to_json()) == finding
    assert "baris 4" in finding.indonesian() and "row 4" in finding.english()


def test_a_file_warning_is_a_finding_rendered_in_both_languages():
    warning = Finding("total_mismatch", {"row": 38, "header": "Jumlah", "reported": 1234567, "summed": 1234500})
    assert warning.english() == ("the total row (row 38) column 'Jumlah' reports 1.234.567 but the regions loaded "
                                 "sum to 1.234.500")
    assert "berisi 1.234.567" in warning.indonesian() and "berjumlah 1.234.500" in warning.indonesian()
    assert Finding.from_dict(warning.as_dict()) == warning
    with pytest.raises(TypeError):  # a figure read from a cell is a count, never text that could be a name
        Finding("total_mismatch", {"row": 38, "header": "Jumlah", "reported": "Siti", "summed": 1})


@pytest.mark.parametrize("cell, active", [("=1+1", True), ("+cmd|' /C calc'!A0", True), ("@SUM(1)", True),
                                          ("-x", True), ("\tx", True), ("\rx", True), ("-12", False),
                                          ("+3,5", False), ("1.234.567", False), ("Koperasi", False)])
def test_cells_a_spreadsheet_would_run(cell, active):
    assert is_active(cell) is active
    assert (csv_cell(cell) == "'" + cell) is active


def test_sheet_names_from_any_file_name(tmp_path):
    used: set[str] = set()
    names = [_sheet_name(f, used) for f in ["'kutip.csv", "a[1]:b*?/\\.csv", "x" * 60, "x" * 60, "Petunjuk", "''"]]
    book = xlsxwriter.Workbook(str(tmp_path / "b.xlsx"))
    for name in names:
        book.add_worksheet(name)  # raises InvalidWorksheetName on a bad name
    book.close()
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == len(names)
    assert not any(n.startswith("'") or n.endswith("'") for n in names)


def test_retention_removes_old_opd_originals_and_keeps_their_record(con, tmp_path):
    archive = tmp_path / "archive"
    path = hf.registry_list_with_persons(tmp_path / "daftar.xlsx", ["1271000000000001", "1271000000000002"])
    result = ingest_file(con, path, "opd", archive)
    original = next(archive.rglob("*.xlsx"))
    assert purge_opd_originals(con, archive, date.today()) == []  # received today: kept
    purged = purge_opd_originals(con, archive, date.today() + timedelta(days=1))
    assert [p.sha256 for p in purged] == [result.sha256] and not original.exists()
    file, purged_at = con.execute("SELECT file, purged_at FROM raw.ingested_files").fetchall()[0]
    assert file == "daftar.xlsx" and purged_at is not None


def test_a_zip_that_lies_about_its_size_is_rejected(con, tmp_path):
    """A part that inflates past the size its headers declare fails its CRC check: rejected, not trusted."""
    path = hf.raw_xlsx(tmp_path / "lie.xlsx", '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>')
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as z:
        local = z.getinfo(name.decode()).header_offset
    data[local + 22: local + 26] = (1).to_bytes(4, "little")  # local header: uncompressed size
    central = data.index(b"PK\x01\x02")
    while data[central + 46: central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 24: central + 28] = (1).to_bytes(4, "little")  # central directory: uncompressed size
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as z:
        assert z.getinfo(name.decode()).file_size == 1
    result = ingest_file(con, path, "opd", tmp_path / "archive")
    assert result.status == "rejected" and "BadZipFile" in result.error


def _workbook(sheet_xml: bytes) -> bytes:
    """A minimal XLSX whose first sheet is ``sheet_xml``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("xl/workbook.xml", '<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
                                         "</sheets></workbook>")
        book.writestr("xl/_rels/workbook.xml.rels",
                      '<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>')
        book.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buffer.getvalue()


@pytest.mark.parametrize("sheet, expected", [
    # rows out of order, an empty self-closing cell before the first value, an inline string
    (b'<worksheet><sheetData><row r="9"><c r="C9"><v>1</v></c></row><row r="3"><c r="B3" s="1"/>'
     b'<c r="D3" t="inlineStr"><is><t>x</t></is></c></row><row r="5"><c r="AA5"><v></v></c></row></sheetData>'
     b'</worksheet>', (3, 9, 2, 27, 3, [])),
    # a namespace prefix on every element; the empty <v/> of row 2 is no value
    (b'<x:worksheet><x:sheetData><x:row r="2"><x:c r="E2"><x:v></x:v></x:c></x:row><x:row r="4"><x:c r="F4">'
     b'<x:v>7</x:v></x:c></x:row></x:sheetData></x:worksheet>', (2, 4, 5, 6, 4, [])),
    # a formula with its cached value is a value; one without is noted (its row is quarantined later)
    (b'<worksheet><sheetData><row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row><row r="2"><c r="B2"><f>A1*2</f>'
     b'</c></row></sheetData></worksheet>', (1, 2, 1, 2, 1, [2])),
])
def test_the_sheet_scan_finds_extent_first_value_and_formulas(tmp_path, sheet, expected):
    from ingestion.bounds import inspect_xlsx

    path = tmp_path / "book.xlsx"
    path.write_bytes(_workbook(sheet))
    found = inspect_xlsx(path, path.name)
    assert (found.first_row, found.last_row, found.first_column, found.last_column, found.first_value_row,
            found.formula_rows) == expected
