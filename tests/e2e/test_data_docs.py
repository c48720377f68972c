"""The Data Docs site for stewards, opened in headless Chromium with no network: suites and their results show."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from helpers.debian import debian_program

from expectations import checks
from expectations.layout import data_docs_dir
from ingestion.api import inbox_files, ingest_file
from ingestion.landing import connect

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--proxy-server=127.0.0.1:9", "--virtual-time-budget=3000"]


def _chromium() -> str:
    return debian_program("chromium", "chromium")


def _render(page: Path, tmp_path: Path) -> str:
    """The page's DOM after its scripts ran (bootstrap-table builds the result lists in JavaScript)."""
    result = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                             page.as_uri()], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _visible_cells(dom: str) -> list[str]:
    """Text of the table cells the browser built, scripts and styles left out (text inside a <script> tag is
    not on the page)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
            for cell in re.findall(r"<td\b.*?</td>", body, flags=re.S)]


def _screenshot(page: Path, tmp_path: Path) -> Image.Image:
    shot = tmp_path / f"{page.stem}.png"
    result = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                             "--window-size=1280,1000", f"--screenshot={shot}", page.as_uri()],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    return Image.open(shot).convert("RGB")


def _pixels_like(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    return sum(1 for pixel in image.get_flattened_data() if all(abs(p - c) <= tolerance for p, c in zip(pixel, colour)))


BOOTSTRAP_RED, BOOTSTRAP_GREEN = (220, 53, 69), (40, 167, 69)  # .text-danger, .text-success: the status icons


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
        assert 'src="http' not in html and not re.search(r'<link[^>]+href="https?://', html), page
        for local in re.findall(r'(?:src|href)="((?:\.\./)*static/vendor/[^"]+)"', html):
            assert (page.parent / local).resolve().is_file(), f"{page}: {local}"


def test_the_index_lists_every_validation_with_its_status_and_file(docs, tmp_path):
    dom = _render(docs / "index.html", tmp_path)
    # rows bootstrap-table built (in the source they exist only as JSON inside a script)
    rows = re.findall(r'<tr[^>]*data-href="validations/[^"]*"[^>]*data-index="\d+"[^>]*>.*?</tr>', dom, flags=re.S)
    assert len(rows) == 2, "one row per validation"
    assert sum("ge-failed-icon" in r for r in rows) == 1 and sum("ge-success-icon" in r for r in rows) == 1
    cells = _visible_cells(dom)
    assert "penduduk_kabkota_jenis_kelamin_sumut_2024.xlsx" in cells, "named after the file it validated"
    assert "bps_population" in cells
    shot = _screenshot(docs / "index.html", tmp_path)
    assert _pixels_like(shot, BOOTSTRAP_RED) > 20 and _pixels_like(shot, BOOTSTRAP_GREEN) > 20, \
        "the pass and fail marks are drawn (icon font and styles loaded from the site's own folder)"


def test_validation_pages_show_the_file_the_marks_and_the_results(docs, tmp_path):
    pages = sorted((docs / "validations").rglob("*.html"))
    assert len(pages) == 2
    bodies = [re.sub(r"<(script|style)\b.*?</\1>", "", _render(page, tmp_path), flags=re.S) for page in pages]
    for page, body in zip(pages, bodies):
        assert re.search(r"Data asset:\s*(<[^>]+>\s*)*penduduk_kabkota_jenis_kelamin_sumut_2024\.xlsx", body), page
        assert "Data asset: None" not in body
    failed = next(p for p, body in zip(pages, bodies) if re.search(r"Status:.*?Failed", body, flags=re.S))
    assert _pixels_like(_screenshot(failed, tmp_path), BOOTSTRAP_RED) > 20, "the failed mark is drawn"
    passed = next(p for p in pages if p != failed)
    assert _pixels_like(_screenshot(passed, tmp_path), BOOTSTRAP_GREEN) > 20, "the passed mark is drawn"
