"""A class market's own state and its announcements, in the database (issue 7).

A class market is an ordinary market (its journal holds every account, allocation, order and
compliance operation) plus what no market command records: which scenario and seed made it,
its seats, where the instructor has taken the compliance cycle (the phase) and the abatement
the seats declared. That lives in ``class_markets``, one row per class, its variable part as
JSON; ``Classes`` keeps the rows of the hosted classes in memory and writes each change
through. Announcements are rows of ``announcements``, newest first when listed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.api.auth import key_cache
from exchange.db import tables as t

if TYPE_CHECKING:
    from exchange.api.classroom_setup import ClassScenario


@dataclass(frozen=True, slots=True)
class Seat:
    """A human seat: its number (1, 2, ...), account and name, and the scenario firm whose
    covered-entity profile it was given (baseline, growth, abatement curve)."""

    seat: int
    account_id: str
    name: str
    profile: str


@dataclass(slots=True)
class ClassState:
    """One class market: where its compliance cycle stands and what the seats declared."""

    market_id: str
    scenario: str
    source: str  # the scenario's YAML
    seed: int
    phase: str
    compliance_year: int
    seats: list[Seat]
    abatement_t: dict[str, int] = field(default_factory=dict)  # this year's, declared by seats
    summary: dict[str, Any] = field(default_factory=dict)  # what the last advance did
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one phase change at a time

    def seat_of(self, account_id: str) -> Seat | None:
        return next((s for s in self.seats if s.account_id == account_id), None)

    def body(self) -> str:
        seats = [asdict(s) for s in self.seats]
        return json.dumps(
            {"seats": seats, "abatement_t": self.abatement_t, "summary": self.summary},
            sort_keys=True,
        )


def _state(row: Any) -> ClassState:
    body = json.loads(row.state)
    return ClassState(
        row.market_id,
        row.scenario,
        row.source,
        int(row.seed),
        row.phase,
        int(row.compliance_year),
        [Seat(**s) for s in body["seats"]],
        {k: int(v) for k, v in body["abatement_t"].items()},
        body["summary"],
    )


class Classes:
    """The class markets this process hosts, loaded once from the database, and their
    scenarios as resolved once (``exchange.api.classroom_setup``)."""

    def __init__(self) -> None:
        self.states: dict[str, ClassState] = {}
        self.scenarios: dict[str, ClassScenario] = {}

    async def load(self, engine: AsyncEngine, market_ids: list[str]) -> list[ClassState]:
        """Read the class rows of the hosted ``market_ids`` (at start-up)."""
        c = t.class_markets.c
        async with engine.connect() as conn:
            rows = await conn.execute(select(t.class_markets).where(c.market_id.in_(market_ids)))
            for row in rows:
                self.states[row.market_id] = _state(row)
        return [self.states[m] for m in market_ids if m in self.states]

    async def add(self, engine: AsyncEngine, state: ClassState) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                insert(t.class_markets).values(
                    market_id=state.market_id,
                    scenario=state.scenario,
                    source=state.source,
                    seed=state.seed,
                    phase=state.phase,
                    compliance_year=state.compliance_year,
                    state=state.body(),
                )
            )
        self.states[state.market_id] = state

    async def save(self, engine: AsyncEngine, state: ClassState) -> None:
        """Write the state's phase, year and body through."""
        c = t.class_markets.c
        async with engine.begin() as conn:
            await conn.execute(
                update(t.class_markets)
                .where(c.market_id == state.market_id)
                .values(
                    phase=state.phase, compliance_year=state.compliance_year, state=state.body()
                )
            )


# ---------------------------------------------------------------------- announcements


async def add_announcement(
    engine: AsyncEngine, market_id: str, ts_ns: int, text: str, level: str
) -> dict[str, Any]:
    created_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    values = {
        "market_id": market_id,
        "ts_ns": ts_ns,
        "text": text,
        "level": level,
        "created_at": created_at,
    }
    async with engine.begin() as conn:
        result = await conn.execute(insert(t.announcements).values(**values))
        (announcement_id,) = result.inserted_primary_key or (None,)
    assert announcement_id is not None
    return {"id": int(announcement_id), **values}


async def list_announcements(
    engine: AsyncEngine, market_id: str, limit: int
) -> list[dict[str, Any]]:
    """The market's announcements, newest first."""
    a = t.announcements.c
    query = (
        select(a.id, a.market_id, a.ts_ns, a.text, a.level, a.created_at)
        .where(a.market_id == market_id)
        .order_by(a.id.desc())
        .limit(limit)
    )
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]


async def revoke_account_keys(engine: AsyncEngine, market_id: str, account_ids: list[str]) -> int:
    """Revoke every participant key of these accounts of the market; how many were live. This
    process's key cache forgets them at once, as ``revoke_key`` has it."""
    k = t.api_keys.c
    live = (
        k.market_id == market_id,
        k.account_id.in_(account_ids),
        k.role == "participant",
        k.revoked.is_(False),
    )
    cache = key_cache(engine)
    async with engine.begin() as conn:
        hashes = (await conn.execute(select(k.key_hash).where(*live))).scalars().all()
        for hashed in hashes:  # a lookup racing the update stores nothing
            cache.revoke(market_id, hashed)
        result = await conn.execute(update(t.api_keys).where(*live).values(revoked=True))
    for hashed in hashes:
        cache.revoke(market_id, hashed)
    return int(result.rowcount)
