"""Photographs Superset dashboards with headless Chromium (Playwright driving Debian's chromium; no browser is
downloaded). Runs in Superset's environment (.tools/bi-venv), called by tests/test_bi.py:
``bi_screenshots.py BASE_URL USER PASSWORD FOLDER SLUG...``. Prints, per dashboard, the number of charts and the
problems seen (an error message, a chart without content, "No results"), as JSON; writes FOLDER/<slug>.png."""

import json
import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

base, user, password, folder, *slugs = sys.argv[1:]
PROBLEMS = ("No results", "Unexpected error", "There was an error", "Error:", "Data error", "Not found")
report = {}
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=os.environ.get("KOPERASI_CHROMIUM", "/usr/bin/chromium"),
                                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    page.goto(base + "/login/")
    page.fill("#username", user)
    page.fill("#password", password)
    page.keyboard.press("Enter")
    page.wait_for_url("**/superset/welcome/**", timeout=120_000)
    for slug in slugs:
        page.goto(f"{base}/superset/dashboard/{slug}/?standalone=1")
        page.wait_for_load_state("networkidle", timeout=300_000)
        page.wait_for_function("document.querySelectorAll('.chart-container').length > 0 && "
                               "document.querySelectorAll('.loading, [data-test=\"loading-indicator\"]').length == 0",
                               timeout=300_000)
        page.wait_for_timeout(1500)  # ECharts animations
        problems = [f"page says {word!r}" for word in PROBLEMS if word in page.inner_text("body")]
        charts = page.locator(".chart-container")
        for i in range(charts.count()):
            chart = charts.nth(i)
            drawn = chart.locator("canvas, svg, table tbody tr, .header-line, .big-number").count()
            if not drawn:
                problems.append(f"chart {i + 1} is empty: {chart.inner_text()[:100]!r}")
        page.screenshot(path=str(Path(folder) / f"{slug}.png"), full_page=True)
        report[slug] = {"charts": charts.count(), "problems": problems}
    browser.close()
print(json.dumps(report))
