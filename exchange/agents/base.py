"""The agent interface: what a trading bot sees and what it may do.

An agent is a participant run by code. It never touches the market's state: each time it
wakes it reads a ``MarketView`` and answers ``Action`` values, which a driver turns into the
same commands an API client sends. Two drivers exist:

* in process (``exchange.agents.local``): the headless simulator and the tests, as fast as
  the machine allows, every action applied at the agent's wake-up time;
* over the network (``exchange.client``): bots in the live demo and load tests.

So an agent written once runs in both. An agent keeps only its own private state (its plans,
its beliefs); whatever the market knows (holdings, open orders, prices) it reads from the view
each time, so the two drivers cannot disagree about it.

Randomness comes only from the ``random.Random`` the driver passes (seeded per agent), never
from the global generator or the wall clock: the same scenario and seed give the same run.

Writing your own agent: subclass ``Agent``, give it a unique ``kind`` and register it with
``@register``; its constructor takes ``account_id`` and its scenario parameters as keyword
arguments. docs/scenarios.md has a worked example.
"""

from __future__ import annotations

import datetime as dt
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Protocol, TypeVar

from matching.types import OrderType, Side

# -- what an agent may do ------------------------------------------------------------------


class Place(NamedTuple):
    """A new order. ``price_fen`` is None only for market orders."""

    symbol: str
    side: Side
    qty_t: int
    price_fen: int | None
    order_type: OrderType = OrderType.LIMIT


class Cancel(NamedTuple):
    order_id: int


class Amend(NamedTuple):
    order_id: int
    price_fen: int | None = None
    qty_t: int | None = None


class CancelAll(NamedTuple):
    symbol: str | None = None


class SurrenderUnits(NamedTuple):
    """Submit units for a compliance year (清缴): ``items`` are (unit code, tonnes)."""

    year: int
    items: tuple[tuple[str, int], ...]


class PostBlock(NamedTuple):
    """A block agreement quote (大宗报价), public or directed to one ``counterparty``."""

    symbol: str
    side: Side
    qty_t: int
    price_fen: int
    counterparty: str | None = None


class AcceptBlock(NamedTuple):
    """Deal with a block quote at its price, for ``qty_t`` (None: all of it)."""

    quote_id: int
    qty_t: int | None = None


class CancelBlock(NamedTuple):
    quote_id: int


class BidAuction(NamedTuple):
    """A sealed bid in an open auction (its value held in cash until the auction clears)."""

    auction_id: int
    price_fen: int
    qty_t: int


class Abate(NamedTuple):
    """Simulation only: the firm commits to cutting ``qty_t`` tonnes of this year's emissions
    (its abatement cost is booked by the simulator from the firm's cost curve). Over the
    network this action is not available."""

    year: int
    qty_t: int


Action = (
    Place
    | Cancel
    | Amend
    | CancelAll
    | PostBlock
    | AcceptBlock
    | CancelBlock
    | BidAuction
    | SurrenderUnits
    | Abate
)


# -- what an agent sees --------------------------------------------------------------------


class Quote(NamedTuple):
    price_fen: int
    qty_t: int


class OpenOrder(NamedTuple):
    order_id: int
    symbol: str
    side: Side
    price_fen: int | None
    leaves_t: int


class InstrumentInfo(NamedTuple):
    symbol: str
    tick_fen: int
    lot_t: int
    min_qty_t: int
    max_qty_t: int
    band: tuple[int, int]  # today's lowest and highest allowed price, fen
    reference_price_fen: int
    tradable: bool  # the instrument is in continuous trading now


class BlockInfo(NamedTuple):
    """Block agreement trading in one instrument today: the least a quote or deal may be,
    today's block band, and whether the block session is open now."""

    min_qty_t: int
    band: tuple[int, int]
    open_now: bool


class BlockQuoteInfo(NamedTuple):
    """A quote on the block board as the account sees it (``price_fen`` None: hidden)."""

    quote_id: int
    symbol: str
    side: Side
    price_fen: int | None
    qty_t: int
    account_id: str  # the poster

    def mine(self, account_id: str) -> bool:
        return self.account_id == account_id


class AuctionInfo(NamedTuple):
    """An auction not yet cleared, as a bidder sees it: its terms, whether its window is open
    now, and the tonnes this account has bid in it so far."""

    auction_id: int
    symbol: str
    volume_t: int
    reserve_fen: int | None
    lot_t: int
    min_bid_t: int
    cap_t: int | None  # a bidder's most (None: no cap)
    open_now: bool
    my_bid_t: int


class ComplianceView(NamedTuple):
    """An account's position for a compliance year, as the registry sees it."""

    year: int
    verified_t: int | None  # None until emissions are verified
    surrendered_t: int  # pending or retired for the year
    offsets_surrendered_t: int
    offset_cap_t: int | None  # None until the cap's basis (verified emissions) is known
    deadline: dt.date


class MarketView(Protocol):
    """A read-only view of one market for one account (the agent's own)."""

    @property
    def account_id(self) -> str: ...
    @property
    def now_ns(self) -> int: ...
    @property
    def trading_day(self) -> dt.date: ...
    @property
    def compliance_year(self) -> int: ...
    @property
    def trading_days_left(self) -> int:
        """Trading days left in the compliance year's trading period, today included."""
        ...

    def instruments(self) -> Sequence[InstrumentInfo]: ...
    def instrument(self, symbol: str) -> InstrumentInfo: ...
    def best_bid(self, symbol: str) -> Quote | None: ...
    def best_ask(self, symbol: str) -> Quote | None: ...
    def last_price(self, symbol: str) -> int | None:
        """The last trade's price today, else the reference price's source (previous close)."""
        ...

    def cash_fen(self) -> int:
        """Cash available to spend now (not held for open orders)."""
        ...

    def sellable_t(self, symbol: str) -> int:
        """Units of ``symbol`` available to sell now (not held, frozen or T+N locked)."""
        ...

    def holding_t(self, symbol: str) -> int:
        """All units of ``symbol`` the account owns, whatever their state (not surrendered)."""
        ...

    def open_orders(self) -> Sequence[OpenOrder]: ...
    def compliance(self, year: int) -> ComplianceView: ...
    def block(self, symbol: str) -> BlockInfo | None:
        """Block trading in ``symbol`` today, or None where the market offers none."""
        ...

    def block_quotes(self) -> Sequence[BlockQuoteInfo]:
        """The block board as the account sees it: public quotes, those directed to it and
        its own."""
        ...

    def auctions(self) -> Sequence[AuctionInfo]:
        """The auctions not yet cleared (none where the market holds none)."""
        ...


# -- the agent -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AbatementCurve:
    """A linear marginal abatement cost curve: the a-th tonne cut costs
    ``intercept_fen + slope_fen_per_t * a`` (fen), up to ``max_t`` tonnes."""

    intercept_fen: int
    slope_fen_per_t: float
    max_t: int

    def marginal_fen(self, abated_t: int) -> float:
        return self.intercept_fen + self.slope_fen_per_t * abated_t

    def abatement_at(self, price_fen: float) -> int:
        """Tonnes worth cutting when an allowance costs ``price_fen``."""
        if price_fen <= self.intercept_fen or self.slope_fen_per_t <= 0:
            return 0 if price_fen <= self.intercept_fen else self.max_t
        return min(self.max_t, int((price_fen - self.intercept_fen) / self.slope_fen_per_t))

    def cost_fen(self, abated_t: int) -> int:
        """Total cost of cutting ``abated_t`` tonnes (the area under the curve), rounded."""
        a = min(abated_t, self.max_t)
        return round(self.intercept_fen * a + self.slope_fen_per_t * a * a / 2)


@dataclass(frozen=True, slots=True)
class Firm:
    """What a covered entity knows about itself (from the scenario)."""

    account_id: str
    sector: str
    province: str
    gas_fired: bool
    output: int
    baseline_t: int  # this compliance year's emissions before any abatement
    curve: AbatementCurve
    # Allowances of this year still to come after verification (the benchmark true-up the
    # simulator expects at ``baseline_t``): count them as held when planning. 0: none.
    allocation_due_t: int = 0


class Agent(ABC):
    """A bot trading one account. Subclasses set ``kind`` and register with ``@register``."""

    kind: ClassVar[str]
    # How often the driver wakes it, on average, per trading day (its scenario may override).
    wakeups_per_day: float = 10.0

    def __init__(
        self,
        account_id: str,
        firm: Firm | None = None,
        *,
        wakeups_per_day: float | None = None,
        **params: Any,
    ) -> None:
        self.account_id = account_id
        self.firm = firm
        if wakeups_per_day is not None:  # a scenario's rate, over the kind's default
            self.wakeups_per_day = wakeups_per_day
        if params:
            raise TypeError(f"{type(self).__name__}: unknown parameters {sorted(params)}")

    def on_day_open(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        """Called once when the day's continuous session opens."""
        return ()

    @abstractmethod
    def act(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        """Called at each wake-up during continuous trading."""

    def on_year_end(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        """Called after the last trading day of the compliance year, before the surrender
        deadline: abate, surrender. Trading actions here are ignored."""
        return ()


AGENT_KINDS: dict[str, type[Agent]] = {}

A = TypeVar("A", bound=type[Agent])


def register(cls: A) -> A:
    kind = cls.kind
    if kind in AGENT_KINDS and AGENT_KINDS[kind] is not cls:
        raise ValueError(f"agent kind {kind!r} is already registered")
    AGENT_KINDS[kind] = cls
    return cls


AgentFactory = Callable[..., Agent]
