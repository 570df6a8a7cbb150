"""The compliance projection (履约预测): where one entity's compliance year stands, and where it
ends if the entity surrenders today everything the rules let its holdings cover.

One implementation for every reader: the registry's compliance status and surrender plan, the
gateway (REST and the WebSocket ``compliance`` channel) and a class's dashboard ask
``Registry.compliance_projection``, which gathers the registry's facts and calls ``project``
here. So a shortfall and its penalty are the same number wherever they are shown, and the
assessment (a class's or a simulation's) then fixes the numbers the projection foretold.

* ``remaining_t``: the obligation less what was surrendered (pending or retired);
* ``plan``: what the entity's available units can legally cover of that today
  (``compliance.plan_surrender``: eligible offsets within the offset cap and the local share,
  then eligible allowances within the old-vintage cap, oldest first); empty after the deadline;
* ``shortfall_t``: what would still be missing after the plan; once assessed, the record's;
* ``projected_penalty_fen``: the penalty on that shortfall at the reference price
  (``penalty_fen``); once assessed, the record's.

The penalty's reference price is "the previous month's average price" (docs/rules.md, national:
penalty): ``window_price_fen`` gives the volume-weighted price of a window of trading days; the
market keeps the window (``settlement``), and falls back to the last close without trades.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from registry_sim.compliance import SurrenderBook, plan_surrender
from registry_sim.model import AccountId, Project, UnitCode, UnitKind, UnitType
from registry_sim.outcomes import ComplianceRecord
from registry_sim.rules import PenaltyRules, RuleSet


@dataclass(frozen=True, slots=True)
class ComplianceProjection:
    """One entity's compliance year as it stands, and as it would end (see the module)."""

    account_id: AccountId
    year: int
    obligation_t: int | None  # verified emissions, else the expected obligation given, else None
    verified: bool  # whether ``obligation_t`` is the verified emissions
    allowances_t: int  # surrendered, pending or retired
    offsets_t: int
    pending_t: int
    remaining_t: int | None
    plan: tuple[tuple[UnitCode, int], ...]
    plan_allowances_t: int
    plan_offsets_t: int
    offset_cap_t: int | None  # None: the cap's basis is not known yet
    offset_cap_left_t: int | None
    shortfall_t: int | None
    reference_price_fen: int | None
    projected_penalty_fen: int | None  # None: no obligation, or no price to apply a multiple to
    assessed: ComplianceRecord | None

    @property
    def surrendered_t(self) -> int:
        return self.allowances_t + self.offsets_t


def usable_t(
    rules: RuleSet,
    *,
    account_id: AccountId,
    year: int,
    on: dt.date,
    holdings: Mapping[UnitType, int],
    projects: Mapping[str, Project],
    book: SurrenderBook,
    offset_cap_t: int | None,
    old_vintage_cap_t: int | None,
) -> int:
    """Every available unit a surrender for ``year`` could legally use on ``on``, however
    much is owed: the plan (``compliance.plan_surrender``: eligible offsets within the offset
    cap and the local share, eligible allowances within the old-vintage cap) for an obligation
    as large as the holdings. 0 after the deadline. What is owed less this is short; this less
    what is owed is long."""
    if on > rules.compliance.deadline(year):
        return 0
    allowances, offsets = book.totals(account_id, year)
    plan = plan_surrender(
        rules.compliance,
        year=year,
        on=on,
        holdings=holdings,
        projects=projects,
        obligation_t=allowances + offsets + sum(holdings.values()),
        offset_cap_t=offset_cap_t or 0,  # without the cap's basis, no offsets count
        book=book,
        account_id=account_id,
        old_vintage_cap_t=old_vintage_cap_t,
    )
    return sum(qty for _, qty in plan)


def penalty_fen(
    rules: PenaltyRules, shortfall_t: int, reference_price_fen: int | None
) -> int | None:
    """The penalty on a shortfall (docs/rules.md, national: multiplier × the previous month's
    average price × shortfall; EU: a fixed amount per tonne; Guangdong: a lump sum), plus the
    lump sum of any shortfall; None for a price multiple without a price."""
    lump_sum = rules.lump_sum_fen if shortfall_t > 0 else 0
    if rules.kind == "fixed":
        return rules.fixed_fen_per_t * shortfall_t + lump_sum
    if reference_price_fen is None:
        return None
    return rules.multiplier * reference_price_fen * shortfall_t + lump_sum


def window_price_fen(window: Sequence[tuple[int, int]]) -> int | None:
    """The volume-weighted price of a window of (volume_t, turnover_fen) days, rounded half
    up to the fen; None when nothing traded in it."""
    volume_t = sum(volume for volume, _ in window)
    if volume_t <= 0:
        return None
    turnover_fen = sum(turnover for _, turnover in window)
    return max(1, (2 * turnover_fen + volume_t) // (2 * volume_t))


def project(
    rules: RuleSet,
    *,
    account_id: AccountId,
    year: int,
    on: dt.date,
    obligation_t: int | None,
    verified: bool,
    record: ComplianceRecord | None,
    holdings: Mapping[UnitType, int],
    projects: Mapping[str, Project],
    book: SurrenderBook,
    offset_cap_t: int | None,
    old_vintage_cap_t: int | None,
    reference_price_fen: int | None,
) -> ComplianceProjection:
    """The projection from the registry's facts: ``holdings`` are the available units."""
    allowances, offsets = book.totals(account_id, year)
    pending = sum(qty for _, qty in book.pending(account_id, year))
    plan: tuple[tuple[UnitCode, int], ...] = ()
    remaining = None if obligation_t is None else max(0, obligation_t - allowances - offsets)
    shortfall: int | None = None
    penalty: int | None = None
    if record is not None:
        shortfall, penalty = record.shortfall_t, record.penalty_fen
        reference_price_fen = record.reference_price_fen
    elif obligation_t is not None:
        if on <= rules.compliance.deadline(year):
            plan = plan_surrender(
                rules.compliance,
                year=year,
                on=on,
                holdings=holdings,
                projects=projects,
                obligation_t=obligation_t,
                offset_cap_t=offset_cap_t or 0,  # without the cap's basis, no offsets count
                book=book,
                account_id=account_id,
                old_vintage_cap_t=old_vintage_cap_t,
            )
        assert remaining is not None
        shortfall = max(0, remaining - sum(qty for _, qty in plan))
        penalty = penalty_fen(rules.penalty, shortfall, reference_price_fen)
    kinds = {unit.code: unit.kind for unit in holdings}
    plan_offsets = sum(qty for code, qty in plan if kinds[code] is not UnitKind.CEA)
    return ComplianceProjection(
        account_id=account_id,
        year=year,
        obligation_t=obligation_t,
        verified=verified,
        allowances_t=allowances,
        offsets_t=offsets,
        pending_t=pending,
        remaining_t=remaining,
        plan=plan,
        plan_allowances_t=sum(qty for _, qty in plan) - plan_offsets,
        plan_offsets_t=plan_offsets,
        offset_cap_t=offset_cap_t,
        offset_cap_left_t=None if offset_cap_t is None else max(0, offset_cap_t - offsets),
        shortfall_t=shortfall,
        reference_price_fen=reference_price_fen,
        projected_penalty_fen=penalty,
        assessed=record,
    )
