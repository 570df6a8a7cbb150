"""axe-core in the browser: no serious or critical WCAG 2.1 A/AA violation on the login screen,
the trainee screen and every tab of the instructor console, at 1280x800 and 390x844, in Chinese
and in English (``assert_accessible`` in conftest.py). The demo's bots trade meanwhile, so the
ladder, tape and chart hold data; the trainee has orders of each kind and an announcement.
Screenshots of each go to tests/ui/artifacts/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.server import DemoServer
from tests.ui.conftest import SIZES, api, assert_accessible, log_in, ok, screenshot, speak

pytestmark = pytest.mark.ui

M = "/v1/markets/demo"
LANGUAGES = ("zh", "en")
TABS = ("control", "dashboard", "mrv", "news", "logins", "results", "replay", "new")


@pytest.fixture(scope="module")
def trainee_key(server: DemoServer, operator: Any) -> str:
    """P002 with a resting order, a cancelled one, and an announcement to read."""
    key: str = server.keys["participants"]["P002"]
    with api(server, key) as p002:
        ref = ok(p002.get(f"{M}/book/CEA2025"))["reference_price_fen"]
        order = {"symbol": "CEA2025", "side": "buy", "order_type": "limit", "qty_t": 20}
        ok(p002.post(f"{M}/orders", json={**order, "price_fen": ref - 400}), 201)
        gone = ok(p002.post(f"{M}/orders", json={**order, "price_fen": ref - 450}), 201)
        ok(p002.delete(f"{M}/orders/{gone['order_id']}"))
    news = {"text": "Heat wave forecast: power demand expected to rise.", "level": "warning"}
    ok(operator.post(f"{M}/announcements", json=news), 201)
    return key


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_login_screen(page: Any, server: DemoServer, language: str, size: str) -> None:
    page.set_viewport_size(SIZES[size])
    page.goto(server.base_url + "/")
    expect(page.get_by_test_id("login-form")).to_be_visible()
    speak(page, language)
    assert_accessible(page, f"login {language} {size}")
    page.fill("input[name=key]", "cx_not-a-key")  # and with its refusal showing
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, f"login refused {language} {size}")
    screenshot(page, f"a11y-login-{language}-{size}")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_trainee_screen(
    page: Any, server: DemoServer, trainee_key: str, language: str, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    log_in(page, server, trainee_key)
    expect(page.get_by_test_id("panel-compliance")).to_be_visible()
    expect(page.get_by_test_id("tape-row").first).to_be_visible()  # the bots trade
    expect(page.get_by_test_id("done-order")).to_have_count(1)
    expect(page.get_by_test_id("news-item").first).to_be_visible()
    speak(page, language)
    assert_accessible(page, f"trainee {language} {size}")
    page.get_by_test_id("open-order").first.get_by_test_id("amend").click()  # the amend form
    expect(page.locator("input[name=amend-price]")).to_be_visible()
    assert_accessible(page, f"trainee amending {language} {size}")
    screenshot(page, f"a11y-trainee-{language}-{size}")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_tab_of_the_instructor_console(
    page: Any, server: DemoServer, language: str, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    log_in(page, server, server.keys["operator_key"])
    expect(page.get_by_test_id("instructor-view")).to_be_visible()
    speak(page, language)
    for tab in TABS:
        page.get_by_test_id(f"tab-{tab}").click()
        expect(page.get_by_test_id(f"tab-{tab}")).to_have_attribute("aria-selected", "true")
        page.wait_for_load_state("networkidle")
        assert_accessible(page, f"instructor {tab} {language} {size}")
        screenshot(page, f"a11y-instructor-{tab}-{language}-{size}")
