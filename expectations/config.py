from __future__ import annotations

import os
from pathlib import Path

import yaml

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.yaml"


def thresholds_file() -> Path:
    """The committed thresholds, or a deployment's own file named by KOPERASI_THRESHOLDS."""
    return Path(os.environ.get("KOPERASI_THRESHOLDS", THRESHOLDS))


def thresholds() -> dict:
    return yaml.safe_load(thresholds_file().read_text(encoding="utf-8"))


def ods_snapshot_limits() -> str:
    """The ODS gate's limits in words, from the thresholds (descriptions quote them, never restate them)."""
    limits = thresholds()["ods_snapshot"]
    return (f"cooperatives within ±{limits['cooperative_count_change_max']:.0%} and members within "
            f"±{limits['member_total_change_max']:.0%} of the previous snapshot; at most "
            f"{limits['quarantine_share_max']:.0%} of a file's rows quarantined")
