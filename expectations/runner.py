"""Runs a suite on a pandas frame (GX 1.x has no DuckDB or polars source) and keeps Data Docs offline."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("TQDM_DISABLE", "1")

import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from expectations.suites import ERROR, WARNING  # noqa: E402

DATASOURCE = "warehouse"


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    passed: bool
    observed: str
    arguments: dict = field(default_factory=dict)  # the limits checked: min_value, max_value, value_set, regex
    unexpected: list = field(default_factory=list)  # a few of the values that broke it
    unexpected_count: int | None = None


@dataclass
class SuiteOutcome:
    suite: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def errors(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.passed and o.severity == ERROR]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.passed and o.severity == WARNING]

    @property
    def passed(self) -> bool:
        return not self.errors

    def describe(self) -> str:
        failed = self.errors + self.warnings
        if not failed:
            return f"{self.suite}: all {len(self.outcomes)} expectations passed"
        return f"{self.suite}: " + "; ".join(
            f"[{o.severity}] {o.expectation}({o.column or ''}) observed {o.observed}" for o in failed)


@lru_cache(maxsize=None)
def _context(quality_dir: str):
    context = gx.get_context(mode="file", project_root_dir=quality_dir)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no bars in run logs
    return context


def _observed(result) -> str:
    data = result.result or {}
    if "observed_value" in data:
        return str(data["observed_value"])[:200]
    if "unexpected_count" in data:
        sample = data.get("partial_unexpected_list") or []
        return f"{data['unexpected_count']} unexpected (e.g. {sample[:3]})"
    return "n/a"


def _plain(value):
    """A JSON-able scalar (numpy numbers and dates come back from pandas)."""
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


def _arguments(kwargs: dict) -> dict:
    keep = {k: kwargs[k] for k in ("min_value", "max_value", "regex", "value_set") if kwargs.get(k) is not None}
    if "value_set" in keep:
        keep["value_set"] = list(keep["value_set"])[:40]
    return {k: _plain(v) if not isinstance(v, list) else [_plain(x) for x in v] for k, v in keep.items()}


def validate(quality_dir: Path, suite_name: str, expectations: list, frame: pd.DataFrame) -> SuiteOutcome:
    """Validates one frame; results go to the Data Docs site under ``quality_dir``."""
    context = _context(str(quality_dir))
    source = context.data_sources.add_or_update_pandas(DATASOURCE)
    asset = next((a for a in source.assets if a.name == suite_name), None) or source.add_dataframe_asset(suite_name)
    batch = next((b for b in asset.batch_definitions if b.name == "frame"), None) or \
        asset.add_batch_definition_whole_dataframe("frame")
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=expectations))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))
    checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
        name=suite_name, validation_definitions=[definition],
        actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")]))
    run = checkpoint.run(batch_parameters={"dataframe": frame})
    outcome = SuiteOutcome(suite_name)
    for result in next(iter(run.run_results.values())).results:
        config = result.expectation_config
        outcome.outcomes.append(ExpectationOutcome(
            expectation=config.type, column=config.kwargs.get("column"),
            severity=(config.meta or {}).get("severity", ERROR), passed=bool(result.success),
            observed=_observed(result), arguments=_arguments(config.kwargs),
            unexpected=[_plain(v) for v in ((result.result or {}).get("partial_unexpected_list") or [])[:10]],
            unexpected_count=(result.result or {}).get("unexpected_count")))
    make_docs_offline(data_docs_dir(quality_dir))
    return outcome


def data_docs_dir(quality_dir: Path) -> Path:
    return quality_dir / "gx" / "uncommitted" / "data_docs" / "local_site"


_EXTERNAL = re.compile(r'<link[^>]+href="https?://[^"]*"[^>]*>|<script[^>]+src="https?://[^"]*"[^>]*>\s*</script>'
                       r'|<img[^>]+src="https?://[^"]*"[^>]*>', re.S)
OFFLINE_CSS = """body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}th{background:#f2f2f2}
.text-success,.fa-check-circle{color:#1a7f37}.text-danger,.fa-times{color:#c62828}
nav,.navbar{margin-bottom:1rem}a{color:#0b5394}.card{border:1px solid #ddd;margin:.5rem 0;padding:.5rem}
.d-none{display:none}.collapse:not(.show){display:block}"""


def make_docs_offline(site: Path) -> None:
    """GX pages load Bootstrap and jQuery from CDNs; the office may have no internet: use a local stylesheet."""
    if not site.exists():
        return
    (site / "static").mkdir(exist_ok=True)
    (site / "static" / "offline.css").write_text(OFFLINE_CSS, encoding="utf-8")
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if "offline.css" in html:
            continue
        depth = len(page.relative_to(site).parts) - 1
        link = f'<link rel="stylesheet" href="{"../" * depth}static/offline.css">'
        page.write_text(_EXTERNAL.sub("", html).replace("</head>", f"{link}\n</head>", 1), encoding="utf-8")
