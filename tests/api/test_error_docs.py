"""docs/api-errors.md lists every problem ``code`` the API can answer, with the right status.

A new refusal code or a new ``ApiError`` without a row in the page fails here.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest

from exchange.api.errors import CLASSROOM_STATUS, HTTP_CODES, classroom_problem, refusal
from exchange.classroom.errors import CODES, ClassroomError, Kind, MarketRefusedError
from matching.codes import RejectCode
from registry_sim.codes import RegistryCode
from settlement.codes import SettlementCode

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api-errors.md"
API_SOURCES = sorted((ROOT / "exchange" / "api").rglob("*.py"))

ROW = re.compile(r"^\| `(?P<code>[A-Z][A-Za-z0-9_<>]*)` \| (?P<status>[^|]+?) \|", re.MULTILINE)
# A code as a string literal: FORBIDDEN, UNKNOWN_MARKET, ... (not "CARBONX_", not "GET").
CODE_LITERAL = re.compile(r"""["']([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)["']""")
API_ERROR_CODE = re.compile(r"(?<!`)ApiError\(\s*(?:\d+|[\w.]+),\s*\"([A-Z0-9_]+)\"")


def sections() -> dict[str, dict[str, str]]:
    """Each ``## `` section's table: code -> status text."""
    found: dict[str, dict[str, str]] = {}
    for part in DOC.read_text(encoding="utf-8").split("\n## ")[1:]:
        heading, _, body = part.partition("\n")
        found[heading] = {m["code"]: m["status"] for m in ROW.finditer(body)}
    return found


def section(name: str) -> dict[str, str]:
    matching = [rows for heading, rows in sections().items() if name in heading]
    assert len(matching) == 1, f"docs/api-errors.md needs one section naming {name}"
    return matching[0]


def documented() -> set[str]:
    return {code for rows in sections().values() for code in rows}


def api_codes() -> set[str]:
    codes: set[str] = set()
    for source in API_SOURCES:
        text = source.read_text(encoding="utf-8")
        codes.update(c for c in CODE_LITERAL.findall(text) if len(c) >= 4)
    return codes


def raised_codes() -> set[str]:
    """The codes of ``ApiError(status, "CODE", ...)`` in exchange/api/."""
    return {c for s in API_SOURCES for c in API_ERROR_CODE.findall(s.read_text("utf-8"))}


def test_the_source_scan_finds_the_api_codes() -> None:
    raised = raised_codes()
    assert {"UNAUTHENTICATED", "FORBIDDEN", "ACCOUNT_EXISTS", "UNKNOWN_MARKET"} <= raised
    assert raised <= api_codes()
    assert {"INVALID_REQUEST", "MARKET_STOPPED", *HTTP_CODES.values()} <= api_codes()


def test_every_code_the_api_raises_is_documented() -> None:
    own = section("own codes")
    missing = sorted((raised_codes() | {"INVALID_REQUEST", *HTTP_CODES.values()}) - own.keys())
    assert not missing, f"codes raised in exchange/api/ missing from docs/api-errors.md: {missing}"
    # Every other code literal there (DISGUISED, docstrings, ...) is documented somewhere.
    undocumented = sorted(api_codes() - documented())
    assert not undocumented, f"codes in exchange/api/ missing from the page: {undocumented}"
    assert "HTTP_<status>" in own  # the fallback for other HTTP errors


def test_every_classroom_code_is_documented_with_its_status() -> None:
    own = section("own codes")
    assert set(CLASSROOM_STATUS) == set(Kind) - {Kind.REFUSED}
    for code, kind in CODES.items():
        assert own.get(code) == str(CLASSROOM_STATUS[kind]), code


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("UNKNOWN_SCENARIO", 422),
        ("INVALID_SCENARIO", 422),
        ("NOT_A_CLASS", 404),
        ("CLASS_CLOSED", 409),
        ("WRONG_CLASS_PHASE", 409),
        ("ABATEMENT_OVER_MAX", 409),
        ("INVALID_PHASE_TRANSITION", 409),
        ("FORBIDDEN", 403),
    ],
)
def test_a_classroom_refusal_is_answered_with_its_status(code: str, status: int) -> None:
    problem = classroom_problem(ClassroomError(code, "why", qty_t=3))
    assert (problem.status, problem.code, problem.detail) == (status, code, "why")
    assert problem.numbers == {"qty_t": 3}


def test_a_market_refusal_the_classroom_passes_on_is_the_markets() -> None:
    for code, details in [("PRICE_OUTSIDE_BAND", {"price_fen": 1}), ("NOT_OWNER", {"x": 1})]:
        problem = classroom_problem(MarketRefusedError(code, details))
        expected = refusal(code, details)
        assert (problem.status, problem.code, problem.numbers) == (
            expected.status,
            expected.code,
            expected.numbers,
        )


@pytest.mark.parametrize(
    ("enum", "heading"),
    [
        (RejectCode, "RejectCode"),
        (SettlementCode, "SettlementCode"),
        (RegistryCode, "RegistryCode"),
    ],
)
def test_every_refusal_code_is_documented_with_its_status(
    enum: type[StrEnum], heading: str
) -> None:
    rows = section(heading)
    missing = sorted(code.value for code in enum if code.value not in rows)
    assert not missing, f"{enum.__name__} members missing from docs/api-errors.md: {missing}"
    for code in enum:
        assert rows[code.value] == str(refusal(code.value, {}).status), code.value


def test_the_page_lists_no_unknown_refusal_codes() -> None:
    known = {c.value for enum in (RejectCode, SettlementCode, RegistryCode) for c in enum}
    for heading in ("RejectCode", "SettlementCode", "RegistryCode"):
        assert section(heading).keys() <= known
    assert documented() >= known
