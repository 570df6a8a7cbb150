"""Point-select (摘牌) from the ladder in a real browser: choosing an offer level (by keyboard)
shows its quotes with price and quantity, the trainee takes part of one at its price, and the
trade shows in the fills, the tape and the ladder; a refusal (more than the quote has left) is
explained in both languages. Screenshots at both sizes in both languages go to
tests/ui/artifacts/ (point-select-*).

The demo market (no bots; national rules: five take levels, no fees). P002 offers 30 t at the
reference + CNY 0.10 and 20 t at the reference + CNY 0.20; P001 takes 12 t of the second.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.server import DemoServer
from tests.ui.conftest import (
    api,
    assert_accessible,
    both_languages_and_sizes,
    demo,
    log_in,
    ok,
    speak,
    yuan,
)

pytestmark = pytest.mark.ui

M = "/v1/markets/demo"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    yield from demo(tmp_path_factory, "point-select", 0)


def accessible(page: Any) -> Callable[[str], None]:
    return lambda where: assert_accessible(page, where)


def test_a_trainee_takes_a_quote_from_the_ladder(page: Any, server: DemoServer) -> None:
    with api(server, server.keys["participants"]["P002"]) as p002:
        ref = ok(p002.get(f"{M}/book/CEA2025"))["reference_price_fen"]
        order = {"symbol": "CEA2025", "side": "sell", "order_type": "limit"}
        ok(p002.post(f"{M}/orders", json={**order, "qty_t": 30, "price_fen": ref + 10}), 201)
        second = ok(
            p002.post(f"{M}/orders", json={**order, "qty_t": 20, "price_fen": ref + 20}), 201
        )["order_id"]
    log_in(page, server, server.keys["participants"]["P001"])
    speak(page, "zh")
    asks = page.get_by_test_id("ask-level")
    level = asks.filter(has_text=yuan(ref + 20))
    expect(level).to_have_count(1)

    # By keyboard: the highest offer is the first price after the instrument selector.
    pick = level.locator("button.pick")
    page.get_by_test_id("instrument").focus()
    page.keyboard.press("Tab")
    expect(pick).to_be_focused()
    name = re.compile(rf"卖价 ¥{yuan(ref + 20)}，20 吨：.*可买入的报价")
    expect(pick).to_have_accessible_name(name)
    page.keyboard.press("Enter")
    panel = page.get_by_test_id("take-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("take-level")).to_contain_text("第 2 档")
    quote = panel.get_by_test_id("take-quote")
    expect(quote).to_have_count(1)
    expect(quote).to_contain_text(f"第 {second} 号")
    expect(quote).to_contain_text(yuan(ref + 20))
    expect(quote).to_contain_text("20")
    expect(panel.get_by_test_id("take-qty")).to_have_value("20")
    both_languages_and_sizes(page, "point-select-level", accessible(page))

    # More than the quote holds: refused, explained with its numbers.
    panel.get_by_test_id("take-qty").fill("25")
    panel.get_by_test_id(f"take-{second}").click()
    message = panel.get_by_test_id("take-message")
    expect(message).to_contain_text(f"报价 {second} 只剩 20 吨，您要摘 25 吨。")
    speak(page, "en")
    expect(page.get_by_test_id("take-panel").get_by_test_id("take-quote")).to_contain_text(
        f"No. {second}"
    )
    speak(page, "zh")

    # Take 12 t at the second level's price while the better offer rests.
    panel.get_by_test_id("take-qty").fill("12")
    take = panel.get_by_test_id(f"take-{second}")
    expect(take).to_have_accessible_name(f"以 ¥{yuan(ref + 20)} 从报价 {second} 买入 12 吨")
    take.click()
    expect(message).to_contain_text(f"已按 ¥{yuan(ref + 20)} 摘取报价 {second} 的 12 吨")
    # The trade on screen: the quote keeps 8 t, the fill and the tape show 12 t at its price.
    expect(quote).to_contain_text("8")
    expect(asks.filter(has_text=yuan(ref + 20))).to_contain_text("8")
    fills = page.get_by_test_id("panel-fills")
    expect(fills.locator("tbody tr").first).to_contain_text(yuan(ref + 20))
    expect(fills.locator("tbody tr").first).to_contain_text("12")
    tape = page.get_by_test_id("tape-row").first
    expect(tape).to_contain_text(yuan(ref + 20))
    expect(tape).to_have_attribute("data-aggressor", "buy")
    both_languages_and_sizes(page, "point-select-taken", accessible(page))

    with api(server, server.keys["participants"]["P001"]) as p001:
        fills_json = ok(p001.get(f"{M}/fills?symbol=CEA2025&limit=1"))["fills"][0]
        assert (fills_json["price_fen"], fills_json["qty_t"]) == (ref + 20, 12)
    with api(server, server.keys["participants"]["P002"]) as p002:
        ok(p002.delete(f"{M}/orders"))
