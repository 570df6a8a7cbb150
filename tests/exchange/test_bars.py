"""OHLCV bars: bucketing in the market's local time, and aggregation of a trade stream."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.bars import INTERVAL_NS, INTERVALS, NS_PER_S, Bar, Tick, bars, bucket

SHANGHAI = ZoneInfo("Asia/Shanghai")
BRUSSELS = ZoneInfo("Europe/Brussels")  # eu_ets: daylight saving time
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30


def ns(year: int, month: int, day: int, hour: int, minute: int, zone: ZoneInfo) -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()) * NS_PER_S


def test_a_minute_bucket_holds_its_minute() -> None:
    ts = ns(2026, 3, 2, 9, 31, SHANGHAI) + 42 * NS_PER_S
    start, end = bucket(ts, "1m", SHANGHAI)
    assert start == ns(2026, 3, 2, 9, 31, SHANGHAI)
    assert end - start == 60 * NS_PER_S


@pytest.mark.parametrize(
    ("interval", "at", "start"),
    [
        ("5m", (10, 7), (10, 5)),
        ("15m", (10, 44), (10, 30)),
        ("1h", (13, 59), (13, 0)),
    ],
)
def test_intraday_buckets_start_on_the_local_clock(
    interval: str, at: tuple[int, int], start: tuple[int, int]
) -> None:
    for zone in (SHANGHAI, KOLKATA):
        got = bucket(ns(2026, 3, 2, *at, zone), interval, zone)
        assert got == (
            ns(2026, 3, 2, *start, zone),
            ns(2026, 3, 2, *start, zone) + INTERVAL_NS[interval],
        )


def test_a_day_starts_at_local_midnight_not_utc() -> None:
    # 01:00 in Shanghai is still the previous day in UTC: the bar is the local day's.
    start, end = bucket(ns(2026, 3, 2, 1, 0, SHANGHAI), "1d", SHANGHAI)
    assert start == ns(2026, 3, 2, 0, 0, SHANGHAI)
    assert end == ns(2026, 3, 3, 0, 0, SHANGHAI)
    assert start % (86_400 * NS_PER_S) != 0  # not a UTC midnight


def test_a_day_of_a_clock_change_is_23_hours_long() -> None:
    start, end = bucket(ns(2026, 3, 29, 12, 0, BRUSSELS), "1d", BRUSSELS)
    assert end - start == 23 * 3600 * NS_PER_S
    start, end = bucket(ns(2026, 10, 25, 12, 0, BRUSSELS), "1d", BRUSSELS)
    assert end - start == 25 * 3600 * NS_PER_S


def test_an_unknown_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown bar interval"):
        bucket(0, "2m", SHANGHAI)


def test_trades_aggregate_into_ohlcv() -> None:
    t0 = ns(2026, 3, 2, 9, 30, SHANGHAI)
    ticks = [
        Tick(t0 + 1 * NS_PER_S, 6000, 10),
        Tick(t0 + 20 * NS_PER_S, 6050, 5),
        Tick(t0 + 59 * NS_PER_S, 5990, 3),
        Tick(t0 + 60 * NS_PER_S, 6010, 7),  # the next minute
        Tick(t0 + 300 * NS_PER_S, 6100, 1),  # a gap: no bars for the minutes between
    ]
    got = bars(ticks, "1m", SHANGHAI)
    minute = 60 * NS_PER_S
    assert got == [
        Bar(t0, t0 + minute, 6000, 6050, 5990, 5990, 18, 6000 * 10 + 6050 * 5 + 5990 * 3, 3),
        Bar(t0 + minute, t0 + 2 * minute, 6010, 6010, 6010, 6010, 7, 6010 * 7, 1),
        Bar(t0 + 5 * minute, t0 + 6 * minute, 6100, 6100, 6100, 6100, 1, 6100, 1),
    ]
    five = bars(ticks, "5m", SHANGHAI)
    assert [(b.open_fen, b.close_fen, b.volume_t, b.trade_count) for b in five] == [
        (6000, 6010, 25, 4),
        (6100, 6100, 1, 1),
    ]


def test_no_trades_no_bars() -> None:
    assert bars([], "1h", SHANGHAI) == []


def _in_time_order(raw: list[tuple[int, int, int]]) -> list[Tick]:
    """Ticks from (seconds since the previous trade, price, quantity), from 2026-03-02 UTC."""
    out, now = [], 1_772_409_600 * NS_PER_S
    for step_s, price_fen, qty_t in raw:
        now += step_s * NS_PER_S
        out.append(Tick(now, price_fen, qty_t))
    return out


ticks_in_time_order = st.lists(
    st.tuples(st.integers(0, 10**6), st.integers(1, 10**6), st.integers(1, 10**4)), max_size=60
).map(_in_time_order)


@given(ticks=ticks_in_time_order, interval=st.sampled_from(INTERVALS))
def test_bars_conserve_volume_and_turnover_and_bound_prices(
    ticks: list[Tick], interval: str
) -> None:
    got = bars(ticks, interval, BRUSSELS)
    assert sum(b.volume_t for b in got) == sum(t.qty_t for t in ticks)
    assert sum(b.turnover_fen for b in got) == sum(t.price_fen * t.qty_t for t in ticks)
    assert sum(b.trade_count for b in got) == len(ticks)
    for before, after in itertools.pairwise(got):
        assert before.end_ns <= after.start_ns  # ordered, never overlapping
    for b in got:
        inside = [t for t in ticks if b.start_ns <= t.ts_ns < b.end_ns]
        assert inside, "a bar without trades"
        assert (b.open_fen, b.close_fen) == (inside[0].price_fen, inside[-1].price_fen)
        assert b.high_fen == max(t.price_fen for t in inside)
        assert b.low_fen == min(t.price_fen for t in inside)
        assert bucket(inside[0].ts_ns, interval, BRUSSELS) == (b.start_ns, b.end_ns)
