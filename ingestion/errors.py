"""Errors of a whole file: the file is rejected, nothing of it is loaded."""

from __future__ import annotations

from ingestion.findings import Finding


class FileRejected(Exception):
    """The file cannot be loaded at all. ``finding`` says why, with showable parameters only (see findings)."""

    def __init__(self, file: str, code: str, **params):
        self.file = file
        self.finding = Finding(code, params)
        self.problem = self.finding.english()
        super().__init__(f"{file}: {self.problem}")


class DatabaseBusy(RuntimeError):
    """Another process held the build database for longer than a writer waits (see ``landing.connect``)."""
