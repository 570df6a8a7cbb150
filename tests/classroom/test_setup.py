"""A class's set-up from its scenario and its stored state, without a server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re

import pytest

from exchange.classroom.errors import ClassroomError
from exchange.classroom.lifecycle import Phase
from exchange.classroom.names import seat_names
from exchange.classroom.room import Classroom
from exchange.classroom.scenarios import shipped_summaries, summary
from exchange.classroom.setup import (
    MAX_SEATS,
    ClassScenario,
    default_seats,
    draw_seats,
    parse,
    read_scenario,
)
from exchange.classroom.state import ClassState, Seat
from exchange.classroom.views import SEAT_COLUMNS, as_csv, phase_view, seat_view
from exchange.sim.scenario import shipped_scenarios
from registry_sim.model import AccountId
from registry_sim.ops import OpenAccount
from settlement.commands import RegistryCommand
from tests.classroom.conftest import TINY, make_room, make_scenario


def test_seats_are_drawn_from_the_firms_with_the_seed() -> None:
    loaded = parse(TINY, "tiny")
    seats = draw_seats(loaded, 4, 11)
    assert [s.seat for s in seats] == [1, 2, 3, 4]
    assert [s.account_id for s in seats] == ["S001", "S002", "S003", "S004"]
    assert {s.profile for s in seats} <= {"F1", "F2"}
    assert all(s.name.startswith(f"Seat {s.seat} (") for s in seats)
    assert draw_seats(loaded, 4, 11) == seats
    assert len({tuple(s.profile for s in draw_seats(loaded, 8, seed)) for seed in range(5)}) > 1


def test_a_seat_is_named_in_both_languages() -> None:
    for seat in draw_seats(parse(TINY, "tiny"), 4, 11):
        sector, sector_zh = ("power", "发电") if seat.profile == "F1" else ("cement", "水泥")
        assert seat.name_in("en") == seat.name == f"Seat {seat.seat} ({sector}, Hubei)"
        assert seat.name_in("zh-CN") == seat.name_zh == f"席位 {seat.seat}（{sector_zh}，湖北）"
    # A sector or province the tables lack keeps the scenario's word.
    assert seat_names(7, "glass", "Atlantis") == (
        "Seat 7 (glass, Atlantis)",
        "席位 7（glass，Atlantis）",
    )
    # A seat stored before seats had a Chinese name is named in English in both languages.
    stored_seat = {"seat": 1, "account_id": "S001", "name": "Seat 1 (power, Hubei)"}
    stored_seat["profile"] = "F1"
    body = json.dumps({"seats": [stored_seat], "abatement_t": {}, "summary": {}})
    stored = ClassState.from_row("c", "tiny_class", TINY, 11, "trading", 2026, body)
    old = stored.seats[0]
    assert old == Seat(1, "S001", "Seat 1 (power, Hubei)", "F1", "")
    assert old.name_in("zh-CN") == "Seat 1 (power, Hubei)"
    assert seat_view(old, make_scenario())["name_zh"] == "Seat 1 (power, Hubei)"


# TINY with its power firm's units gas-fired.
GAS_TINY = TINY.replace("{id: F1, sector: power,", "{id: F1, sector: power, gas_fired: true,")


def test_gas_fired_seats_are_the_first_n_or_as_their_profiles() -> None:
    loaded = parse(GAS_TINY, "tiny")
    assert [f.gas_fired for f in loaded.firms] == [True, False]
    # Without a number, each seat is as its profile firm: F1's gas-fired, F2's not.
    drawn = draw_seats(loaded, 4, 11)
    assert [s.gas_fired for s in drawn] == [s.profile == "F1" for s in drawn]
    # With one, the first n seats are gas-fired and the rest not, whatever their profiles.
    two = draw_seats(loaded, 4, 11, gas_fired_seats=2)
    assert [s.gas_fired for s in two] == [True, True, False, False]
    assert [s.profile for s in two] == [s.profile for s in drawn]  # the same draw
    assert [s.gas_fired for s in draw_seats(loaded, 4, 11, gas_fired_seats=0)] == [False] * 4
    scenario = ClassScenario.make(loaded, two, 11)
    assert [scenario.firms[s.account_id].gas_fired for s in two] == [True, True, False, False]
    assert [seat_view(s, scenario)["gas_fired"] for s in two] == [True, True, False, False]
    # The registry account each seat opens with says so too.
    opened = {
        c.op.account.account_id: c.op.account.gas_fired
        for c in scenario.setup_commands()
        if isinstance(c, RegistryCommand) and isinstance(c.op, OpenAccount)
    }
    assert [opened[AccountId(s.account_id)] for s in two] == [True, True, False, False]
    # A seat stored before seats had the flag (None) is as its profile firm.
    stored = [dataclasses.replace(s, gas_fired=None) for s in drawn]
    again = ClassScenario.make(loaded, stored, 11)
    assert [again.firms[s.account_id].gas_fired for s in stored] == [
        s.profile == "F1" for s in drawn
    ]
    with pytest.raises(ClassroomError) as refused:
        draw_seats(loaded, 4, 11, gas_fired_seats=5)
    assert (refused.value.code, refused.value.details) == (
        "TOO_MANY_GAS_FIRED_SEATS",
        {"gas_fired_seats": 5, "seats": 4},
    )


def test_the_default_seats_are_the_scenarios_within_bounds() -> None:
    loaded = parse(TINY, "tiny")
    assert default_seats(loaded) == 3
    assert default_seats(parse(TINY.replace("count: 3", "count: 999"), "tiny")) == MAX_SEATS


def test_a_shipped_scenario_is_read_with_its_text() -> None:
    name = shipped_scenarios()[0]
    loaded, text = read_scenario(name, None)
    assert loaded.name == name
    assert text.strip()
    assert read_scenario(None, TINY)[1] == TINY


def test_a_class_state_survives_its_row() -> None:
    room = make_room(make_scenario(), Phase.SURRENDER)
    state = room.state
    state.abatement_t = {"S001": 12}
    state.summary = {"from": "verification", "to": "surrender", "refused": {}}
    state.year_start_day = 9
    again = ClassState.from_row(
        state.market_id,
        state.scenario,
        state.source,
        state.seed,
        state.phase.value,
        state.compliance_year,
        state.body(),
    )
    assert again.phase is Phase.SURRENDER
    assert again.seats[0].name_zh.startswith("席位 1（")
    assert (again.seats, again.abatement_t, again.summary, again.year_start_day) == (
        state.seats,
        state.abatement_t,
        state.summary,
        9,
    )


def test_the_phase_view_says_what_follows() -> None:
    scenario = make_scenario()
    view = phase_view(make_room(scenario, Phase.TRADING))
    assert view == {
        "market_id": "class1",
        "phase": "trading",
        "compliance_year": 2026,
        "deadline": scenario.loaded.rules.compliance.deadline(2026),
        "next_phase": "verification",
        "last_advance": {},
    }
    assert phase_view(make_room(scenario, Phase.CLOSED))["next_phase"] is None


def test_seats_as_a_key_sheet() -> None:
    scenario = make_scenario()
    rows = [seat_view(s, scenario, f"cx_{s.seat}") for s in scenario.seats]
    sheet = as_csv(rows, SEAT_COLUMNS).splitlines()
    assert sheet[0] == "seat,account_id,name,profile,key"
    first = scenario.seats[0]
    assert sheet[1].startswith("1,S001,")
    assert sheet[1].endswith(f",{first.profile},cx_1")
    assert as_csv([{"a": None, "b": True, "c": 3}], ("a", "b", "c")) == "a,b,c\n,true,3\n"


def test_stopping_a_class_without_bots() -> None:
    room: Classroom = make_room(make_scenario())
    assert asyncio.run(room.stop_bots()) == 0


def test_the_shipped_scenarios_are_summed_up() -> None:
    listed = shipped_summaries()
    assert [s["name"] for s in listed] == shipped_scenarios()
    tiny = summary(parse(TINY, "tiny"))
    assert tiny["trading_days_per_year"] == 3
    assert (tiny["firms"], tiny["bots"], tiny["seats_default"], tiny["years"]) == (2, 0, 3, 2)
    # No title: the name, in both languages; no description: none.
    assert (tiny["title"], tiny["title_zh"]) == ("tiny_class", "tiny_class")
    assert (tiny["description"], tiny["description_zh"]) == ("", "")


def test_every_shipped_scenario_is_titled_and_described_in_both_languages() -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for row in shipped_summaries():
        assert row["title"] != row["name"], row["name"]
        for field in ("title", "description"):
            english, chinese = row[field], row[f"{field}_zh"]
            assert english, (row["name"], field)
            assert not cjk.search(english), (row["name"], field)
            assert cjk.search(chinese), (row["name"], field)


def test_a_scenario_text_is_one_string_or_one_per_language() -> None:
    one_language = TINY.replace(
        "seed: 11", "title: {zh-CN: 小课堂}\ndescription: {en: A tiny class.}\nseed: 11"
    )
    row = summary(parse(one_language, "tiny"))
    assert (row["title"], row["title_zh"]) == ("小课堂", "小课堂")  # the one given, in both
    assert (row["description"], row["description_zh"]) == ("A tiny class.", "A tiny class.")
    both = one_language.replace("{zh-CN: 小课堂}", "{en: Tiny class, zh-CN: 小课堂}")
    assert summary(parse(both, "tiny"))["title"] == "Tiny class"


def test_before_the_first_day_a_seat_s_firm_counts_the_shocks_of_that_day_only() -> None:
    """A seat reads its firm before the instructor starts the clock: its emissions then are
    what they will be on the first day, so its position does not jump at the start;
    verification still counts every shock of the year (classroom_national: +3 % on day 4)."""
    _, text = read_scenario("classroom_national", None)
    scenario = make_scenario(text, seats=2, seed=7)
    year = scenario.loaded.years[0]
    first, *_ = scenario.year_days(year)
    seat = scenario.seats[0].account_id
    assert (scenario.seen_on(year, None), scenario.seen_on(year, first)) == (first, first)
    before_start = scenario.baseline_t(seat, year, scenario.seen_on(year, None))
    assert before_start == scenario.baseline_t(seat, year, first)
    assert scenario.baseline_t(seat, year, None) == before_start * 10_300 // 10_000
