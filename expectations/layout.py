"""Where GX keeps its project under a quality folder: the one statement of its layout (GX's defaults)."""

from __future__ import annotations

from pathlib import Path


def data_docs_dir(quality_dir: Path) -> Path:
    """The Data Docs site GX builds for a file context rooted at ``quality_dir``."""
    return Path(quality_dir) / "gx" / "uncommitted" / "data_docs" / "local_site"
