"""Price containment (California-Québec, docs/auctions.md), pure: the allowance price
containment reserve's tiers and the price ceiling for a year, whether a reserve sale is
held, and how much a covered entity may buy at the ceiling.

The prices are stated for the rule set's ``base_year`` and rise each later year by the
escalator plus inflation (5 % + CPI-U in California), rounded to the cent each year. A
reserve sale is held when the last current auction settled at ``apcr_trigger_bp`` of the
lowest tier price or more (60 %); the rule that one sale is held before each compliance
deadline regardless is the caller's (it knows the calendar). At the ceiling a covered entity
buys only what it lacks for the next deadline, and only once the tiers are sold out.
"""

from __future__ import annotations

from registry_sim.rules import BP, PriceControlRules
from settlement.auction import escalated


def tier_prices(rules: PriceControlRules, year: int) -> tuple[int, ...]:
    """The reserve tiers' prices in ``year``, lowest first."""
    return tuple(_in_year(rules, price, year) for price in rules.tiers_fen)


def ceiling_price(rules: PriceControlRules, year: int) -> int:
    """The price ceiling in ``year``."""
    return _in_year(rules, rules.ceiling_fen, year)


def reserve_sale_held(rules: PriceControlRules, year: int, last_settlement_fen: int) -> bool:
    """Whether a reserve sale is held after a current auction that settled at
    ``last_settlement_fen``: at ``apcr_trigger_bp`` of the lowest tier price or more."""
    return last_settlement_fen * BP >= tier_prices(rules, year)[0] * rules.apcr_trigger_bp


def ceiling_allowance_t(obligation_t: int, holdings_t: int, tiers_left_t: int, asked_t: int) -> int:
    """What a covered entity may buy at the ceiling: nothing while reserve tier units are
    left; else what it asks, up to what it lacks for the next deadline (its obligation less
    the compliance instruments it holds)."""
    if tiers_left_t > 0:
        return 0
    return max(0, min(asked_t, obligation_t - holdings_t))


def _in_year(rules: PriceControlRules, price: int, year: int) -> int:
    years = max(0, year - rules.base_year)
    return escalated(price, rules.escalator_bp + rules.inflation_bp, years)
