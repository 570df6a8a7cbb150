"""A tiny class, with no server: its scenario resolved, its state, and market stand-ins (one
that answers as told, ``FakeRuntime``, and one over a real market, ``MarketNow``)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any, cast

import pytest

from exchange.classroom.lifecycle import Phase
from exchange.classroom.room import Classroom
from exchange.classroom.setup import ClassScenario, draw_seats, parse
from exchange.classroom.state import ClassState
from exchange.rows import Ack
from exchange.runtime import MarketRuntime
from settlement import Market, MarketCommand

TINY = """
name: tiny_class
seed: 11
rules: {name: cn_national}
calendar: {start: 2026-03-02, years: 2, trading_days_per_year: 3}
market: {reference_price_fen: 8000}
allocation: {method: fixed, share_bp: 9000}
firm_agent: {kind: null}
firms:
  - {id: F1, sector: power, province: Hubei, baseline_t: 100000, cash_fen: 100000000,
     curve: {intercept_fen: 2000, slope_fen_per_t: 1.0, max_t: 10000}}
  - {id: F2, sector: cement, province: Hubei, baseline_t: 4000, cash_fen: 100000000,
     curve: {intercept_fen: 3000, slope_fen_per_t: 2.0, max_t: 5000}}
seats: {count: 3, id_prefix: S, cash_fen: 200000000}
"""


def make_scenario(text: str = TINY, seats: int = 3, seed: int = 11) -> ClassScenario:
    loaded = parse(text, "tiny")
    return ClassScenario.make(loaded, draw_seats(loaded, seats, seed), seed)


def make_state(scenario: ClassScenario, phase: Phase = Phase.TRADING) -> ClassState:
    year = scenario.loaded.years[0]
    return ClassState("class1", "tiny_class", TINY, scenario.seed, phase, year, scenario.seats)


class FakeRuntime:
    """What the classroom reads of a runtime without one running: a trading day, and a
    ``submit_many`` that answers as told (or raises)."""

    def __init__(
        self, scenario: ClassScenario, answer: Any = None, trading_day: dt.date | None = None
    ) -> None:
        self.market = SimpleNamespace(
            trading_day=trading_day, rules=scenario.loaded.rules, day_index=0
        )
        self.answer = answer
        self.submitted: list[Any] = []

    async def submit_many(self, commands: list[Any]) -> list[Any]:
        self.submitted += commands
        if isinstance(self.answer, BaseException):
            raise self.answer
        return [self.answer for _ in commands]


class MarketNow:
    """A runtime stand-in over a real market: what the class submits is applied at once."""

    clock = None

    def __init__(self, market: Market) -> None:
        self.market = market
        self.seq = 0

    async def submit_many(self, commands: list[MarketCommand]) -> list[Ack]:
        acks = []
        for command in commands:
            self.seq += 1
            acks.append(Ack(self.seq, command, self.market.apply(command)))
        return acks


def answer(code: str | None = None, **details: Any) -> SimpleNamespace:
    """An ack as the classroom reads it: its outcome's code (None: accepted) and details."""
    return SimpleNamespace(outcome=SimpleNamespace(code=code, details=details))


def make_room(
    scenario: ClassScenario, phase: Phase = Phase.TRADING, runtime: FakeRuntime | None = None
) -> Classroom:
    runtime = runtime or FakeRuntime(scenario)
    return Classroom(cast(MarketRuntime, runtime), make_state(scenario, phase), scenario)


@pytest.fixture(scope="session")
def scenario() -> ClassScenario:
    return make_scenario()
