"""One compliance projection: for random holdings, emissions, trades and surrenders under each
shipped rule set, the class dashboard's shortfall and projected penalty, the compliance status
and the surrender plan all show the registry's projection
(``Registry.compliance_projection``), priced at the one penalty reference price
(``settlement.reference``); and the projection foretells the
registry: its plan is accepted, and the assessment at the deadline at that price fixes the
projected shortfall and penalty."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from exchange.api.registry_common import compliance_view, surrender_plan_view
from exchange.classroom.lifecycle import Phase
from exchange.classroom.setup import ClassScenario
from exchange.classroom.state import ClassState
from exchange.classroom.views import ranking
from exchange.clock import next_trading_day
from exchange.sim.scenario import load_scenario
from matching.types import OrderType, Side, TradingState
from registry_sim.model import Account, AccountId, AccountKind, HoldingState, UnitCode
from registry_sim.ops import (
    Assess,
    IssueAllowances,
    IssueOffsets,
    OpenAccount,
    RecordEmissions,
    RegisterProject,
    Surrender,
)
from settlement import (
    CloseDay,
    Deposit,
    EndOfDay,
    Market,
    MarketCommand,
    MarketSpec,
    OpenDay,
    PlaceOrder,
    RegistryCommand,
    SetSession,
)
from settlement.reference import penalty_price
from tests.registry_sim.conftest import PROJECTS

RULESETS = ("cn_national", "guangdong_pilot", "eu_ets", "ca_qc")
YEAR = 2025  # the compliance year: from 2025 the national old-vintage cap applies
ENTITY = AccountId("E")  # the covered entity whose year is projected
TRADER = AccountId("T")  # its counterparty
INSTRUMENTS = (("CEA2024", 6_000), ("CEA2025", 6_200))
AVAILABLE = HoldingState.AVAILABLE
FIRST_DAY = dt.date(2026, 3, 2)  # a Monday, before every shipped rule set's 2025 deadline


@functools.cache
def class_scenario() -> ClassScenario:
    """A class's scenario: the entity is none of its firms, so the dashboard projects it
    from the registry alone, as it does a seat's verified year."""
    return ClassScenario.make(load_scenario("classroom_national"), [], seed=1)


class Book:
    """A pure market and the commands that set it up, each with the next timestamp."""

    def __init__(self, ruleset: str) -> None:
        self.market = Market(MarketSpec("p", ruleset, INSTRUMENTS))
        self.ts = 0
        self.day: dt.date | None = None

    def do(self, command_of: Any, *args: Any) -> bool:
        self.ts += 1_000
        command: MarketCommand = command_of(self.ts, *args)
        return self.market.apply(command).code is None

    def op(self, op: Any) -> bool:
        return self.do(RegistryCommand, op)

    def next_day(self) -> dt.date:
        calendar = self.market.rules.calendar
        day = FIRST_DAY if self.day is None else next_trading_day(calendar, self.day)
        while not calendar.is_trading_day(day):
            day = next_trading_day(calendar, day)
        self.day = day
        assert self.do(OpenDay, day)
        return day

    def end_day(self) -> None:
        assert self.do(CloseDay)
        assert self.do(EndOfDay)


quantities = st.integers(0, 40_000)


@st.composite
def markets(draw: st.DrawFn) -> Book:
    book = Book(draw(st.sampled_from(RULESETS), label="rule set"))
    province = draw(st.sampled_from(["Guangdong", "Hubei"]), label="province")
    entity = Account(ENTITY, AccountKind.COVERED_ENTITY, "E", "power", province)
    assert book.op(OpenAccount("open:E", entity))
    assert book.op(OpenAccount("open:T", Account(TRADER, AccountKind.PARTICIPANT, "T")))
    assert book.do(Deposit, ENTITY, 10**12, "start")
    assert book.do(Deposit, TRADER, 10**12, "start")
    assert book.op(IssueAllowances("start:T", TRADER, YEAR, 100_000))
    for project in PROJECTS:
        assert book.op(RegisterProject(f"project:{project.project_id}", project))
    for vintage in (2023, 2024, 2025, 2026):
        qty = draw(quantities, label=f"CEA{vintage}")
        if qty:
            assert book.op(IssueAllowances(f"alloc:{vintage}", ENTITY, vintage, qty))
    for project in draw(st.lists(st.sampled_from(PROJECTS), max_size=3, unique=True)):
        qty = draw(st.integers(1, 8_000), label=f"{project.project_id} offsets")
        book.op(IssueOffsets(f"ccer:{project.project_id}", ENTITY, project.project_id, 2024, qty))
    for year, label in ((YEAR - 1, "last year's emissions"), (YEAR, "emissions")):
        if draw(st.booleans(), label=f"{label} recorded"):
            verified = draw(st.integers(0, 90_000), label=label)
            assert book.op(RecordEmissions(f"emissions:{year}", ENTITY, year, verified))
    for _ in range(draw(st.integers(0, 3), label="trading days")):
        book.next_day()
        assert book.do(SetSession, TradingState.CONTINUOUS)
        for _ in range(draw(st.integers(0, 3), label="trades")):
            symbol, reference = draw(st.sampled_from(INSTRUMENTS), label="instrument")
            price = reference + draw(st.integers(-200, 200), label="price off the reference")
            qty = draw(st.integers(1, 20_000), label="qty")
            seller, buyer = draw(st.permutations([ENTITY, TRADER]), label="who sells")
            limit = OrderType.LIMIT
            book.do(PlaceOrder, seller, symbol, Side.SELL, limit, qty, price)
            book.do(PlaceOrder, buyer, symbol, Side.BUY, limit, qty, price)
        book.end_day()
    book.next_day()  # the day everything is read on
    if draw(st.booleans(), label="surrendered some"):
        held = book.market.registry.holdings(ENTITY)
        codes = sorted(code for code, states in held.items() if states.get(AVAILABLE))
        if codes:
            code = draw(st.sampled_from(codes), label="unit surrendered")
            most = held[code][AVAILABLE]
            qty = draw(st.integers(1, most), label="qty surrendered")
            on = book.market.trading_day
            assert on is not None
            book.op(Surrender("surrender:some", ENTITY, YEAR, ((code, qty),), on))
    return book


def class_state(market: Market) -> ClassState:
    return ClassState(market.spec.market_id, "classroom_national", "", 1, Phase.TRADING, YEAR, [])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=markets())
def test_every_reader_shows_the_registry_projection(book: Book) -> None:
    market, registry = book.market, book.market.registry
    assert book.day is not None
    price = penalty_price(market, YEAR)
    projected = registry.compliance_projection(ENTITY, YEAR, book.day, price.price_fen)
    event(f"{market.rules.name}, price basis {price.basis}")
    short = None if projected.shortfall_t is None else projected.shortfall_t > 0
    event(f"verified {projected.verified}, a plan {bool(projected.plan)}, short {short}")

    status = compliance_view(market, ENTITY, YEAR)
    assert status["reference_price_fen"] == price.price_fen
    assert status["reference_price_basis"] == price.basis
    shown = (status["shortfall_t"], status["projected_penalty_fen"], status["coverable_t"])
    coverable = projected.plan_allowances_t + projected.plan_offsets_t
    assert shown == (projected.shortfall_t, projected.projected_penalty_fen, coverable)
    assert status["remaining_t"] == projected.remaining_t

    (row,) = ranking(market, class_state(market), class_scenario(), {}, {})
    assert (row["shortfall_t"], row["projected_penalty_fen"]) == (
        projected.shortfall_t or 0,
        projected.projected_penalty_fen or 0,
    )
    if not projected.verified:
        assert projected.shortfall_t is None
        return

    plan = surrender_plan_view(market, ENTITY, YEAR, book.day)
    items = tuple((UnitCode(i["unit"]), i["qty_t"]) for i in plan["items"])
    assert items == projected.plan
    assert (plan["shortfall_after_plan_t"], plan["projected_penalty_fen"]) == (
        projected.shortfall_t,
        projected.projected_penalty_fen,
    )

    # The registry accepts the plan and then assesses exactly the projected shortfall.
    if projected.plan:
        assert book.op(Surrender("surrender:plan", ENTITY, YEAR, projected.plan, book.day))
    if projected.projected_penalty_fen is None:
        return  # a price multiple with no price: the registry would refuse to assess
    deadline = registry.rules.compliance.deadline(YEAR)
    assert book.op(Assess("assess", ENTITY, YEAR, price.price_fen or 0, deadline))
    record = registry.record(ENTITY, YEAR)
    assert record is not None
    assert (record.shortfall_t, record.penalty_fen) == (
        projected.shortfall_t,
        projected.projected_penalty_fen,
    )
    # Assessed, the status shows the record, priced as it was, whatever price is asked.
    assessed = compliance_view(market, ENTITY, YEAR, reference_price_fen=(price.price_fen or 0) + 7)
    assert (assessed["shortfall_t"], assessed["projected_penalty_fen"]) == (
        record.shortfall_t,
        record.penalty_fen,
    )
    assert (assessed["reference_price_fen"], assessed["reference_price_basis"]) == (
        record.reference_price_fen,
        "assessed",
    )
