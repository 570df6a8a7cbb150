"""A market of a test's own on a running server, set up as the API and browser tests of
auctions and block trades want one: the exchange's operator creates it (a rule set, its
instruments first referenced at a price, an open day, overrides of the rule set), registers its
participants (cash, allowances of a vintage) and starts a stepped clock, which stands at the
day's open until a test advances it. ``market_ns`` is the market time of a time of day in a
rule set's zone (Beijing time by default; the EU's is Berlin's)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
CNY = 100  # fen


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON of a response of ``status``; else the test fails with the response's text."""
    assert response.status_code == status, response.text
    return response.json()


def market_ns(day: dt.date, local: str, zone: ZoneInfo = SHANGHAI) -> int:
    """Market time (ns) of a time of day ("13:05") on ``day`` in ``zone``."""
    moment = dt.datetime.combine(day, dt.time.fromisoformat(local), tzinfo=zone)
    return int(moment.timestamp()) * 1_000_000_000


def holder(cash_fen: int = 0, units_t: int = 0, vintage: int = 2025) -> dict[str, Any]:
    """A participant's opening balances: cash and allowances of one vintage."""
    given: dict[str, Any] = {}
    if cash_fen:
        given["cash_fen"] = cash_fen
    if units_t:
        given["allowances"] = [{"vintage": vintage, "qty_t": units_t}]
    return given


def open_market(
    exchange: httpx.Client,
    market_id: str,
    rule_set: str,
    reference_prices: dict[str, int],
    open_day: dt.date,
    people: dict[str, dict[str, Any]],
    overrides: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Create ``market_id`` (its instruments first referenced at ``reference_prices``, fen),
    register ``people`` (account id -> opening balances, ``holder``) under their own names and
    start a stepped clock; each participant's API key, by account id."""
    body: dict[str, Any] = {
        "market_id": market_id,
        "rule_set": rule_set,
        "instruments": [
            {"symbol": symbol, "reference_price_fen": fen}
            for symbol, fen in reference_prices.items()
        ],
        "open_day": open_day.isoformat(),
    }
    if overrides:
        body["overrides"] = overrides
    ok(exchange.post("/v1/markets", json=body), 201)
    m = f"/v1/markets/{market_id}"
    keys = {
        who: ok(
            exchange.post(f"{m}/participants", json={"account_id": who, "name": who, **more}),
            201,
        )["api_key"]
        for who, more in people.items()
    }
    ok(exchange.post(f"{m}/clock/start", json={"mode": "stepped"}))
    return keys
