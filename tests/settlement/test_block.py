"""Block agreement trades (大宗协议) with worked numbers: quotes, acceptance, negotiation, holds,
delivery versus payment, T+1, expiry at the close, every refusal, and that block deals leave
the listed close and tomorrow's band alone.

The national rule set: a block quote or deal is at least 100,000 t, priced within ±30 % of the
previous listed close (CEA2025's first reference CNY 60.00: CNY 42.00-78.00), in the block
session 13:00-15:00 Beijing time. Fees here are 30 bp (buy) and 25 bp (sell), rounded down.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from matching.types import Side
from registry_sim.model import FEES, AccountId, UnitCode
from settlement import CloseDay, EndOfDay, Halt, OpenDay
from settlement.commands import (
    AcceptBlockQuote,
    CancelBlockQuote,
    ConfirmBlockDeal,
    CounterBlockQuote,
    EndBlockNegotiation,
    PostBlockQuote,
)
from tests.settlement.conftest import DAY1, DAY2, FEES_30_25, SYM, Mkt

BUY, SELL = Side.BUY, Side.SELL
CNY = 100  # fen per yuan


class Block(Mkt):
    """A market whose clock stands in the block session of its trading day."""

    def __init__(self, overrides: dict[str, Any] | None = None, rules: str = "cn_national"):
        super().__init__(rules, overrides if overrides is not None else FEES_30_25)

    def open_day(self, day: dt.date = DAY1, at: str = "13:05") -> None:
        super().open_day(day)
        self.at(day, at)

    def at(self, day: dt.date, local: str) -> None:
        self.ts = self.market.rules.calendar.ts_ns(day, dt.time.fromisoformat(local))

    def post(self, account: str, side: Side, qty: int, price: int, to: str | None = None) -> Any:
        return PostBlockQuote(
            self.next_ts(),
            AccountId(account),
            SYM,
            side,
            price,
            qty,
            None if to is None else AccountId(to),
        )

    def accept(self, account: str, quote_id: int, qty: int | None = None) -> AcceptBlockQuote:
        return AcceptBlockQuote(self.next_ts(), AccountId(account), quote_id, qty)

    def counter(
        self,
        account: str,
        price: int,
        qty: int,
        *,
        quote: int | None = None,
        neg: int | None = None,
    ) -> CounterBlockQuote:
        return CounterBlockQuote(self.next_ts(), AccountId(account), price, qty, quote, neg)

    def confirm(self, account: str, neg: int, price: int, qty: int) -> ConfirmBlockDeal:
        return ConfirmBlockDeal(self.next_ts(), AccountId(account), neg, price, qty)


@pytest.fixture
def m() -> Block:
    """S holds 150,000 t of CEA2025 and CNY 100,000; B holds CNY 20,000,000."""
    m = Block()
    m.participant("S", "B", "X")
    m.issue("S", 150_000)
    m.deposit("S", 100_000 * CNY)
    m.deposit("B", 20_000_000 * CNY)
    m.deposit("X", 20_000_000 * CNY)
    m.open_day()
    return m


def test_a_sell_quote_accepted_at_its_terms(m: Block) -> None:
    posted = m.ok(m.post("S", SELL, 100_000, 5_700))
    assert [(c.what, c.quote_id) for c in posted.block_changes] == [("posted", 1)]
    assert m.units("S", "held") == 100_000
    assert m.units("S") == 50_000

    outcome = m.ok(m.accept("B", 1))
    (deal,) = outcome.block_deals
    # 100,000 t × CNY 57.00 = CNY 5,700,000; fees 30 bp = CNY 17,100 and 25 bp = CNY 14,250.
    assert (deal.price_fen, deal.qty_t, deal.buy_fee_fen, deal.sell_fee_fen) == (
        5_700,
        100_000,
        1_710_000,
        1_425_000,
    )
    assert deal.buy_account_id == "B"
    assert deal.sell_account_id == "S"
    assert deal.negotiation_id is None
    assert m.cash("B") == 20_000_000 * CNY - 570_000_000 - 1_710_000
    assert m.cash("B", "held") == 0
    assert m.units("B") == 100_000
    assert m.cash("S") == 100_000 * CNY + 570_000_000 - 1_425_000
    assert m.units("S", "held") == 0
    assert m.cash(FEES) == 1_710_000 + 1_425_000
    assert m.market.block.quotes == {}  # all of it dealt: the quote is done
    assert [c.what for c in outcome.block_changes] == ["dealt", "done"]
    # Units bought today are sellable from T+1, block or listed.
    assert m.market.sellable_t(AccountId("B"), UnitCode(SYM)) == 0


def test_a_negotiation_ends_in_a_deal_both_sides_confirmed(m: Block) -> None:
    # B bids 200,000 t at CNY 55.00: it holds 200,000 × 5,500 fen + 30 bp = 1,103,300,000 fen.
    m.ok(m.post("B", BUY, 200_000, 5_500))
    assert m.cash("B", "held") == 1_103_300_000
    # S opens a dialogue: 150,000 t at CNY 58.00 (it holds its 150,000 t).
    opened = m.ok(m.counter("S", 5_800, 150_000, quote=1))
    assert [(c.what, c.negotiation_id) for c in opened.block_changes] == [("opened", 1)]
    assert m.units("S", "held") == 150_000
    # S cannot confirm its own terms.
    m.refused(m.confirm("S", 1, 5_800, 150_000), "BLOCK_NOT_YOUR_TURN")
    # B answers CNY 56.50: beyond its quote's hold (150,000 t at CNY 55.00 + fee =
    # 827,475,000) it holds the difference to 150,000 t at CNY 56.50 + fee = 850,042,500.
    m.ok(m.counter("B", 5_650, 150_000, neg=1))
    assert m.cash("B", "held") == 1_103_300_000 + 22_567_500
    # S confirms what it saw: the deal at CNY 56.50 for 150,000 t.
    m.refused(m.confirm("S", 1, 5_800, 150_000), "BLOCK_TERMS_CHANGED")
    outcome = m.ok(m.confirm("S", 1, 5_650, 150_000))
    (deal,) = outcome.block_deals
    assert (deal.price_fen, deal.qty_t, deal.negotiation_id, deal.quote_id) == (
        5_650,
        150_000,
        1,
        1,
    )
    assert (deal.buy_fee_fen, deal.sell_fee_fen) == (2_542_500, 2_118_750)
    # 50,000 t are left of the quote, under the block minimum: it closes and releases the rest.
    assert m.market.block.quotes == {}
    assert m.market.block.negotiations == {}
    assert m.cash("B", "held") == 0
    assert m.cash("B") == 20_000_000 * CNY - 847_500_000 - 2_542_500
    assert m.units("B") == 150_000
    assert m.cash("S") == 100_000 * CNY + 847_500_000 - 2_118_750
    assert m.units("S") == 0
    assert m.units("S", "held") == 0
    assert [c.what for c in outcome.block_changes] == ["dealt", "closed"]


def test_a_quote_keeps_what_is_left_above_the_minimum(m: Block) -> None:
    m.issue("S", 150_000)  # 300,000 t
    m.ok(m.post("S", SELL, 300_000, 6_000))
    m.ok(m.accept("B", 1, 120_000))
    assert m.market.block.quotes[1].qty_t == 180_000
    assert m.units("S", "held") == 180_000
    m.ok(m.accept("X", 1))  # the rest
    assert m.units("X") == 180_000
    assert m.market.block.quotes == {}


def test_a_directed_quote_is_for_its_counterparty_only(m: Block) -> None:
    m.ok(m.post("S", SELL, 100_000, 5_700, to="X"))
    details = m.refused(m.accept("B", 1), "BLOCK_NOT_COUNTERPARTY")
    assert details == {"quote_id": 1}
    m.refused(m.counter("B", 5_600, 100_000, quote=1), "BLOCK_NOT_COUNTERPARTY")
    m.ok(m.accept("X", 1))
    assert m.units("X") == 100_000


def test_cancel_and_end_release_every_hold(m: Block) -> None:
    m.ok(m.post("B", BUY, 100_000, 5_000))
    m.ok(m.counter("S", 5_200, 100_000, quote=1))
    m.ok(m.counter("B", 5_100, 100_000, neg=1))  # B's extra: 100,000 × CNY 1.00 + 30 bp
    assert m.cash("B", "held") == 501_500_000 + 10_030_000
    ended = m.ok(EndBlockNegotiation(m.next_ts(), AccountId("S"), 1))
    assert [c.what for c in ended.block_changes] == ["ended"]
    assert m.units("S", "held") == 0
    assert m.cash("B", "held") == 501_500_000
    m.ok(m.counter("S", 5_150, 100_000, quote=1))
    cancelled = m.ok(CancelBlockQuote(m.next_ts(), AccountId("B"), 1))
    assert [c.what for c in cancelled.block_changes] == ["ended", "cancelled"]
    assert m.cash("B", "held") == 0
    assert m.units("S", "held") == 0
    assert m.cash("B") == 20_000_000 * CNY
    assert m.units("S") == 150_000
    m.refused(m.accept("X", 1), "BLOCK_QUOTE_GONE")
    m.refused(m.confirm("B", 2, 5_150, 100_000), "BLOCK_NEGOTIATION_GONE")


def test_everything_open_expires_at_the_close(m: Block) -> None:
    m.ok(m.post("S", SELL, 100_000, 5_700))
    m.ok(m.post("B", BUY, 100_000, 5_000))
    m.ok(m.counter("X", 5_600, 100_000, quote=1))
    closed = m.ok(CloseDay(m.next_ts()))
    assert sorted(c.what for c in closed.block_changes) == ["expired"] * 3
    assert m.cash("B", "held") == m.cash("X", "held") == m.units("S", "held") == 0
    m.ok(EndOfDay(m.next_ts()))


def test_block_deals_set_neither_the_close_nor_tomorrows_band(m: Block) -> None:
    m.issue("S", 100_000)
    # A listed trade of 10 t at CNY 61.00, and a block deal of 100,000 t at CNY 45.00.
    m.sell("S", 10, 6_100)
    m.buy("X", 10, 6_100)
    m.ok(m.post("S", SELL, 100_000, 4_500))
    m.ok(m.accept("B", 1))
    m.ok(CloseDay(m.next_ts()))
    day_end = m.ok(EndOfDay(m.next_ts()))
    (close,) = [c for c in day_end.closes if c.symbol == SYM]
    assert (close.close_fen, close.volume_t, close.method) == (6_100, 10, "vwap")
    assert m.market.reference_window[-1] == (10, 61_000)
    # The statement counts both trades of the buyer B and the seller S.
    statement = {s.account_id: s.body for s in day_end.statements}
    assert statement["B"]["trades"][SYM]["bought_t"] == 100_000
    assert statement["S"]["trades"][SYM]["sold_t"] == 100_010
    m.ok(OpenDay(m.next_ts(), DAY2))
    assert m.market.engine.band(SYM) == (5_490, 6_710)  # ±10 % of 61.00


def test_units_bought_in_a_block_sell_from_the_next_day(m: Block) -> None:
    m.ok(m.post("S", SELL, 100_000, 5_700))
    m.ok(m.accept("B", 1))
    m.refused(m.post("B", SELL, 100_000, 5_700), "INSUFFICIENT_UNITS")
    m.close_day()
    m.open_day(DAY2)
    m.ok(m.post("B", SELL, 100_000, 5_700))


@pytest.mark.parametrize(
    ("make", "code", "numbers"),
    [
        (lambda m: m.post("S", SELL, 99_999, 5_700), "BLOCK_BELOW_MINIMUM", {"min_qty_t": 100_000}),
        (lambda m: m.post("S", SELL, 100_000, 7_801), "BLOCK_OUTSIDE_BAND", {"upper_fen": 7_800}),
        (lambda m: m.post("S", SELL, 100_000, 4_199), "BLOCK_OUTSIDE_BAND", {"lower_fen": 4_200}),
        (lambda m: m.post("B", SELL, 100_000, 5_700), "INSUFFICIENT_UNITS", {"sellable_t": 0}),
        (
            lambda m: m.post("S", BUY, 100_000, 5_700),
            "INSUFFICIENT_FUNDS",
            {"required_fen": 571_710_000, "available_fen": 10_000_000},
        ),
        (lambda m: m.post("S", SELL, 100_000, 5_700, to="S"), "BLOCK_OWN_QUOTE", {}),
        (lambda m: m.post("S", SELL, 100_000, 5_700, to="NOBODY"), "UNKNOWN_ACCOUNT", {}),
        (lambda m: m.accept("B", 7), "BLOCK_QUOTE_GONE", {"quote_id": 7}),
        (lambda m: m.confirm("B", 7, 5_700, 100_000), "BLOCK_NEGOTIATION_GONE", {}),
    ],
)
def test_refusals_carry_their_numbers(
    m: Block, make: Any, code: str, numbers: dict[str, Any]
) -> None:
    details = m.refused(make(m), code)
    assert numbers.items() <= dict(details).items()


def test_refusals_on_a_quote(m: Block) -> None:
    m.ok(m.post("S", SELL, 150_000, 5_700))
    m.refused(m.accept("S", 1), "BLOCK_OWN_QUOTE")
    assert m.refused(m.accept("B", 1, 160_000), "BLOCK_QTY_OVER_QUOTE") == {
        "quote_id": 1,
        "qty_t": 160_000,
        "quote_qty_t": 150_000,
    }
    m.refused(m.accept("B", 1, 90_000), "BLOCK_BELOW_MINIMUM")
    m.refused(m.counter("B", 7_900, 100_000, quote=1), "BLOCK_OUTSIDE_BAND")
    m.ok(m.counter("B", 5_600, 100_000, quote=1))
    m.refused(m.counter("B", 5_650, 100_000, neg=1), "BLOCK_NOT_YOUR_TURN")
    m.refused(m.confirm("X", 1, 5_600, 100_000), "BLOCK_NOT_COUNTERPARTY")
    # Someone without the cash to accept.
    m.participant("POOR")
    m.deposit("POOR", 1_000 * CNY)
    assert m.refused(m.accept("POOR", 1), "INSUFFICIENT_FUNDS")["required_fen"] == (
        855_000_000 + 2_565_000
    )


def test_outside_the_block_session(m: Block) -> None:
    m.at(DAY1, "10:00")
    details = m.refused(m.post("S", SELL, 100_000, 5_700), "BLOCK_SESSION_CLOSED")
    assert details == {"sessions": [["13:00", "15:00"]], "timezone": "Asia/Shanghai"}
    m.at(DAY1, "15:00")
    m.refused(m.post("S", SELL, 100_000, 5_700), "BLOCK_SESSION_CLOSED")


def test_halted_instrument(m: Block) -> None:
    m.ok(Halt(m.next_ts(), SYM))
    m.refused(m.post("S", SELL, 100_000, 5_700), "INSTRUMENT_HALTED")


def test_markets_without_block_trading() -> None:
    for rules, overrides in (
        ("guangdong_pilot", {}),
        ("eu_ets", {}),
        ("ca_qc", {}),
        ("cn_national", {"trading": {"modes": {"block": {"enabled": False}}}}),
    ):
        m = Block(overrides, rules)
        m.participant("S")
        m.open_day()
        details = m.refused(m.post("S", SELL, 100_000, 5_700), "BLOCK_NOT_OFFERED")
        assert details == {"rules": rules}


def test_directed_quotes_off_by_rule() -> None:
    m = Block({"trading": {"modes": {"block": {"directed": False}}}})
    m.participant("S", "X")
    m.issue("S", 100_000)
    m.open_day()
    m.refused(m.post("S", SELL, 100_000, 5_700, to="X"), "BLOCK_DIRECTED_NOT_ALLOWED")


def test_a_block_buy_counts_towards_the_position_limit() -> None:
    limits = {"limits": {"position_limit_t": 250_000, "report_threshold_t": 200_000}}
    m = Block(limits)
    m.participant("S", "B")
    m.issue("S", 400_000)
    m.deposit("B", 100_000_000 * CNY)
    m.open_day()
    m.ok(m.post("B", BUY, 200_000, 5_000))
    details = m.refused(m.post("B", BUY, 100_000, 5_000), "POSITION_LIMIT_EXCEEDED")
    # The open block bid counts as a position: 200,000 + 100,000 > 250,000.
    assert details == {"position_t": 200_000, "requested_t": 100_000, "limit_t": 250_000}
    m.ok(CancelBlockQuote(m.next_ts(), AccountId("B"), 1))
    m.ok(m.post("S", SELL, 210_000, 5_000))
    outcome = m.ok(m.accept("B", 2))
    assert [(r.account_id, r.position_t) for r in outcome.reports] == [("B", 210_000)]


def test_a_snapshot_keeps_the_block_ids() -> None:
    m = Block()
    m.participant("S", "B")
    m.issue("S", 100_000)
    m.deposit("B", 10_000_000 * CNY)
    m.open_day()
    m.ok(m.post("S", SELL, 100_000, 5_700))
    m.ok(m.accept("B", 1))
    m.close_day()
    restored = type(m.market).restore(m.market.snapshot())
    assert restored.state_hash() == m.market.state_hash()
    assert restored.block.last_quote_id == 1
    assert restored.block.last_deal_id == 1
