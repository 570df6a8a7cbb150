"""The web UI (``ui/``, built by ``make ui`` into ``ui/dist``), served at ``/ui/``.

The UI is a single-page app and one more client of the REST and WebSocket API: every path
under ``/ui/`` that is not a built file answers ``index.html`` (the app's router reads the
path), and ``/`` redirects to ``/ui/``. Built assets carry a content hash in their names, so
they are cached for good; ``index.html`` is revalidated. Text files (scripts, styles, pages,
SVG) go out gzip-compressed to a browser that accepts it (a classroom's link may be slow: the
app's bundle shrinks to about a third), compressed once per file and kept. Without a build the
UI answers a 503 page that says how to build it. Nothing is fetched from the internet at run
time.
"""

from __future__ import annotations

import gzip
import mimetypes
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]


class UiSettings(BaseSettings):
    """``CARBONX_UI_DIR`` points at another build (an installed package, a deployment)."""

    model_config = SettingsConfigDict(env_prefix="CARBONX_")

    ui_dir: Path = ROOT / "ui" / "dist"


UI_DIR = UiSettings().ui_dir
ASSET_CACHE = "public, max-age=31536000, immutable"
COMPRESSED = frozenset({".js", ".css", ".html", ".svg", ".json", ".map", ".txt"})
GZIP_FROM_BYTES = 1024  # smaller files gain nothing worth a header
# (path, size, modification time) -> the file gzipped: a rebuilt file is compressed anew.
_gzipped: dict[tuple[Path, int, int], bytes] = {}

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>carbonx: UI not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>The carbonx web UI is not built</h1>
<p>Build it with <code>make ui</code> (needs Node.js and npm; <code>make run</code> and
<code>make test</code> build it too), then reload this page.</p>
<p>网页界面尚未构建：请运行 <code>make ui</code> 后刷新本页。</p>
<p>The REST and WebSocket API under <code>/v1</code> works without it.</p>
</body></html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui")
async def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/{path:path}")
async def ui(path: str, request: Request) -> Response:
    """A built file if ``path`` names one, else the app's ``index.html`` (its router shows
    the view)."""
    index = UI_DIR / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers={"Retry-After": "60"})
    gzip_ok = "gzip" in request.headers.get("accept-encoding", "")
    if path:
        wanted = (UI_DIR / path).resolve()
        if wanted.is_relative_to(UI_DIR.resolve()) and wanted.is_file():
            cache = ASSET_CACHE if path.startswith("assets/") else "no-cache"
            return _file(wanted, cache, gzip_ok)
        if path.startswith("assets/"):  # a stale hashed name: not the app (NOT_FOUND problem)
            raise HTTPException(404, f"no UI asset {path!r}")
    return _file(index, "no-cache", gzip_ok)


def _file(path: Path, cache: str, gzip_ok: bool) -> Response:
    """The file, gzipped when the browser takes it and it is text."""
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
    stat = path.stat()
    if not (gzip_ok and path.suffix in COMPRESSED and stat.st_size >= GZIP_FROM_BYTES):
        return FileResponse(path, headers=headers)
    key = (path, stat.st_size, stat.st_mtime_ns)
    body = _gzipped.get(key)
    if body is None:
        for old in [k for k in _gzipped if k[0] == path]:  # an earlier build of the file
            del _gzipped[old]
        body = _gzipped[key] = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or path.suffix in (".js", ".svg", ".json"):
        media_type += "; charset=utf-8"
    return Response(body, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
