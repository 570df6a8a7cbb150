"""What a login needs, against a real ``carbonx demo``: ``getSession`` tells any valid key its
market, role and account (a revoked key in words of its own), and ``getPublicAddress`` tells an
operator the address trainees open, never a loopback one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exchange.cli import main
from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem

PUBLIC_URL = "http://class.example:8000"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("logins") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


def session_of(server: DemoServer, key: str) -> dict[str, object]:
    with client(server, key) as c:
        response = c.get("/v1/session")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_participant_key_names_its_market_and_account(server: DemoServer) -> None:
    seen = session_of(server, server.keys["participants"]["P001"])
    assert seen["market_id"] == "demo"
    assert (seen["role"], seen["account_id"]) == ("participant", "P001")
    assert isinstance(seen["key_id"], str)
    assert len(seen["key_id"]) == 12


def test_an_operator_key_names_its_market_and_no_account(server: DemoServer) -> None:
    seen = session_of(server, server.keys["operator_key"])
    assert (seen["market_id"], seen["role"], seen["account_id"]) == ("demo", "operator", None)


def test_an_exchange_wide_key_names_no_single_market(server: DemoServer) -> None:
    seen = session_of(server, server.keys["exchange_operator_key"])
    assert (seen["market_id"], seen["role"], seen["account_id"]) == (None, "operator", None)


def test_no_key_and_an_unknown_key_are_unauthenticated(server: DemoServer) -> None:
    with client(server, None) as anonymous:
        assert_problem(anonymous.get("/v1/session"), 401, "UNAUTHENTICATED")
    with client(server, "cx_" + "A" * 43) as unknown:
        refused = unknown.get("/v1/session")
    assert_problem(refused, 401, "UNAUTHENTICATED")
    assert refused.headers["www-authenticate"] == "Bearer"


def test_a_revoked_key_is_told_apart_from_an_unknown_one(
    server: DemoServer, operator: httpx.Client
) -> None:
    issued = operator.post("/v1/markets/demo/keys", json={"role": "observer"}).json()
    assert session_of(server, issued["api_key"])["role"] == "observer"
    revoked = operator.delete(f"/v1/markets/demo/keys/{issued['key_id']}")
    assert revoked.status_code == 200, revoked.text
    with client(server, issued["api_key"]) as gone:
        refused = gone.get("/v1/session")
        assert_problem(refused, 401, "KEY_REVOKED")
        assert refused.headers["www-authenticate"] == "Bearer"
        # Every other operation still answers it as any key it does not know.
        assert_problem(gone.get("/v1/markets/demo"), 401, "UNAUTHENTICATED")


def test_an_operator_on_loopback_is_offered_no_address(
    server: DemoServer, operator: httpx.Client
) -> None:
    response = operator.get("/v1/public-address")
    assert response.status_code == 200, response.text
    port = int(server.base_url.rsplit(":", 1)[1])
    assert response.json() == {
        "public_url": None,
        "listen_host": "127.0.0.1",  # the demo's default --host
        "loopback_only": True,
        "port": port,
        "candidates": [],
    }


def test_only_operators_read_the_public_address(server: DemoServer) -> None:
    with client(server, server.keys["participants"]["P002"]) as trainee:
        assert_problem(trainee.get("/v1/public-address"), 403, "FORBIDDEN")
    with client(server, server.keys["exchange_operator_key"]) as exchange_operator:
        assert exchange_operator.get("/v1/public-address").status_code == 200


def test_the_public_url_setting_is_served_as_a_base_address(tmp_path: Path) -> None:
    given = start_demo(tmp_path / "demo.db", {"CARBONX_PUBLIC_URL": PUBLIC_URL + "/ui/"})
    try:
        with client(given, given.keys["operator_key"]) as op:
            served = op.get("/v1/public-address").json()
    finally:
        given.stop()
    assert served["public_url"] == PUBLIC_URL


def test_a_loopback_public_url_is_refused_before_the_server_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["demo", "--public-url", "http://127.0.0.1:8000/ui/"])
    assert stopped.value.code == 2
    assert "loopback" in capsys.readouterr().err
