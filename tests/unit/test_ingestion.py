"""Ingestion of real-world files: every row loads or is quarantined with its reason; files load atomically."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion import landing, ods, reading, registry
from ingestion.api import ingest_file, inbox_files
from ingestion.errors import FileRejected
from ingestion.regions import regions
from ingestion.samples.registry import LATEST_COOPERATIVES, LATEST_MEMBERS, VIRTUAL_RATS

from helpers.messy_files import HEADER, ods_row, write_csv, write_xlsx

SNAPSHOT = "2024-12-31"


def _ingest(con, path: Path, source: str = "ods", **kwargs):
    result = ingest_file(con, path, source, path.parent / "archive", **kwargs)
    _assert_accounting(con)
    return result


def _assert_accounting(con) -> None:
    """For every landed file: rows read = rows loaded + rows quarantined, and the raw tables agree."""
    bad = con.execute("""
        SELECT file FROM raw.ingested_files WHERE status = 'pending' AND rows_read <> rows_loaded + rows_quarantined
    """).fetchall()
    assert bad == []
    mismatched = con.execute("""
        WITH landed AS (
            SELECT _source_sha256 AS sha, count(*) AS n FROM raw.ods_cooperatives GROUP BY 1
            UNION ALL SELECT _source_sha256, count(DISTINCT _source_row) FROM raw.bps_population GROUP BY 1
            UNION ALL SELECT _source_sha256, count(DISTINCT _source_row) FROM raw.bps_businesses GROUP BY 1
            UNION ALL SELECT _source_sha256, count(*) FROM raw.opd_members GROUP BY 1
            UNION ALL SELECT _source_sha256, count(*) FROM raw.opd_cooperatives GROUP BY 1),
        quarantined AS (SELECT sha256 AS sha, count(*) AS n FROM raw.quarantine GROUP BY 1)
        SELECT f.file FROM raw.ingested_files f
        LEFT JOIN landed l ON l.sha = f.sha256 LEFT JOIN quarantined q ON q.sha = f.sha256
        WHERE f.status = 'pending'
          AND (coalesce(l.n, 0) <> f.rows_loaded OR coalesce(q.n, 0) <> f.rows_quarantined)
    """).fetchall()
    assert mismatched == []


def _quarantine(con, file: str) -> dict[int, str]:
    return dict(con.execute("SELECT source_row, reason FROM raw.quarantine WHERE file = ?", [file]).fetchall())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_are_decoded_without_loss(tmp_path, con, encoding):
    name = "KSP \u201cHoras\u201d \u2013 Medan"
    path = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", [ods_row(1, **{"Nama Koperasi": name}), ods_row(2)],
                     encoding=encoding)
    result = _ingest(con, path)
    assert result.status == "landed" and result.rows_loaded == 2
    assert con.execute("SELECT cooperative_name FROM raw.ods_cooperatives WHERE _source_row = 2").fetchone()[0] == name


def test_comma_separator_quoted_fields_spaces_blank_lines_lf(tmp_path, con):
    rows = [ods_row(1, **{"Nama Koperasi": "KSP Maju, Jaya"}), ods_row(2, **{"Anggota Pria": "  7 "})]
    path = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", rows, separator=",", newline="\n", trailer="\n\n")
    result = _ingest(con, path)
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("landed", 2, 0)
    assert con.execute("SELECT list(members_male ORDER BY _source_row) FROM raw.ods_cooperatives").fetchone()[0] == [10, 7]


def test_number_formats(tmp_path, con):
    rows = [ods_row(1, Aset="Rp 1.234.567"), ods_row(2, Aset="1.234.567,00"), ods_row(3, Aset="1234567"),
            ods_row(4, SHU="-"), ods_row(5, SHU="-250.000"), ods_row(6, Aset="12,5 juta")]
    result = _ingest(con, write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", rows))
    assert result.rows_loaded == 5 and result.reasons == {"invalid_number": 1}
    assets = con.execute("SELECT list(assets ORDER BY _source_row) FROM raw.ods_cooperatives").fetchone()[0]
    assert assets[:3] == [1_234_567] * 3
    assert con.execute("SELECT list(surplus ORDER BY _source_row) FROM raw.ods_cooperatives").fetchone()[0][3:5] == [0, -250_000]
    message = con.execute("SELECT message FROM raw.quarantine").fetchone()[0]
    assert "12,5 juta" in message and "Aset" in message


def test_row_defects_are_quarantined_with_reasons(tmp_path, con):
    rows = [ods_row(1), ods_row(2, NIK="1,20712E+15"), ods_row(3, NIK="12750000000003"),
            ods_row(4, NIK="12750000000X0004"), ods_row(5, **{"Anggota Pria": "-5"}),
            ods_row(6, **{"Anggota Wanita": "12,5"}), ods_row(7, **{"Kab/Kota": "Kabupaten Antah Berantah"}),
            ods_row(8, **{"Nama Koperasi": ""}), ods_row(9), ods_row(9), ods_row(10, **{"Kab/Kota": "TOBA SAMOSIR"})]
    path = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", rows)
    result = _ingest(con, path)
    assert result.rows_read == 11 and result.rows_loaded == 2
    assert _quarantine(con, path.name) == {
        3: "invalid_registry_number", 4: "invalid_registry_number", 5: "invalid_registry_number",
        6: "invalid_number", 7: "invalid_number", 8: "unknown_region", 9: "missing_required",
        10: "duplicate_registry_number", 11: "duplicate_registry_number"}
    messages = dict(con.execute("SELECT source_row, message FROM raw.quarantine").fetchall())
    assert "scientific notation" in messages[3]
    assert "closest" in messages[8] and "Antah Berantah" in messages[8]
    assert "rows 10, 11" in messages[10]
    assert con.execute("SELECT region_code FROM raw.ods_cooperatives WHERE _source_row = 12").fetchone()[0] == "1206"


def test_xlsx_title_totals_footnote_and_numbers_as_text(tmp_path, con):
    rows = [[f"1275{n:012d}", f"KSP {n}", "Medan", "Simpan Pinjam", "Aktif", 2024 if n % 2 else "2024",
             10, "12", 1_000_000 if n % 2 else "1.000.000", 2_000_000, 5_000] for n in range(1, 6)]
    rows.append(["1,20712E+15", "KSP X", "Medan", "Simpan Pinjam", "Aktif", 2024, 1, 1, 1, 1, 1])
    path = write_xlsx(tmp_path / "ODS_20241231.xlsx", rows)
    result = _ingest(con, path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 5, 1)
    assert con.execute("SELECT count(*) FROM raw.ods_cooperatives WHERE cooperative_name ILIKE '%jumlah%'").fetchone()[0] == 0
    assert con.execute("SELECT sum(own_capital) FROM raw.ods_cooperatives").fetchone()[0] == 5_000_000
    assert con.execute("SELECT list(_source_row ORDER BY _source_row) FROM raw.ods_cooperatives").fetchone()[0] == [4, 5, 6, 7, 8]


def test_truncated_last_row_is_quarantined(tmp_path, con):
    path = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", [ods_row(1), ods_row(2)])
    data = path.read_bytes().rstrip(b"\r\n")
    path.write_bytes(data[: len(data) - 30])
    result = _ingest(con, path)
    assert result.rows_loaded == 1 and _quarantine(con, path.name) == {3: "truncated_row"}


@pytest.mark.parametrize("content, fragment", [
    (b"", "is empty"),
    (";".join(HEADER).encode() + b"\r\n", "no data rows"),
    (bytes(range(256)) * 8, "binary"),
    (b"PK\x03\x04garbage" * 50, "not a readable XLSX"),
    (b"Wilayah,Laki-laki,Perempuan\r\nMedan,1,2\r\n", "expected columns"),
    (b"\x81\x8d\x8f;\x90\r\n1;2\r\n", "neither UTF-8 nor Windows-1252"),
    (b"a;b;c\r\n1;2;3\r\n", "no header row found"),
])
def test_bad_files_are_rejected_with_a_clear_message(tmp_path, con, content, fragment):
    suffix = ".xlsx" if content.startswith(b"PK") else ".csv"
    path = tmp_path / f"ods_{SNAPSHOT}{suffix}"
    path.write_bytes(content)
    result = _ingest(con, path)
    assert result.status == "rejected"
    assert fragment in result.error and path.name in result.error
    assert con.execute("SELECT count(*) FROM raw.ods_cooperatives").fetchone()[0] == 0


def test_missing_columns_are_listed_with_the_headers_found(tmp_path, con):
    path = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", [["1", "x"]], header=["NIK", "Nama Koperasi"])
    result = _ingest(con, path)
    assert "region" in result.error and "members_male" in result.error and "recognised headers: NIK, Nama Koperasi" in result.error


def test_snapshot_date_from_name_or_argument(tmp_path, con):
    path = write_csv(tmp_path / "ods_export.csv", [ods_row(1)])
    assert "no snapshot date" in _ingest(con, path).error
    result = _ingest(con, path, snapshot_date=date(2024, 6, 30), retry_known=True)  # the steward names it again
    assert result.status == "landed" and result.snapshot_date == "2024-06-30"
    compact = write_csv(tmp_path / "ods_20240930.csv", [ods_row(2)])
    assert _ingest(con, compact).snapshot_date == "2024-09-30"


def test_reingest_is_a_no_op_and_files_are_archived(tmp_path, con):
    path = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", [ods_row(1), ods_row(2)])
    first = _ingest(con, path)
    registry.admit(con, first.sha256)  # what the gate does once its checks pass
    again = _ingest(con, path)
    assert (first.status, again.status) == ("landed", "already_ingested")
    assert con.execute("SELECT count(*) FROM raw.ods_cooperatives").fetchone()[0] == 2
    archived = list((tmp_path / "archive").rglob(f"{first.sha256}*"))
    assert len(archived) == 1 and archived[0].read_bytes() == path.read_bytes()


def test_a_failure_in_the_middle_of_a_file_leaves_nothing(tmp_path, con, monkeypatch):
    path = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", [ods_row(1), ods_row(2, NIK="bad")])
    original = registry.record_file

    def fail_after_rows_landed(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(landing, "record_file", fail_after_rows_landed)
    failed = ingest_file(con, path, "ods", tmp_path / "archive")  # the file's rejection, not the process's end
    assert failed.status == "rejected" and "unexpected RuntimeError" in failed.error and "disk" not in failed.error
    monkeypatch.setattr(landing, "record_file", original)
    for table in ("ods_cooperatives", "quarantine"):
        assert con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0] == 0
    assert ingest_file(con, path, "ods", tmp_path / "archive", retry_known=True).status == "landed"


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 3 rows, so that small files cross batch boundaries."""
    monkeypatch.setattr(reading, "BATCH_ROWS", 3)


def test_duplicates_across_batches_quarantine_every_copy(tmp_path, con, small_batches):
    rows = [ods_row(n) for n in range(1, 8)] + [ods_row(2), ods_row(5, Aset="12,5 juta")]
    path = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", rows)
    result = _ingest(con, path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (9, 5, 4)
    assert _quarantine(con, path.name) == {3: "duplicate_registry_number", 9: "duplicate_registry_number",
                                           6: "duplicate_registry_number", 10: "invalid_number"}
    messages = dict(con.execute("SELECT source_row, message FROM raw.quarantine").fetchall())
    assert "rows 3, 9" in messages[3] and "rows 6, 10" in messages[6]
    assert "12,5 juta" in messages[10] and "rows 6, 10" in messages[10]  # both problems of that row
    records = dict(con.execute("SELECT source_row, record->>'NIK' FROM raw.quarantine").fetchall())
    assert records[3] == records[9] == "1275000000000002"
    loaded = con.execute("SELECT list(_source_row ORDER BY _source_row) FROM raw.ods_cooperatives").fetchone()[0]
    assert loaded == [2, 4, 5, 7, 8]
    _assert_accounting(con)


def test_a_file_rejected_midway_through_its_batches_leaves_nothing(tmp_path, con, small_batches):
    path = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", [ods_row(n) for n in range(1, 8)])
    original = ods._parse_batch
    calls = []

    def reject_third_batch(*args):
        calls.append(1)
        if len(calls) == 3:
            raise FileRejected(path.name, "no_data_rows", row=8)
        return original(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ods, "_parse_batch", reject_third_batch)
        result = _ingest(con, path)
    assert result.status == "rejected" and "row 8" in result.error
    assert con.execute("SELECT count(*) FROM raw.ods_cooperatives").fetchone()[0] == 0
    assert con.execute("SELECT status FROM raw.ingested_files").fetchall() == [("rejected",)]
    assert _ingest(con, path, retry_known=True).status == "landed"


def test_every_sample_file_accounts_for_every_row(tmp_path, sample_inbox, monkeypatch):
    monkeypatch.setenv("KOPERASI_PSEUDONYM_KEY", "k")
    con = landing.connect(tmp_path / "b.duckdb")
    for source in ("ods", "bps", "opd"):
        for path in inbox_files(sample_inbox, source):
            result = ingest_file(con, path, source, tmp_path / "archive")
            assert result.status == "landed", result.error
            assert result.rows_quarantined == 0, result.reasons
    _assert_accounting(con)
    latest = con.execute("SELECT count(*), sum(members_male + members_female), count(*) FILTER (rat_virtual) "
                         "FROM raw.ods_cooperatives WHERE snapshot_date = DATE '2024-12-31'").fetchone()
    assert latest[0] == LATEST_COOPERATIVES and abs(latest[1] - LATEST_MEMBERS) <= LATEST_MEMBERS // 100
    assert latest[2] == VIRTUAL_RATS
    assert con.execute("SELECT count(DISTINCT region_code) FROM raw.ods_cooperatives").fetchone()[0] == len(regions())
    assert con.execute("SELECT sum(population) FROM raw.bps_population").fetchone()[0] == sum(
        r.population_male + r.population_female for r in regions())


def test_every_injected_defect_is_caught(tmp_path, dirty_inbox, monkeypatch):
    monkeypatch.setenv("KOPERASI_PSEUDONYM_KEY", "k")
    con = landing.connect(tmp_path / "b.duckdb")
    results = {}
    for source in ("ods", "bps", "opd"):
        for path in inbox_files(dirty_inbox, source):
            results[path.name] = ingest_file(con, path, source, tmp_path / "archive")
    _assert_accounting(con)
    quarantined = {(f, r): reason for f, r, reason in con.execute("SELECT file, source_row, reason FROM raw.quarantine").fetchall()}
    manifest = json.loads((dirty_inbox / "dirty_manifest.json").read_text())
    for defect in manifest:
        if defect["reason"] == "rejected":
            assert results[defect["file"]].status == "rejected", defect
        elif defect["reason"] == "total_mismatch":
            assert any(w.code == "total_mismatch" for w in results[defect["file"]].warnings), defect
        else:
            reason = quarantined.get((defect["file"], defect["row"]))
            assert reason in (defect["reason"], "truncated_row"), defect
    injected_rows = {(d["file"], d["row"]) for d in manifest if d["row"] is not None and d["reason"] != "total_mismatch"}
    assert set(quarantined) == injected_rows, "clean rows must load"


def test_no_member_name_or_nip_is_stored(tmp_path, sample_inbox, monkeypatch):
    import fastexcel

    monkeypatch.setenv("KOPERASI_PSEUDONYM_KEY", "k")
    con = landing.connect(tmp_path / "b.duckdb")
    personal: set[str] = set()
    for path in inbox_files(sample_inbox, "opd"):
        result = ingest_file(con, path, "opd", tmp_path / "archive")
        assert result.status == "landed"
        if path.name.startswith("anggota"):
            frame = fastexcel.read_excel(str(path)).load_sheet(0, header_row=4, dtypes="string").to_polars()
            personal |= set(frame.get_column("NIP").drop_nulls()) | set(frame.get_column("Nama").drop_nulls())
    assert len(personal) > 100
    hits = []
    for schema, table, column in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type IN ('VARCHAR', 'JSON')").fetchall():
        values = {v for (v,) in con.execute(f'SELECT DISTINCT "{column}"::VARCHAR FROM {schema}.{table}').fetchall() if v}
        hits += [(table, column, v) for v in values for p in personal if p in v]
    assert hits == []


def test_without_a_configured_key_one_is_generated_per_installation(tmp_path, sample_inbox, monkeypatch):
    monkeypatch.delenv("KOPERASI_PSEUDONYM_KEY", raising=False)
    con = landing.connect(tmp_path / "b.duckdb")
    member_list = next(p for p in inbox_files(sample_inbox, "opd") if p.name.startswith("anggota"))
    key_file = tmp_path / "home" / "pseudonym.key"
    result = ingest_file(con, member_list, "opd", tmp_path / "archive", key_file=key_file)
    assert result.status == "landed" and any(w.code == "new_pseudonym_key" for w in result.warnings)
    assert key_file.stat().st_mode & 0o777 == 0o600
    other_home = tmp_path / "other" / "pseudonym.key"
    con2 = landing.connect(tmp_path / "c.duckdb")
    ingest_file(con2, member_list, "opd", tmp_path / "archive2", key_file=other_home)
    assert key_file.read_text() != other_home.read_text(), "every installation has its own random key"
    keys = [c.execute("SELECT member_key FROM raw.opd_members ORDER BY _source_row LIMIT 1").fetchall()[0][0]
            for c in (con, con2)]
    assert keys[0] != keys[1], "no key shared through the repository"


def test_a_different_key_than_the_stored_fingerprint_is_refused(tmp_path, sample_inbox, monkeypatch):
    con = landing.connect(tmp_path / "b.duckdb")
    first, second = [p for p in inbox_files(sample_inbox, "opd") if p.name.startswith("anggota")][:2]
    monkeypatch.setenv("KOPERASI_PSEUDONYM_KEY", "the-office-key")
    assert ingest_file(con, first, "opd", tmp_path / "archive").status == "landed"
    stored = con.execute("SELECT fingerprint FROM raw.pseudonym_keys").fetchall()
    assert len(stored) == 1 and "the-office-key" not in stored[0][0]
    monkeypatch.setenv("KOPERASI_PSEUDONYM_KEY", "another-key")
    result = ingest_file(con, second, "opd", tmp_path / "archive")
    assert result.status == "rejected" and "not the key the stored member lists were pseudonymised with" in result.error
    assert con.execute("SELECT count(*) FROM raw.opd_members WHERE _source_file = ?", [second.name]).fetchall()[0][0] == 0
    monkeypatch.setenv("KOPERASI_PSEUDONYM_KEY", "the-office-key")
    assert ingest_file(con, second, "opd", tmp_path / "archive", retry_known=True).status == "landed"


def test_cli_ingest_json_and_exit_codes(tmp_path, home):
    good = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", [ods_row(i) for i in range(1, 40)] + [ods_row(40, NIK="x")])
    bad = tmp_path / f"empty_{SNAPSHOT}.csv"
    bad.write_bytes(b"")
    cmd = [sys.executable, "-m", "orchestration.cli", "ingest", "--source", "ods", "--json"]
    ok = subprocess.run([*cmd, str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    (record,) = json.loads(ok.stdout)
    assert set(record) >= {"file", "source", "sha256", "status", "rows_read", "rows_loaded", "rows_quarantined",
                           "reasons", "error"}
    assert record["reasons"] == {"invalid_registry_number": 1}
    failed = subprocess.run([*cmd, str(good), str(bad)], capture_output=True, text=True)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert [r["status"] for r in json.loads(failed.stdout)] == ["already_ingested", "rejected"]
    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM raw.ods_cooperatives").fetchone()[0] == 39


def test_steward_exports_the_quarantined_rows_of_a_file(tmp_path, home):
    import csv

    path = write_csv(tmp_path / f"ods_{SNAPSHOT}.csv", [ods_row(1), ods_row(2, Aset="12,5 juta"), ods_row(3, NIK="1,2E+15")]
                     + [ods_row(n) for n in range(4, 51)])
    cli = [sys.executable, "-m", "orchestration.cli"]
    assert subprocess.run([*cli, "ingest", "--source", "ods", str(path)], capture_output=True).returncode == 0
    out = tmp_path / "fix_me.csv"
    result = subprocess.run([*cli, "quality", "--quarantine", path.name, "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["source_row"], r["reason"]) for r in rows] == [("3", "invalid_number"), ("4", "invalid_registry_number")]
    assert rows[0]["Aset"] == "12,5 juta" and rows[1]["NIK"] == "1,2E+15", "original cells kept for the steward"
    report = subprocess.run([*cli, "quality"], capture_output=True, text=True)
    assert "1 baris dikarantina: angka tidak dapat dibaca" in report.stdout
    assert "baris 3: kolom 'Aset': '12,5 juta' bukan angka bulat" in report.stdout, "the row and its value, in Indonesian"


def test_a_member_lists_sha256_is_not_taken_for_a_nip(con, tmp_path):
    """A file whose SHA-256 holds 18 decimal digits in a row (about one in a hundred) is not a NIP."""
    from expectations.checks import opd_members

    sha = "0019329e82458d5e035262624380152311a72936944418f36e05e4920ba06c26"  # '035262624380152311': 18 digits
    con.execute("INSERT INTO raw.opd_members (cooperative_nik, list_date, member_key, employment_status, _source_file, "
                "_source_sha256, _source_row, _ingested_at) VALUES ('1207010100000001', DATE '2024-12-31', ?, 'ASN', "
                "'anggota_koperasi_disdik_20241231.xlsx', ?, 2, now())", ["0123456789abcdef" * 2, sha])
    outcome = opd_members(con, tmp_path / "quality", sha)
    assert outcome.passed, outcome.describe()
    assert {o.column for o in outcome.outcomes} >= {"_source_file", "member_key"}
