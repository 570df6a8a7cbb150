"""A class's MRV phase in a real browser (issue 19, docs/classroom.md "The MRV phase"): a
trainee sees the month the checks flag, corrects its carbon test from the retained sample and
deposits the year; the instructor, as verifier, passes the months, forces the default on the
month by a finding and signs; the trainee objects to the signed report and the instructor, who
sees the open objection on the seat's row, dismisses it with a note; the instructor moves the
class to verification, and the trainee sees the verified emissions. axe-core passes; both
languages at 1280×800 and 390×844."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.server import DemoServer
from tests.api.test_class_mrv import MRV_CLASS
from tests.ui.conftest import (
    DESK,
    api,
    assert_accessible,
    both_languages_and_sizes,
    demo,
    log_in,
    ok,
    screenshot,
)

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    yield from demo(tmp_path_factory, "classmrv", 0)


def no_overflow(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow} px of horizontal overflow"


def test_a_trainee_fixes_a_flagged_month_and_the_instructor_verifies_it(
    page: Any, browser: Any, server: DemoServer
) -> None:
    with api(server, server.keys["exchange_operator_key"]) as exchange:
        body = {"market_id": "mrvui", "yaml": MRV_CLASS, "mrv": "instructor"}
        made = ok(exchange.post("/v1/markets/from-scenario", json=body), 201)
    m = made["market_id"]
    seat = made["seats"][0]
    account = seat["account_id"]
    with api(server, made["operator_key"]) as operator:
        assert ok(operator.post(f"/v1/markets/{m}/class/phase/advance"))["phase"] == "mrv"
        view = ok(operator.get(f"/v1/markets/{m}/class/mrv/seats/{account}"))
    bad = view["retained_sample"]["month"]
    carbon = view["retained_sample"]["carbon"]

    # The trainee: the flagged month, the default line, the retained sample.
    log_in(page, server, seat["key"])
    panel = page.get_by_test_id("panel-mrv")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id(f"mrv-flags-{bad}")).to_contain_text("DQ04")
    expect(page.get_by_test_id("mrv-default")).to_be_visible()
    expect(page.get_by_test_id("mrv-retained")).to_contain_text(carbon)

    def check(where: str) -> None:
        no_overflow(page)
        assert_accessible(page, where)

    both_languages_and_sizes(page, "class-mrv-trainee", check)
    page.get_by_test_id(f"mrv-edit-{bad}").click()
    page.locator("input[name=mrv-carbon]").fill(carbon)
    page.get_by_test_id("mrv-save").click()
    expect(page.get_by_test_id(f"mrv-flags-{bad}")).not_to_contain_text("DQ04")
    page.get_by_test_id("mrv-deposit").click()
    expect(page.get_by_test_id(f"mrv-month-{bad}")).to_have_attribute("data-state", "deposited")
    expect(page.get_by_test_id("mrv-month-12")).to_have_attribute("data-state", "deposited")

    # The instructor, in the console: every seat's quality, then the seat's year.
    console = browser.new_context(viewport=DESK)
    instructor = console.new_page()
    try:
        log_in(instructor, server, made["operator_key"], m)
        expect(instructor.get_by_test_id("instructor-view")).to_be_visible()
        instructor.get_by_test_id("tab-mrv").click()
        expect(instructor.get_by_test_id(f"mrv-row-{account}")).to_contain_text("12/12")
        instructor.get_by_test_id(f"mrv-open-{account}").click()
        instructor.get_by_test_id("mrv-pass").click()
        row = instructor.get_by_test_id(f"mrv-month-{bad}")
        expect(row).to_have_attribute("data-state", "passed")
        instructor.get_by_test_id(f"mrv-finding-{bad}").click()
        expect(row).to_contain_text("1")
        instructor.get_by_test_id("mrv-sign").click()
        expect(instructor.get_by_test_id("mrv-report")).to_have_attribute("data-state", "signed")

        # The trainee objects to the signed report (read on the panel's next poll).
        expect(page.get_by_test_id("mrv-report")).to_have_attribute(
            "data-state", "signed", timeout=15_000
        )
        form = page.get_by_test_id("mrv-object-form")
        expect(form).to_be_visible()
        both_languages_and_sizes(page, "class-mrv-trainee-signed", check)
        page.locator("textarea[name=mrv-objection]").fill("The March sample was re-tested.")
        page.get_by_test_id("mrv-object").click()
        objection = page.get_by_test_id("mrv-objection")
        expect(objection).to_have_attribute("data-status", "open")
        expect(objection).to_contain_text("The March sample was re-tested.")
        expect(form).to_be_hidden()
        both_languages_and_sizes(page, "class-mrv-trainee-objection", check)

        # The instructor sees it on the seat's row and in its year, and dismisses it.
        expect(instructor.get_by_test_id(f"mrv-objection-open-{account}")).to_be_visible(
            timeout=15_000
        )
        expect(instructor.get_by_test_id("mrv-decide-form")).to_be_visible()
        expect(instructor.get_by_test_id("mrv-objection")).to_contain_text("re-tested")

        def check_console(where: str) -> None:
            no_overflow(instructor)
            assert_accessible(instructor, where)

        both_languages_and_sizes(instructor, "class-mrv-console", check_console)
        instructor.locator("textarea[name=mrv-decision-note]").fill("The finding stands.")
        instructor.get_by_test_id("mrv-decide-dismissed").click()
        decided = instructor.get_by_test_id("mrv-objection")
        expect(decided).to_have_attribute("data-status", "dismissed")
        expect(instructor.get_by_test_id("mrv-decide-form")).to_be_hidden()
        expect(instructor.get_by_test_id(f"mrv-objection-open-{account}")).to_be_hidden(
            timeout=15_000
        )
        both_languages_and_sizes(instructor, "class-mrv-console-dismissed", check_console)
        expect(objection).to_have_attribute("data-status", "dismissed", timeout=15_000)
        expect(objection).to_contain_text("The finding stands.")
        both_languages_and_sizes(page, "class-mrv-trainee-dismissed", check)
        with api(server, made["operator_key"]) as operator:
            signed = ok(operator.get(f"/v1/markets/{m}/class/mrv/seats/{account}"))["report"]
        instructor.get_by_test_id("tab-control").click()
        instructor.get_by_test_id("phase-advance").click()
        instructor.get_by_test_id("phase-advance-yes").click()
        expect(instructor.get_by_test_id("phase")).to_have_attribute("data-phase", "verification")
        instructor.get_by_test_id("tab-mrv").click()
        other = made["seats"][1]["account_id"]
        expect(instructor.get_by_test_id(f"mrv-fell-back-{other}")).to_be_visible()
        screenshot(instructor, "class-mrv-console-after-zh-1280")
    finally:
        console.close()

    # The trainee sees the verified emissions, the report's.
    verified = page.get_by_test_id("mrv-verified")
    expect(verified).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("mrv-report")).to_have_attribute("data-state", "published")
    expect(verified).to_contain_text(f"{signed['verified_t']:,}")
    expect(page.get_by_test_id("firm-projected")).to_contain_text(f"{signed['verified_t']:,}")
    both_languages_and_sizes(page, "class-mrv-trainee-verified", check)
