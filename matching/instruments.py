"""Instruments (交易品种) built from rule data: tick, lot, per-mode order limits and price bands.

An ``Instrument`` is static for the life of a market. What changes during a day (reference
price, band, trading state) lives in the order book.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from matching.types import Matching, Symbol

BP_PER_UNIT = 10_000  # basis points in 100 %


class RuleDataError(ValueError):
    """Rule data that cannot describe an instrument: a missing or impossible number."""


@dataclass(frozen=True, slots=True)
class ModeRules:
    """Limits of one trading mode (交易方式), e.g. listed agreement (挂牌协议) or block (大宗协议).

    ``max_qty_t`` of ``None`` means no upper limit. ``band_bp`` is the half-width of the price
    band in basis points of the reference price (1000 = ±10 %).

    ``matching`` says how the mode's orders meet: price-time crossing, point-select (a taker
    names a resting quote, 摘牌) or both. A take may name a quote among the counter side's
    best ``take_levels`` price levels; with ``strict_price_priority`` only the first quote in
    price-time priority; with ``partial_take`` for less than the quote's open quantity.
    ``take_levels`` is 0 where the mode offers no point-select.
    """

    name: str
    min_qty_t: int
    max_qty_t: int | None
    band_bp: int
    matching: Matching = Matching.PRICE_TIME
    take_levels: int = 0
    strict_price_priority: bool = False
    partial_take: bool = True

    @property
    def crosses(self) -> bool:
        """Whether a marketable order trades against the book (else it is refused)."""
        return self.matching is not Matching.POINT_SELECT

    @property
    def takes(self) -> bool:
        """Whether a taker may name a resting quote (point-select)."""
        return self.matching is not Matching.PRICE_TIME


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable unit type: one CEA vintage (CEA24) or one class of CCER."""

    symbol: Symbol
    currency: str
    tick_fen: int
    lot_t: int
    modes: tuple[ModeRules, ...]
    book_mode: str

    def mode(self, name: str) -> ModeRules:
        for mode in self.modes:
            if mode.name == name:
                return mode
        raise KeyError(f"{self.symbol} has no trading mode {name!r}")

    @property
    def book_rules(self) -> ModeRules:
        """The rules of the mode the continuous order book trades in."""
        return self.mode(self.book_mode)

    def band(self, reference_price_fen: int, mode: str | None = None) -> tuple[int, int]:
        """The inclusive price band (lower, upper) around ``reference_price_fen``.

        Both edges are rounded inward to the tick, so every price in the band is tradable and
        none lies beyond the percentage (docs/rules.md, national: bands use the previous close,
        rounded inward to the tick). The lower edge is never below one tick.
        """
        rules = self.book_rules if mode is None else self.mode(mode)
        tick = self.tick_fen
        scale = BP_PER_UNIT * tick
        upper = reference_price_fen * (BP_PER_UNIT + rules.band_bp) // scale * tick
        lower = -(-reference_price_fen * (BP_PER_UNIT - rules.band_bp) // scale) * tick
        return max(lower, tick), upper


def _int(data: Mapping[str, Any], key: str, where: str, *, minimum: int) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RuleDataError(f"{where}.{key}: expected a whole number, got {value!r}")
    if value < minimum:
        raise RuleDataError(f"{where}.{key}: must be at least {minimum}, got {value}")
    return value


def _bool(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise RuleDataError(f"{where}.{key}: expected true or false, got {value!r}")
    return value


def _matching(data: Mapping[str, Any], at: str) -> tuple[Matching, int, bool, bool]:
    """A mode's ``matching`` and its point-select fields (``take_levels``,
    ``strict_price_priority``, ``partial_take``), required unless the mode only crosses."""
    raw = data.get("matching", Matching.PRICE_TIME.value)
    if raw not in tuple(Matching):
        choices = [m.value for m in Matching]
        raise RuleDataError(f"{at}.matching: expected one of {choices}, got {raw!r}")
    matching = Matching(raw)
    if matching is Matching.PRICE_TIME and "take_levels" not in data:
        return matching, 0, False, True
    take_levels = _int(data, "take_levels", at, minimum=1)
    strict = _bool(data, "strict_price_priority", at)
    partial = _bool(data, "partial_take", at)
    if strict and take_levels != 1:
        raise RuleDataError(
            f"{at}.strict_price_priority: only the first quote at the best price may be taken, "
            f"so take_levels must be 1, got {take_levels}"
        )
    return matching, take_levels, strict, partial


def instrument_from_rules(symbol: str, trading: Mapping[str, Any]) -> Instrument:
    """Build an instrument from a rule set's ``[trading]`` table (see ``registry_sim/rulesets``).

    The table gives ``currency``, ``tick_fen``, ``lot_t``, ``book_mode`` and one table per mode
    under ``modes`` with ``min_qty_t``, optional ``max_qty_t`` and ``band_bp``, and how its
    orders meet: ``matching`` (default ``price_time``) with ``take_levels``,
    ``strict_price_priority`` and ``partial_take`` where point-select is offered.
    """
    where = "trading"
    currency = trading.get("currency")
    if not isinstance(currency, str) or not currency:
        raise RuleDataError(f"{where}.currency: expected a currency code, got {currency!r}")
    tick = _int(trading, "tick_fen", where, minimum=1)
    lot = _int(trading, "lot_t", where, minimum=1)
    raw_modes = trading.get("modes")
    if not isinstance(raw_modes, Mapping) or not raw_modes:
        raise RuleDataError(f"{where}.modes: expected at least one trading mode")
    modes = []
    for name, data in raw_modes.items():
        at = f"{where}.modes.{name}"
        if not isinstance(data, Mapping):
            raise RuleDataError(f"{at}: expected a table")
        min_qty = _int(data, "min_qty_t", at, minimum=lot)
        max_qty = None
        if "max_qty_t" in data:
            max_qty = _int(data, "max_qty_t", at, minimum=min_qty)
        band_bp = _int(data, "band_bp", at, minimum=0)
        if band_bp >= BP_PER_UNIT:
            raise RuleDataError(f"{at}.band_bp: must be below {BP_PER_UNIT}, got {band_bp}")
        modes.append(ModeRules(str(name), min_qty, max_qty, band_bp, *_matching(data, at)))
    book_mode = trading.get("book_mode")
    if book_mode not in raw_modes:
        raise RuleDataError(f"{where}.book_mode: {book_mode!r} is not one of {sorted(raw_modes)}")
    return Instrument(Symbol(symbol), currency, tick, lot, tuple(modes), str(book_mode))
