"""Browser tests: Playwright (Python) driving Debian's Chromium against a real ``carbonx demo``.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``
(``scripts/ensure-chromium`` installs it; ``make test`` runs that). The UI must be built
(``make ui``). Without either the browser tests skip, except under CI, where they fail.
Screenshots go to ``tests/ui/artifacts/`` (kept by CI as artefacts, ignored by git).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.server import ROOT, DemoServer, start_demo
from tests.markets import ok as ok  # for the browser tests, with the helpers below

CHROMIUM = Path(os.environ.get("CARBONX_CHROMIUM", "/usr/bin/chromium"))
UI_BUILD = ROOT / "ui" / "dist" / "index.html"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIZES = {"1280": DESK, "390": PHONE}
TIMEOUT_MS = 10_000
# Assertions wait as long as actions do: a loaded CI machine polls and renders slower than 5 s.
try:
    from playwright.sync_api import expect as _expect

    _expect.set_options(timeout=TIMEOUT_MS)
except ImportError:  # pragma: no cover - the browser tests skip without Playwright
    pass
LANGUAGES = {"zh": "zh-CN", "en": "en"}
# A classroom's address that is not loopback: a browser started with ``RESOLVE_CLASS_HOST``
# maps the name to 127.0.0.1, so that a login card's link opens the test's server, as a
# trainee's phone opens the classroom server's address.
CLASS_HOST = "carbonx-class.test"
RESOLVE_CLASS_HOST = f"--host-resolver-rules=MAP {CLASS_HOST} 127.0.0.1"


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _need(condition: bool, message: str) -> None:
    if condition:
        return
    if _under_ci():
        pytest.fail(f"{message} (CI runs the browser tests: `make test` prepares both)")
    pytest.skip(message)


def chromium(*args: str) -> Iterator[Any]:
    """Debian's Chromium under Playwright with ``args`` besides the usual ones, closed after;
    skipped (failed under CI) without it or without the UI's build."""
    _need(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}: run scripts/ensure-chromium")
    _need(UI_BUILD.exists(), "the UI is not built: run `make ui`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", *args]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests of this package: each test works in browser contexts
    of its own (no cookie, storage or cache shared), so the browser need not be started per
    module. ``RESOLVE_CLASS_HOST`` maps only ``CLASS_HOST``, for the login cards' links.
    Package scope, not session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, where ``asyncio.run`` then refuses to start (tests/ui/test_serving.py
    runs its requests in a thread of their own)."""
    yield from chromium(RESOLVE_CLASS_HOST)


def demo(tmp_path_factory: pytest.TempPathFactory, name: str, bots: int) -> Iterator[DemoServer]:
    """A module's ``carbonx demo`` with ``bots`` demo bots trading, stopped afterwards."""
    database = tmp_path_factory.mktemp(name) / "demo.db"
    running = start_demo(database, {"CARBONX_DEMO_BOTS": str(bots)})
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    yield from demo(tmp_path_factory, "ui", 6)


@pytest.fixture(scope="module")
def operator(server: DemoServer) -> Iterator[httpx.Client]:
    """The module's demo market operator, over REST."""
    with api(server, server.keys["operator_key"]) as c:
        yield c


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (empty session and local storage) at desk size; page errors
    fail the test."""
    context = browser.new_context(viewport=DESK)
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"{request.node.name}: errors in the page: {errors}"


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Any, server: DemoServer, key: str, market_id: str = "demo") -> None:
    """Log in with ``key`` on the login screen: the key names its market (getSession), except
    the exchange-wide key, valid in every market, for which the form asks: ``market_id``."""
    page.goto(server.base_url + "/")
    page.fill("input[name=key]", key)
    page.click("[data-testid=login-form] button[type=submit]")
    if key == server.keys.get("exchange_operator_key"):
        page.get_by_test_id("login-market").select_option(market_id)
        page.click("[data-testid=login-form] button[type=submit]")


def api(server: DemoServer, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=10.0
    )


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def place_in_ticket(
    page: Any, side: str, price_fen: int | None, qty_t: int, kind: str = "limit"
) -> None:
    form = page.get_by_test_id("order-form")
    form.get_by_test_id(f"side-{side}").click()
    form.locator("select[name=order_type]").select_option(kind)
    if price_fen is not None:
        form.locator("input[name=price]").fill(yuan(price_fen))
    form.locator("input[name=qty]").fill(str(qty_t))
    form.get_by_test_id("place-order").click()


def speak(page: Any, language: str) -> None:
    """Switch the page to ``language`` ("zh" or "en") with the language toggle, if it is not
    in it already."""
    if page.evaluate("document.documentElement.lang") != LANGUAGES[language]:
        page.get_by_test_id("lang-toggle").click()
    assert page.evaluate("document.documentElement.lang") == LANGUAGES[language]


def both_languages_and_sizes(
    page: Any, name: str, check: Callable[[str], None] | None = None
) -> None:
    """Screenshots of the page as it stands at both sizes in both languages, named
    ``{name}-{language}-{size}``; ``check`` (``assert_accessible``, say) runs on each first,
    told where. The page is left in Chinese at desk size."""
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        for language in LANGUAGES:
            speak(page, language)
            if check is not None:
                check(f"{name} {language} {size}")
            screenshot(page, f"{name}-{language}-{size}")
    speak(page, "zh")
    page.set_viewport_size(DESK)


# --- a class's login cards (tests/ui/test_logins.py, tests/ui/test_whole_class.py) ----------


def class_address(server: DemoServer) -> str:
    """The server's address under ``CLASS_HOST``, as a classroom's would be."""
    return server.base_url.replace("127.0.0.1", CLASS_HOST)


def set_address(page: Any, text: str) -> None:
    """Type the address trainees open into the console's logins tab and use it."""
    page.locator("input[name=public-url]").fill(text)
    page.get_by_test_id("address-use").click()


def decode_qr(card: Any) -> str:
    """The text of a login card's QR code, read from a screenshot of the card."""
    import zxingcpp
    from PIL import Image
    from playwright.sync_api import expect

    qr = card.get_by_test_id("card-qr")
    expect(qr).to_be_visible()
    image = Image.open(io.BytesIO(qr.screenshot())).convert("L")
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, f"{len(found)} codes read"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    text: str = found[0].text
    return text


def card_key(card: Any) -> str:
    """The key printed on a login card (in groups of four on screen, one word in the text)."""
    key: str = card.get_by_test_id("card-key").inner_text().strip()
    assert re.fullmatch(r"cx_[A-Za-z0-9_-]{43}", key), key
    return key


def visible_text(page: Any) -> str:
    """The page's visible text without the elements marked ``data-i18n-exempt``: what names
    another language on purpose (the language toggle) and data typed in (announcements,
    scenario and account names)."""
    text: str = page.evaluate(
        """() => {
            let text = document.body.innerText;
            for (const el of document.querySelectorAll('[data-i18n-exempt]'))
                text = text.split(el.innerText).join('');
            return text;
        }"""
    )
    return text


AXE_SCRIPT = ROOT / "ui" / "node_modules" / "axe-core" / "axe.min.js"
# What fails a page: axe-core's two worst impact levels. Moderate and minor findings are
# reported in the message of a failure but do not fail on their own.
AXE_FAILING_IMPACTS = ("serious", "critical")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations on the page as it stands (``ui/package.json``
    installs axe-core with the UI's dependencies; ``make`` does that)."""
    _need(AXE_SCRIPT.exists(), "axe-core is not installed: run `make ui`")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {
                runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
                resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.map((n) => ({
                    target: n.target.join(" "), summary: n.failureSummary,
                })),
            }));
        }"""
    )
    return found


def assert_accessible(page: Any, where: str = "") -> None:
    """No serious or critical axe-core violation on the page as it stands; ``where`` names the
    screen in the failure message."""
    violations = axe_violations(page)
    failing = [v for v in violations if v["impact"] in AXE_FAILING_IMPACTS]
    if failing:
        lines = [f"{where or page.url}: {len(failing)} serious or critical axe violations"]
        for v in failing:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
            lines.extend(f"    {n['target']}: {n['summary']}" for n in v["nodes"][:5])
        raise AssertionError("\n".join(lines))
