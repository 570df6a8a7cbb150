"""The per-key token bucket, against a real ``carbonx demo`` started with a low limit."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.server import DemoServer, start_demo

LIMIT = {"CARBONX_RATE_LIMIT_PER_S": "5", "CARBONX_RATE_LIMIT_BURST": "5"}
BOOK = "/v1/markets/demo/book/CEA2025"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("rate") / "demo.db", env=LIMIT)
    try:
        yield running
    finally:
        running.stop()


def client(server: DemoServer, key: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=10.0)


def test_a_key_over_its_limit_gets_429_with_retry_after(server: DemoServer) -> None:
    with client(server, server.keys["participants"]["P001"]) as p001:
        statuses = [p001.get(BOOK) for _ in range(20)]
        assert statuses[0].status_code == 200
        limited = [r for r in statuses if r.status_code == 429]
        assert limited, [r.status_code for r in statuses]
        response = limited[0]
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert (body["status"], body["code"]) == (429, "RATE_LIMITED")
        assert (body["limit_per_s"], body["burst"]) == (5, 5)
        retry_after = int(response.headers["retry-after"])
        assert retry_after >= 1
        assert body["retry_after_s"] == retry_after
        # Another key has its own bucket; no key is needed for health and metrics.
        with client(server, server.keys["participants"]["P002"]) as p002:
            assert p002.get(BOOK).status_code == 200
        assert httpx.get(server.base_url + "/healthz").status_code == 200
        assert httpx.get(server.base_url + "/metrics").status_code == 200
        time.sleep(retry_after)
        assert p001.get(BOOK).status_code == 200
