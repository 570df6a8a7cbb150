"""Fines and allocation cuts for data offences (the 2024 Regulation, ``enforcement.toml``) and
each entity's credit record (Art. 27: penalties enter the national credit system)."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from mrv.model import MrvError

BP = 10_000


@cache
def articles() -> dict[str, dict[str, Any]]:
    text = resources.files(__package__).joinpath("enforcement.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def fine_range_fen(article: str, gains_fen: int = 0) -> tuple[int, int]:
    """The least and the most fine for ``article``: a multiple of the illegal gains where the
    article has one and the gains reach its threshold, else its fixed range."""
    rule = articles().get(article)
    if rule is None:
        raise MrvError("NO_ARTICLE", article=article, known=sorted(articles()))
    if gains_fen < 0:
        raise MrvError("BAD_GAINS", gains_fen=gains_fen)
    if "gains_multiple_min" in rule and gains_fen >= rule["no_gains_below_fen"]:
        return gains_fen * rule["gains_multiple_min"], gains_fen * rule["gains_multiple_max"]
    return rule["min_fen"], rule["max_fen"]


def allocation_cut_t(
    cut_bp: int, *, next_year_allocation_t: int, misreported_t: int, base: str | None = None
) -> int:
    """Art. 22's cut for refusing to correct, ``cut_bp`` of its base (rounded down): next
    year's allocation (the literal reading) or the misreported tonnes, as the rule data (or
    ``base``) say."""
    rule = articles()["art22"]
    low, high = rule["allocation_cut_min_bp"], rule["allocation_cut_max_bp"]
    if not low <= cut_bp <= high:
        raise MrvError("BAD_CUT", cut_bp=cut_bp, min_bp=low, max_bp=high)
    base = base or rule["allocation_cut_base"]
    if base == "next_year_allocation":
        amount = next_year_allocation_t
    elif base == "misreported_t":
        amount = misreported_t
    else:
        raise MrvError("BAD_BASE", base=base)
    return amount * cut_bp // BP


@dataclass(frozen=True, slots=True)
class CreditEntry:
    on: dt.date
    article: str
    fine_fen: int
    gains_fen: int = 0  # the illegal gains the fine was set against
    allocation_cut_t: int = 0
    note: str = ""


@dataclass(slots=True)
class CreditRecord:
    """An entity's penalties, in order (what the credit system publishes)."""

    entity: str
    entries: list[CreditEntry] = field(default_factory=list)

    def add(self, entry: CreditEntry) -> None:
        low, high = fine_range_fen(entry.article, entry.gains_fen)
        if not low <= entry.fine_fen <= high:
            raise MrvError("FINE_OUT_OF_RANGE", fine_fen=entry.fine_fen, min_fen=low, max_fen=high)
        if self.entries and entry.on < self.entries[-1].on:
            raise MrvError("CREDIT_OUT_OF_ORDER", on=entry.on.isoformat())
        self.entries.append(entry)

    @property
    def fines_fen(self) -> int:
        return sum(e.fine_fen for e in self.entries)
