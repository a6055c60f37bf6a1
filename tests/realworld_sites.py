"""The real agency pages of ../shared/realworld served from 127.0.0.1 and audited end to end.

Each folder of INDEX §1 and §5 is one site: its files are served as they are (404 for anything else, so
every asset and every page outside the set is a broken link, as INDEX says), the crawl starts at the
folder's home page with every other page of the folder seeded (pages that no link reaches are still
audited), accessibility is off and links to other hosts are never requested (`--external skip`). The
pages carry no licence: they are read from ../shared, never copied.

One audit per folder per test session (`audit_realworld` caches it), so many test modules can assert
on the same results.json.
"""

from __future__ import annotations

import atexit
import mimetypes
import shutil
import tempfile
import threading
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from paths import REALWORLD
from servers import Handler, Server

TODAY = date(2026, 12, 1)

# folder -> home page (INDEX §1, §5): the page an evaluator would open first
HOMES: dict[str, str] = {
    "HywebU00__2021_mol_c_old": "mptest.html",
    "HywebU00__2020_ith_passport": "mptest.html",
    "HywebU00__2019_tps": "mp_new.html",
    "HywebU00__2023_NHI": "mp.html",
    "HywebU00__2023Taichung_main": "mp.html",
    "HywebU00__2022Taichung": "mp.html",
    "HywebU00__2020_moe_portal": "CH/mp.html",
    "HywebU00__2018_BSMI": "hsinchu/mp.htm",
    "HywebU00__2022_roads": "pages_archive/mp.html",
    "HywebU00__2021_epa_tcsb_weedControl": "mp_.htm",
    "HywebU00__2020_ntpc": "MP.html",
    "HywebU00__2018_gazette": "mp.html",
    "HywebU00__2015CivilAffairs": "mp.html",
    "HywebU00__2016_mohw_e": "mp.html",
    "HywebU00__2021_keelung_gov": "mp.htm",
    "kevinhsu7361__NCYU": "index202009.html",
}


class _FolderHandler(Handler):
    """Serves the files of one folder exactly; no directory listings, no index pages."""

    def _serve(self) -> None:
        root: Path = self.server.root
        path = unquote(urlsplit(self.path).path).lstrip("/")
        file = (root / path).resolve()
        if path and file.is_file() and root in file.parents:
            self.server.hits.append(self.path)
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self.reply(200, {"Content-Type": kind}, file.read_bytes())
        else:
            self.reply(404, {"Content-Type": "text/html; charset=utf-8"}, "<html><title>404</title>找不到網頁</html>")

    do_GET = _serve
    do_HEAD = _serve

    def do_POST(self) -> None:  # noqa: N802 - http.server's name; a static folder takes no form posts
        self.send_error(501, "Unsupported method ('POST')")


def folder_path(folder: str) -> Path:
    path = REALWORLD / folder
    if not path.is_dir():
        pytest.skip(f"real-world material not found: ../shared/realworld/{folder}")
    return path


def page_files(folder: str) -> list[str]:
    """Every HTML file of a folder, as a path relative to it (sorted)."""
    root = folder_path(folder)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.suffix.lower() in (".htm", ".html"))


def serve_folder(folder: str) -> Server:
    server = Server(("127.0.0.1", 0), _FolderHandler)
    server.root = folder_path(folder).resolve()
    server.hits = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


_OUT = Path(tempfile.mkdtemp(prefix="da-realworld-"))
atexit.register(shutil.rmtree, _OUT, True)
_ORIGINS: dict[str, str] = {}


@cache
def audit_realworld(folder: str) -> dict[str, Any]:
    """The site entry of results.json for `folder`, crawled from 127.0.0.1 with `--external skip`."""
    import json

    from disclosure_audit.options import AuditOptions
    from disclosure_audit.pipeline import audit_site

    files = page_files(folder)
    home = HOMES[folder]
    server = serve_folder(folder)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    _ORIGINS[folder] = origin
    try:
        out = _OUT / folder
        audit_site(AuditOptions(
            url=f"{origin}/{home}", out_dir=out, today=TODAY, accessibility=False, quiet=True,
            external="skip", seeds=[f"{origin}/{name}" for name in files if name != home],
            download_timeout=10.0))
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    finally:
        server.shutdown()
        server.server_close()
    site = results["sites"][0]
    site["_origin"] = origin
    return site


def rel(url: str | None, folder: str | None = None) -> str | None:
    """A URL of an audited folder as the path INDEX uses (`cp_1.html`); other URLs unchanged."""
    if url is None:
        return None
    origins = [_ORIGINS[folder]] if folder else list(_ORIGINS.values())
    for origin in origins:
        if url.startswith(origin + "/"):
            return url[len(origin) + 1:]
    return url
