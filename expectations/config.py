from __future__ import annotations

import os
from pathlib import Path

import yaml

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.yaml"


def thresholds() -> dict:
    """The committed thresholds, or a deployment's own file named by KOPERASI_THRESHOLDS."""
    path = Path(os.environ.get("KOPERASI_THRESHOLDS", THRESHOLDS))
    return yaml.safe_load(path.read_text(encoding="utf-8"))
