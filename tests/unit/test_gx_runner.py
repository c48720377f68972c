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
