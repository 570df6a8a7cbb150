"""The UI's translation files (ui/src/i18n): both languages have the same keys and the same
placeholders, every problem code of docs/api-errors.md has a plain-words message, and every
key the sources name exists."""

from __future__ import annotations

import json
import re

import pytest

from tests.api.server import ROOT

I18N = ROOT / "ui" / "src" / "i18n"
SOURCES = ROOT / "ui" / "src"
ERROR_DOCS = ROOT / "docs" / "api-errors.md"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Codes the browser makes up itself, and the page's family name for HTTP_<status>.
CLIENT_CODES = {"NETWORK_ERROR", "HTTP"}


def load(name: str) -> dict[str, str]:
    messages: dict[str, str] = json.loads((I18N / name).read_text(encoding="utf-8"))
    return messages


@pytest.fixture(scope="module")
def zh() -> dict[str, str]:
    return load("zh-CN.json")


@pytest.fixture(scope="module")
def en() -> dict[str, str]:
    return load("en.json")


def documented_codes() -> set[str]:
    codes = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", ERROR_DOCS.read_text(), re.MULTILINE))
    assert len(codes) > 40  # the page's tables were read
    return codes


def test_both_languages_have_the_same_keys_and_placeholders(
    zh: dict[str, str], en: dict[str, str]
) -> None:
    assert zh.keys() == en.keys()
    for key in zh:
        assert zh[key].strip(), key
        assert en[key].strip(), key
        assert set(PLACEHOLDER.findall(zh[key])) == set(PLACEHOLDER.findall(en[key])), key


def test_english_has_no_chinese(en: dict[str, str]) -> None:
    assert [key for key, text in en.items() if CJK.search(text)] == []


def test_every_documented_problem_code_is_explained(zh: dict[str, str]) -> None:
    explained = {key.split(".")[1] for key in zh if key.startswith("problem.")}
    missing = documented_codes() - explained
    assert not missing, f"add problem.<CODE> to both translation files for {sorted(missing)}"
    stale = explained - documented_codes() - CLIENT_CODES - {"other", "unexpected"}
    assert not stale, f"problem messages for codes the API no longer has: {sorted(stale)}"


def test_every_key_the_sources_name_exists(zh: dict[str, str]) -> None:
    named: set[str] = set()
    prefixes: set[str] = set()
    for path in SOURCES.rglob("*.ts*"):
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r"\bt\(\s*\"([\w.]+)\"", text))
        prefixes |= set(re.findall(r"\bt\(\s*`([\w.]+)\.\$\{", text))
    assert len(named) > 100
    assert sorted(named - zh.keys()) == []
    for prefix in prefixes:
        assert any(key.startswith(prefix + ".") for key in zh), prefix
