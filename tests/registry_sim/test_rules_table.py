"""docs/rules.md lists every value of every shipped rule set with its source tag, generated
from the files (``registry_sim.rulesets.table``): the page and the files agree, and no value
goes without a tag."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_sim.rulesets import available_rulesets, load_ruleset
from registry_sim.rulesets.table import SKIPPED, markdown, rewrite, ruleset_rows, tags

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_the_page_lists_the_values_the_files_hold() -> None:
    page = DOC.read_text(encoding="utf-8")
    assert markdown() in page, "run: python -m registry_sim.rulesets.table --write docs/rules.md"
    assert rewrite(page) == page


@pytest.mark.parametrize("name", available_rulesets())
def test_every_rule_value_has_a_row_and_a_tag(name: str) -> None:
    rows = ruleset_rows(name)
    untagged = [path for path, _value, tag in rows if tag not in ("[V]", "[S]", "[D]", "[R]")]
    assert untagged == []
    data = load_ruleset(name)
    tables = [key for key, value in data.items() if isinstance(value, dict)]
    listed = {path.split(".")[0].split("[")[0] for path, _, _ in rows}
    assert listed == {t for t in tables if t not in SKIPPED} | {"timezone"}


def test_a_value_takes_its_own_tag_else_its_table_s_else_the_enclosing_table_s() -> None:
    text = "\n".join(
        [
            "[compliance]  # docs [V unless marked]",
            'deadline = "12-31"  # the deadline # not a tag: [x]',
            "offset_cap_bp = 500  # [S] five per cent (or ten [D])",
            "[compliance.old_vintages]",
            "from_year = 2025",
            "[[compliance.offset_windows]]  # [D]",
            "registered_after = 2024-01-22",
            "[[compliance.offset_windows]]",
            "usable_until = 2024-12-31  # [R]",
            "[calendar]",
            'weekdays = ["mon"]',
        ]
    )
    assert tags(text) == {
        "compliance.deadline": "[V]",
        "compliance.offset_cap_bp": "[S]",
        "compliance.old_vintages.from_year": "[V]",
        "compliance.offset_windows[0].registered_after": "[D]",
        "compliance.offset_windows[1].usable_until": "[R]",
        "calendar.weekdays": "-",
    }
