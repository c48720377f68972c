"""Careless and hostile files never stop the office, and personal data stays where it belongs (UU 27/2022).

One `koperasi run` (the real command, as a user starts it) on a small sample with a hostile corpus beside the
good files: the run publishes the good files and exits 3, every bad file has a registry row and a reason, and a
scan of every table, file, page and export under KOPERASI_HOME (the archive and the inbox excepted) finds no
personal value. The steward exports of that home are re-read as a spreadsheet would read them."""

from __future__ import annotations

import csv
import html.parser
import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from helpers import hostile_files as hf
from ingestion.samples import SampleSpec, generate_samples

pytestmark = pytest.mark.e2e
KOPERASI = [sys.executable, "-m", "orchestration.cli"]
NIKS = ["1271000000000101", "1271000000000102", "1271000000000103"]


def _cli(home: Path, *args: str, **env) -> subprocess.CompletedProcess:
    # The shell's usual umask: the project must make its files private by itself.
    return subprocess.run(KOPERASI + list(args), capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "KOPERASI_HOME": str(home), **env}, preexec_fn=lambda: os.umask(0o022))


def _hostile_ods(path: Path, names: list[str]) -> Path:
    """A small ODS export of one snapshot (it fails the snapshot's checks: far too few cooperatives) whose bad
    rows carry cells a spreadsheet would run as formulas."""
    from helpers.messy_files import HEADER, ods_row, write_csv

    rows = [ods_row(n) for n in range(1, 6)]
    rows += [ods_row(90 + i, **{"NIK": "12345", "Nama Koperasi": cell}) for i, cell in enumerate(names)]
    return write_csv(path, rows, header=HEADER)


def _incomplete_bps(sample_bps: Path, target: Path) -> Path:
    """The sample's SE2016 table without five of its regions: the BPS suite (every region, once) fails and the
    file is withdrawn. Its name sorts before the good table's, so it is judged first, on its own rows."""
    lines = sample_bps.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text("".join(lines[:3] + lines[8:]), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    home, inbox = root / "home", root / "home" / "inbox"
    generate_samples(SampleSpec(out=inbox, scale=0.2))
    outside = root / "outside"
    outside.mkdir()
    elsewhere = shutil.copy(next((inbox / "bps").glob("*.csv")), outside / "somewhere_else.csv")
    opd, ods, bps = inbox / "opd", inbox / "ods", inbox / "bps"
    hf.huge_dimension_xlsx(opd / "dimensi_raksasa.xlsx")
    hf.far_cell_xlsx(opd / "sel_jauh.xlsx")
    hf.shared_strings_bomb_xlsx(opd / "bom_string.xlsx")
    hf.formula_without_value_xlsx(opd / "daftar_rumus.xlsx", NIKS)
    hf.headerless_member_list(opd / "anggota_tanpa_judul.xlsx")
    hf.registry_list_with_persons(opd / "daftar_dengan_ketua.xlsx", NIKS[:2])
    hf.million_column_csv(bps / "sejuta_kolom.csv")
    hf.long_field_csv(bps / "sel_panjang.csv", ["Kabupaten/Kota", "UMK", "UMB"])
    (bps / "acak.csv").write_bytes(os.urandom(3000).replace(b"\x00", b"\x01"))
    _incomplete_bps(next(p for p in bps.glob("se2016*.csv")), bps / f"{hf.HOSTILE_NAMES[0][:-4]} se2016.csv")
    _hostile_ods(ods / "ods_2024-06-30 <b>tebal.csv", hf.ACTIVE_CELLS)
    _hostile_ods(ods / "'ods_2024-06-30 kutip.csv", ["=1+1"])
    hf.links(inbox, Path(elsewhere))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = _cli(home, "run")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return home, run, max(peak_kib, before)


def _registry(home: Path) -> dict[str, tuple[str, str]]:
    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT file, status, coalesce(error, '') FROM raw.ingested_files").fetchall()
    return {file: (status, error) for file, status, error in rows}


def test_the_run_publishes_the_good_files_and_names_the_bad_ones(hostile_home):
    home, run, _ = hostile_home
    assert run.returncode == 3, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Traceback" not in run.stderr and "published" in run.stdout
    assert (home / "warehouse" / "serving.duckdb").is_file()
    registry = _registry(home)
    expected = {
        "dimensi_raksasa.xlsx": "16384 columns", "sel_jauh.xlsx": "16384 columns",
        "bom_string.xlsx": "shared strings exceeds 256 MiB", "sejuta_kolom.csv": "no header row",
        "sel_panjang.csv": "longer than 128 KiB", "anggota_tanpa_judul.xlsx": "no header row",
        "passwd.csv": "symbolic link", "elsewhere.csv": "symbolic link", "pipe.csv": "special file",
    }
    for file, reason in expected.items():
        assert registry[file][0] == "rejected" and reason in registry[file][1], (file, registry.get(file))
    assert registry["acak.csv"][0] == "rejected"
    assert registry[f"{hf.HOSTILE_NAMES[0][:-4]} se2016.csv"][0] == "failed_checks"  # BPS: withdrawn, not fatal
    assert registry["ods_2024-06-30 <b>tebal.csv"][0] == "failed_checks"
    with duckdb.connect(str(home / "warehouse" / "serving.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.dim_cooperative").fetchall()[0][0] > 1000


def test_nothing_outside_the_inbox_was_read(hostile_home):
    home, _, _ = hostile_home
    archived = b"".join(p.read_bytes() for p in (home / "archive").rglob("*") if p.is_file())
    assert b"root:x:0:0" not in archived
    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.ingested_files WHERE file = 'elsewhere.csv' "
                           "AND archived_as IS NOT NULL").fetchall()[0][0] == 0


def test_values_are_never_invented(hostile_home):
    home, _, _ = hostile_home
    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as con:
        reasons = con.execute("SELECT reason, source_row FROM raw.quarantine WHERE file = 'daftar_rumus.xlsx'").fetchall()
        loaded = con.execute("SELECT cooperative_nik FROM raw.opd_cooperatives WHERE _source_file = 'daftar_rumus.xlsx'"
                             ).fetchall()
    assert reasons == [("formula_without_value", 5)]  # the sheet's own row number
    assert sorted(n for (n,) in loaded) == [NIKS[0], NIKS[2]]


def test_peak_memory_stays_under_the_stated_bound(hostile_home):
    _, _, peak_kib = hostile_home
    assert peak_kib < 2 * 1024 * 1024, f"peak RSS {peak_kib // 1024} MiB"


def _text_of_every_table(database: Path) -> str:
    parts = []
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute("SELECT database_name, schema_name, table_name FROM duckdb_tables()").fetchall()
        for db, schema, table in tables:
            rows = con.execute(f'SELECT * FROM "{db}"."{schema}"."{table}"').fetchall()
            parts.append(json.dumps(rows, default=str, ensure_ascii=False))
    return "\n".join(parts)


def _personal_values_found(text: str) -> list[str]:
    return [kind for kind, value in hf.PERSON.items() if value in text]


def test_no_personal_value_anywhere_but_the_archive_and_the_inbox(hostile_home):
    home, run, _ = hostile_home
    assert _personal_values_found(run.stdout + run.stderr) == []
    for database in (home / "warehouse" / "build.duckdb", home / "warehouse" / "serving.duckdb"):
        assert _personal_values_found(_text_of_every_table(database)) == [], database
    for path in home.rglob("*"):
        if not path.is_file() or path.is_symlink() or path.relative_to(home).parts[0] in ("archive", "inbox"):
            continue
        data = path.read_bytes()
        found = [kind for kind, value in hf.PERSON.items() if value.encode() in data]
        assert found == [], f"{path.relative_to(home)} holds {found}"


class _Elements(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_pages_hold_no_markup_from_a_file_name_or_value(hostile_home):
    home, _, _ = hostile_home
    assert _cli(home, "quality", "--html").returncode in (0, 1)
    pages = [p for p in home.rglob("*.html") if p.relative_to(home).parts[0] not in ("inbox", "dbt")]
    assert any("laporan_kualitas" in p.name for p in pages) and any("data_docs" in str(p) for p in pages)
    for page in pages:
        parser = _Elements()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        assert not [t for t, a in parser.tags if "onerror" in a], page
        assert not [t for t, _ in parser.tags if t == "b"], page  # "<b>tebal" of a file name stays text


def test_steward_exports_are_inert(hostile_home, tmp_path):
    home, _, _ = hostile_home
    out = tmp_path / "karantina.csv"
    written = _cli(home, "quality", "--quarantine", "ods_2024-06-30 <b>tebal.csv", "--out", str(out))
    assert written.returncode == 0, written.stderr
    with out.open(encoding="utf-8", newline="") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert any("HYPERLINK" in c for c in cells)
    active = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"[+-]?\d+([.,]\d+)?", c)]
    assert active == [], active
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    book = tmp_path / "koreksi.xlsx"
    made = _cli(home, "quality", "--koreksi", str(book))
    assert made.returncode == 0, made.stderr  # a file named with an apostrophe gets a valid sheet name
    with zipfile.ZipFile(book) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        xml = "".join(z.read(n).decode() for n in sheets)
        names = z.read("xl/workbook.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    assert "kutip" in names
    from openpyxl import load_workbook  # noqa: PLC0415 - a second spreadsheet library reads it back

    values = [c.value for ws in load_workbook(book).worksheets for row in ws.iter_rows() for c in row]
    assert "=HYPERLINK(A1,B1)" in values  # the text, kept as text


def test_everything_under_the_home_is_the_owners_only(hostile_home, tmp_path):
    home, _, _ = hostile_home
    backup = tmp_path / "cadangan"
    assert _cli(home, "backup", "--out", str(backup)).returncode == 0
    restored = tmp_path / "restored"
    assert _cli(restored, "restore", str(backup)).returncode == 0
    for root in (home, backup, restored):
        assert stat.S_IMODE(root.stat().st_mode) & 0o077 == 0, root
        for path in root.rglob("*"):
            if path.is_symlink() or path.relative_to(root).parts[0] == "inbox":
                continue
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path} is {oct(path.stat().st_mode)}"
