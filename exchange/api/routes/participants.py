"""A market's participants: opening an account with its cash and allowances and a key
(``createParticipant``), the market's keys (``issueKey``, ``revokeKey``), an account's
balances, deposits and withdrawals (``exchange.api.cash``).

Reads come from the market's in-memory state, in the event loop the sequencer runs in: a read
sees every command applied so far, including any whose batch is still being committed (the
command's own caller is answered only once it is durable).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from exchange.api.auth import may_see_account
from exchange.api.cash import CashCommand, move_cash
from exchange.api.common import (
    PROBLEMS,
    cash_view,
    created,
    known_account,
)
from exchange.api.deps import (
    AccountPath,
    CurrentPrincipal,
    HubDep,
    MarketId,
    OperatorRuntime,
)
from exchange.api.errors import ApiError, accepted, refusal
from exchange.api.models import (
    Balances,
    CashMoved,
    CashMovement,
    KeyIssued,
    KeyRevoked,
    NewKey,
    NewParticipant,
    NewParticipantReply,
)
from exchange.db.keys import create_key, revoke_key
from exchange.keys import Role, key_id_of
from exchange.runtime import MarketRuntime
from registry_sim.model import Account, AccountId, AccountKind, HoldingState
from registry_sim.ops import IssueAllowances, OpenAccount
from settlement.commands import (
    Deposit,
    MarketCommand,
    RegistryCommand,
    Withdraw,
)
from settlement.market import TRADING_KINDS, Market

router = APIRouter(prefix="/v1/markets/{market_id}", tags=["participants"], responses=PROBLEMS)

KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]  # the first 12 hex digits of its hash


@router.post(
    "/participants",
    operation_id="createParticipant",
    status_code=201,
    response_model=NewParticipantReply,
)
async def create_participant(
    market_id: MarketId,
    body: NewParticipant,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
    hub: HubDep,
) -> dict[str, Any]:
    account_id = AccountId(body.account_id)
    exists = ApiError(409, "ACCOUNT_EXISTS", "the account is open already", account_id=account_id)
    if runtime.market.registry.account(account_id) is not None:
        raise exists
    account = Account(
        account_id,
        AccountKind(body.kind),
        body.name,
        sector=body.sector,
        province=body.province,
        gas_fired=body.gas_fired,
    )
    opened = accepted(
        await runtime.submit(RegistryCommand(0, OpenAccount(f"open:{account_id}", account)))
    )
    if opened.outcome.repeated:  # a concurrent request opened it first
        raise exists
    funding: list[MarketCommand] = []
    if body.cash_fen:
        funding.append(Deposit(0, account_id, body.cash_fen, f"initial:{account_id}"))
    for grant in body.allowances:
        op_id = f"issue:{account_id}:{grant.vintage}:{len(funding)}"
        funding.append(
            RegistryCommand(0, IssueAllowances(op_id, account_id, grant.vintage, grant.qty_t))
        )
    for ack in await runtime.submit_many(funding):
        accepted(ack)
    key = await create_key(hub.engine, market_id, Role.PARTICIPANT, account_id)
    return {
        "account_id": account_id,
        "api_key": key,
        "kind": body.kind,
        "sector": body.sector,
        "province": body.province,
        "gas_fired": body.gas_fired,
    }


@router.post("/keys", operation_id="issueKey", status_code=201, response_model=KeyIssued)
async def issue_key(
    market_id: MarketId,
    body: NewKey,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
    hub: HubDep,
) -> dict[str, Any]:
    """Mint a key for the market (operators only). A participant key names an open trading
    account; the key is shown once, its ``key_id`` names it for ``revokeKey``."""
    market = runtime.market
    if body.account_id is not None:
        account = market.registry.account(AccountId(body.account_id))
        if account is None:
            raise refusal("UNKNOWN_ACCOUNT", {"account_id": body.account_id})
        if account.kind not in TRADING_KINDS:
            details = {"account_id": body.account_id, "kind": account.kind.value}
            raise refusal("NOT_A_TRADING_ACCOUNT", details)
    key = await create_key(hub.engine, market_id, Role(body.role), body.account_id)
    return {
        "key_id": key_id_of(key),
        "api_key": key,
        "role": body.role,
        "account_id": body.account_id,
    }


@router.delete("/keys/{key_id}", operation_id="revokeKey", response_model=KeyRevoked)
async def revoke(
    request: Request,
    market_id: MarketId,
    key_id: KeyId,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,  # an unknown market is a 404
    hub: HubDep,
) -> dict[str, Any]:
    """Revoke one of the market's keys (operators only): from now on it is answered 401."""
    if not await revoke_key(hub.engine, market_id, key_id):
        raise ApiError(404, "UNKNOWN_KEY", f"no key {key_id!r} in this market", key_id=key_id)
    request.app.state.limiter.forget(key_id)
    return {"key_id": key_id, "revoked": True}


@router.get(
    "/accounts/{account_id}/balances",
    operation_id="getBalances",
    response_model=Balances,
)
async def get_balances(
    hub: HubDep, market_id: MarketId, account_id: str, who: CurrentPrincipal
) -> dict[str, Any]:
    may_see_account(who, account_id)  # before the market: 403 comes first

    def balances(market: Market) -> dict[str, Any]:
        account = known_account(market, account_id)
        holdings = [
            {
                "unit": unit,
                "name": market.registry.unit_name(unit),
                **{f"{state.value}_t": by_state.get(state, 0) for state in HoldingState},
                "sellable_t": market.sellable_t(account, unit),
            }
            for unit, by_state in sorted(market.registry.holdings(account).items())
        ]
        return {
            "account_id": account_id,
            "cash": cash_view(market, account),
            "holdings": holdings,
        }

    return await hub.runtime(market_id).read(balances)


async def _move_cash(
    request: Request,
    response: Response,
    runtime: MarketRuntime,
    account_id: str,
    body: CashMovement,
    command: CashCommand,
) -> dict[str, Any]:
    account = known_account(runtime.market, account_id)
    reply, repeated = await move_cash(request, runtime, account, body, command)
    if repeated:  # once per request id: a retry answers the first reply
        response.status_code = 200
    return reply


@router.post(
    "/accounts/{account_id}/deposits",
    operation_id="deposit",
    **created(CashMoved, "request_id"),
)
async def deposit(
    request: Request,
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: CashMovement,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Bring cash into a trading account (operators only)."""
    return await _move_cash(request, response, runtime, account_id, body, Deposit)


@router.post(
    "/accounts/{account_id}/withdrawals",
    operation_id="withdraw",
    **created(CashMoved, "request_id"),
)
async def withdraw(
    request: Request,
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: CashMovement,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Pay cash out of a trading account (operators only), up to what is withdrawable."""
    return await _move_cash(request, response, runtime, account_id, body, Withdraw)
