"""Runs a suite on a pandas frame (GX 1.x has no DuckDB or polars source) and keeps Data Docs offline."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from expectations.data_docs import make_offline
from expectations.gx_loader import gx as _gx
from expectations.layout import data_docs_dir
from expectations.suites import ERROR, WARNING

if TYPE_CHECKING:
    import pandas as pd

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
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = _gx().get_context(mode="file", project_root_dir=quality_dir)
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


def page_safe_name(name: str) -> str:
    """A file name as the Data Docs may show it: GX writes run and asset names into its pages unescaped and into
    its folder names, so anything but letters, digits and ``._-()›`` and spaces becomes ``_`` (no markup, no
    path)."""
    safe = re.sub(r"[^\w .()›-]", "_", name, flags=re.ASCII).strip(". ") or "_"
    return safe[:200]


def validate(quality_dir: Path, suite_name: str, expectations: list, frame: pd.DataFrame,
             data_asset: str | None = None) -> SuiteOutcome:
    """Validates one frame; results go to the Data Docs site under ``quality_dir``, named after ``data_asset``
    (the file or mart validated; GX's pandas source knows no name for a frame)."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    context = _context(str(quality_dir))
    checkpoint = _checkpoint(context, str(quality_dir), suite_name, expectations)
    name = page_safe_name(data_asset or suite_name)
    run = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=name))
    key, validation = next(iter(run.run_results.items()))
    validation.meta["batch_spec"] = {**validation.meta.get("batch_spec", {}), "data_asset_name": name}
    context.validation_results_store.set(key, validation)
    pages = [key, ExpectationSuiteIdentifier(name=suite_name)]
    if _docs_batch is not None:
        _docs_batch.setdefault(str(quality_dir), []).extend(pages)
    else:
        _render_data_docs(quality_dir, pages)
    outcome = SuiteOutcome(suite_name)
    for result in validation.results:
        config = result.expectation_config
        outcome.outcomes.append(ExpectationOutcome(
            expectation=config.type, column=config.kwargs.get("column"),
            severity=(config.meta or {}).get("severity", ERROR), passed=bool(result.success),
            observed=_observed(result), arguments=_arguments(config.kwargs),
            unexpected=[_plain(v) for v in ((result.result or {}).get("partial_unexpected_list") or [])[:10]],
            unexpected_count=(result.result or {}).get("unexpected_count")))
    return outcome


def _checkpoint(context, quality_dir: str, suite_name: str, expectations: list):
    """The suite's checkpoint, saved in the GX project (suite, validation definition, checkpoint) unless this batch
    saved the very same suite already: saving costs GX's file stores a write each, and a batch of ten OPD lists
    validates the same suite ten times."""
    gx = _gx()
    definition = json.dumps([e.configuration.to_json_dict() for e in expectations], sort_keys=True, default=str)
    saved = _batch_saved.setdefault(quality_dir, _Saved()) if _batch_saved is not None else _Saved()
    if saved.checkpoints.get(suite_name, ("", None))[0] == definition:
        return saved.checkpoints[suite_name][1]
    if saved.source is None:  # once a batch: saving it again would drop the assets of the checkpoints kept
        saved.source = context.data_sources.add_or_update_pandas(DATASOURCE)
    source = saved.source
    asset = next((a for a in source.assets if a.name == suite_name), None) or source.add_dataframe_asset(suite_name)
    batch = next((b for b in asset.batch_definitions if b.name == "frame"), None) or \
        asset.add_batch_definition_whole_dataframe("frame")
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=expectations))
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))
    checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
        name=suite_name, validation_definitions=[validation], actions=[]))
    saved.checkpoints[suite_name] = (definition, checkpoint)
    return checkpoint


@dataclass
class _Saved:
    """What a batch saved in one GX project: its data source, and each checkpoint with the suite it was saved with."""

    source: object | None = None
    checkpoints: dict[str, tuple[str, object]] = field(default_factory=dict)


# Validations waiting to be rendered into the Data Docs, per quality folder, while a batch is open; what the batch
# saved in each folder's GX project.
_docs_batch: dict[str, list] | None = None
_batch_saved: dict[str, _Saved] | None = None


@contextmanager
def data_docs_batch() -> Iterator[None]:
    """Validations inside the block are rendered into the Data Docs once, when it ends (also when it fails):
    rendering rebuilds the site's index, which costs ~0.2-0.4 s a time and grows with the history kept."""
    global _docs_batch, _batch_saved
    if _docs_batch is not None:  # nested: the outer block renders
        yield
        return
    _docs_batch, _batch_saved = {}, {}
    try:
        yield
    finally:
        pending, _docs_batch, _batch_saved = _docs_batch, None, None
        for quality_dir, pages in pending.items():
            _render_data_docs(Path(quality_dir), pages)


def _render_data_docs(quality_dir: Path, pages: list) -> None:
    context = _context(str(quality_dir))
    _keep_recent_results(context, quality_dir)
    unique = {page.to_tuple(): page for page in pages}  # a suite validated twice is rendered once
    context.build_data_docs(resource_identifiers=list(unique.values()))
    make_offline(data_docs_dir(quality_dir))


# Rendering rebuilds the Data Docs index from every validation result kept: with the whole history a run would
# grow slower every day (~1.7 s a render at 1,000 results here). Each suite keeps its newest results; the history
# of every outcome stays in quality.check_results and the stewards' report.
KEPT_PER_SUITE = 20


def _keep_recent_results(context, quality_dir: Path) -> None:
    """Removes each suite's validation results (and their pages) beyond its newest ``KEPT_PER_SUITE``."""
    store = context.validation_results_store
    by_suite: dict[str, list] = {}
    for key in store.list_keys():
        by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
    pages = data_docs_dir(quality_dir) / "validations"
    for keys in by_suite.values():
        keys.sort(key=lambda k: (k.run_id.run_time, k.run_id.run_name or ""))
        for old in keys[:-KEPT_PER_SUITE]:
            store.remove_key(old)
            pages.joinpath(*old.to_tuple()).with_suffix(".html").unlink(missing_ok=True)

