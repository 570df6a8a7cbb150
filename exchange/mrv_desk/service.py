"""The MRV desk's operations, one per API operation (docs/mrv.md "Over the API"): who may call
each, what the platform's states allow, and the arithmetic through ``mrv``. Every change is
committed (``store``) before the operation answers; publication goes into the registry as
journaled registry operations through the market's runtime, with fixed op ids, so a repeat
does nothing twice. Each change, once committed, is told to the engine's listeners
(``exchange.mrv_desk.notify``: the WebSocket channel ``mrv``).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.clock import local_date
from exchange.keys import Principal, Role
from exchange.mrv_desk import codec, notify, store
from exchange.mrv_desk.errors import MrvDeskError
from exchange.runtime import Ack, MarketRuntime
from mrv.calculator import MonthResult, YearResult, month_emissions, reported, whole_tonnes
from mrv.checks import check_month
from mrv.guidelines import Guideline, guideline, guideline_for
from mrv.model import Meter, MeterState, MrvError, UnitMonth
from mrv.platform import (
    DepositState,
    decision_working_days,
    objection_working_days,
    step,
    working_days_after,
)
from registry_sim.model import AccountId
from registry_sim.ops import Op, RecordEmissions, TrueUpAllocation
from settlement.commands import RegistryCommand

T = TypeVar("T")
OP_ID_MAX = 120
EDITABLE = (DepositState.DRAFT.value, DepositState.RETURNED.value)
VERIFIABLE = (DepositState.DEPOSITED.value, DepositState.PASSED.value)


# ---------------------------------------------------------------------- who may


def may_deposit(who: Principal, account_id: str) -> None:
    """An operator, or the account's own participant key."""
    if who.role is Role.OPERATOR:
        return
    if who.role is Role.PARTICIPANT and who.account_id == account_id:
        return
    raise MrvDeskError(
        "FORBIDDEN",
        "only the account's own key or an operator",
        account_id=account_id,
        role=who.role.value,
    )


def must_operate(who: Principal) -> None:
    if who.role is not Role.OPERATOR:
        raise MrvDeskError("FORBIDDEN", "operators only", role=who.role.value)


async def must_verify(engine: AsyncEngine, who: Principal, account_id: str) -> None:
    """A verifier key assigned to the account."""
    if who.role is not Role.VERIFIER:
        raise MrvDeskError("FORBIDDEN", "verifier keys only", role=who.role.value)
    if account_id not in await store.assigned(engine, who.market_id, who.key_id):
        raise MrvDeskError(
            "MRV_NOT_ASSIGNED",
            "this verifier is not assigned to the account",
            account_id=account_id,
            key_id=who.key_id,
        )


async def may_read(engine: AsyncEngine, who: Principal, account_id: str) -> None:
    """An operator, the account's own participant key, or a verifier assigned to it."""
    if who.role is Role.VERIFIER:
        await must_verify(engine, who, account_id)
        return
    may_deposit(who, account_id)


# ---------------------------------------------------------------------- unit plans


def unit_view(found: store.UnitRow) -> dict[str, Any]:
    return dataclasses.asdict(found)


async def put_unit(engine: AsyncEngine, who: Principal, plan: store.UnitRow) -> dict[str, Any]:
    """An account's monitoring plan (operators): capacity, kind, coal, benchmark, guideline."""
    must_operate(who)
    if plan.guideline_id is not None:
        _mrv(lambda: guideline(plan.guideline_id or ""))
    if Decimal(plan.benchmark) <= 0 or Decimal(plan.capacity_mw) <= 0:
        raise MrvDeskError(
            "MRV_INVALID_DATA",
            "capacity and benchmark must be above zero",
            mrv_code="NOT_POSITIVE",
            capacity_mw=plan.capacity_mw,
            benchmark=plan.benchmark,
        )
    await store.put_unit(engine, who.market_id, plan)
    return unit_view(plan)


async def _unit(engine: AsyncEngine, market_id: str, account_id: str) -> store.UnitRow:
    found = await store.unit(engine, market_id, account_id)
    if found is None:
        raise MrvDeskError(
            "MRV_NO_UNIT", "the account has no monitoring plan: putMrvUnit", account_id=account_id
        )
    return found


def _guideline(plan: store.UnitRow, year: int) -> Guideline:
    if plan.guideline_id is not None:
        return guideline(plan.guideline_id)
    return _mrv(lambda: guideline_for(year))


def _mrv(work: Callable[[], T]) -> T:
    """``work()``, its ``MrvError`` a refusal with the numbers."""
    try:
        return work()
    except MrvError as error:
        raise MrvDeskError(
            "MRV_INVALID_DATA", str(error), mrv_code=error.code, **error.details
        ) from None


# ---------------------------------------------------------------------- months


def as_verified(record: UnitMonth, findings: list[dict[str, Any]]) -> UnitMonth:
    """The month with the verifier's findings applied: a test counted at the default (its
    carbon as not measured), a meter counted as uncalibrated at a stated accuracy."""
    fuels = list(record.fuels)
    generation_meter = record.generation_meter
    for finding in findings:
        if finding["kind"] == "test_default":
            fuel = fuels[finding["fuel"]]
            tests = list(fuel.tests)
            tests[finding["test"]] = dataclasses.replace(tests[finding["test"]], carbon=None)
            fuels[finding["fuel"]] = dataclasses.replace(fuel, tests=tuple(tests))
        else:
            meter = Meter(MeterState.UNCALIBRATED, Decimal(finding["required_accuracy"]))
            if finding["meter"] == "generation":
                generation_meter = meter
            else:
                index = int(finding["meter"])
                fuels[index] = dataclasses.replace(fuels[index], meter=meter)
    return dataclasses.replace(record, fuels=tuple(fuels), generation_meter=generation_meter)


def _record(row: store.MonthRow) -> UnitMonth:
    return codec.month_from(row.account_id, row.year, row.month, row.record)


def _result(row: store.MonthRow, rule: Guideline, with_findings: bool = True) -> MonthResult:
    record = _record(row)
    if with_findings:
        record = as_verified(record, row.findings)
    return _mrv(lambda: month_emissions(record, rule))


def t2(value: Fraction) -> str:
    return str(reported(value, 2))


def result_view(result: MonthResult) -> dict[str, Any]:
    intensity = result.intensity()
    return {
        "guideline_id": result.guideline_id,
        "emissions_t": t2(result.emissions_t),
        "combustion_t": t2(result.combustion_t),
        "electricity_t": t2(result.electricity_t),
        "generation_mwh": t2(result.generation_mwh),
        "intensity_t_per_mwh": None if intensity is None else str(reported(intensity, 4)),
        "fuels": [
            {
                "fuel": f.fuel,
                "consumption": t2(f.consumption),
                "consumption_source": f.consumption_source.value,
                "ncv": str(reported(f.ncv, 4)),
                "carbon": str(reported(f.carbon, 5)),
                "carbon_source": f.carbon_source.value,
                "defaulted": t2(f.defaulted),
                "co2_t": t2(f.co2_t),
            }
            for f in result.fuels
        ],
    }


def month_view(row: store.MonthRow, rule: Guideline) -> dict[str, Any]:
    return {
        "account_id": row.account_id,
        "year": row.year,
        "month": row.month,
        "state": row.state,
        "deposited_on": row.deposited_on,
        "review_note": row.review_note,
        "data": row.record,
        "flags": row.flags,
        "findings": row.findings,
        "calculated": result_view(_result(row, rule, with_findings=False)),
        "verified": result_view(_result(row, rule)),
    }


async def put_month(
    engine: AsyncEngine, who: Principal, account_id: str, year: int, number: int, data: Any
) -> dict[str, Any]:
    """Save a month's draft (the account's own key, or an operator): a new month, a draft, or
    one the authority returned; the calculator must be able to use it."""
    may_deposit(who, account_id)
    plan = await _unit(engine, who.market_id, account_id)
    rule = _guideline(plan, year)
    try:
        record = codec.month_from(account_id, year, number, data)
    except ValueError as error:  # a date that does not exist
        raise MrvDeskError(
            "MRV_INVALID_DATA", str(error), mrv_code="BAD_DATE", month=number
        ) from None
    _mrv(lambda: month_emissions(record, rule))
    found = await store.month(engine, who.market_id, account_id, year, number)
    if found is not None and found.state not in EDITABLE:
        raise MrvDeskError(
            "MRV_MONTH_LOCKED",
            "only a draft or a returned month can be changed",
            month=number,
            state=found.state,
            editable=list(EDITABLE),
        )
    row = store.MonthRow(
        account_id,
        year,
        number,
        codec.month_json(record),
        found.state if found is not None else DepositState.DRAFT.value,
        review_note=None if found is None else found.review_note,
    )
    await _save(engine, who.market_id, row, None if found is None else found.state)
    notify.tell(engine, who.market_id, notify.month_message(row, "saved"))
    return month_view(row, rule)


async def _save(engine: AsyncEngine, market_id: str, row: store.MonthRow, was: str | None) -> None:
    if not await store.save_month(engine, market_id, row, was):
        raise MrvDeskError(
            "DEPOSIT_STEP", "the month changed meanwhile", month=row.month, state=was, to=row.state
        )


async def _month(engine: AsyncEngine, market_id: str, account_id: str, year: int, n: int) -> Any:
    found = await store.month(engine, market_id, account_id, year, n)
    if found is None:
        raise MrvDeskError(
            "MRV_UNKNOWN_MONTH", "no such month saved", account_id=account_id, year=year, month=n
        )
    return found


def _step(row: store.MonthRow, to: DepositState) -> str:
    try:
        return step(DepositState(row.state), to).value
    except MrvError as error:
        raise MrvDeskError(
            "DEPOSIT_STEP",
            "the platform does not allow this step",
            month=row.month,
            **error.details,
        ) from None


def market_date(runtime: MarketRuntime) -> dt.date:
    """The market clock's local date."""
    return local_date(runtime.market.rules.calendar, runtime.now_ns())


async def deposit_month(
    engine: AsyncEngine,
    who: Principal,
    runtime: MarketRuntime,
    account_id: str,
    year: int,
    number: int,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """Deposit a month (draft or returned → deposited) on the market's date (or ``on``: a
    class deposits on its own date for the month, as it squeezes the year into a few trading
    days), once the month is over: the checks run against the previous month; the flags and
    the emissions answered."""
    may_deposit(who, account_id)
    plan = await _unit(engine, who.market_id, account_id)
    rule = _guideline(plan, year)
    row = await _month(engine, who.market_id, account_id, year, number)
    was = row.state
    row.state = _step(row, DepositState.DEPOSITED)
    on = market_date(runtime) if on is None else on
    month_end = dt.date(year, number, calendar.monthrange(year, number)[1])
    if on <= month_end:
        raise MrvDeskError(
            "MRV_MONTH_NOT_OVER",
            "a month is deposited after its end",
            month=number,
            month_end=month_end.isoformat(),
            on=on.isoformat(),
        )
    before = (year, number - 1) if number > 1 else (year - 1, 12)
    previous_row = await store.month(engine, who.market_id, account_id, *before)
    previous = None
    if previous_row is not None and previous_row.state != DepositState.DRAFT.value:
        previous = _result(previous_row, _guideline(plan, before[0]), with_findings=False)
    unit = codec.unit_of(account_id, plan.capacity_mw, plan.kind, plan.coal)
    record = _record(row)
    result = _mrv(lambda: month_emissions(record, rule))
    flags = check_month(unit, record, result, rule, previous=previous, deposited_on=on)
    row.flags = [dataclasses.asdict(f) | {"numbers": dict(f.numbers)} for f in flags]
    row.deposited_on = on.isoformat()
    row.deposited_by = who.key_id
    row.review_note = None
    await _save(engine, who.market_id, row, was)
    notify.tell(engine, who.market_id, notify.month_message(row, "deposited"))
    return month_view(row, rule)


async def review_month(
    engine: AsyncEngine,
    who: Principal,
    account_id: str,
    year: int,
    number: int,
    decision: str,
    note: str | None,
) -> dict[str, Any]:
    """The authority's review of a deposited month (operators): passed, or returned with a
    note to correct it."""
    must_operate(who)
    plan = await _unit(engine, who.market_id, account_id)
    row = await _month(engine, who.market_id, account_id, year, number)
    was = row.state
    to = DepositState.PASSED if decision == "pass" else DepositState.RETURNED
    row.state = _step(row, to)
    row.review_note = note
    await _save(engine, who.market_id, row, was)
    notify.tell(engine, who.market_id, notify.month_message(row, row.state))
    return month_view(row, _guideline(plan, year))


async def list_months(
    engine: AsyncEngine, who: Principal, account_id: str, year: int
) -> dict[str, Any]:
    """The account's months of ``year`` and the year's summary (own key, assigned verifier,
    operators)."""
    await may_read(engine, who, account_id)
    plan = await _unit(engine, who.market_id, account_id)
    rule = _guideline(plan, year)
    rows = await store.months(engine, who.market_id, account_id, (year,))
    report = await store.report(engine, who.market_id, account_id, year)
    return {
        "account_id": account_id,
        "year": year,
        "unit": unit_view(plan),
        "months": [month_view(r, rule) for r in rows],
        "summary": year_summary(rows, rule),
        "report": None if report is None else report_view(report),
    }


def year_summary(rows: list[store.MonthRow], rule: Guideline) -> dict[str, Any]:
    """The year so far by the data year's guideline: as calculated, and with the findings."""
    results = [_result(r, rule, with_findings=False) for r in rows]
    verified = [_result(r, rule) for r in rows]
    calculated_year = YearResult("", 0, tuple(results))
    verified_year = YearResult("", 0, tuple(verified))
    return {
        "guideline_id": rule.guideline_id,
        "months": len(rows),
        "calculated": _year_view(calculated_year),
        "verified": _year_view(verified_year),
    }


def _year_view(year: YearResult) -> dict[str, Any]:
    intensity = year.intensity()
    return {
        "emissions_t": t2(year.emissions_t),
        "combustion_t": t2(year.combustion_t),
        "generation_mwh": t2(year.generation_mwh),
        "intensity_t_per_mwh": None if intensity is None else str(reported(intensity, 4)),
    }


# ---------------------------------------------------------------------- verifiers


async def assign_verifier(
    engine: AsyncEngine,
    who: Principal,
    verifier: Principal | None,
    key_id: str,
    accounts: list[str],
) -> dict[str, Any]:
    """Assign a verifier key to accounts (operators): never its own account (a class seat's
    verifier key names its seat), nor an account whose data it deposited."""
    must_operate(who)
    if verifier is None:
        raise MrvDeskError("MRV_UNKNOWN_KEY", "no live key with this id", key_id=key_id)
    if verifier.role is not Role.VERIFIER:
        raise MrvDeskError(
            "MRV_NOT_A_VERIFIER",
            "the key is not a verifier's",
            key_id=key_id,
            role=verifier.role.value,
        )
    for account in accounts:
        if account == verifier.account_id:
            raise MrvDeskError(
                "MRV_VERIFIER_CONFLICT",
                "a verifier may not verify its own account",
                key_id=key_id,
                account_id=account,
                reason="own_account",
            )
        deposited = await store.deposited_by(engine, who.market_id, account, key_id)
        if deposited:
            raise MrvDeskError(
                "MRV_VERIFIER_CONFLICT",
                "a verifier may not verify data it deposited",
                key_id=key_id,
                account_id=account,
                reason="deposited",
                months_deposited=deposited,
            )
    await store.assign(engine, who.market_id, key_id, accounts)
    return await verifier_view(engine, who.market_id, key_id)


async def verifier_view(engine: AsyncEngine, market_id: str, key_id: str) -> dict[str, Any]:
    return {"key_id": key_id, "account_ids": await store.assigned(engine, market_id, key_id)}


async def unassign_verifier(
    engine: AsyncEngine, who: Principal, key_id: str, account_id: str
) -> dict[str, Any]:
    must_operate(who)
    await store.unassign(engine, who.market_id, key_id, account_id)
    return await verifier_view(engine, who.market_id, key_id)


async def add_finding(
    engine: AsyncEngine,
    who: Principal,
    account_id: str,
    year: int,
    number: int,
    finding: dict[str, Any],
) -> dict[str, Any]:
    """A verifier's finding on a deposited or passed month, forcing a conservative treatment:
    a test's carbon at the default (``test_default``), or a meter as uncalibrated at a stated
    accuracy (``meter_uncalibrated``); the emissions before and after recorded with it."""
    await must_verify(engine, who, account_id)
    plan = await _unit(engine, who.market_id, account_id)
    rule = _guideline(plan, year)
    report = await store.report(engine, who.market_id, account_id, year)
    if report is not None and report.state != "returned":
        raise MrvDeskError(
            "MRV_REPORT_STATE",
            "the year's report is signed: findings wait for a return",
            state=report.state,
            allowed=["returned"],
        )
    row = await _month(engine, who.market_id, account_id, year, number)
    if row.state not in VERIFIABLE:
        raise MrvDeskError(
            "MRV_NOT_VERIFIABLE",
            "findings are made on deposited or passed months",
            month=number,
            state=row.state,
            allowed=list(VERIFIABLE),
        )
    _target(_record(row), finding)
    before = _result(row, rule).combustion_t
    entry = {**finding, "finding_id": len(row.findings) + 1, "verifier": who.key_id}
    trial = dataclasses.replace(row, findings=[*row.findings, entry])
    after = _result(trial, rule).combustion_t
    entry.update(before_t=t2(before), after_t=t2(after), change_t=t2(after - before))
    was = row.state
    await _save(engine, who.market_id, trial, was)
    notify.tell(engine, who.market_id, notify.finding_message(trial, entry))
    return {"finding": entry, "month": month_view(trial, rule)}


def _target(record: UnitMonth, finding: dict[str, Any]) -> None:
    fuels = len(record.fuels)
    if finding["kind"] == "test_default":
        fuel, test = finding.get("fuel"), finding.get("test")
        if fuel is None or test is None or not 0 <= fuel < fuels:
            raise MrvDeskError("MRV_FINDING_TARGET", "no such fuel", fuel=fuel, fuels=fuels)
        tests = len(record.fuels[fuel].tests)
        if not 0 <= test < tests:
            raise MrvDeskError(
                "MRV_FINDING_TARGET", "no such test", fuel=fuel, test=test, tests=tests
            )
        return
    meter = finding.get("meter")
    if meter != "generation" and not (meter is not None and meter.isdigit() and int(meter) < fuels):
        raise MrvDeskError("MRV_FINDING_TARGET", "no such meter", meter=meter, fuels=fuels)


# ---------------------------------------------------------------------- reports


def report_view(row: store.ReportRow) -> dict[str, Any]:
    return {
        "account_id": row.account_id,
        "year": row.year,
        "state": row.state,
        "verifier": row.verifier,
        "verified_t": row.verified_t,
        "emissions_t": row.emissions_t,
        "generation_mwh": row.generation_mwh,
        "output_mwh": row.output_mwh,
        "guideline_id": row.body["guideline_id"],
        "calculated_t": row.body["calculated_t"],
        "electricity_t": row.body["electricity_t"],
        "findings": row.body["findings"],
        "signed_at": row.signed_at,
        "published_at": row.published_at,
        "note": row.note,
        "publication": row.publication,
        "signed_on": row.body.get("signed_on"),
        "objection": row.body.get("objection"),
    }


async def sign_report(
    engine: AsyncEngine,
    who: Principal,
    account_id: str,
    year: int,
    signed_on: dt.date | None = None,
) -> dict[str, Any]:
    """Sign the year's report (the assigned verifier), once all twelve months are passed:
    verified emissions are the year's combustion emissions with the findings applied, in whole
    tonnes (``whole_tonnes``); generation after the meters' rules. ``signed_on``: the market's
    date, from which the entity's objection window counts."""
    await must_verify(engine, who, account_id)
    plan = await _unit(engine, who.market_id, account_id)
    rule = _guideline(plan, year)
    found = await store.report(engine, who.market_id, account_id, year)
    if found is not None and found.state != "returned":
        raise MrvDeskError(
            "MRV_REPORT_STATE",
            "the year's report is signed already",
            state=found.state,
            allowed=["returned"],
        )
    rows = await store.months(engine, who.market_id, account_id, (year,))
    states = {str(m): "missing" for m in range(1, 13)}
    states.update({str(r.month): r.state for r in rows})
    not_ready = {m: s for m, s in states.items() if s != DepositState.PASSED.value}
    if not_ready:
        raise MrvDeskError(
            "MRV_MONTHS_NOT_READY",
            "every month of the year must be passed by the authority first",
            year=year,
            months=not_ready,
            needed=DepositState.PASSED.value,
        )
    verified = YearResult(account_id, year, tuple(_result(r, rule) for r in rows))
    calculated = YearResult(account_id, year, tuple(_result(r, rule, False) for r in rows))
    findings = [{"month": r.month, **f} for r in rows for f in r.findings]
    row = store.ReportRow(
        account_id,
        year,
        "signed",
        who.key_id,
        whole_tonnes(verified.combustion_t),
        t2(verified.combustion_t),
        t2(verified.generation_mwh),
        int(reported(verified.generation_mwh, 0)),
        {
            "guideline_id": rule.guideline_id,
            "calculated_t": t2(calculated.combustion_t),
            "electricity_t": t2(verified.emissions_t - verified.combustion_t),
            "findings": findings,
            "signed_on": None if signed_on is None else signed_on.isoformat(),
        },
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    if not await store.save_report(
        engine, who.market_id, row, None if found is None else "returned"
    ):
        raise MrvDeskError("MRV_REPORT_STATE", "the report changed meanwhile", state="signed")
    notify.tell(engine, who.market_id, notify.report_message(row, "signed"))
    return report_view(row)


async def _report(engine: AsyncEngine, market_id: str, account_id: str, year: int) -> Any:
    found = await store.report(engine, market_id, account_id, year)
    if found is None:
        raise MrvDeskError(
            "MRV_NO_REPORT", "no signed report for the year", account_id=account_id, year=year
        )
    return found


async def return_report(
    engine: AsyncEngine, who: Principal, account_id: str, year: int, note: str | None
) -> dict[str, Any]:
    """Return a signed report to its verifier (operators), with a note."""
    must_operate(who)
    found = await _report(engine, who.market_id, account_id, year)
    if found.state != "signed":
        raise MrvDeskError(
            "MRV_REPORT_STATE",
            "only a signed report is returned",
            state=found.state,
            allowed=["signed"],
        )
    found.state, found.note = "returned", note
    if not await store.save_report(engine, who.market_id, found, "signed"):
        raise MrvDeskError("MRV_REPORT_STATE", "the report changed meanwhile", state="signed")
    notify.tell(engine, who.market_id, notify.report_message(found, "returned"))
    return report_view(found)


def _op_id(kind: str, account_id: str, year: int) -> str:
    op_id = f"mrv:{kind}:{account_id}:{year}"
    if len(op_id) > OP_ID_MAX:
        op_id = "mrv#" + hashlib.sha256(op_id.encode()).hexdigest()
    return op_id


async def publish_report(
    engine: AsyncEngine,
    who: Principal,
    runtime: MarketRuntime,
    account_id: str,
    year: int,
    true_up: bool = True,
) -> tuple[dict[str, Any], list[Ack], bool]:
    """Publish a signed report (operators): its verified emissions recorded in the registry
    (``RecordEmissions``) and the year's allocation trued up from verified generation × the
    unit's benchmark (``TrueUpAllocation``: the final allocation less what the year had), both
    journaled with op ids fixed by market, account and year. Without ``true_up`` (a class whose
    allocation has no benchmark) only the emissions. Publishing again repeats nothing.
    The report, the acks (for the caller to check) and whether it was published before."""
    must_operate(who)
    plan = await _unit(engine, who.market_id, account_id)
    found = await _report(engine, who.market_id, account_id, year)
    if found.state not in ("signed", "published"):
        raise MrvDeskError(
            "MRV_REPORT_STATE",
            "only a signed report is published",
            state=found.state,
            allowed=["signed"],
        )
    objection = found.body.get("objection")
    if objection is not None and objection["status"] == "open":
        raise MrvDeskError(
            "MRV_OBJECTION_OPEN",
            "the entity objects to the report: decide the objection first",
            filed_on=objection["filed_on"],
            decide_by=objection["decide_by"],
        )
    again = found.state == "published"
    account = AccountId(account_id)
    emissions = RecordEmissions(
        _op_id("emissions", account_id, year), account, year, found.verified_t
    )
    trueup = TrueUpAllocation(
        _op_id("trueup", account_id, year), account, year, found.output_mwh, plan.benchmark
    )
    ops: list[Op] = [emissions, trueup] if true_up else [emissions]
    acks = await runtime.submit_many([RegistryCommand(0, op) for op in ops])
    if any(ack.outcome.code is not None for ack in acks) or again:
        return report_view(found), acks, again
    details = acks[1].outcome.details if true_up else {}
    found.publication = {
        "emissions_op_id": emissions.op_id,
        "trueup_op_id": trueup.op_id if true_up else None,
        "benchmark": plan.benchmark,
        "output_mwh": found.output_mwh,
        **{k: v for k, v in details.items() if isinstance(v, int)},
    }
    found.state = "published"
    found.published_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if not await store.save_report(engine, who.market_id, found, "signed"):
        found = await _report(engine, who.market_id, account_id, year)  # a concurrent publish
        again = True
    else:
        notify.tell(engine, who.market_id, notify.report_message(found, "published"))
        await notify.locked(engine, who.market_id, account_id, year)
    return report_view(found), acks, again


# ---------------------------------------------------------------------- objections


async def object_to_report(
    engine: AsyncEngine,
    who: Principal,
    runtime: MarketRuntime,
    account_id: str,
    year: int,
    reason: str,
) -> dict[str, Any]:
    """The entity objects to its signed report (its own key), within
    ``objection_working_days`` of the signing on the market's calendar; the report cannot be
    published until the authority decides (``decide_objection``), which it should within
    ``decision_working_days`` (``mrv/platform.toml``)."""
    if who.role is not Role.PARTICIPANT or who.account_id != account_id:
        raise MrvDeskError(
            "FORBIDDEN", "only the entity objects to its report", account_id=account_id
        )
    found = await _report(engine, who.market_id, account_id, year)
    if found.state != "signed" or found.body.get("objection") is not None:
        raise MrvDeskError(
            "MRV_REPORT_STATE",
            "an objection is to a signed report, once",
            state=found.state,
            allowed=["signed"],
        )
    holidays = runtime.market.rules.calendar.holidays
    today = market_date(runtime)
    signed_on = found.body.get("signed_on")
    if signed_on is not None:
        allowed = objection_working_days()
        until = working_days_after(dt.date.fromisoformat(signed_on), allowed, holidays)
        if today > until:
            raise MrvDeskError(
                "MRV_OBJECTION_LATE",
                f"objections are made within {allowed} working days of the signing",
                signed_on=signed_on,
                until=until.isoformat(),
                on=today.isoformat(),
            )
    decide_by = working_days_after(today, decision_working_days(), holidays)
    found.body["objection"] = {
        "reason": reason,
        "filed_on": today.isoformat(),
        "decide_by": decide_by.isoformat(),
        "status": "open",
    }
    if not await store.save_report(engine, who.market_id, found, "signed"):
        raise MrvDeskError("MRV_REPORT_STATE", "the report changed meanwhile", state="signed")
    notify.tell(engine, who.market_id, notify.report_message(found, "objected"))
    return report_view(found)


async def decide_objection(
    engine: AsyncEngine,
    who: Principal,
    runtime: MarketRuntime,
    account_id: str,
    year: int,
    upheld: bool,
    note: str | None,
) -> dict[str, Any]:
    """The authority decides an open objection (operators): upheld, the report goes back to
    its verifier (as ``return_report``); dismissed, it stands and may be published. A decision
    after ``decide_by`` is recorded as late."""
    must_operate(who)
    found = await _report(engine, who.market_id, account_id, year)
    objection = found.body.get("objection")
    if objection is None or objection["status"] != "open":
        raise MrvDeskError(
            "MRV_REPORT_STATE",
            "no open objection to decide",
            state=found.state,
            objection=None if objection is None else objection["status"],
        )
    today = market_date(runtime)
    objection.update(
        status="upheld" if upheld else "dismissed",
        decided_on=today.isoformat(),
        late=today > dt.date.fromisoformat(objection["decide_by"]),
        note=note,
    )
    if upheld:
        found.state, found.note = "returned", note
    if not await store.save_report(engine, who.market_id, found, "signed"):
        raise MrvDeskError("MRV_REPORT_STATE", "the report changed meanwhile", state="signed")
    notify.tell(engine, who.market_id, notify.report_message(found, "decided"))
    return report_view(found)
