"""A class market's own state: its seats, where its compliance cycle stands and the abatement
the seats declared (stored by ``exchange.classroom.store``)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from exchange.classroom.lifecycle import Phase


@dataclass(frozen=True, slots=True)
class Seat:
    """A human seat: its number (1, 2, ...), account and name (in English, and in Chinese as
    ``name_zh``; a class stored before seats had one has ""), the scenario firm whose
    covered-entity profile it was given (baseline, growth, abatement curve), and whether its
    units are gas-fired (燃气机组) as the instructor set them up (None: as its profile firm's
    are; a class stored before seats had it has None)."""

    seat: int
    account_id: str
    name: str
    profile: str
    name_zh: str = ""
    gas_fired: bool | None = None

    def name_in(self, language: str) -> str:
        """The seat's name in ``language`` ("zh-CN" or "en"), English when it has no other."""
        return self.name_zh if language == "zh-CN" and self.name_zh else self.name


@dataclass(slots=True)
class ClassState:
    """One class market: where its compliance cycle stands and what the seats declared."""

    market_id: str
    scenario: str
    source: str  # the scenario's YAML
    seed: int
    phase: Phase
    compliance_year: int
    seats: list[Seat]
    abatement_t: dict[str, int] = field(default_factory=dict)  # this year's, declared by seats
    summary: dict[str, Any] = field(default_factory=dict)  # what the last advance did
    # The market's count of opened trading days when the compliance year began: the class's
    # trading day n of its year is the market's count less this.
    year_start_day: int = 0
    # The MRV phase (docs/classroom.md "The MRV phase"): None, the class has none; else who
    # verifies the seats' reports, "instructor" or "trainees" (each seat the next one's).
    mrv: str | None = None
    # What the MRV phase planted and did: {"planted": {account: {...}}, "fell_back": [...]}.
    mrv_facts: dict[str, Any] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one phase change at a time

    def seat_of(self, account_id: str) -> Seat | None:
        return next((s for s in self.seats if s.account_id == account_id), None)

    def body(self) -> str:
        """The variable part as JSON (seats, abatement, the last advance, the year's start)."""
        seats = [asdict(s) for s in self.seats]
        return json.dumps(
            {
                "seats": seats,
                "abatement_t": self.abatement_t,
                "summary": self.summary,
                "year_start_day": self.year_start_day,
                "mrv": self.mrv,
                "mrv_facts": self.mrv_facts,
            },
            sort_keys=True,
        )

    @classmethod
    def from_row(
        cls,
        market_id: str,
        scenario: str,
        source: str,
        seed: int,
        phase: str,
        compliance_year: int,
        body: str,
    ) -> ClassState:
        """A stored class (``body`` as ``body()`` wrote it)."""
        found = json.loads(body)
        return cls(
            market_id,
            scenario,
            source,
            int(seed),
            Phase(phase),
            int(compliance_year),
            [Seat(**s) for s in found["seats"]],
            {k: int(v) for k, v in found["abatement_t"].items()},
            found["summary"],
            year_start_day=int(found.get("year_start_day", 0)),  # 0: stored before it was kept
            mrv=found.get("mrv"),  # None: stored before classes had an MRV phase
            mrv_facts=found.get("mrv_facts", {}),
        )
