"""Deterministic, realistic sample exports of the three sources (ODS, BPS, OPD)."""

from ingestion.samples.generate import SampleSpec, generate_samples

__all__ = ["SampleSpec", "generate_samples"]
