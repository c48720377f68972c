"""What went wrong in a run, read from its Dagster events: the one reading of failed checks and failed steps.

Used by the run summary (`koperasi run`, from the in-process result) and by the publish asset (from the event
log, before it swaps the serving file).
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg


def failed_checks(events: Iterable[dg.DagsterEvent]) -> list[str]:
    """Error-severity asset checks that did not pass."""
    failed = []
    for event in events:
        if event.event_type_value == dg.DagsterEventType.ASSET_CHECK_EVALUATION.value:
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                failed.append(f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} failed")
    return failed


def failed_steps(events: Iterable[dg.DagsterEvent], *, but_failed_checks: bool = False) -> list[str]:
    """Failed steps with their own error; ``but_failed_checks``: not those failed only by a blocking check."""
    failures = []
    for event in events:
        if event.event_type_value != dg.DagsterEventType.STEP_FAILURE.value:
            continue
        error = event.event_specific_data.error
        if error is None:
            failures.append(f"step {event.step_key} failed")
            continue
        chain = [error]
        while chain[-1].cause is not None:
            chain.append(chain[-1].cause)
        if but_failed_checks and any(e.cls_name == "DagsterAssetCheckFailedError" for e in chain):
            continue
        own = chain[-1]  # the user code's own error, not Dagster's wrapper
        failures.append(f"step {event.step_key} failed: {own.message.strip().splitlines()[0][:300]}")
    return failures


def materialized(events: Iterable[dg.DagsterEvent]) -> set[dg.AssetKey]:
    return {e.asset_key for e in events if e.event_type_value == dg.DagsterEventType.ASSET_MATERIALIZATION.value}
