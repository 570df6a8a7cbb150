"""The issue's must-shows in a real browser against a real ``carbonx demo`` (which runs bots):
an instructor creates a class market from a scenario, pauses its clock and halts trading; a
trainee places an order, sees it in the book, cancels it, buys from the market maker bot's
offer, surrenders and sees the compliance panel change; announcements reach the trainee screen
live; the compliance phases, dashboard, results and replay of a class; the language toggle
switches every visible string of the console; both screen sizes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.api.server import DemoServer
from tests.ui.conftest import (
    DESK,
    PHONE,
    api,
    assert_accessible,
    both_languages_and_sizes,
    demo,
    log_in,
    ok,
    place_in_ticket,
    screenshot,
    speak,
    visible_text,
    yuan,
)

pytestmark = pytest.mark.ui

DEMO = "/v1/markets/demo"
SYMBOL = "CEA2025"
SCENARIO = "classroom_national"
TRAINEE = "CE07"
VERIFIED_T = 2500
DEMO_BOTS = 6
MARKET_MAKER = "BOT001"  # the demo's first bot quotes both sides (exchange.agents.live)
BOT_TRADE_ATTEMPTS = 5
OPEN_DAY_TRIES = 14
SATURDAY = 5
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
RAW_KEY = re.compile(
    r"\b(app|role|login|trade|ladder|chart|tape|entry|orders|fills|account|unit|compliance|news"
    r"|instructor|value|enum|problem|console|clock|phase|announce|dash|logins|results|replay"
    r"|newclass|holders|firm|statements|cancel|mrv)\.[A-Za-z_]"
)
TABS = ("control", "dashboard", "mrv", "news", "logins", "results", "replay", "new")
BOM = b"\xef\xbb\xbf"


def no_overflow(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow} px of horizontal overflow"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo as a class sees it: with its bots trading (a market maker first)."""
    yield from demo(tmp_path_factory, "class", DEMO_BOTS)


@pytest.fixture(scope="module")
def exchange_operator(server: DemoServer) -> Iterator[httpx.Client]:
    with api(server, server.keys["exchange_operator_key"]) as c:
        yield c


def start_class(server: DemoServer, operator_key: str, market_id: str) -> None:
    """Start a class on a stepped clock (its first day opens: pre-open) and step it into
    continuous trading."""
    with api(server, operator_key) as op:
        clock = f"/v1/markets/{market_id}/clock"
        ok(op.post(f"{clock}/start", json={"mode": "stepped"}))
        assert ok(op.post(f"{clock}/advance", json={}))["clock"]["session"] == "continuous"


@pytest.fixture(scope="module")
def klass(server: DemoServer, exchange_operator: httpx.Client) -> dict[str, Any]:
    """A class market made over REST and started, for the tests that start from a running
    class."""
    created: dict[str, Any] = ok(
        exchange_operator.post(
            "/v1/markets/from-scenario",
            json={"market_id": "class-rest", "scenario": SCENARIO, "seats": 2, "seed": 11},
        ),
        201,
    )
    start_class(server, created["operator_key"], created["market_id"])
    return created


def instructor_in(page: Any, server: DemoServer, klass: dict[str, Any], tab: str) -> None:
    log_in(page, server, klass["operator_key"], klass["market_id"])
    expect(page.get_by_test_id("instructor-view")).to_be_visible()
    page.get_by_test_id(f"tab-{tab}").click()


def choose_scenario(page: Any, form: Any, exchange_operator: httpx.Client) -> None:
    """Pick the shipped scenario from the dropdown, which lists what listScenarios gives from
    the start, and see what the form says of it."""
    listed = ok(exchange_operator.get("/v1/scenarios"))["scenarios"]
    picker = form.locator("select[name=scenario]")
    expect(picker).to_be_enabled()
    options = picker.locator("option")
    expect(options).to_have_count(len(listed))
    assert options.evaluate_all("els => els.map(e => e.value)") == [r["name"] for r in listed]
    picker.select_option(SCENARIO)
    row = next(r for r in listed if r["name"] == SCENARIO)
    facts = page.get_by_test_id("scenario-facts")
    expect(facts).to_contain_text(f"{row['seats_default']} 个席位")
    expect(facts).to_contain_text(f"{row['trading_days_per_year']} 个交易日")
    # Listed by their Chinese titles in the Chinese console, described in Chinese.
    expect(options).to_have_text([r["title_zh"] for r in listed])
    expect(facts).to_contain_text(f"场景 {SCENARIO}")
    expect(page.get_by_test_id("scenario-description")).to_have_text(row["description_zh"])


# --- the instructor: a class from a scenario, its clock paused, trading halted ---------------


def test_an_instructor_creates_a_class_pauses_the_clock_and_halts_trading(
    page: Any, server: DemoServer, exchange_operator: httpx.Client
) -> None:
    log_in(page, server, server.keys["operator_key"])
    page.get_by_test_id("tab-new").click()
    assert page.url.endswith("/ui/instructor/new")
    form = page.get_by_test_id("create-class-form")
    # Creating a market takes the exchange-wide key; the demo market's operator key may not.
    form.locator("input[name=class-market]").fill("class-ui")
    expect(form.locator("input[name=scenario]")).to_have_count(0)  # a list, not a text box
    choose_scenario(page, form, exchange_operator)
    form.get_by_test_id("create-class").click()
    expect(page.get_by_test_id("create-class-message")).to_contain_text("无权")
    form.locator("input[name=exchange-key]").fill(server.keys["exchange_operator_key"])
    form.locator("input[name=class-market]").fill("Class 1")  # not a market id: said plainly
    form.get_by_test_id("create-class").click()
    expect(page.get_by_test_id("create-class-message")).to_contain_text("小写字母")
    form.locator("input[name=class-market]").fill("class-ui")
    expect(form.locator("select[name=scenario]")).to_have_value(SCENARIO)  # still picked
    form.locator("input[name=seats]").fill("3")
    # The first trading day: a weekday after today (the form says plainly when a day is not a
    # trading day). The class keeps its own time: its clock starts at that day's pre-open.
    day = dt.date.today()
    for _ in range(OPEN_DAY_TRIES):
        day += dt.timedelta(days=1)
        if day.weekday() >= SATURDAY:
            continue
        form.locator("input[name=open-day]").fill(day.isoformat())
        form.get_by_test_id("create-class").click()
        message = page.get_by_test_id("create-class-message")
        expect(message).to_be_visible()
        if "不是交易日" not in message.inner_text():
            break
    created = page.get_by_test_id("class-created")
    expect(created).to_contain_text("class-ui")
    expect(page.get_by_test_id("create-class-message")).to_contain_text("3")
    screenshot(page, "instructor-class-created-1280")

    page.get_by_test_id("open-class").click()
    expect(page.get_by_test_id("who")).to_contain_text("class-ui")
    expect(page.get_by_test_id("clock-facts")).to_be_visible()

    # The logins: a card per seat with its key, which opens the trainee screen.
    page.get_by_test_id("tab-logins").click()
    cards = page.get_by_test_id("seat-card")
    expect(cards).to_have_count(3)
    seat_key = cards.first.get_by_test_id("card-key").inner_text().strip()
    assert seat_key.startswith("cx_")
    expect(cards.first.get_by_test_id("card-market")).to_have_text("class-ui")
    with page.expect_download() as downloaded:
        page.get_by_test_id("logins-csv").click()
    rows = list(csv.reader(io.StringIO(downloaded.value.path().read_text("utf-8-sig"))))
    assert len(rows) == 4  # a header and three seats
    assert rows[1][0] == "class-ui"
    assert seat_key in [r[4] for r in rows]
    page.emulate_media(media="print")
    screenshot(page, "instructor-login-cards-print")
    expect(page.get_by_test_id("tab-logins")).to_be_hidden()  # only the cards print
    page.emulate_media(media="screen")

    # The class is closed until its clock starts: a seat's order is refused.
    with api(server, seat_key) as seat:
        refused = seat.post(
            "/v1/markets/class-ui/orders",
            json={"symbol": "CEA2026", "side": "buy", "qty_t": 100, "price_fen": 8000},
        )
        assert (refused.status_code, refused.json()["code"]) == (409, "INSTRUMENT_NOT_OPEN")

    # The clock: start it accelerated (its first day opens at once; at this speed continuous
    # trading opens three seconds later and lasts 24), then pause it: trading halts with it.
    page.get_by_test_id("tab-control").click()
    operator_key = page.evaluate("JSON.parse(sessionStorage.getItem('carbonx.session')).key")
    with api(server, operator_key) as op:
        if not ok(op.get("/v1/markets/class-ui/clock"))["running"]:
            page.locator("select[name=clock-mode]").select_option("accelerated")
            page.locator("input[name=clock-speed]").fill("300")
            page.get_by_test_id("clock-start").click()
            expect(page.get_by_test_id("clock-message")).to_have_attribute("role", "status")
        expect(page.get_by_test_id("clock-session")).to_contain_text("连续交易")
        expect(page.get_by_test_id("clock-pause")).to_be_visible()
        page.get_by_test_id("clock-pause").click()
        expect(page.get_by_test_id("clock-state")).to_contain_text("已暂停")
        assert ok(op.get("/v1/markets/class-ui/clock"))["paused"] is True
        states = page.get_by_test_id("instrument-state")
        expect(states.first).to_be_visible()
        for i in range(states.count()):
            expect(states.nth(i)).to_contain_text("暂停交易")  # the pause halted them

        # Halt all trading as well: every instrument halted, a trainee's order refused.
        page.get_by_test_id("halt").click()
        for i in range(states.count()):
            expect(states.nth(i)).to_contain_text("暂停交易")
        screenshot(page, "instructor-class-paused-halted-1280")
        symbol = states.first.get_attribute("data-symbol")
        with api(server, seat_key) as seat:
            book = ok(seat.get(f"/v1/markets/class-ui/book/{symbol}"))
            assert book["state"] == "halted"
            refused = seat.post(
                "/v1/markets/class-ui/orders",
                json={
                    "symbol": symbol,
                    "side": "buy",
                    "order_type": "limit",
                    "qty_t": book["lot_t"],
                    "price_fen": book["reference_price_fen"],
                },
            )
            assert (refused.status_code, refused.json()["code"]) == (409, "INSTRUMENT_HALTED")

        # Resume one instrument by itself.
        row = page.locator(f"[data-testid=instrument-state][data-symbol='{symbol}']")
        row.get_by_test_id("resume-one").click()
        expect(row).to_contain_text("连续交易")
        assert ok(op.get(f"/v1/markets/class-ui/book/{symbol}"))["state"] == "continuous"


# --- gas-fired seats (燃气机组, issue 16) ------------------------------------------------------

# Benchmark allocation of one power firm: 100,000 MWh × 0.5 t/MWh = 50,000 t by the benchmark;
# 60,000 t emitted last year and this (no growth, no shock), 70 % of it pre-allocated (42,000 t).
GAS_YAML = """
name: gas_class
seed: 5
rules: {name: cn_national}
calendar: {start: 2026-03-02, years: 1, trading_days_per_year: 2}
market: {reference_price_fen: 8000}
allocation: {method: benchmark, benchmarks: {power: "0.5"}}
firm_agent: {kind: null}
firms:
  - {id: F1, sector: power, province: Hubei, output: 100000, baseline_t: 60000,
     cash_fen: 100000000, curve: {intercept_fen: 2000, slope_fen_per_t: 1.0, max_t: 10000}}
seats: {count: 2, id_prefix: G}
"""


def test_gas_fired_seats_are_set_up_in_the_console_and_topped_up_at_verification(
    page: Any, browser: Any, server: DemoServer, exchange_operator: httpx.Client
) -> None:
    log_in(page, server, server.keys["exchange_operator_key"], "demo")
    page.get_by_test_id("tab-new").click()
    form = page.get_by_test_id("create-class-form")
    note = page.get_by_test_id("gas-seats-note")
    # What each shipped scenario does with a gas-fired seat: classroom_national allocates fixed
    # amounts (no true-up), national_power trues up by the benchmark with the national top-up.
    picker = form.locator("select[name=scenario]")
    expect(picker).to_be_enabled()
    picker.select_option(SCENARIO)
    expect(note).to_contain_text("不对燃气机组补足")
    picker.select_option("national_power")
    expect(note).to_contain_text("补足至其核查排放量")
    form.get_by_role("button", name="粘贴 YAML").click()
    form.locator("textarea[name=scenario-yaml]").fill(GAS_YAML)
    expect(note).to_contain_text("基准法分配")
    form.locator("input[name=class-market]").fill("class-gas")
    form.locator("input[name=seats]").fill("2")
    form.locator("input[name=gas-fired-seats]").fill("3")  # more than the seats: said at once
    form.get_by_test_id("create-class").click()
    message = page.get_by_test_id("create-class-message")
    expect(message).to_contain_text("0 到 2 之间")
    form.locator("input[name=gas-fired-seats]").fill("1")
    expect(message).to_have_count(0)  # said while it is wrong, gone once it is right

    def check(where: str) -> None:
        assert not RAW_KEY.search(visible_text(page)), where
        assert_accessible(page, where)
        no_overflow(page)

    both_languages_and_sizes(page, "instructor-new-class-gas", check)
    form.get_by_test_id("create-class").click()
    expect(page.get_by_test_id("created-gas-seats")).to_have_text("燃气机组席位：1。")
    market = "/v1/markets/class-gas"
    seats = ok(exchange_operator.get(f"{market}/class/seats"))["seats"]
    assert [(s["account_id"], s["gas_fired"]) for s in seats] == [("G001", True), ("G002", False)]
    page.get_by_test_id("open-class").click()
    page.get_by_test_id("tab-dashboard").click()
    gas = page.locator("[data-testid=rank-row]:has([data-testid=rank-gas])")
    expect(gas).to_have_count(1)
    expect(gas).to_have_attribute("data-account", "G001")
    assert_accessible(page, "dashboard with a gas-fired seat")
    screenshot(page, "instructor-dashboard-gas-1280")

    # Verification trues the seats up: the gas-fired one to its verified 60,000 t, the other to
    # max(50,000 t by the benchmark, 80 % × 60,000 t = 48,000 t).
    start_class(server, server.keys["exchange_operator_key"], "class-gas")
    keys = ok(exchange_operator.post(f"{market}/class/seats/keys"), 201)["seats"]
    seat = browser.new_context(viewport=DESK).new_page()
    try:
        log_in(seat, server, keys[0]["key"], "class-gas")
        card = seat.get_by_test_id("panel-firm")
        expect(card.get_by_test_id("firm-gas")).to_have_text("是：核查时配额补足至核查排放量")
        expect(card.get_by_test_id("firm-allocation")).to_have_text("42,000 吨")  # 70 % of 60,000
        advanced = ok(exchange_operator.post(f"{market}/class/phase/advance"))
        assert advanced["phase"] == "verification"
        expect(card.get_by_test_id("firm-allocation")).to_have_text("60,000 吨")
        expect(card.get_by_test_id("firm-projected")).to_have_text("60,000 吨")
        other = ok(exchange_operator.get(f"{market}/class/me", params={"account_id": "G002"}))
        assert (other["seat"]["gas_fired"], other["seat"]["allocation_t"]) == (False, 50_000)

        def card_check(where: str) -> None:
            assert not RAW_KEY.search(visible_text(seat)), where
            assert_accessible(seat, where)
            card.scroll_into_view_if_needed()

        both_languages_and_sizes(seat, "class-firm-gas", card_check)
        speak(seat, "en")
        expect(card.get_by_test_id("firm-gas")).to_have_text(
            "yes: topped up to verified emissions at verification"
        )
    finally:
        seat.context.close()


# --- the trainee: book, cancel, a trade against the market maker bot, surrender -------------


@pytest.fixture(scope="module")
def trainee_key(operator: httpx.Client) -> str:
    """A covered entity in the demo market with allowances, cash and verified emissions."""
    day = dt.date.fromisoformat(ok(operator.get(DEMO))["trading_day"])
    opened = ok(
        operator.post(
            f"{DEMO}/participants",
            json={
                "account_id": TRAINEE,
                "name": "Trainee Cement Co",
                "kind": "covered_entity",
                "province": "Hubei",
                "cash_fen": 20_000_000,
                "allowances": [{"vintage": int(SYMBOL.removeprefix("CEA")), "qty_t": 4000}],
            },
        ),
        201,
    )
    ok(
        operator.post(
            f"{DEMO}/accounts/{TRAINEE}/emissions",
            json={"year": day.year - 1, "verified_t": VERIFIED_T},
        ),
        201,
    )
    key: str = opened["api_key"]
    return key


def market_maker_offer(operator: httpx.Client) -> dict[str, Any] | None:
    """The market maker bot's resting offer, if it has one now."""
    orders = ok(operator.get(f"{DEMO}/orders", params={"account_id": MARKET_MAKER}))["orders"]
    asks = [o for o in orders if o["side"] == "sell" and o["symbol"] == SYMBOL]
    return min(asks, key=lambda o: o["price_fen"]) if asks else None


def test_a_trainee_trades_against_the_market_maker_bot_and_surrenders(
    page: Any, server: DemoServer, trainee_key: str, operator: httpx.Client
) -> None:
    log_in(page, server, trainee_key)
    expect(page.get_by_test_id("trade-view")).to_be_visible()
    book = ok(operator.get(f"{DEMO}/book/{SYMBOL}"))

    # A bid at the band's lower edge, where no bot sells: in the book, then cancelled.
    low = book["band_lower_fen"]
    place_in_ticket(page, "buy", low, 30)
    expect(page.get_by_test_id("entry-message")).to_have_attribute("role", "status")
    level = page.get_by_test_id("bid-level").filter(has_text=yuan(low))
    expect(level).to_contain_text("30")
    orders = page.get_by_test_id("open-order")
    expect(orders).to_have_count(1)
    screenshot(page, "class-trainee-order-in-book-1280")
    orders.first.get_by_test_id("cancel").click()
    expect(orders).to_have_count(0)
    expect(level).to_have_count(0)

    # Buy from the market maker's offer (it requotes about every second: try again if it
    # moved), and find the trade among the bot's own fills.
    fills = page.get_by_test_id("fill-row")
    bot_trades: set[int] = set()
    for _ in range(BOT_TRADE_ATTEMPTS):
        offer = market_maker_offer(operator)
        if offer is None:
            time.sleep(0.5)
            continue
        place_in_ticket(page, "buy", offer["price_fen"], min(50, offer["leaves_t"]), "ioc")
        expect(page.get_by_test_id("entry-message")).to_have_attribute("role", "status")
        mine = ok(operator.get(f"{DEMO}/fills", params={"account_id": TRAINEE}))["fills"]
        theirs = ok(operator.get(f"{DEMO}/fills", params={"account_id": MARKET_MAKER}))["fills"]
        bot_trades = {f["trade_id"] for f in mine} & {f["trade_id"] for f in theirs}
        if bot_trades:
            break
    assert bot_trades, "the trainee never traded with the market maker bot"
    expect(fills.first).to_be_visible()
    expect(page.get_by_test_id("entry-message")).to_contain_text("成交")
    holding = page.locator(f"[data-testid=holding][data-unit={SYMBOL}]")
    expect(holding.get_by_test_id("holding-available")).not_to_have_text("4,000")
    screenshot(page, "class-trainee-traded-with-bot-1280")

    # Surrender: surrendered so far and what is left to surrender move; the trainee holds more
    # than it owes, so nothing is short.
    expect(page.get_by_test_id("c-obligation")).to_contain_text(f"{VERIFIED_T:,}")
    expect(page.get_by_test_id("c-remaining")).to_contain_text(f"{VERIFIED_T:,}")
    nothing_short = re.compile(r"^0 吨")
    expect(page.get_by_test_id("c-shortfall")).to_have_text(nothing_short)
    form = page.get_by_test_id("surrender-form")
    form.locator("select[name=unit]").select_option(SYMBOL)
    form.locator("input[name=surrender-qty]").fill("1500")
    form.get_by_test_id("surrender").click()
    # Asked first, with the quantity.
    expect(page.get_by_test_id("surrender-confirmation")).to_contain_text("1,500")
    page.get_by_test_id("surrender-confirm").click()
    expect(page.get_by_test_id("compliance-message")).to_have_attribute("role", "status")
    expect(page.get_by_test_id("c-surrendered")).to_contain_text("1,500")
    expect(page.get_by_test_id("c-remaining")).to_contain_text(f"{VERIFIED_T - 1500:,}")
    expect(page.get_by_test_id("c-shortfall")).to_have_text(nothing_short)
    screenshot(page, "class-trainee-surrendered-1280")


def test_an_announcement_reaches_the_trainee_screen_live(
    browser: Any, server: DemoServer, trainee_key: str
) -> None:
    trainee = browser.new_context(viewport=DESK).new_page()
    instructor = browser.new_context(viewport=DESK).new_page()
    try:
        log_in(trainee, server, trainee_key)
        expect(trainee.get_by_test_id("panel-news")).to_be_visible()
        log_in(instructor, server, server.keys["operator_key"])
        instructor.get_by_test_id("tab-news").click()
        text = f"Price cap review at {time.time_ns()}"
        instructor.locator("textarea[name=announcement]").fill(text)
        instructor.locator("select[name=level]").select_option("warning")
        instructor.get_by_test_id("announce-post").click()
        expect(instructor.get_by_test_id("announce-message")).to_have_attribute("role", "status")
        expect(instructor.get_by_test_id("announcement").first).to_contain_text(text)
        expect(trainee.get_by_test_id("panel-news")).to_contain_text(text)  # no reload: the feed
        screenshot(trainee, "class-trainee-announcement-1280")
        trainee.reload()  # and it was kept
        expect(trainee.get_by_test_id("panel-news")).to_contain_text(text)
    finally:
        trainee.context.close()
        instructor.context.close()


def test_a_seat_s_panel_opens_on_the_class_s_year_and_the_ticket_follows_the_instrument(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    """Not the calendar's last year: the class's compliance year, and no surrender is offered
    for a year with no verified emissions yet."""
    seat = klass["seats"][0]
    log_in(page, server, seat["key"], klass["market_id"])
    panel = page.get_by_test_id("panel-compliance")
    expect(panel.locator("select")).to_have_value(str(klass["compliance_year"]))
    expect(page.get_by_test_id("c-obligation")).to_contain_text("尚未")
    expect(page.get_by_test_id("surrender-plan")).to_have_count(0)
    expect(page.get_by_test_id("surrender-form")).to_have_count(0)
    expect(page.get_by_test_id("surrender-not-yet")).to_be_visible()
    screenshot(page, "class-seat-compliance-year-1280")
    # Another instrument: the ticket's price is within its band, not the last one's price.
    picker = page.get_by_test_id("instrument")
    offsets = [
        v
        for v in picker.locator("option").evaluate_all("o => o.map(e => e.value)")
        if not v.startswith("CEA")
    ]
    assert offsets, "the class lists no offset instrument"
    picker.select_option(offsets[0])
    with api(server, seat["key"]) as own:
        band = ok(own.get(f"/v1/markets/{klass['market_id']}/book/{offsets[0]}"))
    ticket_price = page.get_by_test_id("panel-entry").locator("input[name=price]")
    expect(ticket_price).not_to_have_value("")
    shown_fen = round(float(ticket_price.input_value()) * 100)
    assert band["band_lower_fen"] <= shown_fen <= band["band_upper_fen"], (shown_fen, band)
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("surrender-not-yet")).to_contain_text("verified")
    screenshot(page, "class-seat-compliance-year-en-1280")
    page.set_viewport_size(PHONE)
    panel.scroll_into_view_if_needed()
    screenshot(page, "class-seat-compliance-year-en-390")
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("surrender-not-yet")).to_contain_text("核查")
    screenshot(page, "class-seat-compliance-year-390")


# --- a seat's class strip, its firm, an abatement, the surrender banner, its result ---------


def test_a_seat_follows_its_class_weighs_abatement_and_sees_its_result(
    page: Any, server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = ok(
        exchange_operator.post(
            "/v1/markets/from-scenario",
            json={"market_id": "class-seat", "scenario": SCENARIO, "seats": 2, "seed": 5},
        ),
        201,
    )
    market = "/v1/markets/class-seat"
    seat = made["seats"][0]
    days = ok(exchange_operator.get("/v1/scenarios"))["scenarios"]
    year_days = next(r for r in days if r["name"] == SCENARIO)["trading_days_per_year"]
    log_in(page, server, seat["key"], "class-seat")
    strip = page.get_by_test_id("class-strip")
    expect(strip).to_be_visible()
    # Closed until the instructor starts it.
    expect(page.get_by_test_id("class-clock")).to_have_attribute("data-state", "not_started")
    expect(page.get_by_test_id("class-clock")).to_contain_text("尚未开始")
    expect(page.get_by_test_id("class-day")).to_contain_text(f"共 {year_days} 个")
    expect(page.get_by_test_id("class-next")).to_have_attribute("data-kind", "start")
    screenshot(page, "class-strip-not-started-1280")

    start_class(server, made["operator_key"], "class-seat")
    expect(page.get_by_test_id("class-clock")).to_have_attribute("data-state", "running")
    expect(page.get_by_test_id("class-day")).to_have_text(f"第 1 个交易日（共 {year_days} 个）")
    expect(page.get_by_test_id("class-next")).to_contain_text("第 2 个交易日")
    expect(page.get_by_test_id("class-phase")).to_contain_text("2026 年度")
    deadline_day = year_days + 2  # the scenario's default surrender_days
    expect(page.get_by_test_id("c-deadline")).to_contain_text(f"课堂第 {deadline_day} 个交易日结束")

    # My firm: the server's numbers.
    with api(server, seat["key"]) as own:
        firm = ok(own.get(f"{market}/class/me"))["seat"]
    card = page.get_by_test_id("panel-firm")
    expect(card).to_be_visible()
    expect(page.get_by_test_id("firm-position")).to_have_attribute(
        "data-position", str(firm["position_t"])
    )
    expect(page.get_by_test_id("firm-allocation")).to_contain_text(f"{firm['allocation_t']:,}")
    expect(page.get_by_test_id("firm-max")).to_contain_text(f"{firm['abatement']['max_t']:,}")
    expect(page.get_by_test_id("firm-price")).to_be_visible()

    # Weigh an abatement in numbers, then declare it (asked first).
    qty = min(1000, firm["abatement"]["max_t"])
    with api(server, seat["key"]) as own:
        quote = ok(own.get(f"{market}/class/abatement", params={"qty_t": qty}))
    card.locator("input[name=abate-qty]").fill(str(qty))
    shown = page.get_by_test_id("abatement-quote")
    expect(shown).to_contain_text(f"{qty:,}")
    expect(shown).to_contain_text(f"{quote['cost_fen'] // 100:,}")
    expect(page.get_by_test_id("abatement-buy")).to_be_visible()
    card.scroll_into_view_if_needed()
    screenshot(page, "class-firm-abatement-quote-1280")
    page.get_by_test_id("abate").click()
    expect(page.get_by_test_id("abate-confirmation")).to_contain_text(f"{qty:,}")
    page.get_by_test_id("abate-confirm").click()
    expect(page.get_by_test_id("firm-message")).to_have_attribute("role", "status")
    expect(page.get_by_test_id("firm-abated")).to_contain_text(f"{qty:,}")
    with api(server, seat["key"]) as own:
        assert ok(own.get(f"{market}/class/me"))["seat"]["abatement"]["declared_t"] == qty
    screenshot(page, "class-strip-and-firm-1280")

    # Both languages, both sizes.
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("class-day")).to_have_text(f"Trading day 1 of {year_days}")
    expect(page.get_by_test_id("panel-firm")).to_contain_text("Marginal abatement cost")
    english = visible_text(page)
    assert not CJK.findall(english), CJK.findall(english)
    assert not RAW_KEY.search(english), RAW_KEY.search(english)
    screenshot(page, "class-strip-and-firm-en-1280")
    page.set_viewport_size(PHONE)
    no_overflow(page)
    screenshot(page, "class-strip-and-firm-en-390")
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("class-day")).to_contain_text("第 1 个交易日")
    no_overflow(page)
    screenshot(page, "class-strip-and-firm-390")
    page.set_viewport_size(DESK)

    # Verification, then surrender: the banner; then assessment: the seat's own result.
    with api(server, made["operator_key"]) as op:
        ok(op.post(f"{market}/class/phase/advance"))
        expect(page.get_by_test_id("abatement-closed")).to_be_visible()
        ok(op.post(f"{market}/class/phase/advance"))
        banner = page.get_by_test_id("surrender-banner")
        expect(banner).to_contain_text("清缴已开放")
        expect(banner).to_contain_text(f"第 {deadline_day} 个交易日")
        screenshot(page, "class-surrender-banner-1280")
        page.get_by_test_id("lang-toggle").click()
        expect(banner).to_contain_text("Surrender is open")
        screenshot(page, "class-surrender-banner-en-1280")
        page.get_by_test_id("lang-toggle").click()
        ok(op.post(f"{market}/class/phase/advance"))
    expect(page.get_by_test_id("surrender-banner")).to_have_count(0)
    result = page.get_by_test_id("firm-result")
    expect(result).to_be_visible()
    with api(server, seat["key"]) as own:
        served = ok(own.get(f"{market}/class/me"))["seat"]["result"]
    expect(result).to_have_attribute("data-complied", "true" if served["complied"] else "false")
    expect(page.get_by_test_id("result-outcome")).to_have_text(
        "已履约" if served["complied"] else "未履约"
    )
    result.scroll_into_view_if_needed()
    screenshot(page, "class-seat-result-1280")
    page.set_viewport_size(PHONE)
    result.scroll_into_view_if_needed()
    screenshot(page, "class-seat-result-390")


# --- a class through its phases: dashboard, results, replay ---------------------------------


def test_the_phases_move_with_a_confirmation(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    instructor_in(page, server, klass, "control")
    phase = page.get_by_test_id("phase")
    expect(phase).to_have_attribute("data-phase", re.compile(r"\w+"))
    before = phase.get_attribute("data-phase")
    page.get_by_test_id("phase-advance").click()
    page.get_by_test_id("phase-advance-no").click()  # asked, then not done
    expect(phase).to_have_attribute("data-phase", before or "")
    page.get_by_test_id("phase-advance").click()
    page.get_by_test_id("phase-advance-yes").click()
    expect(page.get_by_test_id("phase-message")).to_have_attribute("role", "status")
    expect(phase).not_to_have_attribute("data-phase", before or "")
    with api(server, klass["operator_key"]) as op:
        now = ok(op.get(f"/v1/markets/{klass['market_id']}/class/phase"))["phase"]
    expect(phase).to_have_attribute("data-phase", now)
    screenshot(page, "instructor-phase-advanced-1280")


def test_the_dashboard_ranks_every_covered_entity(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    instructor_in(page, server, klass, "dashboard")
    expect(page.get_by_test_id("dashboard")).to_be_visible()
    with api(server, klass["operator_key"]) as op:
        served = ok(op.get(f"/v1/markets/{klass['market_id']}/class/dashboard"))
    rows = page.get_by_test_id("rank-row")
    expect(rows).to_have_count(len(served["ranking"]))
    seat = klass["seats"][0]["account_id"]
    expect(page.locator(f"[data-testid=rank-row][data-account={seat}]")).to_be_visible()
    expect(page.get_by_test_id("dash-instrument").first).to_be_visible()
    expect(page.get_by_test_id("chart")).to_be_visible()
    screenshot(page, "instructor-dashboard-1280")


def test_an_observer_key_lands_on_the_dashboard_without_controls(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    market = klass["market_id"]
    with api(server, klass["operator_key"]) as op:
        issued = ok(op.post(f"/v1/markets/{market}/keys", json={"role": "observer"}), 201)
        served = ok(op.get(f"/v1/markets/{market}/class/dashboard"))
    log_in(page, server, issued["api_key"], market)
    expect(page.get_by_test_id("instructor-view")).to_be_visible()
    assert page.url.endswith("/ui/instructor")
    expect(page.get_by_test_id("trade-view")).to_have_count(0)
    expect(page.get_by_test_id("read-only-note")).to_be_visible()
    expect(page.get_by_test_id("dashboard")).to_be_visible()
    expect(page.get_by_test_id("rank-row")).to_have_count(len(served["ranking"]))
    expect(page.get_by_role("tab")).to_have_count(2)  # the dashboard and announcements only
    for hidden in ("control", "logins", "results", "replay", "new"):
        expect(page.get_by_test_id(f"tab-{hidden}")).to_have_count(0)
    for control in ("clock-start", "phase-advance", "halt", "announce-form", "create-class"):
        expect(page.get_by_test_id(control)).to_have_count(0)
    page.get_by_test_id("tab-news").click()
    expect(page.get_by_test_id("panel-announce")).to_be_visible()
    expect(page.get_by_test_id("announce-form")).to_have_count(0)  # reads, never posts
    screenshot(page, "observer-dashboard-1280")
    # Neither the trainee screen nor a control tab by path: back to the read-only console.
    for path in ("/ui/trade", "/ui/instructor/control"):
        page.goto(server.base_url + path)
        expect(page.get_by_test_id("dashboard")).to_be_visible()
        expect(page.get_by_test_id("trade-view")).to_have_count(0)
        expect(page.get_by_test_id("phase-advance")).to_have_count(0)


def test_results_show_and_export_as_csv(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    instructor_in(page, server, klass, "results")
    expect(page.get_by_test_id("panel-results")).to_be_visible()
    market = f"/v1/markets/{klass['market_id']}"
    with api(server, klass["operator_key"]) as op:
        # The bots trade on: halted, no trade changes the results between the two reads.
        ok(op.post(f"{market}/halt", json={}))
        try:
            with page.expect_download() as downloaded:
                page.get_by_test_id("results-csv").click()
            exported = downloaded.value.path().read_bytes()
            served = op.get(f"{market}/class/results?format=csv&lang=zh-CN")
        finally:
            ok(op.post(f"{market}/resume", json={}))
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/csv")
    assert exported.startswith(BOM)  # kept in the file saved, for Excel
    assert exported == served.content  # the console's language: Chinese
    seat = klass["seats"][0]["account_id"]
    assert seat in exported.decode("utf-8-sig")
    expect(page.get_by_test_id("result-row").filter(has_text=seat)).to_be_visible()
    screenshot(page, "instructor-results-1280")


def results_csv_download(page: Any) -> list[list[str]]:
    """The results CSV the console saves, checked to be UTF-8 with a byte-order mark."""
    with page.expect_download() as downloaded:
        page.get_by_test_id("results-csv").click()
    saved = downloaded.value.path().read_bytes()
    assert saved.startswith(BOM)
    return list(csv.reader(io.StringIO(saved.decode("utf-8-sig"))))


def test_the_debrief_in_both_languages_at_both_sizes(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    """The results, the dashboard and the login cards name the seats in the console's
    language; the results table has the compliance cost; the CSV saved has its headers and
    names in that language and amounts in yuan."""
    seat = klass["seats"][0]
    assert seat["name_zh"].startswith(f"席位 {seat['seat']}（")
    assert seat["name"].startswith(f"Seat {seat['seat']} (")
    instructor_in(page, server, klass, "results")
    table = page.get_by_test_id("results-table")
    row = page.get_by_test_id("result-row").filter(has_text=seat["account_id"])
    expect(row).to_contain_text(seat["name_zh"])
    expect(table.locator("th")).to_contain_text(["履约成本"])
    rows = results_csv_download(page)
    assert rows[0][0] == "账户"
    assert "履约成本（元）" in rows[0]
    line = next(r for r in rows if r[0] == seat["account_id"])
    assert line[1] == seat["name_zh"]
    assert line[3] == "学员"
    cost = line[rows[0].index("履约成本（元）")]
    assert re.fullmatch(r"-?\d+\.\d\d", cost), cost  # yuan, two decimals
    screenshot(page, "instructor-results-zh-1280")
    page.set_viewport_size(PHONE)
    no_overflow(page)
    screenshot(page, "instructor-results-zh-390")

    page.get_by_test_id("lang-toggle").click()
    expect(row).to_contain_text(seat["name"])
    expect(row).not_to_contain_text(seat["name_zh"])
    expect(table.locator("th")).to_contain_text(["Compliance cost"])
    screenshot(page, "instructor-results-en-390")
    page.set_viewport_size(DESK)
    screenshot(page, "instructor-results-en-1280")
    rows = results_csv_download(page)
    assert rows[0][:2] == ["Account", "Name"]
    assert "Compliance cost (CNY)" in rows[0]
    line = next(r for r in rows if r[0] == seat["account_id"])
    assert (line[1], line[3]) == (seat["name"], "Trainee")

    page.get_by_test_id("tab-dashboard").click()
    ranked = page.locator(f"[data-testid=rank-row][data-account={seat['account_id']}]")
    expect(ranked).to_contain_text(seat["name"])
    page.get_by_test_id("tab-logins").click()
    card = page.locator(f"[data-testid=seat-card][data-account={seat['account_id']}]")
    expect(card).to_contain_text(seat["name"])
    page.get_by_test_id("lang-toggle").click()
    expect(card).to_contain_text(seat["name_zh"])
    page.get_by_test_id("tab-dashboard").click()
    expect(ranked).to_contain_text(seat["name_zh"])
    screenshot(page, "instructor-dashboard-seat-names-zh-1280")


@pytest.mark.parametrize(("size", "viewport"), [("1280", DESK), ("390", PHONE)])
def test_the_scenario_list_in_both_languages(
    page: Any,
    server: DemoServer,
    exchange_operator: httpx.Client,
    size: str,
    viewport: dict[str, int],
) -> None:
    listed = ok(exchange_operator.get("/v1/scenarios"))["scenarios"]
    row = next(r for r in listed if r["name"] == SCENARIO)
    page.set_viewport_size(viewport)
    log_in(page, server, server.keys["operator_key"])
    page.get_by_test_id("tab-new").click()
    options = page.locator("select[name=scenario] option")
    expect(options).to_have_text([r["title_zh"] for r in listed])
    page.locator("select[name=scenario]").select_option(SCENARIO)
    description = page.get_by_test_id("scenario-description")
    expect(description).to_have_text(row["description_zh"])
    no_overflow(page)
    screenshot(page, f"instructor-new-class-zh-{size}")
    page.get_by_test_id("lang-toggle").click()
    expect(options).to_have_text([r["title"] for r in listed])
    expect(description).to_have_text(row["description"])
    assert not CJK.findall(visible_text(page))
    no_overflow(page)
    screenshot(page, f"instructor-new-class-en-{size}")


def test_replay_moves_through_the_journal(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    instructor_in(page, server, klass, "replay")
    slider = page.get_by_test_id("replay-slider")
    expect(slider).to_be_visible()
    view = page.get_by_test_id("replay-view")
    expect(view).to_be_visible()
    last = int(view.get_attribute("data-seq") or 0)
    slider.focus()
    page.keyboard.press("Home")  # the first event of the timeline
    expect(view).not_to_have_attribute("data-seq", str(last))
    first = int(view.get_attribute("data-seq") or 0)
    assert first < last
    with api(server, klass["operator_key"]) as op:
        served = ok(op.get(f"/v1/markets/{klass['market_id']}/replay", params={"seq": first}))
    expect(page.get_by_test_id("replay-day")).to_have_text(served["trading_day"] or "—")
    screenshot(page, "instructor-replay-1280")


# --- every string in both languages, both screen sizes --------------------------------------


def test_the_language_toggle_switches_every_console_string(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    instructor_in(page, server, klass, "control")
    expect(page.get_by_test_id("clock-facts")).to_be_visible()
    page.get_by_test_id("lang-toggle").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    for tab in TABS:
        page.get_by_test_id(f"tab-{tab}").click()
        page.wait_for_load_state("networkidle")
        english = visible_text(page)
        assert not CJK.findall(english), (tab, CJK.findall(english))
        assert not RAW_KEY.search(english), (tab, RAW_KEY.search(english))
    page.get_by_test_id("lang-toggle").click()
    for tab in TABS:
        page.get_by_test_id(f"tab-{tab}").click()
        page.wait_for_load_state("networkidle")
        chinese = visible_text(page)
        assert CJK.search(chinese), tab
        assert not RAW_KEY.search(chinese), (tab, RAW_KEY.search(chinese))


@pytest.mark.parametrize(("size", "viewport"), [("1280", DESK), ("390", PHONE)])
def test_the_console_at_both_sizes(
    page: Any, server: DemoServer, klass: dict[str, Any], size: str, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)
    instructor_in(page, server, klass, "control")
    expect(page.get_by_test_id("clock-facts")).to_be_visible()
    for tab in TABS:
        page.get_by_test_id(f"tab-{tab}").click()
        page.wait_for_load_state("networkidle")
        no_overflow(page)
        assert_accessible(page, f"class console {tab} zh {size}")
        screenshot(page, f"instructor-{tab}-zh-{size}")
    page.get_by_test_id("lang-toggle").click()
    for tab in TABS:
        page.get_by_test_id(f"tab-{tab}").click()
        page.wait_for_load_state("networkidle")
        assert_accessible(page, f"class console {tab} en {size}")
    page.get_by_test_id("tab-control").click()
    expect(page.get_by_test_id("clock-facts")).to_contain_text("Market time")
    no_overflow(page)
    screenshot(page, f"instructor-control-en-{size}")
