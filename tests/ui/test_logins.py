"""Logins for a room of trainees, in a real browser against a real ``carbonx demo``: the
instructor's login cards never carry a loopback address; the address trainees open is set in
the console (or offered from the server's); every card carries a QR code whose content is the
seat's login link; opening the link logs the seat in, with the key gone from the address bar
and in no request URL nor the server's log; the login screen takes only the key, unmasked;
the print view puts eight cards on an A4 page. Screenshots at both sizes, in both languages.

Chromium maps the name ``CLASS_HOST`` to the loopback address (``RESOLVE_CLASS_HOST``), so that
a card's link to a non-loopback address opens this test's server, as a trainee's phone opens the
classroom server's address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from exchange.keys import key_id_of
from tests.api.server import DemoServer
from tests.api.test_classroom import TINY
from tests.ui.conftest import (
    PHONE,
    api,
    both_languages_and_sizes,
    card_key,
    class_address,
    decode_qr,
    demo,
    ok,
    screenshot,
    set_address,
)

pytestmark = pytest.mark.ui

MARKET = "class-logins"
SEATS = 30  # a room of trainees: four A4 pages of eight cards
CARDS_PER_PAGE = 8
LOOPBACK = re.compile(r"127\.0\.0\.1|localhost|\[::1\]", re.IGNORECASE)
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    yield from demo(tmp_path_factory, "logins", 0)


@pytest.fixture(scope="module")
def klass(server: DemoServer) -> dict[str, Any]:
    """A class of thirty seats from a tiny scenario without bots."""
    with api(server, server.keys["exchange_operator_key"]) as exchange_operator:
        body = {"market_id": MARKET, "yaml": TINY, "seats": SEATS}
        created: dict[str, Any] = ok(
            exchange_operator.post("/v1/markets/from-scenario", json=body), 201
        )
    assert len(created["seats"]) == SEATS
    return created


@pytest.fixture(scope="module")
def class_url(server: DemoServer) -> str:
    return class_address(server)


def logins_tab(page: Any, server: DemoServer, klass: dict[str, Any], at: str | None = None) -> Any:
    """The console's logins tab, opened at ``at`` (default: the server's loopback address),
    with the seats' keys in the tab's session storage as the console keeps them when it creates
    the class (the server shows them once)."""
    seats = json.dumps(klass["seats"])
    page.add_init_script(f"sessionStorage.setItem('carbonx.seats.{MARKET}', {json.dumps(seats)})")
    page.goto((at or server.base_url) + "/ui/")
    page.fill("input[name=key]", klass["operator_key"])
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.get_by_test_id("instructor-view")).to_be_visible()
    page.get_by_test_id("tab-logins").click()
    cards = page.get_by_test_id("seat-card")
    expect(cards).to_have_count(SEATS)
    return cards


# --- the instructor's cards ------------------------------------------------------------------


def test_a_console_on_loopback_prints_no_loopback_address(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    cards = logins_tab(page, server, klass)
    missing = page.get_by_test_id("address-missing")
    expect(missing).to_contain_text("127.0.0.1")  # says why: this console's own address
    expect(missing).to_contain_text("--host 0.0.0.0")  # the demo listens on loopback only
    expect(page.get_by_test_id("address-candidate")).to_have_count(0)
    assert not LOOPBACK.search(page.get_by_test_id("seat-cards").inner_text())
    expect(page.get_by_test_id("card-qr")).to_have_count(0)
    expect(page.get_by_test_id("print-logins")).to_be_disabled()
    expect(cards.first.get_by_test_id("card-url")).to_contain_text("填写学员访问的网址")
    # A loopback address typed in is refused in words, and the cards stay without one.
    set_address(page, "http://localhost:8000/ui/")
    expect(page.get_by_test_id("address-error")).to_contain_text("localhost")
    expect(page.get_by_test_id("card-qr")).to_have_count(0)
    set_address(page, "not an address")
    expect(page.get_by_test_id("address-error")).to_contain_text("http://主机:端口")
    page.get_by_test_id("lang-toggle").click()  # said again in the other language
    expect(page.get_by_test_id("address-error")).to_contain_text("http://host:port")
    page.get_by_test_id("lang-toggle").click()
    both_languages_and_sizes(page, "logins-loopback-console")


def test_the_server_s_addresses_are_offered_and_one_is_used(
    page: Any, server: DemoServer, klass: dict[str, Any], class_url: str
) -> None:
    """A server listening on every interface offers its addresses (getPublicAddress); this
    test's server listens on loopback, so its answer is replaced by one from such a server."""
    port = int(server.base_url.rsplit(":", 1)[1])
    offered = {
        "public_url": None,
        "listen_host": "0.0.0.0",
        "loopback_only": False,
        "port": port,
        "candidates": [class_url, f"http://192.0.2.10:{port}"],
    }
    page.route("**/v1/public-address", lambda route: route.fulfill(json=offered))
    cards = logins_tab(page, server, klass)
    choices = page.get_by_test_id("address-candidate")
    expect(choices).to_have_count(2)
    expect(page.get_by_test_id("address-missing")).not_to_contain_text("--host 0.0.0.0")
    choices.first.click()
    expect(page.get_by_test_id("address-source")).to_contain_text(class_url)
    expect(cards.first.get_by_test_id("card-url")).to_have_text(f"{class_url}/ui/")
    expect(page.get_by_test_id("card-qr")).to_have_count(SEATS)
    # Remembered in this browser: the console opens on it again.
    page.reload()
    expect(page.get_by_test_id("seat-card").first.get_by_test_id("card-url")).to_have_text(
        f"{class_url}/ui/"
    )
    page.get_by_test_id("address-reset").click()
    expect(page.get_by_test_id("address-missing")).to_be_visible()


def test_the_address_setting_changes_the_cards_and_their_qr_codes(
    page: Any, server: DemoServer, klass: dict[str, Any], class_url: str
) -> None:
    cards = logins_tab(page, server, klass)
    set_address(page, "http://192.0.2.10:9000/ui/")
    card = cards.nth(2)
    expect(card.get_by_test_id("card-url")).to_have_text("http://192.0.2.10:9000/ui/")
    key = card_key(card)
    assert decode_qr(card) == f"http://192.0.2.10:9000/ui/#market={MARKET}&key={key}"
    set_address(page, class_url)
    expect(card.get_by_test_id("card-url")).to_have_text(f"{class_url}/ui/")
    assert decode_qr(card) == f"{class_url}/ui/#market={MARKET}&key={key}"
    for i in (0, SEATS - 1):  # every card its own seat's link
        other = cards.nth(i)
        assert decode_qr(other) == f"{class_url}/ui/#market={MARKET}&key={card_key(other)}"
    assert not LOOPBACK.search(page.get_by_test_id("seat-cards").inner_text())
    expect(page.get_by_test_id("print-logins")).to_be_enabled()
    # The CSV carries each seat's link.
    with page.expect_download() as downloaded:
        page.get_by_test_id("logins-csv").click()
    rows = downloaded.value.path().read_text("utf-8-sig").splitlines()
    assert len(rows) == SEATS + 1
    assert f"{class_url}/ui/#market={MARKET}&key={key}" in rows[3]
    both_languages_and_sizes(page, "logins-cards")


def test_a_console_opened_at_a_classroom_address_uses_its_own(
    page: Any, server: DemoServer, klass: dict[str, Any], class_url: str
) -> None:
    logins_tab(page, server, klass, at=class_url)
    expect(page.get_by_test_id("address-source")).to_contain_text(class_url)
    card = page.get_by_test_id("seat-card").first
    assert decode_qr(card) == f"{class_url}/ui/#market={MARKET}&key={card_key(card)}"


def test_the_print_view_puts_eight_cards_on_an_a4_page(
    page: Any, server: DemoServer, klass: dict[str, Any], class_url: str
) -> None:
    logins_tab(page, server, klass)
    set_address(page, class_url)
    expect(page.get_by_test_id("card-qr")).to_have_count(SEATS)
    page.emulate_media(media="print")
    expect(page.get_by_test_id("tab-logins")).to_be_hidden()  # no console around the cards
    expect(page.get_by_test_id("public-address")).to_be_hidden()
    expect(page.get_by_test_id("lang-toggle")).to_be_hidden()
    for lang in ("zh", "en"):
        shot = screenshot(page, f"logins-print-{lang}-1280")
        pdf = page.pdf(format="A4", print_background=True)
        shot.with_suffix(".pdf").write_bytes(pdf)  # to look at with pdftoppm
        pages = len(PDF_PAGE.findall(pdf))
        assert pages == -(-SEATS // CARDS_PER_PAGE), f"{pages} pages for {SEATS} cards"
        page.emulate_media(media="screen")
        page.get_by_test_id("lang-toggle").click()
        page.emulate_media(media="print")
    page.emulate_media(media="screen")


# --- the trainee's login ---------------------------------------------------------------------


def test_a_seat_logs_in_by_opening_its_card_s_link(
    page: Any, browser: Any, server: DemoServer, klass: dict[str, Any], class_url: str
) -> None:
    cards = logins_tab(page, server, klass)
    set_address(page, class_url)
    card = cards.nth(4)
    link = decode_qr(card)
    key = card_key(card)
    account = card.get_attribute("data-account")

    trainee = browser.new_context(viewport=PHONE).new_page()
    seen: list[str] = []
    trainee.on("request", lambda request: seen.append(request.url))
    trainee.on("websocket", lambda socket: seen.append(socket.url))
    try:
        trainee.goto(link)
        expect(trainee.get_by_test_id("trade-view")).to_be_visible()
        expect(trainee.get_by_test_id("who")).to_contain_text(MARKET)
        expect(trainee.get_by_test_id("who")).to_contain_text(account or "?")
        assert trainee.evaluate("location.hash") == ""
        assert key not in trainee.url
        assert trainee.url == f"{class_url}/ui/trade"
        screenshot(trainee, "logins-seat-opened-link-zh-390")
        trainee.get_by_test_id("lang-toggle").click()
        screenshot(trainee, "logins-seat-opened-link-en-390")
    finally:
        trainee.context.close()
    sent = [urlsplit(url)._replace(fragment="").geturl() for url in seen]
    assert any("/v1/session" in url for url in sent)
    assert not [url for url in sent if key in url], "the key went out in a request URL"
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "getSession" in log  # the requests were logged ...
    assert key not in log  # ... and the key was not


def test_a_revoked_seat_s_link_says_so_in_plain_words(
    page: Any, server: DemoServer, klass: dict[str, Any], class_url: str
) -> None:
    seat = klass["seats"][-1]
    with api(server, klass["operator_key"]) as op:
        ok(op.delete(f"/v1/markets/{MARKET}/keys/{key_id_of(seat['key'])}"))
    fragment = f"market={MARKET}&key={seat['key']}"
    page.goto(f"{class_url}/ui/#{fragment}")
    expect(page.get_by_role("alert")).to_contain_text("撤销")
    assert page.evaluate("location.hash") == ""
    expect(page.locator("input[name=key]")).to_have_value(seat["key"])
    screenshot(page, "logins-revoked-link-zh-1280")


def test_the_login_screen_takes_only_the_key_unmasked(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    page.goto(server.base_url + "/")
    field = page.locator("input[name=key]")
    expect(field).to_have_attribute("type", "text")
    expect(field).to_have_attribute("autocomplete", "off")
    expect(field).to_have_attribute("autocapitalize", "off")
    expect(field).to_have_attribute("spellcheck", "false")
    assert "mono" in field.evaluate("el => getComputedStyle(el).fontFamily").lower()
    expect(page.locator("input[name=market], select[name=market]")).to_have_count(0)
    page.get_by_test_id("key-visibility").click()
    expect(field).to_have_attribute("type", "password")
    page.get_by_test_id("key-visibility").click()
    expect(field).to_have_attribute("type", "text")
    # A mistyped key: said plainly, with the look-alikes to check.
    key = klass["seats"][0]["key"]
    field.fill(key[:-1] + ("1" if key.endswith("0") else "0"))  # one character off
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("区分大小写")
    both_languages_and_sizes(page, "logins-login-screen")
    # Typed as the card groups it, with gaps: the gaps are dropped, the market comes with it.
    key = klass["seats"][1]["key"]
    field.fill(" ".join([key[:3], *re.findall(".{1,4}", key[3:])]))
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.get_by_test_id("who")).to_contain_text(MARKET)
    expect(page.get_by_test_id("trade-view")).to_be_visible()


def test_an_exchange_wide_key_is_asked_for_its_market(
    page: Any, server: DemoServer, klass: dict[str, Any]
) -> None:
    page.goto(server.base_url + "/")
    page.fill("input[name=key]", server.keys["exchange_operator_key"])
    page.click("[data-testid=login-form] button[type=submit]")
    picker = page.get_by_test_id("login-market")
    expect(picker).to_be_visible()
    with httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.keys['exchange_operator_key']}"},
    ) as c:
        hosted = [m["market_id"] for m in ok(c.get("/v1/markets"))["markets"]]
    assert picker.locator("option").evaluate_all("os => os.map(o => o.value)") == hosted
    picker.select_option(MARKET)
    page.click("[data-testid=login-form] button[type=submit]")
    expect(page.get_by_test_id("instructor-view")).to_be_visible()
    expect(page.get_by_test_id("who")).to_contain_text(MARKET)
    assert parse_qs(urlsplit(page.url).query) == {}
