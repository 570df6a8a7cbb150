"""The 2024 Regulation's penalties over the API (docs/mrv.md "Enforcement over the API"): an
operator records a fine, and for Art. 22 an allocation cut, in an account's credit record
(``mrv_penalties``); ``mrv.enforcement`` checks the fine against its article's range for the
gains and works out the cut from its base. Entries are dated by the market clock's local date
and kept in order. The record is published (Art. 27): any key of the market reads it.

The allocation cut is recorded, not applied: the registry has no operation that adds to an
entity's owed deduction from next year's allocation (``registry_sim.ops``; a deduction is owed
only from a shortfall at assessment or a true-up taking back more than the entity holds).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.keys import Principal
from exchange.mrv_desk import store
from exchange.mrv_desk.errors import MrvDeskError
from exchange.mrv_desk.service import market_date, may_deposit, must_operate
from exchange.runtime import MarketRuntime
from mrv.enforcement import CreditEntry, CreditRecord, allocation_cut_t, articles, fine_range_fen
from mrv.model import MrvError
from registry_sim.model import AccountId
from registry_sim.ops import OweDeduction
from settlement.commands import RegistryCommand

ATTEMPTS = 5  # entries recorded for one account at the same moment: each retries its seq


@dataclass(frozen=True, slots=True)
class Penalty:
    """What the operator records: the article, the fine against the gains, and for Art. 22
    optionally the allocation cut (``cut_bp`` of ``base``'s tonnes)."""

    article: str
    fine_fen: int
    gains_fen: int = 0
    cut_bp: int | None = None
    base: str | None = None  # None: the rule data's (allocation_cut_base)
    next_year_allocation_t: int | None = None  # None: the registry's for next year
    misreported_t: int | None = None
    note: str = ""


def penalty_view(row: store.PenaltyRow) -> dict[str, Any]:
    low, high = fine_range_fen(row.article, row.gains_fen)
    return {
        "account_id": row.account_id,
        "seq": row.seq,
        "on": row.on_date,
        "article": row.article,
        "fine_fen": row.fine_fen,
        "gains_fen": row.gains_fen,
        "fine_min_fen": low,
        "fine_max_fen": high,
        "allocation_cut_t": row.allocation_cut_t,
        "cut_bp": row.cut_bp,
        "base": row.base,
        "base_t": row.base_t,
        "cut_in_registry": row.allocation_cut_t > 0,  # owed, taken from the next allocation
        "note": row.note,
        "recorded_at": row.recorded_at,
    }


def _fine(penalty: Penalty) -> tuple[int, int]:
    rules = articles()
    if penalty.article not in rules:
        raise MrvDeskError(
            "MRV_NO_ARTICLE",
            "not an article of the Regulation's rule data",
            article=penalty.article,
            known=sorted(rules),
        )
    low, high = fine_range_fen(penalty.article, penalty.gains_fen)
    if not low <= penalty.fine_fen <= high:
        raise MrvDeskError(
            "MRV_FINE_OUT_OF_RANGE",
            "the fine is outside the article's range for the gains",
            article=penalty.article,
            fine_fen=penalty.fine_fen,
            gains_fen=penalty.gains_fen,
            min_fen=low,
            max_fen=high,
        )
    return low, high


async def _cut(
    penalty: Penalty, runtime: MarketRuntime, account_id: str, on: dt.date
) -> tuple[int, str, int] | None:
    """The allocation cut in tonnes, its base and the base's tonnes; None without a cut."""
    if penalty.cut_bp is None:
        return None
    rule = articles()[penalty.article]
    if "allocation_cut_min_bp" not in rule:
        raise MrvDeskError(
            "MRV_NO_CUT_RULE", "the article cuts no allocation", article=penalty.article
        )
    low, high = rule["allocation_cut_min_bp"], rule["allocation_cut_max_bp"]
    if not low <= penalty.cut_bp <= high:
        raise MrvDeskError(
            "MRV_BAD_CUT",
            "the allocation cut is outside the article's share",
            cut_bp=penalty.cut_bp,
            min_bp=low,
            max_bp=high,
        )
    base = penalty.base or rule["allocation_cut_base"]
    if base == "misreported_t":
        base_t = penalty.misreported_t
    else:
        base_t = penalty.next_year_allocation_t
        if base_t is None:
            account, year = AccountId(account_id), on.year + 1
            allocated = await runtime.read(lambda m: m.registry.allocation_t(account, year))
            base_t = allocated or None
    if base_t is None:
        raise MrvDeskError(
            "MRV_CUT_BASE_MISSING",
            "no tonnes to cut from: give them, or allocate next year first",
            base=base,
            year=on.year + 1,
        )
    try:
        cut_t = allocation_cut_t(
            penalty.cut_bp,
            next_year_allocation_t=base_t,
            misreported_t=base_t,
            base=base,
        )
    except MrvError as error:  # a base the rule data do not know
        raise MrvDeskError(
            "MRV_CUT_BASE_MISSING", str(error), base=base, year=on.year + 1
        ) from None
    return cut_t, base, base_t


async def record_penalty(
    engine: AsyncEngine,
    who: Principal,
    runtime: MarketRuntime,
    account_id: str,
    penalty: Penalty,
) -> dict[str, Any]:
    """Record a penalty in the account's credit record (operators), dated by the market
    clock's local date: the fine within its article's range for the gains, the allocation cut
    (Art. 22) worked out from its base. The cut is owed in the registry (``OweDeduction``,
    journaled, op id ``mrv:cut:{account}:{seq}``) before the entry is written, so a retry after
    a failure between the two finds the registry's answer and does not cut twice."""
    must_operate(who)
    _fine(penalty)
    on = market_date(runtime)
    cut = await _cut(penalty, runtime, account_id, on)
    cut_t, base, base_t = cut if cut is not None else (0, None, None)
    for _ in range(ATTEMPTS):
        rows = await store.penalties(engine, who.market_id, account_id)
        record = CreditRecord(account_id, [_entry(r) for r in rows])
        entry = CreditEntry(
            on, penalty.article, penalty.fine_fen, penalty.gains_fen, cut_t, penalty.note
        )
        try:
            record.add(entry)
        except MrvError as error:
            raise MrvDeskError(
                "MRV_CREDIT_OUT_OF_ORDER",
                "an entry is dated on or after the record's last",
                on=on.isoformat(),
                last_on=rows[-1].on_date if rows else None,
                mrv_code=error.code,
            ) from None
        row = store.PenaltyRow(
            account_id,
            (rows[-1].seq if rows else 0) + 1,
            on.isoformat(),
            penalty.article,
            penalty.fine_fen,
            penalty.gains_fen,
            cut_t,
            penalty.cut_bp if cut is not None else None,
            base,
            base_t,
            penalty.note,
            who.key_id,
            dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        )
        if cut_t:
            op = OweDeduction(f"mrv:cut:{account_id}:{row.seq}", AccountId(account_id), cut_t)
            ack = await runtime.submit(RegistryCommand(0, op))
            if ack.outcome.code is not None:
                raise MrvDeskError(
                    "MRV_CUT_REFUSED",
                    "the registry refused the allocation cut",
                    registry_code=str(ack.outcome.code),
                    **ack.outcome.details,
                )
        if await store.add_penalty(engine, who.market_id, row):
            return penalty_view(row)
    raise MrvDeskError(  # pragma: no cover - five entries at once for one account
        "MRV_CREDIT_OUT_OF_ORDER", "the record kept changing meanwhile", on=on.isoformat()
    )


def _entry(row: store.PenaltyRow) -> CreditEntry:
    return CreditEntry(
        dt.date.fromisoformat(row.on_date),
        row.article,
        row.fine_fen,
        row.gains_fen,
        row.allocation_cut_t,
        row.note,
    )


async def credit_record(engine: AsyncEngine, who: Principal, account_id: str) -> dict[str, Any]:
    """The account's credit record in order, with its totals (the account's own key and
    operators)."""
    may_deposit(who, account_id)
    rows = await store.penalties(engine, who.market_id, account_id)
    return {
        "account_id": account_id,
        "entries": [penalty_view(r) for r in rows],
        "fines_fen": sum(r.fine_fen for r in rows),
        "allocation_cut_t": sum(r.allocation_cut_t for r in rows),
    }


async def published_penalties(engine: AsyncEngine, who: Principal) -> dict[str, Any]:
    """Every penalty of the market, by date (published, Art. 27: any key of the market)."""
    rows = await store.penalties(engine, who.market_id)
    return {"penalties": [penalty_view(r) for r in rows]}
