"""The MRV desk's rows (``mrv_units``, ``mrv_months``, ``mrv_verifiers``, ``mrv_reports``,
``mrv_penalties``): read and written in transactions, each write committed before the desk
answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from exchange.db import tables as t


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class UnitRow:
    account_id: str
    capacity_mw: str
    kind: str
    coal: str
    benchmark: str
    guideline_id: str | None


@dataclass(slots=True)
class MonthRow:
    account_id: str
    year: int
    month: int
    record: dict[str, Any]
    state: str
    deposited_on: str | None = None
    deposited_by: str | None = None
    flags: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    review_note: str | None = None


@dataclass(slots=True)
class ReportRow:
    account_id: str
    year: int
    state: str
    verifier: str
    verified_t: int
    emissions_t: str
    generation_mwh: str
    output_mwh: int
    body: dict[str, Any]
    signed_at: str
    published_at: str | None = None
    publication: dict[str, Any] | None = None
    note: str | None = None


async def unit(engine: AsyncEngine, market_id: str, account_id: str) -> UnitRow | None:
    c = t.mrv_units.c
    query = select(t.mrv_units).where(c.market_id == market_id, c.account_id == account_id)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    return UnitRow(
        row.account_id, row.capacity_mw, row.kind, row.coal, row.benchmark, row.guideline_id
    )


async def put_unit(engine: AsyncEngine, market_id: str, found: UnitRow) -> None:
    c = t.mrv_units.c
    values = {
        "capacity_mw": found.capacity_mw,
        "kind": found.kind,
        "coal": found.coal,
        "benchmark": found.benchmark,
        "guideline_id": found.guideline_id,
        "updated_at": _now(),
    }
    key = (c.market_id == market_id, c.account_id == found.account_id)
    async with engine.begin() as conn:
        done = await conn.execute(update(t.mrv_units).where(*key).values(**values))
        if not done.rowcount:
            await conn.execute(
                insert(t.mrv_units).values(
                    market_id=market_id, account_id=found.account_id, **values
                )
            )


def _month(row: Any) -> MonthRow:
    return MonthRow(
        row.account_id,
        row.year,
        row.month,
        json.loads(row.record),
        row.state,
        row.deposited_on,
        row.deposited_by,
        json.loads(row.flags),
        json.loads(row.findings),
        row.review_note,
    )


async def months(
    engine: AsyncEngine, market_id: str, account_id: str, years: tuple[int, ...]
) -> list[MonthRow]:
    """The account's months of ``years``, in order."""
    c = t.mrv_months.c
    query = (
        select(t.mrv_months)
        .where(c.market_id == market_id, c.account_id == account_id, c.year.in_(years))
        .order_by(c.year, c.month)
    )
    async with engine.connect() as conn:
        return [_month(row) for row in await conn.execute(query)]


async def month(
    engine: AsyncEngine, market_id: str, account_id: str, year: int, number: int
) -> MonthRow | None:
    found = [m for m in await months(engine, market_id, account_id, (year,)) if m.month == number]
    return found[0] if found else None


async def save_month(
    engine: AsyncEngine, market_id: str, row: MonthRow, expect_state: str | None
) -> bool:
    """Write the month through: insert it (``expect_state`` None) or update it where its state
    is still ``expect_state`` (False: someone changed it meanwhile)."""
    values = {
        "record": json.dumps(row.record, sort_keys=True),
        "state": row.state,
        "deposited_on": row.deposited_on,
        "deposited_by": row.deposited_by,
        "flags": json.dumps(row.flags, sort_keys=True),
        "findings": json.dumps(row.findings, sort_keys=True),
        "review_note": row.review_note,
        "updated_at": _now(),
    }
    c = t.mrv_months.c
    async with engine.begin() as conn:
        if expect_state is None:
            key = {"account_id": row.account_id, "year": row.year, "month": row.month}
            await conn.execute(insert(t.mrv_months).values(market_id=market_id, **key, **values))
            return True
        done = await conn.execute(
            update(t.mrv_months)
            .where(
                c.market_id == market_id,
                c.account_id == row.account_id,
                c.year == row.year,
                c.month == row.month,
                c.state == expect_state,
            )
            .values(**values)
        )
        return bool(done.rowcount)


async def add_months(engine: AsyncEngine, market_id: str, rows: list[MonthRow]) -> int:
    """Insert the months not saved yet, in one transaction (a class's generated year); how
    many were new. A month already saved is left as it is."""
    if not rows:
        return 0
    c = t.mrv_months.c
    accounts = sorted({r.account_id for r in rows})
    years = sorted({r.year for r in rows})
    async with engine.begin() as conn:
        have = {
            (a, y, m)
            for a, y, m in await conn.execute(
                select(c.account_id, c.year, c.month).where(
                    c.market_id == market_id, c.account_id.in_(accounts), c.year.in_(years)
                )
            )
        }
        new = [r for r in rows if (r.account_id, r.year, r.month) not in have]
        if new:
            await conn.execute(
                insert(t.mrv_months),
                [
                    {
                        "market_id": market_id,
                        "account_id": r.account_id,
                        "year": r.year,
                        "month": r.month,
                        "record": json.dumps(r.record, sort_keys=True),
                        "state": r.state,
                        "deposited_on": r.deposited_on,
                        "deposited_by": r.deposited_by,
                        "flags": json.dumps(r.flags, sort_keys=True),
                        "findings": json.dumps(r.findings, sort_keys=True),
                        "review_note": r.review_note,
                        "updated_at": _now(),
                    }
                    for r in new
                ],
            )
    return len(new)


async def deposited_by(engine: AsyncEngine, market_id: str, account_id: str, key_id: str) -> int:
    """How many of the account's months ``key_id`` deposited."""
    c = t.mrv_months.c
    query = select(c.month).where(
        c.market_id == market_id, c.account_id == account_id, c.deposited_by == key_id
    )
    async with engine.connect() as conn:
        return len((await conn.execute(query)).all())


async def assigned(engine: AsyncEngine, market_id: str, key_id: str) -> list[str]:
    """The accounts assigned to the verifier key ``key_id``, in order."""
    c = t.mrv_verifiers.c
    query = (
        select(c.account_id)
        .where(c.market_id == market_id, c.key_id == key_id)
        .order_by(c.account_id)
    )
    async with engine.connect() as conn:
        return list((await conn.execute(query)).scalars())


async def assign(engine: AsyncEngine, market_id: str, key_id: str, accounts: list[str]) -> None:
    c = t.mrv_verifiers.c
    async with engine.begin() as conn:
        have = set(
            (
                await conn.execute(
                    select(c.account_id).where(c.market_id == market_id, c.key_id == key_id)
                )
            ).scalars()
        )
        rows = [
            {"market_id": market_id, "key_id": key_id, "account_id": a, "assigned_at": _now()}
            for a in dict.fromkeys(accounts)
            if a not in have
        ]
        if rows:
            await conn.execute(insert(t.mrv_verifiers), rows)


async def unassign(engine: AsyncEngine, market_id: str, key_id: str, account_id: str) -> bool:
    c = t.mrv_verifiers.c
    async with engine.begin() as conn:
        done = await conn.execute(
            delete(t.mrv_verifiers).where(
                c.market_id == market_id, c.key_id == key_id, c.account_id == account_id
            )
        )
    return bool(done.rowcount)


def _report(row: Any) -> ReportRow:
    return ReportRow(
        row.account_id,
        row.year,
        row.state,
        row.verifier,
        row.verified_t,
        row.emissions_t,
        row.generation_mwh,
        row.output_mwh,
        json.loads(row.body),
        row.signed_at,
        row.published_at,
        None if row.publication is None else json.loads(row.publication),
        row.note,
    )


async def report(
    engine: AsyncEngine, market_id: str, account_id: str, year: int
) -> ReportRow | None:
    c = t.mrv_reports.c
    query = select(t.mrv_reports).where(
        c.market_id == market_id, c.account_id == account_id, c.year == year
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return None if row is None else _report(row)


def _report_values(row: ReportRow) -> dict[str, Any]:
    return {
        "state": row.state,
        "verifier": row.verifier,
        "verified_t": row.verified_t,
        "emissions_t": row.emissions_t,
        "generation_mwh": row.generation_mwh,
        "output_mwh": row.output_mwh,
        "body": json.dumps(row.body, sort_keys=True),
        "signed_at": row.signed_at,
        "published_at": row.published_at,
        "publication": None if row.publication is None else json.dumps(row.publication),
        "note": row.note,
    }


async def save_report(
    engine: AsyncEngine, market_id: str, row: ReportRow, expect_state: str | None
) -> bool:
    """Insert the report (``expect_state`` None: none yet) or update it where its state is
    still ``expect_state``; on publication, lock the year's passed months in the same
    transaction."""
    c = t.mrv_reports.c
    values = _report_values(row)
    async with engine.begin() as conn:
        if expect_state is None:
            key = {"account_id": row.account_id, "year": row.year}
            await conn.execute(insert(t.mrv_reports).values(market_id=market_id, **key, **values))
            return True
        done = await conn.execute(
            update(t.mrv_reports)
            .where(
                c.market_id == market_id,
                c.account_id == row.account_id,
                c.year == row.year,
                c.state == expect_state,
            )
            .values(**values)
        )
        if done.rowcount and row.state == "published":
            await _lock_year(conn, market_id, row.account_id, row.year)
        return bool(done.rowcount)


async def _lock_year(conn: AsyncConnection, market_id: str, account_id: str, year: int) -> None:
    c = t.mrv_months.c
    await conn.execute(
        update(t.mrv_months)
        .where(
            c.market_id == market_id,
            c.account_id == account_id,
            c.year == year,
            c.state == "passed",
        )
        .values(state="locked", updated_at=_now())
    )


# ---------------------------------------------------------------------- the credit record


@dataclass(frozen=True, slots=True)
class PenaltyRow:
    """An entry of an account's credit record (``mrv_penalties``)."""

    account_id: str
    seq: int
    on_date: str  # the market's local date, ISO
    article: str
    fine_fen: int
    gains_fen: int
    allocation_cut_t: int
    cut_bp: int | None
    base: str | None
    base_t: int | None
    note: str
    recorded_by: str
    recorded_at: str


def _penalty(row: Any) -> PenaltyRow:
    return PenaltyRow(
        row.account_id,
        row.seq,
        row.on_date,
        row.article,
        row.fine_fen,
        row.gains_fen,
        row.allocation_cut_t,
        row.cut_bp,
        row.base,
        row.base_t,
        row.note,
        row.recorded_by,
        row.recorded_at,
    )


async def penalties(
    engine: AsyncEngine, market_id: str, account_id: str | None = None
) -> list[PenaltyRow]:
    """The account's credit record in order (``account_id`` None: the market's, by date, then
    as recorded)."""
    c = t.mrv_penalties.c
    query = select(t.mrv_penalties).where(c.market_id == market_id)
    if account_id is not None:
        query = query.where(c.account_id == account_id).order_by(c.seq)
    else:
        query = query.order_by(c.on_date, c.recorded_at, c.account_id, c.seq)
    async with engine.connect() as conn:
        return [_penalty(row) for row in await conn.execute(query)]


async def add_penalty(engine: AsyncEngine, market_id: str, row: PenaltyRow) -> bool:
    """Insert the entry at its ``seq``; False if that seq was taken meanwhile (another entry
    recorded at the same time: read the record again and retry)."""
    values = {"market_id": market_id, **dataclasses.asdict(row)}
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(t.mrv_penalties).values(**values))
    except IntegrityError:
        return False
    return True
