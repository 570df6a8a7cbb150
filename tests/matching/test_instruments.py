"""Instruments built from rule data: limits, modes and the price band (docs/matching.md)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest

from matching import Instrument, Matching, ModeRules, RuleDataError, Symbol, instrument_from_rules
from tests.matching.conftest import cn_instrument, cn_trading


def doc_band(ref: int, bp: int, tick: int) -> tuple[int, int]:
    """The band exactly as docs/matching.md writes it, in exact arithmetic."""
    low = Fraction(ref) * (1 - Fraction(bp, 10_000)) / tick
    high = Fraction(ref) * (1 + Fraction(bp, 10_000)) / tick
    return max(math.ceil(low) * tick, tick), math.floor(high) * tick


def test_cn_national_instrument() -> None:
    instrument = cn_instrument("CEA25")
    assert instrument == Instrument(
        symbol=Symbol("CEA25"),
        currency="CNY",
        tick_fen=1,
        lot_t=1,
        modes=(
            ModeRules("listed", 1, 99_999, 1_000, Matching.BOTH, 5, False, True),
            ModeRules("block", 100_000, None, 3_000),
        ),
        book_mode="listed",
    )
    assert instrument.book_rules == ModeRules(
        "listed", 1, 99_999, 1_000, Matching.BOTH, 5, False, True
    )
    assert instrument.book_rules.crosses
    assert instrument.book_rules.takes
    assert instrument.mode("block").matching is Matching.PRICE_TIME
    assert instrument.mode("block").max_qty_t is None


def test_unknown_mode_lookup_fails() -> None:
    with pytest.raises(KeyError, match="auction"):
        cn_instrument().mode("auction")


def test_band_at_sixty_yuan() -> None:
    instrument = cn_instrument()
    assert instrument.band(6000) == (5400, 6600)
    assert instrument.band(6000, "block") == (4200, 7800)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        # 6005 * 0.9 = 5404.5 -> up to 5405; 6005 * 1.1 = 6605.5 -> down to 6605
        (6005, (5405, 6605)),
        # 6015 * 0.9 = 5413.5 -> 5415; 6015 * 1.1 = 6616.5 -> 6615
        (6015, (5415, 6615)),
        # 4995 * 0.9 = 4495.5 -> 4500; 4995 * 1.1 = 5494.5 -> 5490
        (4995, (4500, 5490)),
        # exact multiples stay where they are
        (5000, (4500, 5500)),
        # odd reference off the tick: 6003 * 0.9 = 5402.7 -> 5405; 6603.3 -> 6600
        (6003, (5405, 6600)),
    ],
)
def test_band_rounds_inward_to_a_five_fen_tick(ref: int, expected: tuple[int, int]) -> None:
    instrument = cn_instrument(overrides={"trading": {"tick_fen": 5}})
    assert instrument.tick_fen == 5
    lower, upper = instrument.band(ref)
    assert (lower, upper) == expected
    assert lower % 5 == 0
    assert upper % 5 == 0
    # inward: never beyond the percentage
    assert lower * 10 >= ref * 9
    assert upper * 10 <= ref * 11


@pytest.mark.parametrize("tick", [1, 2, 5, 7, 10])
@pytest.mark.parametrize("bp", [0, 1, 333, 1_000, 3_000, 9_999])
def test_band_matches_the_documented_formula(tick: int, bp: int) -> None:
    overrides = {"trading": {"tick_fen": tick, "modes": {"listed": {"band_bp": bp}}}}
    instrument = cn_instrument(overrides=overrides)
    for ref in [*range(tick, 40 * tick + 1, tick), 5_999, 6_000, 6_001, 123_457]:
        assert instrument.band(ref) == doc_band(ref, bp, tick), (ref, bp, tick)


@pytest.mark.parametrize(("ref", "tick"), [(1, 1), (5, 5), (10, 5), (7, 7)])
def test_band_lower_edge_is_never_below_one_tick(ref: int, tick: int) -> None:
    overrides = {"trading": {"tick_fen": tick, "modes": {"listed": {"band_bp": 9_999}}}}
    lower, upper = cn_instrument(overrides=overrides).band(ref)
    assert lower == tick
    assert upper >= lower


def test_other_rulesets_build() -> None:
    """Every shipped rule set with a [trading] table describes a valid instrument."""
    from registry_sim.rulesets import available_rulesets, load_ruleset

    names = available_rulesets()
    assert "cn_national" in names
    for name in names:
        trading = load_ruleset(name).get("trading")
        if trading is not None:
            instrument = instrument_from_rules("X", trading)
            assert instrument.book_rules.name == trading["book_mode"]


# ---------------------------------------------------------------- rule data errors


def without(path: str) -> dict[str, Any]:
    trading = cn_trading()
    *parents, key = path.split(".")
    table = trading
    for part in parents:
        table = table[part]
    del table[key]
    return trading


def with_value(path: str, value: object) -> dict[str, Any]:
    trading = cn_trading()
    *parents, key = path.split(".")
    table = trading
    for part in parents:
        table = table[part]
    table[key] = value
    return trading


@pytest.mark.parametrize(
    ("trading", "message"),
    [
        (without("currency"), "trading.currency: expected a currency code, got None"),
        (with_value("currency", ""), "trading.currency: expected a currency code, got ''"),
        (without("tick_fen"), "trading.tick_fen: expected a whole number, got None"),
        (without("lot_t"), "trading.lot_t: expected a whole number, got None"),
        (without("modes"), "trading.modes: expected at least one trading mode"),
        (with_value("modes", {}), "trading.modes: expected at least one trading mode"),
        (
            without("modes.listed.min_qty_t"),
            "trading.modes.listed.min_qty_t: expected a whole number, got None",
        ),
        (
            without("modes.listed.band_bp"),
            "trading.modes.listed.band_bp: expected a whole number, got None",
        ),
        (with_value("modes.listed", 5), "trading.modes.listed: expected a table"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_missing_fields(trading: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleDataError) as info:
        instrument_from_rules("CEA25", trading)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("tick_fen", 0, "trading.tick_fen: must be at least 1, got 0"),
        ("tick_fen", -1, "trading.tick_fen: must be at least 1, got -1"),
        ("lot_t", -10, "trading.lot_t: must be at least 1, got -10"),
        (
            "modes.listed.min_qty_t",
            -1,
            "trading.modes.listed.min_qty_t: must be at least 1, got -1",
        ),
        ("modes.listed.band_bp", -1, "trading.modes.listed.band_bp: must be at least 0, got -1"),
        (
            "modes.listed.max_qty_t",
            0,
            "trading.modes.listed.max_qty_t: must be at least 1, got 0",
        ),
        (
            "modes.block.max_qty_t",
            99_999,
            "trading.modes.block.max_qty_t: must be at least 100000, got 99999",
        ),
    ],
)
def test_negative_or_too_small_fields(path: str, value: int, message: str) -> None:
    with pytest.raises(RuleDataError) as info:
        instrument_from_rules("CEA25", with_value(path, value))
    assert str(info.value) == message


def test_min_qty_below_the_lot() -> None:
    trading = cn_trading({"trading": {"lot_t": 10}})
    with pytest.raises(RuleDataError) as info:
        instrument_from_rules("CEA25", trading)
    assert str(info.value) == "trading.modes.listed.min_qty_t: must be at least 10, got 1"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("tick_fen", 0.5),
        ("tick_fen", 1.0),
        ("tick_fen", "1"),
        ("tick_fen", True),
        ("lot_t", False),
        ("lot_t", None),
        ("modes.listed.min_qty_t", 1.5),
        ("modes.listed.max_qty_t", "99999"),
        ("modes.listed.band_bp", 1000.0),
        ("modes.listed.band_bp", [1000]),
    ],
)
def test_non_integer_fields(path: str, value: object) -> None:
    with pytest.raises(RuleDataError) as info:
        instrument_from_rules("CEA25", with_value(path, value))
    assert str(info.value) == f"trading.{path}: expected a whole number, got {value!r}"


def test_rule_data_error_is_a_value_error() -> None:
    assert issubclass(RuleDataError, ValueError)


@pytest.mark.parametrize("book_mode", ["auction", "", None, "LISTED"])
def test_unknown_book_mode(book_mode: object) -> None:
    with pytest.raises(RuleDataError) as info:
        instrument_from_rules("CEA25", with_value("book_mode", book_mode))
    assert str(info.value) == (
        f"trading.book_mode: {book_mode!r} is not one of ['block', 'listed']"
    )


def test_missing_book_mode() -> None:
    with pytest.raises(RuleDataError, match=r"^trading\.book_mode: None is not one of"):
        instrument_from_rules("CEA25", without("book_mode"))


@pytest.mark.parametrize("band_bp", [10_000, 10_001, 50_000])
def test_band_of_100_percent_or_more_is_refused(band_bp: int) -> None:
    with pytest.raises(RuleDataError) as info:
        instrument_from_rules("CEA25", with_value("modes.block.band_bp", band_bp))
    assert str(info.value) == f"trading.modes.block.band_bp: must be below 10000, got {band_bp}"


def test_band_just_below_100_percent_is_accepted() -> None:
    instrument = instrument_from_rules("CEA25", with_value("modes.listed.band_bp", 9_999))
    assert instrument.book_rules.band_bp == 9_999
    assert instrument.band(10_000) == (1, 19_999)
