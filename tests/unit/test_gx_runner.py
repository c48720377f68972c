"""expectations.runner with real GX: a batch saves a suite once but always validates with the suite it is given,
and a GX project saved by one process validates again in the next (a fresh context on the same folder)."""

from __future__ import annotations

import pandas as pd

from expectations import runner
from expectations.layout import data_docs_dir
from expectations.suites import _e


def _at_least(minimum: int) -> list:
    return [_e("ExpectColumnValuesToBeBetween", column="members", min_value=minimum)]


def test_a_batch_validates_with_the_suite_it_is_given(tmp_path):
    frame = pd.DataFrame({"members": [5, 7, 9]})
    with runner.data_docs_batch():
        first = runner.validate(tmp_path, "members_suite", _at_least(0), frame, "a.csv")
        again = runner.validate(tmp_path, "members_suite", _at_least(0), frame, "b.csv")
        stricter = runner.validate(tmp_path, "members_suite", _at_least(6), frame, "c.csv")
    assert first.passed and again.passed
    assert not stricter.passed and stricter.errors[0].unexpected_count == 1


def test_the_next_process_validates_on_the_saved_project(tmp_path):
    frame = pd.DataFrame({"members": [5, 7, 9]})
    with runner.data_docs_batch():
        assert runner.validate(tmp_path, "members_suite", _at_least(0), frame, "a.csv").passed
    runner._context.cache_clear()  # what a new process sees: the GX project as saved on disk
    with runner.data_docs_batch():
        later = runner.validate(tmp_path, "members_suite", _at_least(8), frame, "b.csv")
        other = runner.validate(tmp_path, "another_suite", _at_least(0), frame, "b.csv")
    assert not later.passed and other.passed
    assert any("another_suite" in str(page) for page in data_docs_dir(tmp_path).rglob("*.html"))


def test_each_suite_keeps_its_newest_results_and_pages(tmp_path, monkeypatch):
    """The Data Docs index is rebuilt from every result kept: an old result and its page go, the newest stay."""
    monkeypatch.setattr(runner, "KEPT_PER_SUITE", 3)
    frame = pd.DataFrame({"members": [5, 7, 9]})
    for n in range(5):
        with runner.data_docs_batch():
            runner.validate(tmp_path, "members_suite", _at_least(0), frame, f"file_{n}.csv")
            runner.validate(tmp_path, "another_suite", _at_least(0), frame, f"file_{n}.csv")
    pages = {p.parent.parent.name for p in (data_docs_dir(tmp_path) / "validations" / "members_suite").rglob("*.html")}
    assert pages == {"file_2.csv", "file_3.csv", "file_4.csv"}
    results = runner._context(str(tmp_path)).validation_results_store.list_keys()
    assert sorted(k.run_id.run_name for k in results if k.expectation_suite_identifier.name == "members_suite") == [
        "file_2.csv", "file_3.csv", "file_4.csv"]
    index = (data_docs_dir(tmp_path) / "index.html").read_text(encoding="utf-8")
    assert "file_4.csv" in index and "file_0.csv" not in index
