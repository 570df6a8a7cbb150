"""The gateway serves the built UI at /ui/ (exchange/api/ui.py): files, the single-page app's
fallback, the redirect from /, and a 503 page that says how to build a missing UI."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from exchange.api import ui

INDEX = "<!doctype html><title>carbonx</title><div id=app></div>"


class Client:
    """Requests straight to an app holding only the UI router (no server, no database)."""

    def __init__(self) -> None:
        self.app = FastAPI()
        self.app.include_router(ui.router)

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ui") as c:
                response = await c.get(path, headers=headers)
                await response.aread()
                return response

        # In a thread of its own: the browser tests' Playwright may be running an event loop in
        # this one (tests/ui/conftest.py's ``browser``).
        with ThreadPoolExecutor(max_workers=1) as thread:
            return thread.submit(asyncio.run, fetch()).result()


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('carbonx')")
    (tmp_path.parent / "secret.txt").write_text("not for the browser")
    monkeypatch.setattr(ui, "UI_DIR", tmp_path)
    return tmp_path


def test_root_redirects_to_the_ui(client: Client) -> None:
    for path in ("/", "/ui"):
        response = client.get(path)
        assert response.status_code == 307
        assert response.headers["location"] == "/ui/"


def test_views_answer_the_app_and_assets_are_cached(client: Client, built: Path) -> None:
    for path in ("/ui/", "/ui/trade", "/ui/instructor", "/ui/trade/anything"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["cache-control"] == "no-cache"
    asset = client.get("/ui/assets/index-abc123.js")
    assert asset.status_code == 200
    assert asset.text == "console.log('carbonx')"
    assert "immutable" in asset.headers["cache-control"]
    assert client.get("/ui/assets/index-gone.js").status_code == 404


def test_no_path_leaves_the_build(client: Client, built: Path) -> None:
    for path in ("/ui/../secret.txt", "/ui/%2e%2e/secret.txt", "/ui/assets/../../secret.txt"):
        response = client.get(path)
        assert "not for the browser" not in response.text, path


def test_a_missing_build_is_a_503_that_says_how_to_build(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui, "UI_DIR", tmp_path / "nothing")
    response = client.get("/ui/trade")
    assert response.status_code == 503
    assert "make ui" in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_text_goes_out_gzipped_to_a_browser_that_takes_it(client: Client, built: Path) -> None:
    script = "console.log('carbonx');\n" * 400
    (built / "assets" / "index-abc123.js").write_text(script)
    (built / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    page = INDEX + "<!-- the app's markup -->" * 60
    (built / "index.html").write_text(page)
    for path, text in (("/ui/assets/index-abc123.js", script), ("/ui/trade", page)):
        zipped = client.get(path, {"Accept-Encoding": "gzip, br"})
        assert zipped.status_code == 200
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["vary"] == "Accept-Encoding"
        assert zipped.text == text  # httpx undoes the gzip
        assert int(zipped.headers["content-length"]) < len(text.encode())
        plain = client.get(path, {"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.text == text
    assert (
        client.get("/ui/assets/index-abc123.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )
    svg = client.get("/ui/favicon.svg", {"Accept-Encoding": "gzip"})
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "content-encoding" not in svg.headers  # too small to be worth it


def test_a_rebuilt_file_is_compressed_anew(client: Client, built: Path) -> None:
    asset = built / "assets" / "index-abc123.js"
    asset.write_text("console.log('carbonx');\n" * 100)
    first = client.get("/ui/assets/index-abc123.js", {"Accept-Encoding": "gzip"})
    asset.write_text("console.log('rebuilt, and longer than before');\n" * 100)
    again = client.get("/ui/assets/index-abc123.js", {"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == again.headers["content-encoding"] == "gzip"
    assert (first.text, again.text) == ("console.log('carbonx');\n" * 100, asset.read_text())
