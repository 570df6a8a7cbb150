"""A ``Market``'s state read whole: its digest (``state_hash``), its day-end snapshot and
restore (docs/adr/0003), and its balances as the journal's projection holds them.

Module-level functions taking the market (``Market`` is a native class when compiled,
docs/adr/0002); ``Market``'s methods of the same names call them.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from registry_sim.model import AccountId, HoldingState, UnitCode
from settlement.cash import CNY, CashState
from settlement.clearing import DayBook

if TYPE_CHECKING:
    from settlement.market import Market

# What a snapshot holds besides the engine, the cash ledger and the day book.
SNAPSHOT_FIELDS = (
    "spec",
    "rules",
    "registry",
    "trading_day",
    "day_index",
    "session",
    "day_closed",
    "day_cleared",
    "_open_buy_t",
    "_unit_locks",
    "_unit_locked_t",
    "_cash_locks",
    "_cash_locked_fen",
    "_client_orders",
    "_limits",
    "_positions",
    "_reported",
    "_traders",
    "next_order_id",
    "last_trade_id",
    "posting_seq",
    "_reference_window",
    "block",
    "auctions",
)
# Fields added after snapshots were first written: a snapshot without one restores, and the
# field keeps what ``Market.__init__`` gives it.
ADDED_FIELDS = frozenset({"_reference_window", "block", "auctions"})


def state_hash(market: Market) -> str:
    """A digest of everything that decides what the market does next."""
    digest = hashlib.sha256()
    for label, value in _hashed_parts(market):
        digest.update(f"{label}={value!r}\n".encode())
    return digest.hexdigest()


def _hashed_parts(market: Market) -> list[tuple[str, object]]:
    bookings = sorted(
        (oid, b.account_id, b.unit, b.is_buy, b.limit_fen, b.leaves_t, b.held)
        for oid, b in market._bookings.items()
    )
    return [
        ("engine", market.engine.state_hash()),
        ("registry", market.registry.state_hash()),
        ("cash", sorted(market.cash.balances().items())),
        ("bookings", bookings),
        ("open_buy", sorted((a, t) for a, t in market._open_buy_t.items() if t)),
        ("unit_locks", sorted(market._unit_locks.items())),
        ("cash_locks", sorted(market._cash_locks.items())),
        ("client_orders", sorted((k, v[1]) for k, v in market._client_orders.items())),
        ("day", (market.trading_day, market.day_index, market.session, market.day_closed)),
        ("cleared", market.day_cleared),
        ("counters", (market.next_order_id, market.last_trade_id, market.posting_seq)),
        ("day_book", market.day_book.digest()),
        ("reported", sorted(market._reported)),
        ("reference_window", market._reference_window),
        ("block", market.block.digest()),
        ("auctions", market.auctions.digest()),
    ]


def snapshot(market: Market) -> bytes:
    """The whole market as bytes, at day end only (no order rests, the day is cleared).
    Named fields rather than ``__dict__``: the market may run compiled (docs/adr/0002)."""
    if not market.day_cleared or market._bookings:
        raise ValueError("a market is snapshotted after day-end clearing only")
    state = {name: getattr(market, name) for name in SNAPSHOT_FIELDS}
    state["engine"] = market.engine.export_state()
    state["cash"] = market.cash.balances()
    state["day_book"] = market.day_book.export_state()
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def restore(cls: type[Market], data: bytes) -> Market:
    """The market ``snapshot`` gave ``data`` for (written by this process's own code:
    snapshots are never read from an untrusted source)."""
    state = pickle.loads(data)
    market = cls(state["spec"], state["rules"])
    market.engine.restore_state(state.pop("engine"))
    market.cash.restore(state.pop("cash"))
    market.day_book = DayBook.from_state(state.pop("day_book"))
    for name in SNAPSHOT_FIELDS:
        if name in ("spec", "rules") or (name in ADDED_FIELDS and name not in state):
            continue
        setattr(market, name, state[name])
    return market


def balances(market: Market) -> dict[tuple[str, str, str], int]:
    """Every non-zero balance as (account, asset, state) -> amount: cash under ``CNY``,
    units under their unit code. What the journal's balance projection must equal."""
    out: dict[tuple[str, str, str], int] = {}
    for (account, state), fen in market.cash.balances().items():
        out[(account, CNY, state.value)] = fen
    for (account, unit, hstate), qty in market.registry.ledger.balances().items():
        out[(account, unit, hstate.value)] = qty
    return out


def balances_of(
    market: Market, keys: Iterable[tuple[str, str, Any]]
) -> dict[tuple[str, str, str], int]:
    """The balances of (account, asset, state) keys whose state is a ``CashState`` for
    ``CNY`` and a ``HoldingState`` for units, as postings carry them (zero included)."""
    cash: dict[Any, int] = market.cash._balances
    units: dict[Any, int] = market.registry.ledger._balances
    out: dict[tuple[str, str, str], int] = {}
    for key in keys:
        account, asset, state = key
        if asset == CNY:
            out[key] = cash.get((account, state), 0)
        else:
            out[key] = units.get(key, 0)
    return out


def balance(market: Market, account: str, asset: str, state: str) -> int:
    if asset == CNY:
        return market.cash.balance(AccountId(account), CashState(state))
    return market.registry.ledger.balance(AccountId(account), UnitCode(asset), HoldingState(state))
