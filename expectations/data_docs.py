"""Great Expectations Data Docs that work offline: the CSS, JavaScript and fonts their templates load from CDNs
are served from the site's own folder.

The files come from npm, pinned in ``datadocs/package.json`` and ``package-lock.json`` (the versions the GX
templates name; popper.js 1.16.1 instead of 1.12.9, which bootstrap 4.3.1 refuses as a peer). ``make install``
installs them with ``npm ci`` into ``.tools/datadocs/node_modules``. Each page's CDN links are rewritten to
``static/vendor/...``; what has no local copy (the GX logo on S3) is removed.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
ASSETS_ENV = "KOPERASI_DATA_DOCS_ASSETS"

# URL named by the GX 1.x templates -> file in the pinned npm packages
ASSETS = {
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "@fortawesome/fontawesome-free/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/dist/umd/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
}
# Folders a vendored stylesheet refers to relatively (Font Awesome's fonts).
ASSET_FOLDERS = ["@fortawesome/fontawesome-free/webfonts"]

VENDOR = "static/vendor"
_SRI = re.compile(r'\s(?:integrity|crossorigin)="[^"]*"')
_EXTERNAL = re.compile(r'<link[^>]+href="https?://[^"]*"[^>]*>|<script[^>]+src="https?://[^"]*"[^>]*>\s*</script>'
                       r'|<img[^>]+src="https?://[^"]*"[^>]*>', re.S)


class MissingAssets(RuntimeError):
    pass


def assets_dir() -> Path:
    """The installed npm packages (``make install``), or ``$KOPERASI_DATA_DOCS_ASSETS``."""
    folder = Path(os.environ.get(ASSETS_ENV) or PROJECT_DIR / ".tools" / "datadocs" / "node_modules")
    missing = [path for path in [*ASSETS.values(), *ASSET_FOLDERS] if not (folder / path).exists()]
    if missing:
        raise MissingAssets(f"Data Docs assets missing in {folder} ({missing[0]} ...): run 'make install'")
    return folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _vendor(site: Path, source: Path) -> None:
    target = site / VENDOR
    for path in ASSETS.values():
        if not (target / path).exists():
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / path, target / path)
    for folder in ASSET_FOLDERS:
        if not (target / folder).exists():
            # copyfile and mkdir, not copytree: the copies take the process's (private) umask, not npm's modes
            shutil.copytree(source / folder, target / folder, copy_function=shutil.copyfile,
                            ignore_dangling_symlinks=True)
            for copied in [target / folder, *(target / folder).rglob("*")]:
                if copied.is_dir():
                    copied.chmod(0o777 & ~_umask())


def _localise(html: str, prefix: str) -> str:
    for url, path in ASSETS.items():
        # the URL as a whole attribute value, so 'vega@5' never matches inside 'vega-lite@5'
        html = html.replace(f'"{url}"', f'"{prefix}{VENDOR}/{path}"')
    html = re.sub(r"<(?:script|link)[^>]*\"[^\"]*" + re.escape(VENDOR) + r"[^>]*>",
                  lambda tag: _SRI.sub("", tag.group(0)), html)  # the local files are not the CDN's bytes
    return _EXTERNAL.sub("", html)  # nothing left that needs the network (the GX logo)


def make_offline(site: Path) -> None:
    """Serves every page's assets from the site: copies the pinned files in once, rewrites new pages."""
    if not site.exists():
        return
    try:
        _vendor(site, assets_dir())
    except MissingAssets as e:  # the pages then lose their styles and scripts, not the validation
        log.warning(str(e))
    # Only pages GX wrote since the last pass (the site grows with every validation; most pages are done).
    stamp = site / VENDOR / ".localised"
    since = stamp.stat().st_mtime if stamp.exists() else 0.0
    started = time.time()
    for page in site.rglob("*.html"):
        if page.stat().st_mtime < since:
            continue
        html = page.read_text(encoding="utf-8")
        if not _EXTERNAL.search(html):
            continue  # rewritten already
        depth = len(page.relative_to(site).parts) - 1
        page.write_text(_localise(html, "../" * depth), encoding="utf-8")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    os.utime(stamp, (started, started))
