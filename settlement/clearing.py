"""Day-end clearing (日终清算): the day's record per instrument and account, the close, and
each account's daily statement (日结单)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from matching.events import TradeExecuted
from registry_sim.model import AccountId, AccountKind
from registry_sim.registry import Registry
from settlement.cash import CashLedger, CashState
from settlement.outcome import Close, Statement

# The accounts that trade, hold cash and get daily statements (docs/settlement.md, "Cash").
TRADING_KINDS = frozenset({AccountKind.COVERED_ENTITY, AccountKind.PARTICIPANT})

# (symbol -> (open, high, low, volume, turnover), account -> symbol -> [bought_t, bought_fen,
# sold_t, sold_fen], account -> fees): a day book as plain values, for snapshots.
DayBookState = tuple[
    dict[str, tuple[int, int, int, int, int]], dict[str, dict[str, list[int]]], dict[str, int]
]


class SymbolDay:
    """An instrument's listed trades today."""

    __slots__ = ("high_fen", "low_fen", "open_fen", "turnover_fen", "volume_t")

    def __init__(self, price_fen: int) -> None:
        self.open_fen = self.high_fen = self.low_fen = price_fen
        self.volume_t = 0
        self.turnover_fen = 0


class DayBook:
    """What traded today, per instrument and per account (for the close and statements)."""

    def __init__(self) -> None:
        self.symbols: dict[str, SymbolDay] = {}
        # account -> symbol -> [bought_t, bought_fen, sold_t, sold_fen]
        self.accounts: dict[str, dict[str, list[int]]] = {}
        self.fees_fen: dict[str, int] = {}

    def record_trade(
        self, trade: TradeExecuted, buyer: str, seller: str, buy_fee_fen: int, sell_fee_fen: int
    ) -> None:
        price, qty = trade.price_fen, trade.qty_t
        day = self.symbols.get(trade.symbol)
        if day is None:
            day = self.symbols[trade.symbol] = SymbolDay(price)
        day.high_fen = max(day.high_fen, price)
        day.low_fen = min(day.low_fen, price)
        day.volume_t += qty
        day.turnover_fen += price * qty
        self.record_account_trade(
            trade.symbol, price, qty, buyer, seller, buy_fee_fen, sell_fee_fen
        )

    def record_account_trade(
        self,
        symbol: str,
        price: int,
        qty: int,
        buyer: str,
        seller: str,
        buy_fee_fen: int,
        sell_fee_fen: int,
    ) -> None:
        """The two accounts' side of a trade (listed or block): for their statements."""
        bought = self.accounts.setdefault(buyer, {}).setdefault(symbol, [0, 0, 0, 0])
        bought[0] += qty
        bought[1] += price * qty
        sold = self.accounts.setdefault(seller, {}).setdefault(symbol, [0, 0, 0, 0])
        sold[2] += qty
        sold[3] += price * qty
        if buy_fee_fen:
            self.fees_fen[buyer] = self.fees_fen.get(buyer, 0) + buy_fee_fen
        if sell_fee_fen:
            self.fees_fen[seller] = self.fees_fen.get(seller, 0) + sell_fee_fen

    def export_state(self) -> DayBookState:
        """Plain values for a snapshot (``from_state`` reads them back)."""
        symbols = {
            s: (d.open_fen, d.high_fen, d.low_fen, d.volume_t, d.turnover_fen)
            for s, d in self.symbols.items()
        }
        accounts = {a: {s: list(v) for s, v in d.items()} for a, d in self.accounts.items()}
        return symbols, accounts, dict(self.fees_fen)

    @staticmethod
    def from_state(state: DayBookState) -> DayBook:
        symbols, accounts, fees = state
        book = DayBook()
        for symbol, (open_fen, high_fen, low_fen, volume_t, turnover_fen) in symbols.items():
            day = SymbolDay(open_fen)
            day.high_fen, day.low_fen = high_fen, low_fen
            day.volume_t, day.turnover_fen = volume_t, turnover_fen
            book.symbols[symbol] = day
        book.accounts = accounts
        book.fees_fen = fees
        return book

    def symbol_day(self, symbol: str) -> SymbolDay | None:
        return self.symbols.get(symbol)

    def digest(self) -> object:
        return (
            sorted(
                (s, d.open_fen, d.high_fen, d.low_fen, d.volume_t, d.turnover_fen)
                for s, d in self.symbols.items()
            ),
            sorted(
                (a, sorted((s, tuple(v)) for s, v in d.items())) for a, d in self.accounts.items()
            ),
            sorted(self.fees_fen.items()),
        )


def close_of_day(
    symbol: str,
    day: SymbolDay | None,
    previous_close_fen: int,
    tick_fen: int,
    method: str,
    min_volume_t: int,
    open_method: str = "first_trade",
) -> Close:
    """The close (docs/rules.md, national: close = VWAP of the day's listed trades, else the
    previous close; Guangdong: a day of ``min_volume_t`` or less closes at the open, which
    there is the previous close: ``open_method`` ``previous_close``). The VWAP is rounded to
    the nearest tick, halves up, so it stays within the day's range."""
    if day is None or not day.volume_t:
        return Close(symbol, previous_close_fen, None, None, None, 0, 0, "previous")
    open_fen = previous_close_fen if open_method == "previous_close" else day.open_fen
    if method == "vwap_or_open" and day.volume_t <= min_volume_t:
        close, how = open_fen, "open"
    else:
        ticks = (2 * day.turnover_fen + day.volume_t * tick_fen) // (2 * day.volume_t * tick_fen)
        close, how = ticks * tick_fen, "vwap"
    return Close(
        symbol, close, open_fen, day.high_fen, day.low_fen, day.volume_t, day.turnover_fen, how
    )


def account_statements(
    trading_day: dt.date,
    registry: Registry,
    cash: CashLedger,
    book: DayBook,
    cash_locked_fen: Mapping[AccountId, int],
    kinds: Collection[AccountKind],
) -> list[Statement]:
    """One statement per trading account: cash, holdings by unit and state, today's trades
    and fees. Holdings are grouped in one pass over the ledger, not per account."""
    holdings: dict[str, dict[str, dict[str, int]]] = {}
    for (owner, unit, state), qty in registry.ledger.balances().items():
        holdings.setdefault(owner, {}).setdefault(unit, {})[state.value] = qty
    statements = []
    for account in sorted(registry.accounts(), key=lambda a: a.account_id):
        if account.kind not in kinds:
            continue
        a = account.account_id
        available = cash.balance(a, CashState.AVAILABLE)
        trades = {
            symbol: {"bought_t": v[0], "bought_fen": v[1], "sold_t": v[2], "sold_fen": v[3]}
            for symbol, v in sorted(book.accounts.get(a, {}).items())
        }
        body = {
            "cash_available_fen": available,
            "cash_held_fen": cash.balance(a, CashState.HELD),
            "cash_withdrawable_fen": max(0, available - cash_locked_fen.get(a, 0)),
            "fees_fen": book.fees_fen.get(a, 0),
            "trades": trades,
            "holdings": {
                u: dict(sorted(s.items())) for u, s in sorted(holdings.get(a, {}).items())
            },
        }
        statements.append(Statement(trading_day, a, body))
    return statements
