"""What the registry route modules share: op ids from request ids, applying an operation,
and the checks and reads both participants' and operators' operations need.

Idempotent retries: a mutating request may carry a ``request_id``; the registry operation's id is
derived from it (``api:<account>:<request_id>``), and the registry answers a repeated operation
with its first result without acting again. So a retry answers 200 with the body of the first
answer (201); the same ``request_id`` for a different operation is ``OP_ID_CONFLICT``. The
registry's operations are part of the market's journaled state, so this survives a restart.
(Deposits and withdrawals have no operation id: ``exchange.api.cash`` deduplicates them.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any
from uuid import uuid4

from fastapi import Response

from exchange.api.auth import require
from exchange.api.errors import ApiError, accepted, refusal
from exchange.keys import Principal, Role
from exchange.runtime import Ack, MarketRuntime
from registry_sim.codes import RegistryCode
from registry_sim.model import AccountId, AccountKind
from registry_sim.ops import Op
from registry_sim.registry import Registry
from settlement.commands import RegistryCommand
from settlement.market import Market
from settlement.reference import penalty_price

M = "/markets/{market_id}"
ACCOUNT = M + "/accounts/{account_id}"
OP_ID_MAX = 120  # op ids go into 128-character columns, and postings' refs prefix them "op:"
REPEATED: dict[int | str, dict[str, Any]] = {
    200: {"description": "A repeated request_id: the first answer, nothing done again"}
}


def request_op_id(scope: str, request_id: str | None, fallback: str) -> str:
    """The registry op id of a request: derived from its ``request_id`` (so a retry repeats the
    operation), or ``fallback`` with a fresh uuid (no deduplication). Too long for the
    journal's columns, the derived id is hashed."""
    if request_id is None:
        return f"{fallback}:{uuid4().hex}"
    op_id = f"api:{scope}:{request_id}"
    if len(op_id) > OP_ID_MAX:
        op_id = "api#" + hashlib.sha256(op_id.encode()).hexdigest()
    return op_id


async def apply_op(
    runtime: MarketRuntime, op: Op, request_id: str | None, response: Response | None = None
) -> Ack:
    """Submit one registry operation; a repeated op id answers 200 instead of 201."""
    ack = await runtime.submit(RegistryCommand(0, op))
    if ack.outcome.code == RegistryCode.OP_ID_CONFLICT and request_id is not None:
        raise refusal(ack.outcome.code, {**ack.outcome.details, "request_id": request_id})
    accepted(ack)
    if response is not None and ack.outcome.repeated:
        response.status_code = 200
    return ack


def own_account(who: Principal, account_id: str) -> None:
    """Only the account's own participant key: operators and observers neither (what a
    participant does with its units is its own decision, like an order)."""
    require(who, Role.PARTICIPANT)
    if who.account_id != account_id:
        raise ApiError(403, "FORBIDDEN", "not your account", account_id=account_id)


def compliance_view(
    market: Market, account: AccountId, year: int, reference_price_fen: int | None = None
) -> dict[str, Any]:
    """The account's ``ComplianceStatus`` for ``year``: the registry's projection as of the
    market's trading day, its penalty priced on the basis ``penalty_basis`` names (the one
    getSurrenderPlan uses too); once the year is assessed, the assessment's penalty and the
    price it was fixed at (basis ``assessed``), whatever price is asked."""
    basis = penalty_basis(market, year, reference_price_fen)
    status = market.registry.compliance_status(
        account, year, basis["reference_price_fen"], on=market.trading_day
    )
    if status.assessed is not None:
        price = status.assessed.reference_price_fen
        basis = {**basis, "reference_price_fen": price, "reference_price_basis": "assessed"}
        basis["reference_price_symbol"] = None
    return {**dataclasses.asdict(status), **basis}


def penalty_basis(market: Market, year: int, given_fen: int | None) -> dict[str, Any]:
    """What a projected penalty of ``year`` is priced with: the rule set's terms and a
    reference price, the one asked for (``request``) or else the penalty reference price
    (``settlement.reference``: the window's volume-weighted price, ``window_vwap``, else the
    last close, ``last_close``); with none of them, no price (None)."""
    penalty = market.registry.rules.penalty
    if given_fen is None:
        found = penalty_price(market, year)
        price, source, symbol = found.price_fen, found.basis, found.symbol
    else:
        price, source, symbol = given_fen, "request", None
    return {
        "reference_price_fen": price,
        "reference_price_basis": source,
        "reference_price_symbol": symbol,
        "penalty_kind": penalty.kind,
        "penalty_multiplier": penalty.multiplier,
    }


def surrender_plan_view(
    market: Market,
    account: AccountId,
    year: int,
    on: dt.date,
    reference_price_fen: int | None = None,
) -> dict[str, Any]:
    """The account's ``SurrenderPlan`` for ``year`` as of ``on`` (the market's trading day):
    the registry's projection (its plan, what it leaves short and the penalty on that), priced
    as ``compliance_view`` prices it; the registry's refusal for a year that cannot be
    surrendered for (not verified, assessed, the deadline passed)."""
    registry = market.registry
    obligation = open_year(registry, account, year)
    deadline = registry.rules.compliance.deadline(year)
    if on > deadline:  # nothing can be surrendered any more
        details = {"year": year, "deadline": deadline.isoformat(), "on": on.isoformat()}
        raise refusal(RegistryCode.DEADLINE_PASSED, details)
    basis = penalty_basis(market, year, reference_price_fen)
    projected = registry.compliance_projection(account, year, on, basis["reference_price_fen"])
    types = {u.code: u for u in registry.unit_types()}
    items: list[dict[str, Any]] = [
        {
            "unit": code,
            "kind": types[code].kind,
            "vintage": types[code].vintage,
            "project_id": types[code].project_id,
            "qty_t": qty,
        }
        for code, qty in projected.plan
    ]
    cap = projected.offset_cap_t or 0
    return {
        "account_id": account,
        "year": year,
        "on": on.isoformat(),
        "deadline": deadline.isoformat(),
        "obligation_t": obligation,
        "surrendered_t": projected.surrendered_t,
        "remaining_t": projected.remaining_t,
        "offset_cap_bp": registry.rules.compliance.offset_cap_bp_in(year),
        "offset_cap_t": cap,
        "offset_cap_left_t": max(0, cap - projected.offsets_t),
        "items": items,
        "planned_allowances_t": projected.plan_allowances_t,
        "planned_offsets_t": projected.plan_offsets_t,
        "shortfall_after_plan_t": projected.shortfall_t,
        **basis,
        "projected_penalty_fen": projected.projected_penalty_fen,
    }


def open_year(registry: Registry, account: AccountId, year: int) -> int:
    """The obligation of a year not yet assessed, or the registry's refusal."""
    found = registry.account(account)
    assert found is not None
    if found.kind is not AccountKind.COVERED_ENTITY:
        details = {"account_id": account, "kind": found.kind.value}
        raise refusal(RegistryCode.NOT_A_COVERED_ENTITY, details)
    if registry.record(account, year) is not None:
        raise refusal(RegistryCode.ALREADY_ASSESSED, {"account_id": account, "year": year})
    obligation = registry.obligation_t(account, year)  # with a carried shortfall (EU)
    if obligation is None:
        raise refusal(RegistryCode.NO_VERIFIED_EMISSIONS, {"account_id": account, "year": year})
    return obligation
