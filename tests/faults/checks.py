"""The invariants, checked after every fault, through the public API and the journal:

* ``ready``: ``/readyz`` 200, every market running, everything applied durable;
* ``no_anomaly``: no client met a 5xx but the documented 503s, nor a 422 to a valid request;
* ``cancel_on_disconnect``: no live order of an account whose guarded socket died;
* ``acked_in_journal``: every acknowledged order, cancel and amendment is the journal's command
  at the seq its reply named, and every acknowledged order and trade is in the projections;
* ``acked_through_api``: a seeded sample of acknowledged orders read back by ``getOrder``
  (of any trading day), a cancelled one as cancelled;
* ``replay``: the journal replayed (``exchange.replay``) gives the books, open orders and
  balances the server shows, and the recovery's rebuild (from the last day-end snapshot) the
  same state hash;
* ``conservation``: per asset, the stored balances sum to zero with only the outside world's
  cash and the issuer's units negative; the traders' cash and the fee account's together are
  what was deposited, and the fee account holds exactly the fees of the trades.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select

from exchange import codec
from exchange.db import tables as t
from exchange.db.engine import create_engine
from exchange.db.journal_store import acknowledged_check, projection_summary, read_journal
from exchange.replay import Replayed, replay_to
from exchange.runtime import rebuild
from loadtests.load_setup import ALLOWANCES_T, CASH_FEN
from registry_sim.model import AccountId, HoldingState
from settlement.cash import CNY, CashState
from settlement.market import Market
from tests.faults.ledger import Ledger
from tests.faults.plan import InvariantError, Where
from tests.faults.system import System

FEES = "SYS:FEES"
NEGATIVE_ALLOWED = frozenset({"SYS:CASH", "SYS:ISSUANCE"})  # the outside world, the issuer
BOOK_DEPTH = 200  # getBook's deepest: the whole book of a run
QUIET_WAIT_S = 30.0
COD_WAIT_S = 10.0
POLL_S = 0.05
SAMPLE = 12  # acknowledged orders read back through the API at each check
VIEW_ATTEMPTS = 5  # reads of the server's view that a late command may spoil


def replay_view(market: Market, accounts: list[str]) -> dict[str, Any]:
    """What the server should show of the market, from a ``Market`` (the journal's replay):
    each book's state and levels, each account's open orders, and its non-zero balances as
    ``asset/state`` (the fee account's too); JSON-shaped, as the API's answers are."""
    engine = market.engine
    books = {}
    for symbol in sorted(market.instruments):
        depth = engine.depth(symbol, BOOK_DEPTH)
        books[symbol] = {
            "state": engine.book_info(symbol).state,
            "bids": [level._asdict() for level in depth.bids],
            "asks": [level._asdict() for level in depth.asks],
        }
    balances: dict[str, dict[str, int]] = {account: {} for account in [*accounts, FEES]}
    for (account, asset, state), amount in market.balances().items():
        if account in balances:
            balances[account][f"{asset}/{state}"] = amount
    view = {
        "books": books,
        "open_orders": {
            a: [o._asdict() for o in engine.open_orders(AccountId(a))] for a in accounts
        },
        "balances": balances,
    }
    shaped: dict[str, Any] = json.loads(json.dumps(view))
    return shaped


def api_balances(reply: dict[str, Any]) -> dict[str, int]:
    """``getBalances``' answer as non-zero ``asset/state`` amounts."""
    found = {f"{CNY}/{state}": reply["cash"][f"{state}_fen"] for state in CashState}
    for holding in reply["holdings"]:
        for state in HoldingState:
            found[f"{holding['unit']}/{state}"] = holding[f"{state}_t"]
    return {name: amount for name, amount in found.items() if amount}


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where two JSON-shaped values differ (the first few), as paths."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found: list[str] = []
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual or key not in expected:
                found.append(f"{path}/{key}: {expected.get(key)!r} != {actual.get(key)!r}")
            else:
                found += differences(expected[key], actual[key], f"{path}/{key}")
        return found[:10]
    if expected != actual:
        return [f"{path}: replay {expected!r} != server {actual!r}"]
    return []


def conservation_problems(balances: dict[tuple[str, str, str], int]) -> list[str]:
    """Double entry: per asset the balances over all accounts and states sum to zero, and
    only the outside world's cash and the issuer's units are negative."""
    totals: dict[str, int] = defaultdict(int)
    problems = []
    for (account, asset, state), amount in sorted(balances.items()):
        totals[asset] += amount
        if amount < 0 and account not in NEGATIVE_ALLOWED:
            problems.append(f"{account} {asset} {state} is {amount}")
    problems += [f"{asset} sums to {total}" for asset, total in totals.items() if total]
    if not totals:
        problems.append("no balances stored at all")
    return problems


class Checker:
    """Runs the invariants against one system; counts each check made."""

    def __init__(self, system: System, ledger: Ledger, rng: random.Random) -> None:
        self.system = system
        self.ledger = ledger
        self.rng = rng
        self.replayed: Replayed | None = None  # the journal's replay so far, continued
        self.counts: Counter[str] = Counter()

    @property
    def accounts(self) -> list[str]:
        """Every account with a key: the traders' and the flooding client's."""
        return sorted(self.system.market.keys)

    async def check(self, where: Where) -> None:
        self.no_anomaly(where)
        await self.cancel_on_disconnect(where)
        await self.ready(where)
        await self.acked_in_journal(where)
        await self.acked_through_api(where)
        api = await self.replay(where)
        await self.conservation(where, api)

    # ------------------------------------------------------------------ the checks

    def no_anomaly(self, where: Where) -> None:
        anomalies = self.ledger.anomalies
        if anomalies:
            raise InvariantError(where, f"{len(anomalies)} anomalies: {anomalies[:5]}")
        self.counts["no_anomaly"] += 1

    async def cancel_on_disconnect(self, where: Where) -> None:
        """The accounts whose guarded socket died hold no open order (the server cancels
        them as it sees the close, or at its restart after a crash)."""
        for account in sorted(self.ledger.dead_guarded):
            orders: list[Any] = []
            for _ in range(int(COD_WAIT_S / POLL_S)):
                orders = (await self.get(f"/orders?account_id={account}", where))["orders"]
                if not orders:
                    break
                await asyncio.sleep(POLL_S)
            if orders:
                ids = [o["order_id"] for o in orders]
                raise InvariantError(
                    where, f"{account}'s guarded socket died, its orders live on: {ids}"
                )
            self.counts["cancel_on_disconnect"] += 1
        self.ledger.dead_guarded.clear()

    async def ready(self, where: Where) -> int:
        """Wait for ``/readyz`` 200 with every market running and all it applied durable, the
        same twice in a row (nothing in flight); the last seq applied."""
        last = None
        for _ in range(int(QUIET_WAIT_S / POLL_S)):
            status, body = await self.system.request("GET", "/readyz")
            markets = (body or {}).get("markets", [])
            seqs = [(m["last_seq"], m["durable_seq"], m["state"]) for m in markets]
            if status == 200 and all(s == d and state == "running" for s, d, state in seqs):
                if seqs == last:
                    self.counts["ready"] += 1
                    mine = [m for m in markets if m["market_id"] == self.system.market.market_id]
                    seq: int = mine[0]["last_seq"]
                    return seq
                last = seqs
            else:
                last = None
            await asyncio.sleep(POLL_S)
        raise InvariantError(where, f"/readyz never ready and quiet: {status} {body}")

    async def acked_in_journal(self, where: Where) -> None:
        """Every acknowledged command is the journal's at its seq; every acknowledged order
        and trade is in the projections."""
        system, ledger = self.system, self.ledger
        rows = {row.seq: row for row in await read_journal(system.url, system.market.market_id)}
        for seq, acked in sorted(ledger.commands.items()):
            row = rows.get(seq)
            if row is None:
                raise InvariantError(where, f"acknowledged {acked} lost: no journal entry {seq}")
            command = codec.decode(row.kind, row.ts_ns, row.account_id, row.body)
            if not acked.matches(command):
                raise InvariantError(where, f"acknowledged {acked}, journal holds {command}")
        orders, trades = await acknowledged_check(
            system.url, system.market.market_id, ledger.orders, ledger.trades
        )
        if orders or trades:
            raise InvariantError(
                where, f"lost: orders {sorted(orders)[:10]}, trades {sorted(trades)[:10]}"
            )
        self.counts["acked_in_journal"] += 1

    async def acked_through_api(self, where: Where) -> None:
        """A sample of acknowledged orders (and of cancelled ones) read back by id."""
        ledger = self.ledger
        orders = sorted(ledger.orders)
        cancels = sorted(ledger.cancels)
        sample = self.rng.sample(orders, min(SAMPLE, len(orders)))
        sample += self.rng.sample(cancels, min(SAMPLE // 2, len(cancels)))
        for order_id in sample:
            acked = ledger.orders[order_id]
            order = await self.get(f"/orders/{order_id}", where)
            mine = (order["account_id"], order["symbol"], order["side"])
            if mine != (acked.account, acked.body["symbol"], acked.body["side"]):
                raise InvariantError(where, f"getOrder {order_id} answered {order} for {acked}")
            if order_id in ledger.cancels and order["status"] != "cancelled":
                raise InvariantError(where, f"cancel of {order_id} acknowledged, yet: {order}")
        self.counts["acked_through_api"] += 1

    async def replay(self, where: Where) -> dict[str, Any]:
        """The journal's replay against what the server shows, at one seq; the recovery's
        rebuild against the replay. The server's view (for the conservation check)."""
        system, market_id = self.system, self.system.market.market_id
        engine = create_engine(system.url)
        try:
            for _ in range(VIEW_ATTEMPTS):
                seq = await self.ready(where)
                self.replayed = await replay_to(engine, market_id, seq, self.replayed)
                if self.replayed.seq != seq:
                    raise InvariantError(
                        where,
                        f"the server applied seq {seq}, the journal ends at {self.replayed.seq}",
                    )
                api = await self.api_view(list(self.replayed.market.instruments), where)
                if await self.ready(where) == seq:
                    break
            else:
                raise InvariantError(where, "the market never stood still for its view")
        finally:
            await engine.dispose()
        market = self.replayed.market
        found = differences(replay_view(market, self.accounts), api)
        if found:
            raise InvariantError(where, f"the server differs from the journal's replay: {found}")
        rebuilt, rebuilt_seq, _ = await rebuild(system.url, market_id)
        if (rebuilt_seq, rebuilt.state_hash()) != (seq, market.state_hash()):
            raise InvariantError(where, "the recovery's rebuild differs from the replay")
        self.counts["replay"] += 1
        return api

    async def api_view(self, symbols: list[str], where: Where) -> dict[str, Any]:
        books = {}
        for symbol in sorted(symbols):
            book = await self.get(f"/book/{symbol}?depth={BOOK_DEPTH}", where)
            books[symbol] = {"state": book["state"], "bids": book["bids"], "asks": book["asks"]}
        orders, balances = {}, {}
        for account in self.accounts:
            orders[account] = (await self.get(f"/orders?account_id={account}", where))["orders"]
        for account in [*self.accounts, FEES]:
            balances[account] = api_balances(await self.get(f"/accounts/{account}/balances", where))
        return {"books": books, "open_orders": orders, "balances": balances}

    async def conservation(self, where: Where, api: dict[str, Any]) -> None:
        system, market_id = self.system, self.system.market.market_id
        summary = await projection_summary(system.url, market_id)
        problems = conservation_problems(summary.balances)
        assert self.replayed is not None
        if summary.balances != self.replayed.market.balances():
            problems.append("the stored balances differ from the replay's")
        accounts = len(self.accounts)
        traders = [api["balances"][account] for account in self.accounts]
        cash = sum(amount for b in traders for name, amount in b.items() if name.startswith(CNY))
        fees_fen = api["balances"][FEES].get(f"{CNY}/{CashState.AVAILABLE}", 0)
        if cash + fees_fen != CASH_FEN * accounts:
            problems.append(f"cash {cash} + fees {fees_fen} != deposited {CASH_FEN * accounts}")
        units: Counter[str] = Counter()
        for balances in traders:
            for name, amount in balances.items():
                if not name.startswith(f"{CNY}/"):
                    units[name.split("/")[0]] += amount
        if set(units.values()) != {ALLOWANCES_T * accounts}:
            problems.append(f"units {dict(units)} != issued {ALLOWANCES_T * accounts} each")
        traded_fees = await trade_fees_fen(system.url, market_id)
        if fees_fen != traded_fees:
            problems.append(f"the fee account holds {fees_fen}, the trades' fees are {traded_fees}")
        if problems:
            raise InvariantError(where, f"not conserved: {problems}")
        self.counts["conservation"] += 1

    async def get(self, path: str, where: Where) -> Any:
        system = self.system
        status, reply = await system.request("GET", system.market_path + path, system.operator_key)
        if status != 200:
            raise InvariantError(where, f"GET {path}: {status} {reply}")
        return reply


async def trade_fees_fen(url: str, market_id: str) -> int:
    """The fees of every trade of the market, both sides."""
    tr = t.market_trades.c
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            total = await conn.scalar(
                select(func.coalesce(func.sum(tr.buy_fee_fen + tr.sell_fee_fen), 0)).where(
                    tr.market_id == market_id
                )
            )
    finally:
        await engine.dispose()
    return int(total or 0)
