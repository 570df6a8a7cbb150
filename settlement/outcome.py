"""What a market command produced: the engine's events, settlement's postings and fills, the
day's clearing results, or the refusal. The runtime journals these as projections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from matching.events import Event, TradeExecuted

Details = Mapping[str, Any]


class MarketPosting(NamedTuple):
    """One movement of cash (``asset`` = ``CNY``, amount in fen) or units (``asset`` = unit
    code, amount in tonnes) between (account, state) pairs."""

    posting_id: int
    ref: str
    asset: str
    amount: int
    from_account: str
    from_state: str
    to_account: str
    to_state: str


class Fill(NamedTuple):
    """A trade and the fees its two sides paid (delivery versus payment, 券款对付)."""

    trade: TradeExecuted
    buy_fee_fen: int
    sell_fee_fen: int


class Close(NamedTuple):
    """An instrument's day: the close (收盘价) and what it came from."""

    symbol: str
    close_fen: int
    open_fen: int | None
    high_fen: int | None
    low_fen: int | None
    volume_t: int
    turnover_fen: int
    method: str  # "vwap", "open" (small volume), "previous" (no listed trade)


class Statement(NamedTuple):
    """An account's daily statement (日结单), as plain values."""

    trading_day: dt.date
    account_id: str
    body: Mapping[str, Any]


class LargeHolderReport(NamedTuple):
    """A position above the rule set's reporting threshold (大户报告)."""

    account_id: str
    position_t: int
    threshold_t: int


@dataclass(slots=True)
class Outcome:
    """The result of one command. ``code`` is set when it was refused (then nothing changed);
    ``repeated`` when it repeated a client order id and the original result stands."""

    kind: str
    code: str | None = None
    details: Details = field(default_factory=dict)
    order_id: int | None = None
    repeated: bool = False
    events: list[Event] = field(default_factory=list)
    postings: list[MarketPosting] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    closes: list[Close] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    reports: list[LargeHolderReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code is None
