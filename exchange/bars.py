"""OHLCV bars (K线) from trades: which bar a trade belongs to, and the bars of a trade stream.

Pure and synchronous, so that the REST gateway (``getBars``), the WebSocket feed and the
simulator's daily output all bucket trades the same way. Times are market-clock ``ts_ns``
(nanoseconds since the Unix epoch, UTC, see ``exchange.clock``).

Bars are aligned to the market's local wall clock (the rule set's ``calendar.timezone``): a
``1h`` bar starts on a local hour, a ``1d`` bar at local midnight. A local day is not always
24 hours (daylight saving time), so ``1d`` bars are cut at the actual local midnights.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

NS_PER_S = 1_000_000_000
NS_PER_MIN = 60 * NS_PER_S

Interval = Literal["1m", "5m", "15m", "1h", "1d"]
INTERVALS: tuple[Interval, ...] = ("1m", "5m", "15m", "1h", "1d")
# The fixed-length intervals; "1d" is a local calendar day.
INTERVAL_NS: dict[str, int] = {
    "1m": NS_PER_MIN,
    "5m": 5 * NS_PER_MIN,
    "15m": 15 * NS_PER_MIN,
    "1h": 60 * NS_PER_MIN,
}


@dataclass(frozen=True, slots=True)
class Tick:
    """One trade as bars see it."""

    ts_ns: int
    price_fen: int
    qty_t: int


@dataclass(frozen=True, slots=True)
class Bar:
    """The trades in ``[start_ns, end_ns)``: first, highest, lowest and last price, tonnes,
    turnover (price × quantity, fen) and how many trades."""

    start_ns: int
    end_ns: int
    open_fen: int
    high_fen: int
    low_fen: int
    close_fen: int
    volume_t: int
    turnover_fen: int
    trade_count: int

    def add(self, price_fen: int, qty_t: int) -> Bar:
        """This bar with one more (later) trade."""
        return Bar(
            self.start_ns,
            self.end_ns,
            self.open_fen,
            max(self.high_fen, price_fen),
            min(self.low_fen, price_fen),
            price_fen,
            self.volume_t + qty_t,
            self.turnover_fen + price_fen * qty_t,
            self.trade_count + 1,
        )


def _local(ts_ns: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts_ns // NS_PER_S, zone)


def _offset_ns(ts_ns: int, zone: ZoneInfo) -> int:
    offset = _local(ts_ns, zone).utcoffset()
    assert offset is not None  # an aware datetime
    return (offset.days * 86_400 + offset.seconds) * NS_PER_S


def _midnight_ns(day: dt.date, zone: ZoneInfo) -> int:
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return int(midnight.timestamp()) * NS_PER_S


def bar_day(bar: Bar, zone: ZoneInfo) -> dt.date:
    """The local date a bar starts on: a ``1d`` bar's trading day."""
    return _local(bar.start_ns, zone).date()


def bucket(ts_ns: int, interval: str, zone: ZoneInfo) -> tuple[int, int]:
    """The ``[start_ns, end_ns)`` of the ``interval`` bar holding market time ``ts_ns``."""
    if interval == "1d":
        day = _local(ts_ns, zone).date()
        return _midnight_ns(day, zone), _midnight_ns(day + dt.timedelta(days=1), zone)
    size = INTERVAL_NS.get(interval)
    if size is None:
        raise ValueError(f"unknown bar interval {interval!r}; one of {list(INTERVALS)}")
    offset = _offset_ns(ts_ns, zone)
    start = (ts_ns + offset) // size * size - offset
    return start, start + size


def bars(ticks: Iterable[Tick], interval: str, zone: ZoneInfo) -> list[Bar]:
    """The bars of ``ticks`` given in time order (as trades happen), oldest first; an interval
    without trades has no bar. The time zone is consulted once per bar, not per trade."""
    out: list[Bar] = []
    current: Bar | None = None
    for tick in ticks:
        if current is not None and current.start_ns <= tick.ts_ns < current.end_ns:
            current = current.add(tick.price_fen, tick.qty_t)
            continue
        if current is not None:
            assert tick.ts_ns >= current.end_ns, "ticks must come in time order"
            out.append(current)
        start, end = bucket(tick.ts_ns, interval, zone)
        p = tick.price_fen
        current = Bar(start, end, p, p, p, p, tick.qty_t, p * tick.qty_t, 1)
    if current is not None:
        out.append(current)
    return out
