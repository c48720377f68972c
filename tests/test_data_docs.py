"""The Data Docs site for stewards, opened in headless Chromium with no network: suites and their results show."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from expectations import checks
from expectations.runner import data_docs_dir
from ingestion.api import inbox_files, ingest_file
from ingestion.landing import connect

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--proxy-server=127.0.0.1:9", "--virtual-time-budget=3000"]


def _chromium() -> str:
    """Debian's chromium, installed here when missing (the test setup owns its dependencies)."""
    found = shutil.which("chromium")
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, timeout=900,
                   env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    return shutil.which("chromium") or "/usr/bin/chromium"


def _render(page: Path, tmp_path: Path) -> str:
    result = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                             page.as_uri()], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def docs(tmp_path_factory, sample_inbox):
    root = tmp_path_factory.mktemp("docs")
    con = connect(root / "build.duckdb")
    results = [ingest_file(con, path, "bps", root / "archive") for path in inbox_files(sample_inbox, "bps")]
    population = next(r.sha256 for r in results if r.table_kind == "population")
    passing = checks.bps_population(con, root / "quality", population)
    con.execute("UPDATE raw.bps_population SET population = -1 WHERE region_code = '1275'")
    failing = checks.bps_population(con, root / "quality", population)
    con.close()
    assert passing.passed and not failing.passed
    return data_docs_dir(root / "quality")


def test_pages_reference_nothing_outside(docs):
    for page in docs.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert 'src="http' not in html and 'href="https://cdn' not in html, page


def test_index_and_validation_page_show_suites_and_results(docs, tmp_path):
    index = _render(docs / "index.html", tmp_path)
    assert "bps_population" in index
    validations = sorted((docs / "validations").rglob("*.html"))
    assert len(validations) >= 2
    texts = [_render(page, tmp_path) for page in validations]
    assert any("Failed" in t or "failed" in t for t in texts)
    assert any("Succeeded" in t or "succeeded" in t or "Passed" in t for t in texts)
    assert all("expect_column_values_to_be_between" in t or "population" in t for t in texts)
