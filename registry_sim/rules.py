"""Typed, validated rule sets: what the registry reads instead of hard-coded numbers.

``load_rules(name, overrides)`` reads a shipped rule set (``registry_sim/rulesets/NAME.toml``),
merges per-market overrides and validates every value, reporting a bad one with its dotted path
and the reason (``RuleSetError``). Percentages are basis points (``_bp``), money is in the
currency's smallest unit (``_fen``), quantities in tonnes (``_t``). Sources: docs/rules.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from matching.instruments import ModeRules, RuleDataError, instrument_from_rules
from registry_sim.rulesets import UnknownRuleError, load_ruleset

BP = 10_000  # basis points in 100 %
NS_PER_S = 1_000_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LANGUAGES = ("zh-CN", "en")  # a rule set's language, as the UI names its locales


class RuleSetError(ValueError):
    """A rule set value that is missing or impossible; ``path`` names it."""

    def __init__(self, ruleset: str, path: str, reason: str) -> None:
        super().__init__(f"rule set {ruleset!r}: {path}: {reason}")
        self.ruleset = ruleset
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OffsetWindow:
    """Registration-date window in which offsets are eligible (both bounds exclusive), and the
    last day on which units from the window may be surrendered (``None``: no end). A window
    may also ask that the project started after ``started_after`` and that its reductions were
    generated after ``reductions_after`` (the 2023 CCER measures, docs/rules.md); a vintage's
    reductions are dated to its year, so vintage Y qualifies when Y ends after that day."""

    registered_after: dt.date | None
    registered_before: dt.date | None
    usable_until: dt.date | None
    started_after: dt.date | None = None
    reductions_after: dt.date | None = None

    def admits_start(self, start_date: dt.date) -> bool:
        return self.started_after is None or start_date > self.started_after

    def admits_vintage(self, vintage: int) -> bool:
        return self.reductions_after is None or dt.date(vintage, 12, 31) > self.reductions_after

    def admits(self, registered: dt.date, surrendered_on: dt.date) -> bool:
        if self.registered_after is not None and not registered > self.registered_after:
            return False
        if self.registered_before is not None and not registered < self.registered_before:
            return False
        return self.usable_until is None or surrendered_on <= self.usable_until


@dataclass(frozen=True, slots=True)
class OldVintageRules:
    """From compliance year ``from_year``, allowances of vintage ≤ ``max_vintage`` count only
    within a conversion cap of ``cap_base_t`` + ``net_sales_multiplier_bp`` × net sales; net
    sales are allowances sold less allowances bought from ``net_sales_from`` to
    ``net_sales_until`` (both included; ``None``: the period is not given, only a recorded
    figure counts)."""

    from_year: int
    max_vintage: int
    cap_base_t: int
    net_sales_multiplier_bp: int
    net_sales_from: dt.date | None = None
    net_sales_until: dt.date | None = None


@dataclass(frozen=True, slots=True)
class OffsetCapStep:
    """From emissions year ``from_year`` on, the offset cap is ``cap_bp`` (California: 4 % of
    the obligation for 2021-2025 emissions, 6 % from 2026)."""

    from_year: int
    cap_bp: int


@dataclass(frozen=True, slots=True)
class AllocationRules:
    pre_allocation_share_bp: int
    gap_cap_bp: int
    gas_fired_top_up: bool
    alpha_min_bp: int
    alpha_max_bp: int
    deduct_shortfall_next_year: bool


@dataclass(frozen=True, slots=True)
class ComplianceRules:
    deadline_month: int
    deadline_day: int
    offset_cap_basis: str  # "obligation" | "previous_year_emissions"
    offset_cap_bp: int
    offset_unit_kinds: tuple[str, ...]
    exclude_inside_ets_scope: bool
    allowed_methodologies: tuple[str, ...]  # empty: every methodology
    offset_windows: tuple[OffsetWindow, ...]  # empty: any registration date
    local_province: str | None
    local_min_share_bp: int
    borrowing: bool
    # An assessed year's shortfall is added to the next year's obligation (EU: "the missing
    # allowances must still be surrendered"), instead of or beside a deduction.
    shortfall_carries_over: bool
    old_vintages: OldVintageRules | None
    # Steps of the offset cap by emissions year, in order; before the first, ``offset_cap_bp``.
    offset_caps: tuple[OffsetCapStep, ...] = ()
    # The tonnes a carried-over shortfall adds to next year's obligation per tonne missing
    # (EU 1; California's untimely surrender 4).
    shortfall_carry_multiple: int = 1

    def deadline(self, year: int) -> dt.date:
        """The surrender deadline for compliance year ``year`` (in year + 1)."""
        return dt.date(year + 1, self.deadline_month, self.deadline_day)

    def offset_cap_bp_in(self, year: int) -> int:
        """The offset cap's share for emissions year ``year``: the last step from that year
        or before, else ``offset_cap_bp``."""
        cap_bp = self.offset_cap_bp
        for step in self.offset_caps:
            if step.from_year <= year:
                cap_bp = step.cap_bp
        return cap_bp


@dataclass(frozen=True, slots=True)
class PenaltyRules:
    kind: str  # "price_multiple" | "fixed"
    multiplier: int
    multiplier_min: int
    multiplier_max: int
    fixed_fen_per_t: int
    # Beside the per-tonne penalty: a fine per entity and year with any shortfall (Guangdong:
    # CNY 50,000), and the tonnes deducted from next year's allocation per tonne of shortfall
    # where ``allocation.deduct_shortfall_next_year`` (national 1, Guangdong 2).
    lump_sum_fen: int
    deduction_multiple: int
    # The price a multiple applies to: the average over this many trading days before the
    # assessment ("the previous month's average price").
    reference_window_days: int


@dataclass(frozen=True, slots=True)
class SettlementRules:
    """Fees, availability (T+N) and the close (docs/rules.md, national: trading)."""

    fee_bp_buy: int
    fee_bp_sell: int
    units_sellable_after_days: int  # units bought on day T can be sold from T + this
    cash_withdrawable_after_days: int  # proceeds reusable at once, withdrawable from T + this
    close_method: str  # "vwap" | "vwap_or_open"
    close_min_volume_t: int  # vwap_or_open: a day's volume at or below this closes at the open
    # The day's open: "first_trade" (national: the first listed trade) or "previous_close"
    # (Guangdong: the previous trading day's close), which a quiet day then closes at.
    open_method: str


@dataclass(frozen=True, slots=True)
class LimitRules:
    """Position limit and large-holder reporting threshold, enforced at order entry."""

    position_limit_t: int
    report_threshold_t: int
    add_allocation: bool  # a covered entity's limits add its own allocation


@dataclass(frozen=True, slots=True)
class HoldingLimitFormula:
    """A holding limit that grows with the market's cap (California-Québec,
    ``[limits.holding_limit]``): ``base_rate_bp`` of the first ``base_t`` of the annual cap,
    plus ``rate_above_bp`` of the rest."""

    base_t: int
    base_rate_bp: int
    rate_above_bp: int
    annual_cap_t: int


def holding_limit_t(formula: HoldingLimitFormula) -> int:
    """The holding limit, rounded down to whole tonnes: base_rate × min(cap, base) +
    rate_above × (cap − base) where the cap is above the base."""
    below = min(formula.annual_cap_t, formula.base_t)
    above = max(0, formula.annual_cap_t - formula.base_t)
    return (below * formula.base_rate_bp + above * formula.rate_above_bp) // BP


@dataclass(frozen=True, slots=True)
class BlockRules:
    """Block agreement trading (大宗协议, docs/rules.md): a quote of at least ``min_qty_t``,
    priced within ±``band_bp`` of the previous listed close, posted and dealt only within
    ``sessions`` (local times); directed quotes (to one named counterparty) when ``directed``;
    the public board shows a quote's price to everyone when ``board_prices``, else only to
    its counterparty. Block deals never set the open or the close."""

    min_qty_t: int
    band_bp: int
    sessions: tuple[tuple[dt.time, dt.time], ...]
    directed: bool
    board_prices: bool


@dataclass(frozen=True, slots=True)
class ReserveRule:
    """An auction's reserve price: ``fixed_fen``, or ``factor_bp`` × the volume-weighted price
    of the listed trades over the last ``window_days`` trading days (the national and
    Guangdong practice), or a price for each year (``schedule``: California-Québec's auction
    reserve price, ``by_year`` as published, each later year the last × (1 +
    ``escalator_bp`` + ``inflation_bp``)), or none (``kind`` ``none``: the EU's, which
    cancels instead)."""

    kind: str  # "fixed", "vwap", "schedule" or "none"
    fixed_fen: int | None = None
    factor_bp: int | None = None
    window_days: int | None = None
    by_year: tuple[tuple[int, int], ...] = ()  # (year, price), in order
    escalator_bp: int = 0
    inflation_bp: int = 0  # assumed for the years after the schedule


@dataclass(frozen=True, slots=True)
class PriceControlRules:
    """California-Québec's price containment (``[price_control]``): the allowance price
    containment reserve's tier prices and the price ceiling, stated for ``base_year`` and
    escalated each later year by ``escalator_bp`` + ``inflation_bp``; a reserve sale is held
    only if the last current auction settled at ``apcr_trigger_bp`` of the lowest tier
    price or more (and once a year before the compliance deadline regardless); only covered
    entities buy, and at the ceiling only what they lack for the next deadline."""

    base_year: int
    tiers_fen: tuple[int, ...]  # lowest first
    ceiling_fen: int
    escalator_bp: int
    inflation_bp: int
    apcr_trigger_bp: int


@dataclass(frozen=True, slots=True)
class AuctionRules:
    """Sealed-bid auctions (``[auction]``, ``settlement.auction``): a seller
    offers a volume in lots of ``lot_t``; bids of at least ``min_bid_t``, a bidder at most
    ``max_share_bp`` of the volume (None: no cap), a covered entity at most
    ``covered_max_share_bp`` where that differs (California-Québec's purchase limits: 25 %
    for emitters, 4 % for others); withdrawable or amendable in the window when
    ``bids_revocable``; held in cash at entry by ``collateral``: ``full`` (each bid's whole
    value) or ``guarantee`` (the bidder's largest possible payment at a uniform price: the
    most, over its bid prices, of that price × what it bid at that price or higher); cleared
    at the window's end by ``pricing``, ``tie_break`` and ``undersubscribed``, cancelled below
    the secondary market by ``cancel_below_secondary_bp`` (None: never); what is unsold goes
    to ``unsold_to`` (``seller``, ``reserve``, or ``next_auctions``: spread over the next
    ``spread_over``); units delivered ``delivery_lag_days`` trading days after the auction;
    the result published to participants ``results_lag_days`` trading days after it (each
    bidder sees its own award at once)."""

    pricing: str
    tie_break: str
    undersubscribed: str
    lot_t: int
    min_bid_t: int
    max_share_bp: int | None
    bids_revocable: bool
    collateral: str
    reserve: ReserveRule
    cancel_below_secondary_bp: int | None
    unsold_to: str
    spread_over: int
    windows: tuple[tuple[dt.time, dt.time], ...]
    delivery_lag_days: int
    covered_max_share_bp: int | None = None  # None: max_share_bp for every bidder
    results_lag_days: int = 0


@dataclass(frozen=True, slots=True)
class MsrRules:
    """The EU's Market Stability Reserve (``[msr]``): with the total number of allowances in
    circulation (TNAC) above ``upper_t``, ``intake_bp`` of it goes into the reserve from the
    next twelve months' auctions; between ``lower_t`` and ``upper_t``, what is above
    ``lower_t``; below ``release_below_t``, ``release_t`` comes out of the reserve into the
    auctions."""

    upper_t: int
    lower_t: int
    intake_bp: int
    release_below_t: int
    release_t: int


# The languages a screen shows (the UI's locales); every display name is given in each.
LANGUAGES = ("zh-CN", "en")
Names = Mapping[str, Mapping[str, str]]  # what → language → name


@dataclass(frozen=True, slots=True)
class UnitNames:
    """What screens call a market's units, in each of ``LANGUAGES`` (``registry_sim.names``
    puts them together): each unit kind's name in this market (CEA is 全国碳排放配额 in the
    national market, EUA in the EU's), and the words for an offset project's methodology and
    province (the shared vocabulary, ``rulesets/vocabulary/names.toml``)."""

    kinds: Names
    methodologies: Names
    provinces: Names


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class CalendarRules:
    """Trading days and the day's schedule in the rule set's time zone."""

    timezone: str
    weekdays: tuple[int, ...]  # 0 = Monday, as datetime.date.weekday()
    holidays: frozenset[dt.date]
    pre_open: dt.time
    sessions: tuple[tuple[dt.time, dt.time], ...]  # of the continuous book's mode
    day_end: dt.time

    def is_trading_day(self, day: dt.date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def local_date(self, ts_ns: int) -> dt.date:
        """The local date of market time ``ts_ns``."""
        return dt.datetime.fromtimestamp(ts_ns // NS_PER_S, ZoneInfo(self.timezone)).date()

    def ts_ns(self, day: dt.date, at: dt.time) -> int:
        """The market time (ns since the Unix epoch, UTC) of local time ``at`` on ``day``.

        Integer arithmetic on the timedelta, because a float timestamp loses nanoseconds. A
        local time that does not exist (inside a spring-forward gap) resolves as Python's
        ``fold=0`` does: it is read with the offset before the change, i.e. pushed forward by
        the gap. An ambiguous one (fall-back) takes its first occurrence.
        """
        delta = dt.datetime.combine(day, at, tzinfo=ZoneInfo(self.timezone)) - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000


@dataclass(frozen=True, slots=True)
class RuleSet:
    name: str
    title: str
    language: str  # one of LANGUAGES: what its market's documents default to (a class's CSV)
    currency: str
    trading: Mapping[str, Any]  # read by matching.instrument_from_rules
    listed: ModeRules  # the continuous book's mode: its limits and how its orders meet
    allocation: AllocationRules
    compliance: ComplianceRules
    penalty: PenaltyRules
    settlement: SettlementRules
    limits: LimitRules | None  # None: no position limit
    block: BlockRules | None  # None: the market offers no block trading
    auction: AuctionRules | None  # None: the rule set states no auctions
    msr: MsrRules | None  # None: no market stability reserve
    price_control: PriceControlRules | None  # None: no reserve sales, no ceiling
    calendar: CalendarRules
    names: UnitNames


class _Reader:
    """Reads typed values out of nested tables, naming the path of anything wrong."""

    def __init__(self, ruleset: str) -> None:
        self.ruleset = ruleset

    def fail(self, path: str, reason: str) -> RuleSetError:
        return RuleSetError(self.ruleset, path, reason)

    def table(self, data: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
        path = f"{where}.{key}" if where else key
        value = data.get(key)
        if not isinstance(value, Mapping):
            raise self.fail(path, "missing table" if value is None else "expected a table")
        return value

    def optional_table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
        """A top-level table a rule set may leave out (None when it does)."""
        return None if data.get(key) is None else self.table(data, key)

    def integer(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        *,
        low: int | None = None,
        high: int | None = None,
    ) -> int:
        path = f"{where}.{key}"
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(path, f"expected a whole number, got {value!r}")
        if low is not None and value < low:
            raise self.fail(path, f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise self.fail(path, f"must be at most {high}, got {value}")
        return value

    def boolean(self, data: Mapping[str, Any], key: str, where: str) -> bool:
        value = data.get(key)
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key}", f"expected true or false, got {value!r}")
        return value

    def text(
        self, data: Mapping[str, Any], key: str, where: str, *, choices: tuple[str, ...] = ()
    ) -> str:
        value = data.get(key)
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"expected text, got {value!r}")
        if choices and value not in choices:
            raise self.fail(f"{where}.{key}", f"must be one of {list(choices)}, got {value!r}")
        return value

    def texts(self, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{where}.{key}", f"expected a list of text, got {value!r}")
        return tuple(value)

    def date(self, data: Mapping[str, Any], key: str, where: str) -> dt.date | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise self.fail(f"{where}.{key}", f"expected a date (YYYY-MM-DD), got {value!r}")
        return value


def parse_rules(name: str, data: Mapping[str, Any]) -> RuleSet:
    """Validate a rule set's nested mapping (as read from TOML) into a ``RuleSet``."""
    r = _Reader(name)
    trading = r.table(data, "trading")
    currency = r.text(trading, "currency", "trading")

    a = r.table(data, "allocation")
    allocation = AllocationRules(
        pre_allocation_share_bp=r.integer(
            a, "pre_allocation_share_bp", "allocation", low=0, high=BP
        ),
        gap_cap_bp=r.integer(a, "gap_cap_bp", "allocation", low=0, high=BP),
        gas_fired_top_up=r.boolean(a, "gas_fired_top_up", "allocation"),
        alpha_min_bp=r.integer(a, "alpha_min_bp", "allocation", low=-BP + 1, high=BP),
        alpha_max_bp=r.integer(a, "alpha_max_bp", "allocation", low=-BP + 1, high=BP),
        deduct_shortfall_next_year=r.boolean(a, "deduct_shortfall_next_year", "allocation"),
    )
    if allocation.alpha_min_bp > allocation.alpha_max_bp:
        raise r.fail("allocation.alpha_min_bp", "must not exceed allocation.alpha_max_bp")

    c = r.table(data, "compliance")
    deadline = r.text(c, "deadline", "compliance")
    try:
        month, day = (int(part) for part in deadline.split("-"))
        dt.date(2001, month, day)  # a year that is not a leap year: no 29 February
    except ValueError:
        raise r.fail("compliance.deadline", f"expected MM-DD, got {deadline!r}") from None
    windows = []
    raw_windows = c.get("offset_windows", [])
    if not isinstance(raw_windows, list):
        raise r.fail("compliance.offset_windows", "expected a list of tables")
    for i, w in enumerate(raw_windows):
        at = f"compliance.offset_windows[{i}]"
        if not isinstance(w, Mapping):
            raise r.fail(at, "expected a table")
        windows.append(
            OffsetWindow(
                r.date(w, "registered_after", at),
                r.date(w, "registered_before", at),
                r.date(w, "usable_until", at),
                r.date(w, "started_after", at),
                r.date(w, "reductions_after", at),
            )
        )
    old: OldVintageRules | None = None
    if "old_vintages" in c:
        o = r.table(c, "old_vintages", "compliance")
        at = "compliance.old_vintages"
        old = OldVintageRules(
            from_year=r.integer(o, "from_year", at, low=1),
            max_vintage=r.integer(o, "max_vintage", at, low=1),
            cap_base_t=r.integer(o, "cap_base_t", at, low=0),
            net_sales_multiplier_bp=r.integer(o, "net_sales_multiplier_bp", at, low=0),
            net_sales_from=r.date(o, "net_sales_from", at),
            net_sales_until=r.date(o, "net_sales_until", at),
        )
        if (old.net_sales_from is None) != (old.net_sales_until is None):
            raise r.fail(f"{at}.net_sales_until", "net_sales_from and net_sales_until go together")
        if old.net_sales_from and old.net_sales_until and old.net_sales_from > old.net_sales_until:
            raise r.fail(f"{at}.net_sales_until", "must not be before net_sales_from")
    local = c.get("local_province") or None
    if local is not None and not isinstance(local, str):
        raise r.fail("compliance.local_province", f"expected text, got {local!r}")
    carry_multiple = 1  # absent: a carried shortfall is owed once
    if "shortfall_carry_multiple" in c:
        carry_multiple = r.integer(c, "shortfall_carry_multiple", "compliance", low=1, high=100)
    compliance = ComplianceRules(
        deadline_month=month,
        deadline_day=day,
        offset_cap_basis=r.text(
            c, "offset_cap_basis", "compliance", choices=("obligation", "previous_year_emissions")
        ),
        offset_cap_bp=r.integer(c, "offset_cap_bp", "compliance", low=0, high=BP),
        offset_unit_kinds=r.texts(c, "offset_unit_kinds", "compliance"),
        exclude_inside_ets_scope=r.boolean(c, "exclude_inside_ets_scope", "compliance"),
        allowed_methodologies=r.texts(c, "allowed_methodologies", "compliance"),
        offset_windows=tuple(windows),
        local_province=local,
        local_min_share_bp=r.integer(c, "local_min_share_bp", "compliance", low=0, high=BP),
        borrowing=r.boolean(c, "borrowing", "compliance"),
        shortfall_carries_over=r.boolean(c, "shortfall_carries_over", "compliance"),
        old_vintages=old,
        offset_caps=_offset_caps(r, c),
        shortfall_carry_multiple=carry_multiple,
    )
    if compliance.shortfall_carry_multiple != 1 and not compliance.shortfall_carries_over:
        raise r.fail("compliance.shortfall_carry_multiple", "needs shortfall_carries_over = true")
    for kind in compliance.offset_unit_kinds:
        if kind not in ("CCER", "PHCER"):
            raise r.fail("compliance.offset_unit_kinds", f"unknown offset unit kind {kind!r}")
    if compliance.local_min_share_bp and compliance.local_province is None:
        raise r.fail("compliance.local_province", "needed when local_min_share_bp is set")

    p = r.table(data, "penalty")
    penalty = PenaltyRules(
        kind=r.text(p, "kind", "penalty", choices=("price_multiple", "fixed")),
        multiplier=r.integer(p, "multiplier", "penalty", low=0),
        multiplier_min=r.integer(p, "multiplier_min", "penalty", low=0),
        multiplier_max=r.integer(p, "multiplier_max", "penalty", low=0),
        fixed_fen_per_t=r.integer(p, "fixed_fen_per_t", "penalty", low=0),
        lump_sum_fen=r.integer(p, "lump_sum_fen", "penalty", low=0),
        deduction_multiple=r.integer(p, "deduction_multiple", "penalty", low=1, high=100),
        reference_window_days=r.integer(p, "reference_window_days", "penalty", low=1),
    )
    if not penalty.multiplier_min <= penalty.multiplier <= penalty.multiplier_max:
        raise r.fail(
            "penalty.multiplier",
            f"must lie in [{penalty.multiplier_min}, {penalty.multiplier_max}], "
            f"got {penalty.multiplier}",
        )
    title = data.get("title", name)
    language = data.get("language", "en")
    if language not in LANGUAGES:
        raise r.fail("language", f"must be one of {list(LANGUAGES)}, got {language!r}")
    return RuleSet(
        name=name,
        title=str(title),
        language=language,
        currency=currency,
        trading=trading,
        listed=_listed(r, trading),
        allocation=allocation,
        compliance=compliance,
        penalty=penalty,
        settlement=_settlement(r, data),
        limits=_limits(r, data),
        block=_block(r, trading),
        auction=_auction(r, data),
        msr=_msr(r, data),
        price_control=_price_control(r, data),
        calendar=_calendar(r, data, trading),
        names=_names(r, data),
    )


def _offset_caps(r: _Reader, c: Mapping[str, Any]) -> tuple[OffsetCapStep, ...]:
    """``[[compliance.offset_caps]]``: the offset cap's steps by emissions year, in order."""
    raw = c.get("offset_caps", [])
    if not isinstance(raw, list):
        raise r.fail("compliance.offset_caps", "expected a list of tables")
    steps: list[OffsetCapStep] = []
    for i, step in enumerate(raw):
        at = f"compliance.offset_caps[{i}]"
        if not isinstance(step, Mapping):
            raise r.fail(at, "expected a table")
        steps.append(
            OffsetCapStep(
                from_year=r.integer(step, "from_year", at, low=1),
                cap_bp=r.integer(step, "cap_bp", at, low=0, high=BP),
            )
        )
        if len(steps) > 1 and not steps[-2].from_year < steps[-1].from_year:
            raise r.fail(f"{at}.from_year", "steps must be in order of year, one per year")
    return tuple(steps)


def _settlement(r: _Reader, data: Mapping[str, Any]) -> SettlementRules:
    s = r.table(data, "settlement")
    at = "settlement"
    return SettlementRules(
        fee_bp_buy=r.integer(s, "fee_bp_buy", at, low=0, high=BP - 1),
        fee_bp_sell=r.integer(s, "fee_bp_sell", at, low=0, high=BP - 1),
        units_sellable_after_days=r.integer(s, "units_sellable_after_days", at, low=0, high=30),
        cash_withdrawable_after_days=r.integer(
            s, "cash_withdrawable_after_days", at, low=0, high=30
        ),
        close_method=r.text(s, "close_method", at, choices=("vwap", "vwap_or_open")),
        close_min_volume_t=r.integer(s, "close_min_volume_t", at, low=0),
        open_method=r.text(s, "open_method", at, choices=("first_trade", "previous_close")),
    )


def _limits(r: _Reader, data: Mapping[str, Any]) -> LimitRules | None:
    if "limits" not in data:
        return None
    lim = r.table(data, "limits")
    if "holding_limit" in lim:
        if "position_limit_t" in lim:
            raise r.fail("limits.position_limit_t", "give it or limits.holding_limit, not both")
        h = r.table(lim, "holding_limit", "limits")
        at = "limits.holding_limit"
        formula = HoldingLimitFormula(
            base_t=r.integer(h, "base_t", at, low=0),
            base_rate_bp=r.integer(h, "base_rate_bp", at, low=0, high=BP),
            rate_above_bp=r.integer(h, "rate_above_bp", at, low=0, high=BP),
            annual_cap_t=r.integer(h, "annual_cap_t", at, low=1),
        )
        position_limit = holding_limit_t(formula)
        if position_limit < 1:
            raise r.fail(at, f"the holding limit must be at least 1 t, got {position_limit}")
    else:
        position_limit = r.integer(lim, "position_limit_t", "limits", low=1)
    threshold = position_limit  # absent: a holding reports only at the limit
    if "report_threshold_t" in lim:
        threshold = r.integer(lim, "report_threshold_t", "limits", low=1)
    limits = LimitRules(
        position_limit_t=position_limit,
        report_threshold_t=threshold,
        add_allocation=r.boolean(lim, "add_allocation", "limits"),
    )
    if limits.report_threshold_t > limits.position_limit_t:
        raise r.fail("limits.report_threshold_t", "must not exceed limits.position_limit_t")
    return limits


def _names(r: _Reader, data: Mapping[str, Any]) -> UnitNames:
    """``[names]``: a name in every language for each unit kind (the market's own for CEA, the
    vocabulary's for the offsets), and the shared words for methodologies and provinces."""
    n = r.table(data, "names")

    def names(key: str, required: tuple[str, ...] = ()) -> Names:
        table = r.table(n, key, "names")
        for what in required:
            if what not in table:
                raise r.fail(f"names.{key}.{what}", "missing: every market has these units")
        found: dict[str, dict[str, str]] = {}
        for what, by_language in table.items():
            at = f"names.{key}.{what}"
            if not isinstance(by_language, Mapping):
                raise r.fail(at, f"expected a table of {list(LANGUAGES)}, got {by_language!r}")
            for language in LANGUAGES:
                if not isinstance(by_language.get(language), str) or not by_language[language]:
                    raise r.fail(f"{at}.{language}", "expected a name (non-empty text)")
            found[str(what)] = {language: by_language[language] for language in LANGUAGES}
        return found

    return UnitNames(
        kinds=names("kinds", ("CEA",)),
        methodologies=names("methodologies"),
        provinces=names("provinces"),
    )


def _clock_time(r: _Reader, value: object, path: str) -> dt.time:
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            pass
    raise r.fail(path, f"expected a time HH:MM, got {value!r}")


def _sessions(r: _Reader, raw: object, where: str) -> list[tuple[dt.time, dt.time]]:
    """A list of [open, close] local times, in order and not overlapping."""
    if not isinstance(raw, list) or not raw:
        raise r.fail(where, f"expected a list of [open, close] times, got {raw!r}")
    sessions: list[tuple[dt.time, dt.time]] = []
    for i, pair in enumerate(raw):
        if not isinstance(pair, list) or len(pair) != 2:
            raise r.fail(f"{where}[{i}]", f"expected [open, close], got {pair!r}")
        start, end = (_clock_time(r, v, f"{where}[{i}]") for v in pair)
        if not start < end or (sessions and not sessions[-1][1] <= start):
            raise r.fail(f"{where}[{i}]", "sessions must be in order and not overlap")
        sessions.append((start, end))
    return sessions


def _listed(r: _Reader, trading: Mapping[str, Any]) -> ModeRules:
    """The book mode's rules, read by the matching engine's own reader (one reader of
    ``[trading]``): limits, band, and how orders meet (``matching``, ``take_levels``,
    ``strict_price_priority``, ``partial_take``)."""
    try:
        return instrument_from_rules("rules", trading).book_rules
    except RuleDataError as error:
        path, _, reason = str(error).partition(": ")
        raise r.fail(path, reason) from None


def _block(r: _Reader, trading: Mapping[str, Any]) -> BlockRules | None:
    """``[trading.modes.block]``, when the market offers block trading and has it enabled."""
    modes = trading.get("modes")
    block = modes.get("block") if isinstance(modes, Mapping) else None
    if block is None:
        return None
    at = "trading.modes.block"
    if not isinstance(block, Mapping):
        raise r.fail(at, "expected a table")
    if not r.boolean(block, "enabled", at):
        return None
    return BlockRules(
        min_qty_t=r.integer(block, "min_qty_t", at, low=1),
        band_bp=r.integer(block, "band_bp", at, low=0, high=BP - 1),
        sessions=tuple(_sessions(r, block.get("sessions"), f"{at}.sessions")),
        directed=r.boolean(block, "directed", at),
        board_prices=r.boolean(block, "board_prices", at),
    )


def _auction(r: _Reader, data: Mapping[str, Any]) -> AuctionRules | None:
    """``[auction]``, when the rule set states its auctions."""
    a = r.optional_table(data, "auction")
    if a is None:
        return None
    at = "auction"
    reserve = r.table(a, "reserve", at)
    kinds = ("fixed", "vwap", "schedule", "none")
    kind = r.text(reserve, "kind", f"{at}.reserve", choices=kinds)
    where = f"{at}.reserve"
    scheduled = kind == "schedule"
    rule = ReserveRule(
        kind,
        fixed_fen=r.integer(reserve, "fixed_fen", where, low=1) if kind == "fixed" else None,
        factor_bp=r.integer(reserve, "factor_bp", where, low=1) if kind == "vwap" else None,
        window_days=r.integer(reserve, "window_days", where, low=1) if kind == "vwap" else None,
        by_year=_by_year(r, reserve.get("by_year"), f"{where}.by_year") if scheduled else (),
        escalator_bp=r.integer(reserve, "escalator_bp", where, low=0) if scheduled else 0,
        inflation_bp=r.integer(reserve, "inflation_bp", where, low=0) if scheduled else 0,
    )
    unsold_to = r.text(a, "unsold_to", at, choices=("seller", "reserve", "next_auctions"))
    lot = r.integer(a, "lot_t", at, low=1)
    rules = AuctionRules(
        pricing=r.text(a, "pricing", at, choices=("uniform", "pay_as_bid")),
        tie_break=r.text(a, "tie_break", at, choices=("time", "draw", "pro_rata")),
        undersubscribed=r.text(a, "undersubscribed", at, choices=("fill", "cancel")),
        lot_t=lot,
        min_bid_t=r.integer(a, "min_bid_t", at, low=1),
        max_share_bp=_optional_bp(r, a, "max_share_bp", at),
        bids_revocable=r.boolean(a, "bids_revocable", at),
        collateral=r.text(a, "collateral", at, choices=("full", "guarantee")),
        reserve=rule,
        cancel_below_secondary_bp=_optional_bp(r, a, "cancel_below_secondary_bp", at),
        unsold_to=unsold_to,
        spread_over=r.integer(a, "spread_over", at, low=1 if unsold_to == "next_auctions" else 0),
        windows=tuple(_sessions(r, a.get("windows"), f"{at}.windows")),
        delivery_lag_days=r.integer(a, "delivery_lag_days", at, low=0, high=30),
        covered_max_share_bp=_optional_bp(r, a, "covered_max_share_bp", at),
        results_lag_days=r.integer(a, "results_lag_days", at, low=0, high=30)
        if "results_lag_days" in a
        else 0,
    )
    if rules.min_bid_t % lot:
        raise r.fail(f"{at}.min_bid_t", f"must be a whole number of lots of {lot} t")
    if rules.collateral == "guarantee" and rules.pricing != "uniform":
        # Paying its own prices, a bidder may owe more than its largest uniform payment.
        raise r.fail(f"{at}.collateral", "a guarantee covers uniform pricing only")
    return rules


def _by_year(r: _Reader, rows: object, at: str) -> tuple[tuple[int, int], ...]:
    """``[[year, price], ...]``: whole numbers, years rising, prices positive."""
    if not isinstance(rows, list) or not rows:
        raise r.fail(at, f"expected [[year, price], ...], got {rows!r}")
    out: list[tuple[int, int]] = []
    for i, row in enumerate(rows):
        if (
            not isinstance(row, list)
            or len(row) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in row)
            or (out and row[0] <= out[-1][0])
        ):
            raise r.fail(f"{at}[{i}]", f"expected [year, price] after {out[-1:]}, got {row!r}")
        out.append((row[0], row[1]))
    return tuple(out)


def _price_control(r: _Reader, data: Mapping[str, Any]) -> PriceControlRules | None:
    p = r.optional_table(data, "price_control")
    if p is None:
        return None
    at = "price_control"
    tiers = p.get("tiers_fen")
    if (
        not isinstance(tiers, list)
        or not tiers
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in tiers)
        or tiers != sorted(set(tiers))
    ):
        raise r.fail(f"{at}.tiers_fen", f"expected rising positive prices, got {tiers!r}")
    rules = PriceControlRules(
        base_year=r.integer(p, "base_year", at, low=2000, high=2100),
        tiers_fen=tuple(tiers),
        ceiling_fen=r.integer(p, "ceiling_fen", at, low=1),
        escalator_bp=r.integer(p, "escalator_bp", at, low=0, high=BP),
        inflation_bp=r.integer(p, "inflation_bp", at, low=0, high=BP),
        apcr_trigger_bp=r.integer(p, "apcr_trigger_bp", at, low=1, high=BP),
    )
    if rules.ceiling_fen <= tiers[-1]:
        raise r.fail(f"{at}.ceiling_fen", "the ceiling is above the highest tier")
    return rules


def _optional_bp(r: _Reader, data: Mapping[str, Any], key: str, at: str) -> int | None:
    return None if data.get(key) is None else r.integer(data, key, at, low=1, high=BP)


def _msr(r: _Reader, data: Mapping[str, Any]) -> MsrRules | None:
    m = r.optional_table(data, "msr")
    if m is None:
        return None
    rules = MsrRules(
        upper_t=r.integer(m, "upper_t", "msr", low=1),
        lower_t=r.integer(m, "lower_t", "msr", low=1),
        intake_bp=r.integer(m, "intake_bp", "msr", low=0, high=BP),
        release_below_t=r.integer(m, "release_below_t", "msr", low=0),
        release_t=r.integer(m, "release_t", "msr", low=0),
    )
    if not rules.release_below_t <= rules.lower_t <= rules.upper_t:
        raise r.fail("msr", "expected release_below_t <= lower_t <= upper_t")
    return rules


def _calendar(r: _Reader, data: Mapping[str, Any], trading: Mapping[str, Any]) -> CalendarRules:
    c = r.table(data, "calendar")
    at = "calendar"
    names = r.texts(c, "weekdays", at)
    unknown = [n for n in names if n not in WEEKDAYS]
    if unknown or not names:
        raise r.fail(f"{at}.weekdays", f"expected names out of {list(WEEKDAYS)}, got {names!r}")
    raw_holidays = c.get("holidays", [])
    if not isinstance(raw_holidays, list) or not all(
        isinstance(d, dt.date) and not isinstance(d, dt.datetime) for d in raw_holidays
    ):
        raise r.fail(f"{at}.holidays", f"expected a list of dates, got {raw_holidays!r}")
    timezone = r.text(data, "timezone", "") if "timezone" in data else "UTC"
    mode = trading.get("modes", {}).get(trading.get("book_mode"), {})
    raw_sessions = mode.get("sessions") if isinstance(mode, Mapping) else None
    sessions = _sessions(r, raw_sessions, f"trading.modes.{trading.get('book_mode')}.sessions")
    calendar = CalendarRules(
        timezone=timezone,
        weekdays=tuple(sorted(WEEKDAYS.index(n) for n in set(names))),
        holidays=frozenset(raw_holidays),
        pre_open=_clock_time(r, c.get("pre_open"), f"{at}.pre_open"),
        sessions=tuple(sessions),
        day_end=_clock_time(r, c.get("day_end"), f"{at}.day_end"),
    )
    if not calendar.pre_open <= sessions[0][0]:
        raise r.fail(f"{at}.pre_open", "must not be after the first session opens")
    if not sessions[-1][1] <= calendar.day_end:
        raise r.fail(f"{at}.day_end", "must not be before the last session closes")
    return calendar


def load_rules(name: str, overrides: Mapping[str, Any] | None = None) -> RuleSet:
    """The shipped rule set ``name`` with per-market ``overrides``, validated; an override of
    a field no rule set has is refused."""
    try:
        data = load_ruleset(name, overrides)
    except UnknownRuleError as unknown:
        raise RuleSetError(name, unknown.path, unknown.reason) from None
    return parse_rules(name, data)
