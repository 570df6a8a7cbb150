"""What the REST route modules share: the errors every ``/v1`` operation may answer, the
options of an operation that creates, and the lookups that turn a request into a market's
state (a known account or instrument, the open trading day, an account's cash) or refuse it
as a problem. Their dependencies and parameters are ``exchange.api.deps``'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.api.errors import PROBLEM_JSON, ApiError
from exchange.api.models import PROBLEM_SCHEMA
from registry_sim.model import AccountId
from settlement.cash import CNY, CashState
from settlement.market import Market


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}


# The errors any /v1 operation may answer (docs/api-errors.md lists every code).
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem("UNAUTHENTICATED: no API key, or an unknown one"),
    403: _problem("FORBIDDEN: the key's market, role or account does not allow this"),
    404: _problem("UNKNOWN_MARKET, UNKNOWN_ORDER, UNKNOWN_INSTRUMENT, UNKNOWN_ACCOUNT"),
    409: _problem("Refused by the market: the code and the numbers behind it"),
    422: _problem("INVALID_REQUEST: the request does not match the schema"),
    429: _problem(
        "RATE_LIMITED: the key's request rate is over its limit, or the client's address "
        "failed too many key lookups; see Retry-After"
    ),
    503: _problem(
        "MARKET_STOPPED: the market is not running; MARKET_RECONNECTING: it is reconnecting to "
        "its database (see Retry-After)"
    ),
}


def problem_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses of an operation outside ``/v1`` that answers these problems."""
    return {status: _problem(text) for status, text in descriptions.items()}


TRADES_LIMIT = 100  # trades and fills a listing answers unless asked


def created(model: type[Any], retry: str) -> dict[str, Any]:
    """The route options of an operation that creates (201) and answers a retry, one that
    repeats ``retry``, 200 with the first answer."""
    return {
        "status_code": 201,
        "response_model": model,
        "responses": {200: {"model": model, "description": f"A repeated {retry}"}},
    }


def known_account(market: Market, account_id: str) -> AccountId:
    """An account the market's registry has opened, or 404 ``UNKNOWN_ACCOUNT``."""
    account = AccountId(account_id)
    if market.registry.account(account) is None:
        raise ApiError(404, "UNKNOWN_ACCOUNT", f"no account {account_id!r}", account_id=account_id)
    return account


def listed_symbol(market: Market, symbol: str) -> str:
    """An instrument the market lists, or 404 ``UNKNOWN_INSTRUMENT``."""
    if symbol not in market.instruments:
        raise ApiError(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol!r}", symbol=symbol)
    return symbol


def open_trading_day(market: Market) -> dt.date:
    """The market's trading day, or 409 ``NO_TRADING_DAY`` (nothing can be dated)."""
    on = market.trading_day
    if on is None:
        raise ApiError(409, "NO_TRADING_DAY", "no trading day is open: nothing can be dated")
    return on


def cash_view(market: Market, account: AccountId) -> dict[str, int]:
    """The account's cash (``Cash``): available, held for orders, withdrawable."""
    return {
        "available_fen": market.balance(account, CNY, CashState.AVAILABLE),
        "held_fen": market.balance(account, CNY, CashState.HELD),
        "withdrawable_fen": market.withdrawable_fen(account),
    }
