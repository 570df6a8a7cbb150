"""Random block negotiations (Hypothesis): posts, acceptances, counters, confirmations,
cancellations and ends by five accounts in two CEA vintages, some refused (too small, out of
the band, not their turn, short of cash or units), then the day's close. After every command:

- cash and units are conserved: what was deposited is in the accounts and the fee account,
  what was issued is in the accounts;
- every held fen and tonne belongs to a quote or a negotiation: an account's held cash is its
  buy quotes' holds, what it holds as the buying side of negotiations and, as a buying poster,
  what negotiated terms need beyond its quote; its held units are its sell quotes' and its
  selling negotiations' holds; its open CEA buys are its buy quotes' tonnes and its buying
  negotiations';
- a refused command changed nothing.

At the close every hold is released. Replaying the same commands into a fresh market gives
the same state hash.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from matching.types import Side
from registry_sim.model import FEES, AccountId
from settlement import CloseDay, EndOfDay
from settlement.commands import (
    AcceptBlockQuote,
    CancelBlockQuote,
    ConfirmBlockDeal,
    CounterBlockQuote,
    EndBlockNegotiation,
    MarketCommand,
    PostBlockQuote,
)
from tests.settlement.test_block import CNY, Block

ACCOUNTS = ("A", "B", "C", "D", "E")
SYMBOLS = ("CEA2025", "CEA2024")  # references CNY 60.00 and 58.00: bands ±30 %
CASH = {"A": 30_000_000, "B": 20_000_000, "C": 5_000_000, "D": 60_000_000, "E": 1_000}
UNITS = {"A": 300_000, "B": 0, "C": 500_000, "D": 120_000, "E": 250_000}

account = st.sampled_from(ACCOUNTS)
qty = st.sampled_from([90_000, 100_000, 120_000, 150_000, 200_000, 300_000, 600_000])
price = st.integers(min_value=4_000, max_value=8_000)  # some outside both bands
# Which live quote or negotiation a step aims at (its place among them), or a gone one (-1).
ref = st.integers(min_value=-1, max_value=6)

to = st.one_of(st.none(), st.none(), st.none(), account)
post = st.tuples(
    st.just("post"), account, st.sampled_from(SYMBOLS), st.sampled_from(Side), qty, price, to
)
accept = st.tuples(st.just("accept"), account, ref, st.one_of(st.none(), qty))
open_ = st.tuples(st.just("open"), account, ref, price, qty)
counter = st.tuples(st.just("counter"), account, ref, price, qty, st.booleans())
confirm = st.tuples(st.just("confirm"), account, ref, st.booleans(), st.booleans())
cancel = st.tuples(st.just("cancel"), account, ref)
end = st.tuples(st.just("end"), account, ref)
# A whole dialogue: open at one price, the poster answers another, the opener confirms.
dialogue = st.tuples(st.just("dialogue"), account, ref, price, price, qty)
step = st.one_of(post, post, post, accept, open_, counter, confirm, cancel, end, dialogue, dialogue)


def _live(ids: list[int], at: int) -> int:
    """The ``at``-th live id (wrapping), or one that never was for -1 or none live."""
    return 999 if at < 0 or not ids else sorted(ids)[at % len(ids)]


def _commands(m: Block, s: tuple[Any, ...]) -> list[MarketCommand]:
    """The step's commands: one, or a dialogue's three (made as the market stands)."""
    if s[0] != "dialogue":
        return [_command(m, s)]
    _, opener, at, first, second, q = s
    quote_id = _live(list(m.market.block.quotes), at)
    quote = m.market.block.quotes.get(quote_id)
    poster = AccountId("A" if quote is None else quote.account_id)
    if quote is not None:
        q = min(q, quote.qty_t)
    negotiation_id = m.market.block.last_negotiation_id + 1
    return [
        CounterBlockQuote(m.next_ts(), AccountId(opener), first, q, quote_id, None),
        CounterBlockQuote(m.next_ts(), poster, second, q, None, negotiation_id),
        ConfirmBlockDeal(m.next_ts(), AccountId(opener), negotiation_id, second, q),
    ]


def _command(m: Block, s: tuple[Any, ...]) -> MarketCommand:
    kind, who = s[0], AccountId(s[1])
    desk = m.market.block
    ts = m.next_ts()
    if kind == "post":
        _, _, symbol, side, q, p, to = s
        return PostBlockQuote(ts, who, symbol, side, p, q, None if to is None else AccountId(to))
    if kind in ("accept", "open", "cancel"):
        quote_id = _live(list(desk.quotes), s[2])
        quote = desk.quotes.get(quote_id)
        if kind == "cancel":
            if quote is not None and s[1] in "AB":  # the others try what is not their own
                who = AccountId(quote.account_id)
            return CancelBlockQuote(ts, who, quote_id)
        if kind == "accept":
            return AcceptBlockQuote(ts, who, quote_id, s[3])
        return CounterBlockQuote(ts, who, s[3], s[4], quote_id, None)
    negotiation_id = _live(list(desk.negotiations), s[2])
    negotiation = desk.negotiations.get(negotiation_id)
    if negotiation is not None and s[-1]:  # the side whose turn it is
        poster = desk.quotes[negotiation.quote_id].account_id
        who = AccountId(
            poster if negotiation.proposer == negotiation.opener else negotiation.opener
        )
    if kind == "counter":
        return CounterBlockQuote(ts, who, s[3], s[4], None, negotiation_id)
    if kind == "confirm":
        terms = (6_000, 100_000)
        if negotiation is not None and s[3]:  # the terms that stand
            terms = (negotiation.price_fen, negotiation.qty_t)
        return ConfirmBlockDeal(ts, who, negotiation_id, *terms)
    return EndBlockNegotiation(ts, who, negotiation_id)


def _market() -> Block:
    m = Block()
    m.participant(*ACCOUNTS)
    for name in ACCOUNTS:
        m.deposit(name, CASH[name] * CNY)
        if UNITS[name]:
            m.issue(name, UNITS[name], 2025)
            m.issue(name, UNITS[name], 2024)
    m.open_day()
    return m


def _check(m: Block) -> None:
    market = m.market
    desk = market.block
    assert (
        sum(market.balance(a, "CNY", s) for a in ACCOUNTS for s in ("available", "held"))
        + (market.balance(FEES, "CNY", "available"))
        == sum(CASH.values()) * CNY
    )
    for symbol in SYMBOLS:
        total = sum(market.balance(a, symbol, s) for a in ACCOUNTS for s in ("available", "held"))
        assert total == sum(UNITS.values())
    held_fen: Counter[str] = Counter()
    held_t: Counter[tuple[str, str]] = Counter()
    open_t: Counter[str] = Counter()
    for q in desk.quotes.values():
        if q.side is Side.BUY:
            held_fen[q.account_id] += q.held
            open_t[q.account_id] += q.qty_t
        else:
            held_t[(q.account_id, q.symbol)] += q.held
    for n in desk.negotiations.values():
        q = desk.quotes[n.quote_id]
        if q.side is Side.BUY:  # the opener sells
            held_t[(n.opener, q.symbol)] += n.opener_held
            held_fen[q.account_id] += n.poster_extra_fen
        else:
            held_fen[n.opener] += n.opener_held
            open_t[n.opener] += n.opener_open_t
    for a in ACCOUNTS:
        assert market.balance(a, "CNY", "held") == held_fen[a], a
        assert market._open_buy_t.get(AccountId(a), 0) == open_t[a], a
        for symbol in SYMBOLS:
            assert market.balance(a, symbol, "held") == held_t[(a, symbol)], (a, symbol)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=25, max_size=60))
def test_random_negotiations_conserve_and_hold_exactly(steps: list[tuple[Any, ...]]) -> None:
    m = _market()
    applied: list[MarketCommand] = []
    for s in steps:
        for command in _commands(m, s):
            before = m.market.state_hash()
            outcome = m.do(command)
            applied.append(command)
            event(f"{type(command).__name__}: {outcome.code or 'ok'}")
            if outcome.block_deals:
                event(f"a deal ({s[0]})")
            if not outcome.ok:
                assert m.market.state_hash() == before, (command, outcome)
                assert not outcome.postings
            _check(m)
    for command in (CloseDay(m.next_ts()), EndOfDay(m.next_ts())):
        m.ok(command)
        applied.append(command)
        _check(m)
    for a in ACCOUNTS:
        assert m.market.balance(a, "CNY", "held") == 0

    again = _market()
    for command in applied:
        again.do(command)
    assert again.market.state_hash() == m.market.state_hash()
