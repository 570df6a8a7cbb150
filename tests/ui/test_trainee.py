"""The trainee screen in a real browser against a real server: log in, order, see it in the
book and open orders, cancel, trade against a second participant (simulated over REST), see
the fill, cash and holdings move, surrender and see the compliance panel change; refusals in
plain words; the language toggle; both screen sizes; the daily statements, day by day and as a
day ends, and a voluntary cancellation with its certificate."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from registry_sim.rules import load_rules
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
    visible_text,
    yuan,
)

pytestmark = pytest.mark.ui

M = "/v1/markets/demo"
SYMBOL = "CEA2025"
TRAINEE = "CE01"
VERIFIED_T = 6000  # more than the trainee holds: 1,100 t short after the sale below
RULES = load_rules("cn_national")  # the demo's rule set
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
# A translation key showing instead of its text ("entry.title", "problem.X").
RAW_KEY = re.compile(
    r"\b(app|role|login|trade|ladder|chart|tape|entry|orders|fills|account|unit|compliance|news"
    r"|instructor|value|enum|problem|statements|cancel|firm)\.[A-Za-z_]"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo without bots: this module counts its own fills exactly (tests/ui/test_class.py
    trades against the demo's bots)."""
    yield from demo(tmp_path_factory, "trainee", 0)


@pytest.fixture(scope="module")
def counterparty(server: DemoServer) -> Iterator[httpx.Client]:
    with api(server, server.keys["participants"]["P002"]) as c:
        yield c


@pytest.fixture(scope="module")
def year(operator: httpx.Client) -> int:
    """The compliance year the screen opens on: the one whose deadline comes next."""
    market = ok(operator.get(M))
    return dt.date.fromisoformat(market["trading_day"]).year - 1


@pytest.fixture(scope="module")
def trainee_key(operator: httpx.Client, year: int) -> str:
    """A covered entity (重点排放单位) holding allowances, with verified emissions on record."""
    vintage = int(SYMBOL.removeprefix("CEA"))
    opened = ok(
        operator.post(
            f"{M}/participants",
            json={
                "account_id": TRAINEE,
                "name": "Trainee Power Co",
                "kind": "covered_entity",
                "province": "Guangdong",
                "cash_fen": 10_000_000,
                "allowances": [{"vintage": vintage, "qty_t": 5000}],
            },
        ),
        201,
    )
    ok(
        operator.post(
            f"{M}/accounts/{TRAINEE}/emissions", json={"year": year, "verified_t": VERIFIED_T}
        ),
        201,
    )
    key: str = opened["api_key"]
    return key


def book(c: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = ok(c.get(f"{M}/book/{SYMBOL}"))
    return body


def test_national_rules_open_in_chinese(page: Any, server: DemoServer, trainee_key: str) -> None:
    log_in(page, server, trainee_key)
    expect(page.get_by_test_id("trade-view")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    expect(page.get_by_test_id("panel-entry")).to_contain_text("下单")
    expect(page.get_by_test_id("who")).to_contain_text(TRAINEE)


def test_order_book_cancel_trade_and_surrender(
    page: Any, server: DemoServer, trainee_key: str, counterparty: httpx.Client, year: int
) -> None:
    log_in(page, server, trainee_key)
    expect(page.get_by_test_id("trade-view")).to_be_visible()
    ref = book(counterparty)["reference_price_fen"]
    tick = book(counterparty)["tick_fen"]

    # A resting bid shows in the ladder and among the open orders; cancelling removes both.
    bid = ref - 37 * tick
    place_in_ticket(page, "buy", bid, 120)
    expect(page.get_by_test_id("entry-message")).to_have_attribute("role", "status")
    level = page.get_by_test_id("bid-level").filter(has_text=yuan(bid))
    expect(level).to_contain_text("120")
    orders = page.get_by_test_id("open-order")
    expect(orders).to_have_count(1)
    expect(orders.first).to_contain_text(yuan(bid))
    screenshot(page, "trainee-order-resting-1280")
    orders.first.get_by_test_id("cancel").click()
    expect(orders).to_have_count(0)
    expect(level).to_have_count(0)

    # An IOC with nothing to trade against says it was cancelled, not that it rests.
    place_in_ticket(page, "buy", bid, 50, "ioc")
    expect(page.get_by_test_id("entry-message")).to_contain_text("未成交，已撤销")
    screenshot(page, "trainee-ioc-cancelled-1280")
    expect(orders).to_have_count(0)

    # Amend: a resting ask's price changes in place.
    ask = ref + 41 * tick
    place_in_ticket(page, "sell", ask, 100)
    expect(orders).to_have_count(1)
    orders.first.get_by_test_id("amend").click()
    orders.first.locator("input[name=amend-price]").fill(yuan(ask - tick))
    orders.first.get_by_role("button", name="确认").click()
    expect(orders.first).to_contain_text(yuan(ask - tick))
    expect(page.get_by_test_id("ask-level").filter(has_text=yuan(ask - tick))).to_contain_text(
        "100"
    )

    # The second participant lifts the ask: a fill, cash up, allowances down.
    cash_before = page.get_by_test_id("cash-available").inner_text()
    traded = ok(
        counterparty.post(
            f"{M}/orders",
            json={
                "symbol": SYMBOL,
                "side": "buy",
                "order_type": "ioc",
                "qty_t": 100,
                "price_fen": ask - tick,
            },
        ),
        201,
    )
    assert [f["qty_t"] for f in traded["fills"]] == [100]
    expect(orders).to_have_count(0)
    fills = page.get_by_test_id("fill-row")
    expect(fills).to_have_count(1)
    expect(fills.first).to_contain_text(yuan(ask - tick))
    expect(page.get_by_test_id("tape-row").first).to_contain_text(yuan(ask - tick))
    expect(page.get_by_test_id("cash-available")).not_to_have_text(cash_before)
    expected_cash = 10_000_000 + 100 * (ask - tick)  # fees are 0 in the national rule set
    expect(page.get_by_test_id("cash-available")).to_contain_text(f"{expected_cash // 100:,}")
    holding = page.locator(f"[data-testid=holding][data-unit={SYMBOL}]")
    expect(holding.get_by_test_id("holding-available")).to_have_text("4,900")

    # Surrender: what is left to surrender moves; the shortfall (what the trainee's holdings
    # cannot cover: 6,000 t owed, 4,900 t held) does not, and is what the penalty is priced on.
    facts = page.get_by_test_id("compliance-facts")
    expect(page.get_by_test_id("c-obligation")).to_contain_text("6,000")
    expect(page.get_by_test_id("c-remaining")).to_contain_text("6,000")
    expect(page.get_by_test_id("c-shortfall")).to_contain_text("1,100")
    expect(page.get_by_test_id("c-coverable")).to_contain_text("4,900")
    expect(page.get_by_test_id("c-deadline")).to_contain_text("天")
    expect(page.get_by_test_id("surrender-plan")).to_contain_text("4,900")
    form = page.get_by_test_id("surrender-form")
    form.locator("select[name=unit]").select_option(SYMBOL)
    form.locator("input[name=surrender-qty]").fill("1000")
    form.get_by_test_id("surrender").click()
    # Asked first, with the quantity; "not now" surrenders nothing.
    expect(page.get_by_test_id("surrender-confirmation")).to_contain_text("1,000")
    page.get_by_test_id("surrender-cancel").click()
    expect(page.get_by_test_id("surrender-confirmation")).to_have_count(0)
    expect(page.get_by_test_id("c-surrendered")).to_have_text(re.compile(r"^0 吨"))
    form.get_by_test_id("surrender").click()
    expect(page.get_by_test_id("surrender-confirmation")).to_contain_text("1,000")
    screenshot(page, "trainee-surrender-confirm-1280")
    # The question and the order's acknowledgement at both sizes in both languages.
    for language in ("en", "zh"):
        page.get_by_test_id("lang-toggle").click()
        for size, viewport in (("1280", DESK), ("390", PHONE)):
            page.set_viewport_size(viewport)
            page.get_by_test_id("surrender-confirmation").scroll_into_view_if_needed()
            screenshot(page, f"trainee-surrender-confirm-{language}-{size}")
    page.set_viewport_size(DESK)
    page.get_by_test_id("surrender-confirm").click()
    expect(page.get_by_test_id("compliance-message")).to_have_attribute("role", "status")
    expect(page.get_by_test_id("c-surrendered")).to_contain_text("1,000")
    expect(page.get_by_test_id("c-remaining")).to_contain_text("5,000")
    expect(page.get_by_test_id("c-shortfall")).to_contain_text("1,100")
    expect(holding.get_by_test_id("holding-available")).to_have_text("3,900")
    # The penalty is the server's figure (getComplianceStatus), priced at the penalty
    # reference price: no trading day has been cleared yet, so the listed allowance's last
    # close: multiplier × price × shortfall (docs/rules.md, national: penalty).
    penalty_fen = RULES.penalty.multiplier * ref * 1_100
    expect(page.get_by_test_id("c-penalty")).to_contain_text(f"{penalty_fen // 100:,}")
    expect(page.get_by_test_id("c-penalty-basis")).to_contain_text(yuan(ref))
    expect(facts).to_be_visible()
    screenshot(page, "trainee-after-surrender-1280")
    status = ok(counterparty.get(f"{M}/book/{SYMBOL}"))
    assert all(level["price_fen"] != bid for level in status["bids"])


def test_the_ladder_refills_levels_that_come_into_its_depth(
    page: Any, server: DemoServer, trainee_key: str, counterparty: httpx.Client
) -> None:
    """Seven bid levels before the ladder opens (its snapshot: five); the best two are
    cancelled and the sixth and seventh come up: the ladder shows five again, those two among
    them, as getBook does."""
    ref, tick = book(counterparty)["reference_price_fen"], book(counterparty)["tick_fen"]
    prices = [ref - (11 + n) * tick for n in range(7)]
    order = {"symbol": SYMBOL, "side": "buy", "order_type": "limit", "qty_t": 10}
    placed = [
        ok(counterparty.post(f"{M}/orders", json={**order, "price_fen": p}), 201) for p in prices
    ]
    levels = page.get_by_test_id("bid-level")
    try:
        log_in(page, server, trainee_key)
        expect(page.get_by_test_id("trade-view")).to_be_visible()
        expect(levels.filter(has_text=yuan(prices[4]))).to_have_count(1)
        expect(levels).to_have_count(5)
        expect(levels.filter(has_text=yuan(prices[5]))).to_have_count(0)  # below the depth
        for best in placed[:2]:
            ok(counterparty.delete(f"{M}/orders/{best['order_id']}"))
        for deeper in prices[5:]:
            expect(levels.filter(has_text=yuan(deeper))).to_have_count(1)
        expect(levels).to_have_count(5)
        served = [level["price_fen"] for level in book(counterparty)["bids"]]
        shown = [levels.nth(n).inner_text() for n in range(5)]
        assert [yuan(p) in text for p, text in zip(served, shown, strict=True)] == [True] * 5
        for language in ("zh", "en"):
            for size, viewport in (("1280", DESK), ("390", PHONE)):
                page.set_viewport_size(viewport)
                page.get_by_test_id("panel-ladder").scroll_into_view_if_needed()
                screenshot(page, f"trainee-ladder-refilled-{language}-{size}")
            page.get_by_test_id("lang-toggle").click()
    finally:
        ok(counterparty.delete(f"{M}/orders"))


def test_a_refusal_is_explained_with_its_numbers(
    page: Any, server: DemoServer, trainee_key: str, counterparty: httpx.Client
) -> None:
    log_in(page, server, trainee_key)
    expect(page.get_by_test_id("trade-view")).to_be_visible()
    band = book(counterparty)
    place_in_ticket(page, "buy", band["band_upper_fen"] + 500, 10)
    message = page.get_by_test_id("entry-message")
    expect(message).to_have_attribute("role", "alert")
    expect(message).to_contain_text("涨跌幅")
    expect(message).to_contain_text(yuan(band["band_lower_fen"]))
    expect(message).to_contain_text(yuan(band["band_upper_fen"]))
    page.get_by_test_id("lang-toggle").click()
    with api(server, trainee_key) as own:
        cash_fen = ok(own.get(f"{M}/accounts/{TRAINEE}/balances"))["cash"]["available_fen"]
    too_much_t = cash_fen // band["band_upper_fen"] + 100  # more than the trainee's cash buys
    place_in_ticket(page, "buy", band["band_upper_fen"], too_much_t)
    expect(message).to_contain_text("Not enough cash")
    expect(message).to_contain_text(f"CN¥{cash_fen // 100:,}.{cash_fen % 100:02d}")
    listed = ok(counterparty.get(f"{M}/instruments"))["instruments"]
    max_qty_t = next(i["max_qty_t"] for i in listed if i["symbol"] == SYMBOL)
    expect(page.get_by_test_id("entry-facts")).to_contain_text(f"{max_qty_t:,} t")
    place_in_ticket(page, "buy", band["band_upper_fen"], max_qty_t + 1)
    expect(message).to_contain_text(f"at most {max_qty_t:,} t")


def test_the_language_toggle_switches_every_string(
    page: Any, server: DemoServer, trainee_key: str
) -> None:
    log_in(page, server, trainee_key)
    expect(page.get_by_test_id("panel-compliance")).to_be_visible()
    chinese = visible_text(page)
    assert CJK.search(chinese)
    assert not RAW_KEY.search(chinese), RAW_KEY.search(chinese)

    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("panel-entry")).to_contain_text("Order entry")
    assert page.evaluate("document.documentElement.lang") == "en"
    english = visible_text(page)
    assert not CJK.findall(english), CJK.findall(english)
    assert not RAW_KEY.search(english), RAW_KEY.search(english)
    assert "CN¥" in english or "¥" in english  # money formatted for the locale
    screenshot(page, "trainee-english-1280")

    page.reload()  # the choice persists
    expect(page.get_by_test_id("panel-entry")).to_contain_text("Order entry")
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("panel-entry")).to_contain_text("下单")
    assert not RAW_KEY.search(visible_text(page))


@pytest.mark.parametrize(("size", "viewport"), [("1280", DESK), ("390", PHONE)])
def test_both_screen_sizes(
    page: Any, server: DemoServer, trainee_key: str, size: str, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)
    log_in(page, server, trainee_key)
    expect(page.get_by_test_id("panel-compliance")).to_be_visible()
    for panel in ("ladder", "chart", "entry", "tape", "orders", "fills", "account"):
        expect(page.get_by_test_id(f"panel-{panel}")).to_be_visible()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow} px of horizontal overflow at {viewport['width']} px"
    screenshot(page, f"trainee-zh-{size}")
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("panel-entry")).to_contain_text("Order entry")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow} px of horizontal overflow at {viewport['width']} px"
    screenshot(page, f"trainee-en-{size}")


# --- daily statements and voluntary cancellation (issue 16), in a market of their own ---------

REACH = "ui-reach"
R = f"/v1/markets/{REACH}"
REACH_DAY1, REACH_DAY2 = "2026-03-02", "2026-03-03"  # a Monday and a Tuesday, no holiday
REACH_PRICE = 8_000
REACH_CASH = 100_000_000  # CNY 1,000,000


@pytest.fixture(scope="module")
def exchange(server: DemoServer) -> Iterator[httpx.Client]:
    """The exchange-wide operator, with a market of its own whose days the tests end (the demo
    market's day stays as the other tests expect it)."""
    with api(server, server.keys["exchange_operator_key"]) as c:
        listed = [{"symbol": SYMBOL, "reference_price_fen": REACH_PRICE}]
        market = {
            "market_id": REACH,
            "rule_set": "cn_national",
            "instruments": listed,
            "open_day": REACH_DAY1,
        }
        ok(c.post("/v1/markets", json=market), 201)
        yield c


def reach_account(exchange: httpx.Client, account_id: str, cash_fen: int, qty_t: int) -> str:
    """A participant of the test's market with cash and CEA2025; its key."""
    body = {
        "account_id": account_id,
        "name": account_id,
        "kind": "participant",
        "cash_fen": cash_fen,
        "allowances": [{"vintage": 2025, "qty_t": qty_t}],
    }
    key: str = ok(exchange.post(f"{R}/participants", json=body), 201)["api_key"]
    return key


def trade(buyer: httpx.Client, seller: httpx.Client, qty_t: int, price_fen: int) -> None:
    """``seller`` offers, ``buyer`` takes it whole."""
    order = {"symbol": SYMBOL, "order_type": "limit", "qty_t": qty_t, "price_fen": price_fen}
    ok(seller.post(f"{R}/orders", json={**order, "side": "sell"}), 201)
    bought = ok(buyer.post(f"{R}/orders", json={**order, "side": "buy"}), 201)
    assert sum(f["qty_t"] for f in bought["fills"]) == qty_t


def end_day(exchange: httpx.Client) -> None:
    ok(exchange.post(f"{R}/session/close-day"))
    ok(exchange.post(f"{R}/session/end-of-day"))


def test_the_daily_statements_read_per_day_and_arrive_live(
    page: Any, server: DemoServer, exchange: httpx.Client
) -> None:
    """Day 1: ST1 (CNY 1,000,000 and 6,000 t) buys 400 t at CNY 80.00 and sells 150 t at
    CNY 81.00; day 2, with the screen open, it buys 100 t at CNY 79.00."""
    key = reach_account(exchange, "ST1", REACH_CASH, 6_000)
    other = reach_account(exchange, "ST2", REACH_CASH, 1_000)
    with api(server, key) as st1, api(server, other) as st2:
        trade(st1, st2, 400, 8_000)
        trade(st2, st1, 150, 8_100)
        end_day(exchange)
        log_in(page, server, key, REACH)
        panel = page.get_by_test_id("panel-statements")
        statement = panel.get_by_test_id("statement")
        expect(statement).to_have_attribute("data-day", REACH_DAY1)
        # Cash: 1,000,000.00 - 400 × 80.00 + 150 × 81.00 = 980,150.00; the sale's proceeds are
        # withdrawable only from the next day: 1,000,000.00 - 32,000.00 = 968,000.00.
        expect(panel.get_by_test_id("st-cash-available")).to_contain_text("980,150.00")
        expect(panel.get_by_test_id("st-cash-withdrawable")).to_contain_text("968,000.00")
        expect(panel.get_by_test_id("st-cash-held")).to_contain_text("0.00")
        expect(panel.get_by_test_id("st-fees")).to_contain_text("0.00")  # national fees: 0
        row = panel.locator(f"[data-testid=st-trade][data-symbol={SYMBOL}]")
        expect(row.get_by_test_id("st-bought-t")).to_have_text("400 吨")
        expect(row.get_by_test_id("st-bought-fen")).to_contain_text("32,000.00")
        expect(row.get_by_test_id("st-sold-t")).to_have_text("150 吨")
        expect(row.get_by_test_id("st-sold-fen")).to_contain_text("12,150.00")
        holding = panel.locator(f"[data-testid=st-holding][data-unit={SYMBOL}]")
        expect(holding.get_by_test_id("st-available")).to_have_text("6,250")  # 6,000 + 400 - 150

        # Day 2 ends while the screen is open: its statement arrives on the socket and shows.
        ok(exchange.post(f"{R}/session/open-day", json={"trading_day": REACH_DAY2}))
        ok(exchange.post(f"{R}/session", json={"state": "continuous"}))
        trade(st1, st2, 100, 7_900)
        end_day(exchange)
    expect(statement).to_have_attribute("data-day", REACH_DAY2)
    # 980,150.00 - 100 × 79.00 = 972,250.00, all of it withdrawable now.
    expect(panel.get_by_test_id("st-cash-available")).to_contain_text("972,250.00")
    expect(panel.get_by_test_id("st-cash-withdrawable")).to_contain_text("972,250.00")
    expect(row.get_by_test_id("st-bought-t")).to_have_text("100 吨")
    expect(row.get_by_test_id("st-sold-t")).to_have_text("0 吨")
    expect(holding.get_by_test_id("st-available")).to_have_text("6,350")
    days = panel.get_by_test_id("statement-day")
    assert days.locator("option").evaluate_all("els => els.map(e => e.value)") == [
        REACH_DAY2,
        REACH_DAY1,
    ]
    days.select_option(REACH_DAY1)  # the first day read again
    expect(statement).to_have_attribute("data-day", REACH_DAY1)
    expect(panel.get_by_test_id("st-cash-available")).to_contain_text("980,150.00")
    expect(holding.get_by_test_id("st-available")).to_have_text("6,250")
    page.get_by_test_id("lang-toggle").click()
    expect(row.get_by_test_id("st-bought-t")).to_have_text("400 t")
    expect(panel).to_contain_text("Bought")
    page.get_by_test_id("lang-toggle").click()

    def check(where: str) -> None:
        assert not RAW_KEY.search(visible_text(page)), where
        assert_accessible(page, where)
        panel.scroll_into_view_if_needed()

    both_languages_and_sizes(page, "trainee-statements", check)


def test_a_voluntary_cancellation_and_its_certificate(
    page: Any, server: DemoServer, exchange: httpx.Client
) -> None:
    key = reach_account(exchange, "VC1", 0, 1_000)
    day = ok(exchange.get(R))["trading_day"]  # a cancellation is dated with it
    log_in(page, server, key, REACH)
    panel = page.get_by_test_id("panel-cancellations")
    expect(panel).to_contain_text("暂无注销记录")
    form = panel.get_by_test_id("cancel-form")
    expect(form.locator("select[name=cancel-unit]")).to_contain_text("1,000 吨")
    message = panel.get_by_test_id("cancel-message")

    # What the form can tell at once, it says with the numbers; nothing is sent.
    form.locator("input[name=cancel-qty]").fill("1001")
    form.locator("input[name=beneficiary]").fill("Expo <2026>")
    form.get_by_test_id("cancel-units").click()
    expect(message).to_have_attribute("role", "alert")
    expect(message).to_contain_text("可用仅 1,000 吨")
    expect(message).to_contain_text("1,001 吨")
    form.locator("input[name=cancel-qty]").fill("300")
    form.locator("input[name=beneficiary]").fill("  ")
    form.get_by_test_id("cancel-units").click()
    expect(message).to_contain_text("请填写受益方")

    # Asked again first; "not now" cancels nothing.
    form.locator("input[name=beneficiary]").fill("Expo <2026>")
    form.locator("input[name=purpose]").fill("carbon-neutral event")
    form.get_by_test_id("cancel-units").click()
    question = panel.get_by_test_id("cancel-confirmation")
    expect(question).to_contain_text("300 吨")
    expect(question).to_contain_text("Expo <2026>")
    assert_accessible(page, "cancellation asked")
    panel.get_by_test_id("cancel-not-now").click()
    expect(question).to_have_count(0)
    with api(server, key) as vc1:
        assert ok(vc1.get(f"{R}/accounts/VC1/cancellations"))["cancellations"] == []
        form.get_by_test_id("cancel-units").click()
        panel.get_by_test_id("cancel-confirm").click()
        expect(message).to_have_attribute("role", "status")
        made = ok(vc1.get(f"{R}/accounts/VC1/cancellations"))["cancellations"]
        assert [(c["qty_t"], c["beneficiary"], c["purpose"]) for c in made] == [
            (300, "Expo <2026>", "carbon-neutral event")
        ]
        serial = made[0]["serial"]
        number = ok(vc1.get(f"{R}/retired/{serial}/certificate"))["certificate_no"]
    expect(message).to_contain_text(f"登记编号 {serial}")
    listed = panel.get_by_test_id("cancellation")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("300 吨")
    expect(listed.first).to_have_attribute("data-day", day)
    expect(listed.first).to_contain_text(f"{int(day[:4])}年{int(day[5:7])}月{int(day[8:])}日")
    expect(listed.first.get_by_test_id("cancellation-beneficiary")).to_have_text(
        "Expo <2026> · carbon-neutral event"
    )
    expect(panel.get_by_test_id("cancellations-total")).to_contain_text("300 吨")
    # The units are gone from the holdings: 1,000 - 300.
    held = page.locator(f"[data-testid=holding][data-unit={SYMBOL}]")
    expect(held.get_by_test_id("holding-available")).to_have_text("700")
    expect(form.locator("select[name=cancel-unit]")).to_contain_text("700 吨")

    # The certificate opens in a new tab, in both languages, with the beneficiary escaped.
    with page.context.expect_page() as opened:
        listed.first.get_by_test_id("certificate").click()
    tab = opened.value
    tab.wait_for_url(re.compile(r"^blob:"))
    heading = tab.locator("h1")
    expect(heading).to_contain_text("注销证明")
    expect(heading).to_contain_text("Cancellation certificate")
    body = tab.locator("body")
    expect(body).to_contain_text(number)
    expect(body).to_contain_text("Expo <2026>")
    expect(body).to_contain_text("300 吨 / t CO₂e")
    expect(body).to_contain_text(day)
    screenshot(tab, "trainee-cancellation-certificate")
    tab.close()

    def check(where: str) -> None:
        assert not RAW_KEY.search(visible_text(page)), where
        assert_accessible(page, where)
        panel.scroll_into_view_if_needed()

    both_languages_and_sizes(page, "trainee-cancellations", check)
