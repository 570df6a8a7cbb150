"""The gateway serves the built UI at /ui/ (exchange/api/ui.py): files, the single-page app's
fallback, the redirect from /, and a 503 page that says how to build a missing UI."""

from __future__ import annotations

import asyncio
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

    def get(self, path: str) -> httpx.Response:
        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ui") as c:
                response = await c.get(path)
                await response.aread()
                return response

        return asyncio.run(fetch())


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
