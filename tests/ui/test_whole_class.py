"""A whole class in the browser (issue 14's first must-show), against a real ``carbonx demo``.

An instructor, in the web console, creates a class of five seats and gets its login cards with
the address trainees open; each seat opens its card's link in its own browser context and,
reading only its screen, covers what it is short: one seat is long and holds, two abate with
the abatement control, one buys on the order ticket, and one deliberately leaves its shortfall.
Nothing trades before the instructor starts the clock, and no trade is stamped before the
class's start; pausing the clock stops every trade, the bots' too, and a trainee's order is
refused on screen; the instructor moves the class through verification to surrender, each seat
surrenders on the compliance panel it lands on, and after assessment each sees its own result,
as getClassResults has it. axe-core checks the seat's screen in a class (the strip, the firm
card, the surrender confirmation, the result) and the card sheet, at both sizes in both
languages (the class console's tabs are checked in test_class.py); screenshots of each go to
tests/ui/artifacts/ (``whole-class-*``).

The scenario is the shipped ``classroom_national``, picked from the console's dropdown: its seats
start with 7,000 t beyond an allocation of 93 % of their emissions, while they owe all of them,
so a seat emitting more than about 100,000 t is short and one emitting less is long.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.api.server import DemoServer
from tests.ui.conftest import (
    DESK,
    TIMEOUT_MS,
    api,
    assert_accessible,
    both_languages_and_sizes,
    card_key,
    class_address,
    decode_qr,
    demo,
    log_in,
    ok,
    place_in_ticket,
    screenshot,
    set_address,
)

pytestmark = pytest.mark.ui

MARKET = "whole-class"
M = f"/v1/markets/{MARKET}"
SEATS = 5
# With this seed the seats draw firms that leave one long and four short (from 528 to 3,073 t on
# the first trading day); the test reads which from the screens and fails if that changes.
SEED = 1
SCENARIO = "classroom_national"
SEAT_ALLOWANCES_T = 7_000  # its seats' allowances_t
# Accelerated: the first day's pre-open (15 market minutes) passes in 7.5 s, its morning of
# continuous trading lasts a minute of wall time, more than the trading below needs.
SPEED = 120
WAIT_MS = 20_000  # what waits on a poll (the class strip reads every 4 s, the book every 5 s)
OPENS_WITHIN_MS = 40_000  # the clock's step from pre-open to continuous trading
BUY_WITHIN_S = 60.0
PAUSE_WATCHED_S = 4.0  # how long a paused class is watched for a trade
TRADES_LIMIT = 500  # listTrades' largest page
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def number_in(text: str) -> int:
    """The first whole number in ``text`` as the UI writes it (1,234 t)."""
    found = NUMBER.search(text)
    assert found, f"no number in {text!r}"
    return int(found.group().replace(",", "").split(".")[0])


def fen_in(text: str) -> int:
    """An amount or a price in yuan as the UI writes it (¥1,234.56, 80.82) in fen."""
    found = NUMBER.search(text)
    assert found, f"no amount in {text!r}"
    whole, _, cents = found.group().replace(",", "").partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


@dataclass
class Firm:
    """A seat's firm as its "my firm" card shows it."""

    projected_t: int
    allocation_t: int
    usable_t: int
    position_t: int  # long above 0, short below
    max_abatement_t: int


def read_firm(page: Any) -> Firm:
    """The firm card's numbers as shown, read at once (the card refreshes by itself)."""
    card = page.get_by_test_id("panel-firm")
    expect(card).to_be_visible(timeout=WAIT_MS)
    shown: dict[str, str] = card.evaluate(
        """card => {
            const shown = [...card.querySelectorAll("[data-testid^='firm-']")];
            const given = card.querySelector("[data-testid='firm-position']").dataset.position;
            return Object.fromEntries([...shown.map((el) => [el.dataset.testid, el.innerText]),
                ["given", given]]);
        }"""
    )
    said = shown["firm-position"]
    if said.startswith(("持平", "even")):
        position = 0
    elif said.startswith(("盈余", "long")):
        position = number_in(said)
    else:
        assert said.startswith(("缺口", "short")), said
        position = -number_in(said)
    assert shown["given"] == str(position), shown  # says what it was given
    return Firm(
        projected_t=number_in(shown["firm-projected"]),
        allocation_t=number_in(shown["firm-allocation"]),
        usable_t=number_in(shown["firm-usable"]),
        position_t=position,
        max_abatement_t=number_in(shown["firm-max"]),
    )


@dataclass
class Seat:
    """A trainee's browser: its own context, opened at its card's link."""

    account_id: str
    link: str
    page: Any
    errors: list[str]  # in the page
    firm: Firm | None = None
    role: str = ""  # hold (long), abate, buy, default (leaves its shortfall)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo without its own bots: the class brings the scenario's."""
    yield from demo(tmp_path_factory, "whole-class", 0)


def console_key(console: Any) -> str:
    """The key the console works with now (the class's operator key once it is opened)."""
    key: str = console.evaluate("JSON.parse(sessionStorage.getItem('carbonx.session')).key")
    return key


def advance_phase(console: Any, to: str) -> None:
    """The instructor moves the class to its next phase, confirming."""
    console.get_by_test_id("tab-control").click()
    console.get_by_test_id("phase-advance").click()
    console.get_by_test_id("phase-advance-yes").click()
    expect(console.get_by_test_id("phase-message")).to_have_attribute(
        "role", "status", timeout=WAIT_MS
    )
    expect(console.get_by_test_id("phase")).to_have_attribute("data-phase", to)


def trades(op: httpx.Client) -> list[dict[str, Any]]:
    """Every trade of the class so far (the tape holds them all while under its page size)."""
    tape: list[dict[str, Any]] = ok(op.get(f"{M}/trades", params={"limit": TRADES_LIMIT}))["trades"]
    assert len(tape) < TRADES_LIMIT, "more trades than one page of the tape: look further"
    return tape


# --- the instructor: a class, its cards --------------------------------------------------------


def create_class(console: Any, server: DemoServer) -> None:
    """With the exchange-wide key, the shipped classroom_national picked from the dropdown,
    five seats, a seed."""
    log_in(console, server, server.keys["exchange_operator_key"], "demo")
    expect(console.get_by_test_id("instructor-view")).to_be_visible()
    console.get_by_test_id("tab-new").click()
    form = console.get_by_test_id("create-class-form")
    form.locator("input[name=class-market]").fill(MARKET)
    form.locator("input[name=seats]").fill(str(SEATS))
    form.locator("input[name=seed]").fill(str(SEED))
    form.locator("select[name=scenario]").select_option(SCENARIO)
    form.get_by_test_id("create-class").click()
    expect(console.get_by_test_id("create-class-message")).to_contain_text(
        f"{SEATS} 个席位", timeout=WAIT_MS
    )
    console.get_by_test_id("open-class").click()
    expect(console.get_by_test_id("who")).to_contain_text(MARKET)


def card_links(console: Any, server: DemoServer) -> dict[str, str]:
    """The login cards with the address trainees open set in the console: each seat's link as
    its QR code holds it, by account."""
    console.get_by_test_id("tab-logins").click()
    cards = console.get_by_test_id("seat-card")
    expect(cards).to_have_count(SEATS)
    address = class_address(server)
    set_address(console, address)
    expect(console.get_by_test_id("card-qr")).to_have_count(SEATS)
    links = {}
    for i in range(SEATS):
        card = cards.nth(i)
        expect(card.get_by_test_id("card-url")).to_have_text(f"{address}/ui/")
        link = decode_qr(card)
        assert link == f"{address}/ui/#market={MARKET}&key={card_key(card)}"
        links[card.get_attribute("data-account") or ""] = link
    console.get_by_test_id("seat-cards").scroll_into_view_if_needed()
    both_languages_and_sizes(console, "whole-class-cards", partial(check_cards, console))
    return links


def check_cards(console: Any, where: str) -> None:
    """The card sheet passes axe-core, and no printed key breaks a line inside a group of
    four (its "-" would read as a hyphen at the line's end)."""
    assert_accessible(console, where)
    lines = (
        console.get_by_test_id("card-key")
        .locator("span")
        .evaluate_all("groups => groups.map(g => [g.textContent, g.getClientRects().length])")
    )
    broken = [text for text, rects in lines if rects != 1]
    assert not broken, f"{where}: key groups broken across lines: {broken}"


# --- the seats ---------------------------------------------------------------------------------


def open_page(browser: Any, stack: ExitStack) -> tuple[Any, list[str]]:
    """A page in a browser context of its own (closed with ``stack``) at desk size, and the
    errors it meets."""
    context = browser.new_context(viewport=DESK)
    stack.callback(context.close)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def open_seat(browser: Any, stack: ExitStack, account_id: str, link: str) -> Seat:
    """A trainee opens its card's link in a browser of its own and lands on its screen."""
    page, errors = open_page(browser, stack)
    seat = Seat(account_id, link, page, errors)
    page.goto(link)
    expect(page.get_by_test_id("trade-view")).to_be_visible()
    expect(page.get_by_test_id("who")).to_contain_text(account_id)
    expect(page.get_by_test_id("class-strip")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_test_id("class-clock")).to_have_attribute("data-state", "not_started")
    seat.firm = read_firm(page)
    return seat


def cast(seats: list[Seat]) -> None:
    """Who does what, from what the firm cards show: a long seat holds; of the short ones, the
    one shortest buys, the one shortest of most leaves its shortfall, the others abate."""
    long = [s for s in seats if s.firm and s.firm.position_t > 0]
    short = sorted(
        (s for s in seats if s.firm and s.firm.position_t < 0),
        key=lambda s: -s.firm.position_t if s.firm else 0,
    )
    shown = {s.account_id: s.firm.position_t if s.firm else None for s in seats}
    assert long, f"no seat is long: {shown}"
    assert len(short) >= 3, f"fewer than three seats are short: {shown}"
    for s in long:
        s.role = "hold"
    short[0].role = "buy"
    short[-1].role = "default"
    for s in short[1:-1]:
        s.role = "abate"


def abate_shortfall(seat: Seat) -> None:
    """Declare as much abatement as the card says the firm is short, asked first."""
    page, firm = seat.page, read_firm(seat.page)
    short = -firm.position_t
    assert 0 < short <= firm.max_abatement_t, firm
    card = page.get_by_test_id("panel-firm")
    card.locator("input[name=abate-qty]").fill(str(short))
    expect(page.get_by_test_id("abatement-quote")).to_contain_text(f"{short:,}")
    page.get_by_test_id("abate").click()
    expect(page.get_by_test_id("abate-confirmation")).to_contain_text(f"{short:,}")
    page.get_by_test_id("abate-confirm").click()
    expect(page.get_by_test_id("firm-message")).to_have_attribute("role", "status")
    expect(card.get_by_test_id("firm-abated")).to_contain_text(f"{short:,}")
    expect(card.get_by_test_id("firm-position")).to_have_attribute(
        "data-position", "0", timeout=WAIT_MS
    )
    seat.firm = read_firm(page)
    assert seat.firm.projected_t == firm.projected_t - short


def buy_shortfall(seat: Seat, year: int) -> None:
    """Buy what the card says the firm is short: IOC at the best offer the ladder shows, for
    at most what is offered there, until the card shows nothing short."""
    page = seat.page
    page.get_by_test_id("instrument").select_option(label=f"全国碳排放配额 {year}")
    expect(page.get_by_test_id("book-state")).to_have_text("连续交易", timeout=WAIT_MS)
    position = page.get_by_test_id("firm-position")
    message = page.get_by_test_id("entry-message")
    deadline = time.monotonic() + BUY_WITHIN_S
    while (short := -read_firm(page).position_t) > 0:
        assert time.monotonic() < deadline, f"{seat.account_id} still short {short} t"
        best = page.get_by_test_id("ask-level").last  # asks run down to the best
        expect(best).to_be_visible(timeout=WAIT_MS)
        price_fen = fen_in(best.locator("button.pick").inner_text())
        offered_t = number_in(best.locator(".qty").inner_text())
        before = message.inner_text() if message.count() else ""
        place_in_ticket(page, "buy", price_fen, min(short, offered_t), "ioc")
        expect(message).not_to_have_text(before)
        expect(message).to_have_attribute("role", "status")  # placed, filled or not
        if "已成交" in message.inner_text():
            expect(position).not_to_have_attribute("data-position", str(-short), timeout=WAIT_MS)
    seat.firm = read_firm(page)
    assert seat.firm.position_t == 0


def surrender(seat: Seat, year: int, screenshots: bool) -> None:
    """Surrender on the compliance panel as it opens: the class's year, the suggested plan,
    confirmed."""
    page = seat.page
    panel = page.get_by_test_id("panel-compliance")
    picker = panel.get_by_role("combobox", name="履约年度")
    expect(picker).to_have_value(str(year))  # opened on the class's year: nothing picked
    assert seat.firm is not None
    expect(page.get_by_test_id("c-obligation")).to_contain_text(
        f"{seat.firm.projected_t:,}", timeout=WAIT_MS
    )
    button = page.get_by_test_id("surrender-plan-button")
    expect(button).to_be_visible(timeout=WAIT_MS)
    button.click()
    asked = page.get_by_test_id("surrender-confirmation")
    held = min(seat.firm.usable_t, seat.firm.projected_t)  # what the plan can surrender
    expect(asked).to_contain_text(f"{held:,}")
    if screenshots:
        asked.scroll_into_view_if_needed()
        both_languages_and_sizes(
            page, "whole-class-surrender-confirmation", partial(assert_accessible, page)
        )
        asked.scroll_into_view_if_needed()
    page.get_by_test_id("surrender-confirm").click()
    expect(page.get_by_test_id("compliance-message")).to_have_attribute("role", "status")
    expect(page.get_by_test_id("c-surrendered")).to_contain_text(f"{held:,}")
    remaining = page.get_by_test_id("c-remaining")
    expect(remaining).to_have_text(re.compile(rf"^{seat.firm.projected_t - held:,} 吨"))


# --- the whole class -------------------------------------------------------------------------


def test_a_whole_class_in_the_browser(browser: Any, server: DemoServer) -> None:
    with ExitStack() as stack:
        console, console_errors = open_page(browser, stack)
        create_class(console, server)
        links = card_links(console, server)
        op = stack.enter_context(api(server, console_key(console)))
        year = ok(op.get(f"{M}/class/phase"))["compliance_year"]

        # Every seat lands on its screen: the class not started, its firm long or short.
        seats = [open_seat(browser, stack, account, link) for account, link in links.items()]
        landing = seats[0].page
        landing.get_by_test_id("panel-firm").scroll_into_view_if_needed()
        both_languages_and_sizes(
            landing, "whole-class-seat-landing", partial(assert_accessible, landing)
        )

        # Closed until the clock starts: nothing trades, the bots included.
        clock = ok(op.get(f"{M}/clock"))
        assert clock["running"] is False
        start_ns = clock["now_ns"]  # the class's start: its first day's pre-open
        assert trades(op) == []

        # The instructor starts the clock; the abating seats abate meanwhile.
        console.get_by_test_id("tab-control").click()
        console.locator("select[name=clock-mode]").select_option("accelerated")
        console.locator("input[name=clock-speed]").fill(str(SPEED))
        console.get_by_test_id("clock-start").click()
        expect(console.get_by_test_id("clock-message")).to_have_attribute("role", "status")
        # Each seat reads its firm on the first trading day (before it, the card counts the
        # year's every emission shock: see the report) and covers what it is short.
        for seat in seats:
            expect(seat.page.get_by_test_id("class-clock")).to_have_attribute(
                "data-state", "running", timeout=WAIT_MS
            )
            expect(seat.page.get_by_test_id("class-day")).to_have_attribute(
                "data-day", "1", timeout=WAIT_MS
            )
            seat.firm = read_firm(seat.page)
            # Long or short: what it may surrender less what it will owe, as the card says.
            assert seat.firm.position_t == seat.firm.usable_t - seat.firm.projected_t
            # What it may surrender: its allocation and the allowances it started with.
            assert seat.firm.usable_t == seat.firm.allocation_t + SEAT_ALLOWANCES_T
        cast(seats)
        buyer = next(s for s in seats if s.role == "buy")
        holder = next(s for s in seats if s.role == "hold")
        defaulter = next(s for s in seats if s.role == "default")
        for seat in seats:
            if seat.role == "abate":
                abate_shortfall(seat)
        expect(console.get_by_test_id("clock-session")).to_have_text(
            "连续交易", timeout=OPENS_WITHIN_MS
        )
        buy_shortfall(buyer, year)

        # Paused: no trade, the bots' included, and a trainee's order refused on screen.
        console.get_by_test_id("clock-pause").click()
        expect(console.get_by_test_id("clock-state")).to_have_text("已暂停")
        states = console.get_by_test_id("instrument-state")
        for i in range(states.count()):
            expect(states.nth(i)).to_contain_text("暂停交易")
        paused_with = trades(op)
        expect(buyer.page.get_by_test_id("class-clock")).to_have_attribute(
            "data-state", "paused", timeout=WAIT_MS
        )
        best_bid = buyer.page.get_by_test_id("bid-level").first
        place_in_ticket(buyer.page, "buy", fen_in(best_bid.locator("button.pick").inner_text()), 1)
        refused = buyer.page.get_by_test_id("entry-message")
        expect(refused).to_have_attribute("role", "alert")
        expect(refused).to_have_text("该品种已暂停交易，请等待讲师恢复交易。")
        screenshot(buyer.page, "whole-class-order-refused-paused-zh-1280")
        watched_until = time.monotonic() + PAUSE_WATCHED_S
        while time.monotonic() < watched_until:  # nothing to wait for: watch that nothing comes
            assert trades(op) == paused_with, "a trade while the class was paused"
            console.wait_for_timeout(500)
        console.get_by_test_id("clock-resume").click()
        expect(console.get_by_test_id("clock-state")).to_contain_text("运行中")
        expect(buyer.page.get_by_test_id("class-clock")).to_have_attribute(
            "data-state", "running", timeout=WAIT_MS
        )

        # Verification, then surrender: each seat surrenders on the panel it lands on.
        advance_phase(console, "verification")
        for seat in seats:
            expect(seat.page.get_by_test_id("abatement-closed")).to_be_visible(timeout=WAIT_MS)
        assert defaulter.firm is not None
        still_short = -defaulter.firm.position_t
        expect(defaulter.page.get_by_test_id("firm-position")).to_have_text(
            f"缺口 {still_short:,} 吨：减排已截止，需购买配额"  # no abating now
        )
        advance_phase(console, "surrender")
        for seat in seats:
            expect(seat.page.get_by_test_id("surrender-banner")).to_be_visible(timeout=WAIT_MS)
            surrender(seat, year, screenshots=seat is holder)

        # Assessment: each seat's own result, as the results have it.
        advance_phase(console, "assessment")
        results = {r["account_id"]: r for r in ok(op.get(f"{M}/class/results"))["results"]}
        for seat in seats:
            row = results[seat.account_id]
            shown = seat.page.get_by_test_id("firm-result")
            expect(shown).to_be_visible(timeout=WAIT_MS)
            complied = seat is not defaulter
            assert row["complied"] is complied, row
            expect(shown).to_have_attribute("data-complied", str(complied).lower())
            outcome = seat.page.get_by_test_id("result-outcome")
            expect(outcome).to_have_text("已履约" if complied else "未履约")
            penalty = seat.page.get_by_test_id("result-penalty")
            assert fen_in(penalty.inner_text()) == row["penalty_fen"]
            shortfall = seat.page.get_by_test_id("result-shortfall")
            assert number_in(shortfall.inner_text()) == row["shortfall_t"]
        assert results[defaulter.account_id]["shortfall_t"] == still_short
        assert results[defaulter.account_id]["penalty_fen"] > 0
        # Assessed: the card says what was short, no longer what to do about it, and the
        # compliance panel no longer counts down to its deadline.
        expect(defaulter.page.get_by_test_id("firm-position")).to_have_text(
            f"缺口 {still_short:,} 吨"
        )
        expect(defaulter.page.get_by_test_id("c-deadline")).to_have_text(
            re.compile(r"^课堂第 \d+ 个交易日结束$")
        )
        holder.page.get_by_test_id("firm-result").scroll_into_view_if_needed()
        both_languages_and_sizes(
            holder.page, "whole-class-seat-result", partial(assert_accessible, holder.page)
        )
        defaulter.page.get_by_test_id("firm-result").scroll_into_view_if_needed()
        screenshot(defaulter.page, "whole-class-seat-penalty-zh-1280")

        # The class's trades: some, and none stamped before the class's start.
        tape = trades(op)
        assert any(t["ts_ns"] > start_ns for t in tape)
        early = [t for t in tape if t["ts_ns"] < start_ns]
        assert not early, f"trades before the class's start: {early}"
    errors = {s.account_id: s.errors for s in seats if s.errors}
    assert not errors, f"errors in the seats' pages: {errors}"
    assert not console_errors, f"errors in the console: {console_errors}"
