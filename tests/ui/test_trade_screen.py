"""The trainee screen's orders, names, connection and layout in a real browser (issue 14):
today's orders with their status in the exchange's words, the open ones still amendable and
cancellable; instruments and units by name everywhere; the connection in the header, and an
error that clears once the server answers again; the ladder by keyboard; the tape's side marked
in words; announcements that arrive while trading; every column and button on screen at both
sizes. Screenshots at both sizes in both languages go to tests/ui/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.server import DemoServer
from tests.ui.conftest import (
    DESK,
    PHONE,
    api,
    assert_accessible,
    demo,
    log_in,
    ok,
    place_in_ticket,
    screenshot,
    speak,
    yuan,
)

pytestmark = pytest.mark.ui

MARKET = "names"
M = f"/v1/markets/{MARKET}"
OPEN_DAY = "2026-03-02"  # a Monday, no holiday in cn_national's calendar
CEA, CCER = "CEA2025", "CCER:FOR-HB-01:2025"
CEA_NAME = {"zh": "全国碳排放配额 2025", "en": "CEA 2025"}
CCER_NAME = {"zh": "CCER 林业碳汇 湖北 FOR-HB-01 2025", "en": "CCER forestry Hubei FOR-HB-01 2025"}
STATES = {  # data-state → the status in each language
    "new": ("已报", "Resting"),
    "partly": ("部成", "Partly filled"),
    "filled": ("已成", "Filled"),
    "cancelled": ("已撤", "Cancelled"),
    "expired": ("已过期", "Expired"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo without bots: this module's market and the demo's books move only as it says."""
    yield from demo(tmp_path_factory, "trade-screen", 0)


@pytest.fixture(scope="module")
def market(server: DemoServer) -> dict[str, str]:
    """A market of its own (its day is closed by a test) listing an allowance and a CCER of a
    registered forestry project in Hubei; a trainee holding both, and a counterparty. Keys."""
    with api(server, server.keys["exchange_operator_key"]) as exchange:
        listing = [
            {"symbol": CEA, "reference_price_fen": 6000},
            {"symbol": CCER, "reference_price_fen": 5000},
        ]
        body = {"market_id": MARKET, "rule_set": "cn_national", "instruments": listing}
        ok(exchange.post("/v1/markets", json={**body, "open_day": OPEN_DAY}), 201)
        project = {
            "project_id": "FOR-HB-01",
            "methodology": "forestry_sink",
            "province": "Hubei",
            "start_date": "2021-01-01",
            "registration_date": "2024-09-01",
        }
        ok(exchange.post(f"{M}/projects", json=project), 201)
        keys = {}
        for account_id in ("T1", "T2"):
            opened = {
                "account_id": account_id,
                "name": f"Trader {account_id}",
                "cash_fen": 50_000_000,
                "allowances": [{"vintage": 2025, "qty_t": 2_000}],
            }
            keys[account_id] = ok(exchange.post(f"{M}/participants", json=opened), 201)["api_key"]
            issue = {"account_id": account_id, "vintage": 2025, "qty_t": 500}
            ok(exchange.post(f"{M}/projects/FOR-HB-01/issuances", json=issue), 201)
    return keys


def within(inner: Any, outer: Any) -> None:
    """``inner`` lies horizontally inside ``outer`` (both locators), on screen."""
    a, b = inner.bounding_box(), outer.bounding_box()
    assert a is not None
    assert b is not None
    assert b["x"] - 0.5 <= a["x"], (a, b)
    assert a["x"] + a["width"] <= b["x"] + b["width"] + 0.5, (a, b)


def test_todays_orders_keep_their_status_and_every_name_shows(
    page: Any, server: DemoServer, market: dict[str, str]
) -> None:
    log_in(page, server, market["T1"], MARKET)
    expect(page.get_by_test_id("trade-view")).to_be_visible()
    picker = page.get_by_test_id("instrument")
    expect(picker.locator(f"option[value='{CEA}']")).to_have_text(CEA_NAME["zh"])
    expect(picker.locator(f"option[value='{CCER}']")).to_have_text(CCER_NAME["zh"])
    expect(page.get_by_test_id("panel-ladder").locator("h2")).to_contain_text(CEA_NAME["zh"])
    holdings = page.get_by_test_id("holding")
    expect(holdings.filter(has_text=CCER_NAME["zh"])).to_have_count(1)

    orders = page.get_by_test_id("open-order")
    done = page.get_by_test_id("done-order")
    # Cancelled: it stays in the list, as 已撤, without actions.
    place_in_ticket(page, "buy", 5_800, 40)
    expect(orders).to_have_count(1)
    orders.first.get_by_test_id("cancel").click()
    expect(orders).to_have_count(0)
    expect(done).to_have_count(1)
    expect(done.first).to_have_attribute("data-state", "cancelled")
    expect(done.first.get_by_test_id("order-status")).to_have_text("已撤")
    expect(done.first.get_by_test_id("cancel")).to_have_count(0)

    # Filled (the CCER, by name in the orders, the fills and the tape) and partly filled.
    picker.select_option(CCER)
    expect(page.get_by_test_id("panel-tape").locator("h2")).to_contain_text(CCER_NAME["zh"])
    place_in_ticket(page, "sell", 5_100, 30)
    place_in_ticket(page, "sell", 5_200, 100)
    with api(server, market["T2"]) as counterparty:
        buy = {"symbol": CCER, "side": "buy", "order_type": "ioc"}
        ok(counterparty.post(f"{M}/orders", json={**buy, "qty_t": 70, "price_fen": 5_200}), 201)
    state = {s: page.locator(f"tbody[data-state={s}]") for s in STATES}
    expect(state["filled"]).to_have_count(1)
    expect(state["partly"]).to_have_count(1)
    expect(state["filled"]).to_contain_text(CCER_NAME["zh"])
    expect(state["partly"].get_by_test_id("order-status")).to_have_text("部成")
    expect(state["partly"]).to_contain_text("40/100")
    expect(page.get_by_test_id("fill-row").first).to_contain_text(CCER_NAME["zh"])
    expect(page.get_by_test_id("tape-row").first).to_contain_text("买")  # T2 took both
    # A resting one: 已报, with amend and cancel, both on screen at a phone's width too.
    picker.select_option(CEA)
    place_in_ticket(page, "buy", 5_700, 25)
    expect(state["new"]).to_have_count(1)
    expect(orders).to_have_count(2)  # the partly filled sell and this buy
    for language in ("zh", "en"):
        speak(page, language)
        for size, viewport in (("1280", DESK), ("390", PHONE)):
            page.set_viewport_size(viewport)
            panel = page.get_by_test_id("panel-orders")
            panel.scroll_into_view_if_needed()
            for button in ("amend", "cancel"):
                within(state["new"].get_by_test_id(button), panel)
            sellable = page.locator(f"[data-testid=holding][data-unit='{CCER}']").get_by_test_id(
                "holding-sellable"
            )
            within(sellable, page.get_by_test_id("panel-account"))
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{overflow} px of horizontal overflow at {size} px"
            assert_accessible(page, f"orders {language} {size}")
            screenshot(page, f"trade-orders-{language}-{size}")
    page.set_viewport_size(DESK)
    speak(page, "zh")

    # At the close what still rests expires: 已过期, and nothing is left to cancel.
    with api(server, server.keys["exchange_operator_key"]) as exchange:
        ok(exchange.post(f"{M}/session/close-day"))
    expect(state["expired"]).to_have_count(2)
    expect(orders).to_have_count(0)
    for row in range(2):
        expect(state["expired"].nth(row).get_by_test_id("order-status")).to_have_text("已过期")
    expect(state["partly"]).to_have_count(0)
    expect(done).to_have_count(4)
    screenshot(page, "trade-orders-expired-zh-1280")
    speak(page, "en")
    for s, (_, english) in STATES.items():
        if s not in ("new", "partly"):
            expect(state[s].first.get_by_test_id("order-status")).to_have_text(english)
    expect(picker.locator(f"option[value='{CCER}']")).to_have_text(CCER_NAME["en"])
    expect(holdings.filter(has_text=CCER_NAME["en"])).to_have_count(1)
    expect(state["filled"]).to_contain_text(CCER_NAME["en"])
    page.set_viewport_size(PHONE)
    page.get_by_test_id("panel-orders").scroll_into_view_if_needed()
    screenshot(page, "trade-orders-expired-en-390")


def test_the_header_shows_the_connection_and_errors_clear_when_it_is_back(
    page: Any, server: DemoServer
) -> None:
    """The WebSocket and the REST reads are cut in the browser (Playwright's routes), then let
    through again: the header goes from connected to offline and back, and the error the
    failed reads showed goes away without a reload."""
    cut = {"on": False}
    sockets: list[Any] = []

    def socket(ws: Any) -> None:
        if cut["on"]:
            ws.close()  # the server is unreachable: the page's socket closes unanswered
            return
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/v1/ws$"), socket)
    log_in(page, server, server.keys["participants"]["P001"])
    state = page.get_by_test_id("connection")
    expect(state).to_have_attribute("data-state", "connected")
    expect(state).to_have_text("已连接")
    assert_accessible(page, "connected")

    cut["on"] = True
    page.route("**/v1/markets/**", lambda route: route.abort())
    for ws in sockets:
        ws.close()
    expect(state).to_have_attribute("data-state", re.compile("reconnecting|offline"))
    expect(state).to_have_attribute("data-state", "offline")
    expect(state).to_have_text("连接已断开")
    alert = page.get_by_test_id("trade-view").get_by_role("alert")
    expect(alert).to_contain_text("无法连接服务器")  # the book's next poll fails
    screenshot(page, "trade-offline-zh-1280")
    page.get_by_test_id("lang-toggle").click()
    expect(state).to_have_text("Offline")
    page.set_viewport_size(PHONE)
    screenshot(page, "trade-offline-en-390")

    cut["on"] = False
    page.unroute("**/v1/markets/**")
    expect(state).to_have_attribute("data-state", "connected")
    expect(state).to_have_text("Connected")
    expect(alert).to_have_count(0)  # data-read on the alert names the read that still fails


def test_the_ladder_works_by_keyboard_and_the_tape_marks_its_side_in_words(
    page: Any, server: DemoServer
) -> None:
    with api(server, server.keys["participants"]["P002"]) as p002:
        ref = ok(p002.get("/v1/markets/demo/book/CEA2025"))["reference_price_fen"]
        order = {"symbol": "CEA2025", "order_type": "limit", "qty_t": 10}
        for price_fen in (ref + 30, ref + 40):
            ok(
                p002.post(
                    "/v1/markets/demo/orders",
                    json={**order, "side": "sell", "price_fen": price_fen},
                ),
                201,
            )
        taken = {**order, "side": "buy", "order_type": "ioc", "qty_t": 1, "price_fen": ref + 30}
    with api(server, server.keys["participants"]["P001"]) as p001:
        ok(p001.post("/v1/markets/demo/orders", json=taken), 201)  # a trade for the tape
    log_in(page, server, server.keys["participants"]["P001"])
    asks = page.get_by_test_id("ask-level")
    expect(asks.filter(has_text=yuan(ref + 40))).to_have_count(1)
    top = asks.filter(has_text=yuan(ref + 40)).locator("button.pick")
    page.get_by_test_id("instrument").focus()
    page.keyboard.press("Tab")  # the ladder's first price comes next, its highest offer
    expect(top).to_be_focused()
    outline = top.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "no visible focus on a ladder price"
    page.keyboard.press("ArrowDown")  # from the higher ask to the best ask
    best = asks.filter(has_text=yuan(ref + 30)).locator("button.pick")
    expect(best).to_be_focused()
    expect(best).to_have_accessible_name(re.compile(r"卖价 .*" + re.escape(yuan(ref + 30))))
    page.keyboard.press("Enter")
    ticket = page.get_by_test_id("panel-entry").locator("input[name=price]")
    expect(ticket).to_have_value(yuan(ref + 30))
    expect(page.get_by_test_id("ladder-picked")).to_contain_text(yuan(ref + 30))
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(ticket).to_have_value(yuan(ref + 40))

    # The tape: the side that traded in words (and an arrow), not only in colour.
    row = page.get_by_test_id("tape-row").first
    expect(row).to_have_attribute("data-aggressor", "buy")
    expect(row.get_by_test_id("tape-mark")).to_contain_text("▲ 买")
    expect(row.get_by_test_id("tape-mark")).to_contain_text("主动买入")  # read out, not shown
    page.get_by_test_id("lang-toggle").click()
    expect(row.get_by_test_id("tape-mark")).to_contain_text("▲ B")
    expect(row.get_by_test_id("tape-mark")).to_contain_text("Buyer initiated")
    with api(server, server.keys["participants"]["P002"]) as p002:
        ok(p002.delete("/v1/markets/demo/orders"))


def test_an_announcement_shows_as_a_toast_and_a_badge_until_seen(
    page: Any, server: DemoServer
) -> None:
    page.set_viewport_size(PHONE)  # the panel is far down the page on a phone
    log_in(page, server, server.keys["participants"]["P002"])
    expect(page.get_by_test_id("panel-news")).to_be_attached()
    expect(page.get_by_test_id("news-badge")).to_have_count(0)
    with api(server, server.keys["operator_key"]) as operator:
        posted = {"text": "Heat wave: power demand up", "level": "warning"}
        ok(operator.post("/v1/markets/demo/announcements", json=posted), 201)
    toast = page.get_by_test_id("news-toast")
    expect(toast).to_contain_text(posted["text"])
    badge = page.get_by_test_id("news-badge")
    expect(badge).to_contain_text("1")
    assert_accessible(page, "toast")
    screenshot(page, "trade-announcement-toast-zh-390")
    toast.get_by_test_id("news-toast-close").click()
    expect(toast).to_have_count(0)
    expect(badge).to_contain_text("1")  # dismissed, not yet read
    page.get_by_test_id("lang-toggle").click()
    page.set_viewport_size(DESK)
    screenshot(page, "trade-announcement-badge-en-1280")
    page.set_viewport_size(PHONE)
    badge.click()
    expect(page.locator("#news-list")).to_be_focused()
    expect(page.locator("#news-list")).to_be_in_viewport()
    expect(badge).to_have_count(0)
    page.reload()  # what was seen stays seen
    expect(page.get_by_test_id("news-item").first).to_contain_text(posted["text"])
    expect(page.get_by_test_id("news-badge")).to_have_count(0)
