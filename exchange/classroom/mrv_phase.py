"""A class's MRV phase (issue 19; docs/classroom.md "The MRV phase"), between trading and
verification in a class that has it (``ClassState.mrv``).

Entering it (``enter``): every covered firm of the class, seats and bot firms, gets its unit's
monitoring plan and twelve draft months of the class's data year (the compliance year), made by
the simulator's generator (``exchange.sim.mrv_data.seeded_firm_year``) from the emissions the
firm has so far (its baseline with the year's shocks, less its abatement), so they add up to
what verification would record. Each seat's months carry one planted problem, a substituted
sample (``mrv.problems.substituted_sample``) in a month drawn from the class's seed, which the
checks flag (DQ04 for coal, DQ18 for gas). A bot firm's months are deposited, passed and signed
by the class's bot verifier at once. The seats' verifier is the instructor, or in a class whose
trainees verify, the next seat (the last seat's is the first; never its own).

Every MRV step goes through the MRV desk (``exchange.mrv_desk.service``) with the class's own
principals: the class as the operator (the authority), the instructor, the bots' verifier and
each seat as a verifier (``class-seat-{n}``, naming its own account, so the desk never assigns
it to its own seat). A class deposits month m on its own date, ten days after the month ends:
the class squeezes the year into a few trading days, and its market's clock stands in the
year's first weeks.

Leaving it for verification (``leave``): every signed report is published (the desk's
``publishVerification``: the verified emissions, and the true-up from verified generation × the
unit's benchmark where the class allocates by benchmark; otherwise the emissions, with the
class's own intensity true-up where it has one); a seat without a signed report falls back to
what the verification phase does without MRV, and is listed in ``mrv_facts["fell_back"]``; so
does a seat whose signed report the trainee objected to and the instructor has not decided (the
desk does not publish it, ``MRV_OBJECTION_OPEN``), also listed in ``mrv_facts["objected"]``.
Both are idempotent: a month saved, a step taken and a report published are not done twice.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from exchange import compliance_year
from exchange.agents.base import Abate
from exchange.classroom.bots import year_end_actions
from exchange.classroom.errors import ClassroomError
from exchange.classroom.lifecycle import Phase
from exchange.classroom.room import Classroom
from exchange.classroom.setup import ClassScenario
from exchange.classroom.state import ClassState, Seat
from exchange.keys import Principal, Role
from exchange.mrv_desk import codec, service, store
from exchange.mrv_desk.errors import MrvDeskError
from exchange.runtime import MarketRuntime
from exchange.sim.mrv_data import seeded_firm_year
from exchange.sim.scenario import derived_seed
from mrv.calculator import month_emissions, reported
from mrv.checks import check_month, rules
from mrv.guidelines import coal_reference, guideline_for
from mrv.model import Fuel, Unit, UnitMonth
from mrv.platform import DepositState
from mrv.problems import substituted_sample
from registry_sim.model import AccountId
from settlement.commands import RegistryCommand

VERIFIERS = ("instructor", "trainees")
OPERATOR_ID = "class"  # the class acting as the authority (an operator)
INSTRUCTOR_ID = "class-instr"  # the instructor as the seats' verifier
BOT_ID = "class-bot"  # the bots' verifier
DEPOSIT_DAYS = 10  # a class deposits a month this many days after it ends
# The planted sample's carbon per unit heat: 10 % under the coal type's reference (DQ04's band
# is 5 %), or for gas 0.0110 tC/GJ (about 4.0 tC/10^4 Nm3, under DQ18's 4.37).
PLANTED_SHARE = Decimal("0.90")
PLANTED_GAS = Decimal("0.0110")
CARBON_RULES = ("DQ02", "DQ04", "DQ18")  # the checks that doubt a month's own carbon test


def seat_verifier_id(seat: Seat) -> str:
    return f"class-seat-{seat.seat}"


def as_operator(market_id: str) -> Principal:
    return Principal(market_id, Role.OPERATOR, None, OPERATOR_ID)


def as_instructor(market_id: str) -> Principal:
    return Principal(market_id, Role.VERIFIER, None, INSTRUCTOR_ID)


def as_seat_verifier(market_id: str, seat: Seat) -> Principal:
    return Principal(market_id, Role.VERIFIER, seat.account_id, seat_verifier_id(seat))


def deposit_day(year: int, month: int) -> dt.date:
    """The class's date for depositing ``month``: ten days after it ends (on time, DQ01)."""
    return dt.date(year, month, calendar.monthrange(year, month)[1]) + dt.timedelta(DEPOSIT_DAYS)


def verifier_seat(state: ClassState, account_id: str) -> Seat | None:
    """The seat that verifies ``account_id`` in a class whose trainees verify (the next seat;
    the last seat's is the first), else None: the instructor verifies."""
    seats = sorted(state.seats, key=lambda s: s.seat)
    if state.mrv != "trainees" or len(seats) < 2:
        return None
    index = next(i for i, s in enumerate(seats) if s.account_id == account_id)
    return seats[(index + 1) % len(seats)]


def verifier_id(state: ClassState, account_id: str) -> str:
    seat = verifier_seat(state, account_id)
    return INSTRUCTOR_ID if seat is None else seat_verifier_id(seat)


def verified_accounts(state: ClassState, who: Principal) -> list[str]:
    """The seats a caller verifies: the instructor's (an operator) or a seat's (its key)."""
    if who.role is Role.OPERATOR:
        return [s.account_id for s in state.seats if verifier_seat(state, s.account_id) is None]
    return [
        s.account_id
        for s in state.seats
        if (v := verifier_seat(state, s.account_id)) is not None and v.account_id == who.account_id
    ]


def class_verifier(state: ClassState, who: Principal) -> Principal:
    """The desk principal a caller verifies as: an operator as the instructor, a seat's key as
    its seat (``FORBIDDEN`` for others)."""
    if who.role is Role.OPERATOR:
        return as_instructor(state.market_id)
    seat = state.seat_of(who.account_id or "")
    if who.role is Role.PARTICIPANT and seat is not None:
        return as_seat_verifier(state.market_id, seat)
    raise ClassroomError("FORBIDDEN", "only the instructor or a seat verifies", role=who.role.value)


def must_be_mrv(state: ClassState) -> None:
    if state.phase is not Phase.MRV:
        raise ClassroomError(
            "WRONG_CLASS_PHASE",
            "MRV data are deposited and verified in the mrv phase",
            phase=state.phase.value,
            expected=[Phase.MRV.value],
        )


# ---------------------------------------------------------------------- entering


def firm_emissions_t(
    runtime: MarketRuntime, state: ClassState, scenario: ClassScenario, account: str
) -> int:
    """The firm's emissions so far, as verification would record them: its baseline with the
    year's shocks up to today, less its abatement (a seat's declared, a bot's decided now)."""
    year = state.compliance_year
    today = runtime.market.trading_day
    agents = {s.account_id: s for s in scenario.bot_specs(year, today) if s.firm is not None}
    if account in agents:
        actions = year_end_actions(agents[account], runtime, year, scenario.year_days(year))
        wanted = sum(a.qty_t for a in actions if isinstance(a, Abate) and a.year == year)
    else:
        wanted = state.abatement_t.get(account, 0)
    abated = compliance_year.abatement_t(wanted, scenario.max_abatement_t(account, year, today))
    state.abatement_t[account] = abated
    return compliance_year.verified_emissions_t(scenario.baseline_t(account, year, today), abated)


def planted_month(seed: int, account: str, year: int) -> int:
    """The month whose test a seat's plant substituted: February to November, by the seed."""
    return random.Random(derived_seed(seed, "mrv-problem", account, year)).randrange(2, 12)


def plant(unit: Unit, months: list[UnitMonth], month: int) -> tuple[list[UnitMonth], str]:
    """The months with ``month``'s test substituted, and the true carbon (the retained sample's,
    re-tested)."""
    if unit.coal is Fuel.NATURAL_GAS:
        per_heat = PLANTED_GAS
    else:
        per_heat = (coal_reference()[unit.coal] * PLANTED_SHARE).quantize(Decimal("0.00001"))
    altered, _ = substituted_sample(unit, months, months=[month], carbon_per_heat=per_heat)
    true_carbon = months[month - 1].fuels[0].tests[0].carbon
    return altered, str(true_carbon)


def _benchmark(scenario: ClassScenario, sector: str, unit_months: list[UnitMonth]) -> str:
    """The unit's benchmark for the desk's true-up: the class's sector benchmark where it
    allocates by benchmark; else the unit's own intensity (not used: no true-up)."""
    allocation = scenario.loaded.spec.allocation
    if allocation.method == "benchmark":
        return str(allocation.benchmarks[sector])
    rule = guideline_for(unit_months[0].year)
    results = [month_emissions(m, rule) for m in unit_months]
    generation = sum((r.generation_mwh for r in results), Fraction(0))
    emissions = sum((r.combustion_t for r in results), Fraction(0))
    return str(reported(emissions / generation, 4)) if generation else "1"


async def enter(engine: AsyncEngine, room: Classroom) -> dict[str, Any]:
    """The MRV phase begins (see the module): plans, draft months with the seats' planted
    problems, the bots' years deposited, passed and signed, the verifiers assigned."""
    runtime, state, scenario = room.runtime, room.state, room.scenario
    market_id, year = state.market_id, state.compliance_year
    operator = as_operator(market_id)
    seats = {s.account_id for s in state.seats}
    planted: dict[str, Any] = dict(state.mrv_facts.get("planted", {}))
    rows: list[store.MonthRow] = []
    bots: list[str] = []
    for firm in scenario.loaded.firms:
        account = firm.account_id
        emissions = firm_emissions_t(runtime, state, scenario, account)
        unit, months = seeded_firm_year(firm, year, emissions, state.seed)
        plan = store.UnitRow(
            account,
            str(unit.capacity_mw),
            unit.kind.value,
            unit.coal.value,
            _benchmark(scenario, firm.sector, months),
            None,
        )
        await service.put_unit(engine, operator, plan)
        if account in seats:
            month = planted_month(state.seed, account, year)
            months, true_carbon = plant(unit, months, month)
            planted[account] = {
                "month": month,
                "problem": "substituted_sample",
                "retained_carbon": true_carbon,
                "emissions_t": emissions,
            }
            rows += [
                store.MonthRow(account, year, m.month, codec.month_json(m), "draft") for m in months
            ]
        else:
            bots.append(account)
            rows += _passed(unit, months)
    added = await store.add_months(engine, market_id, rows)
    state.mrv_facts = {**state.mrv_facts, "planted": planted, "year": year}
    await assign(engine, state)
    await store.assign(engine, market_id, BOT_ID, bots)
    bot = Principal(market_id, Role.VERIFIER, None, BOT_ID)
    signed = 0
    for account in bots:
        if await store.report(engine, market_id, account, year) is None:
            await service.sign_report(engine, bot, account, year, service.market_date(runtime))
            signed += 1
    return {"mrv_months": added, "mrv_seats": len(seats), "mrv_bots_signed": signed}


def _passed(unit: Unit, months: list[UnitMonth]) -> list[store.MonthRow]:
    """A bot firm's months as deposited on the class's dates and passed, with their flags."""
    rule = guideline_for(months[0].year)
    rows, previous = [], None
    for m in months:
        result = month_emissions(m, rule)
        on = deposit_day(m.year, m.month)
        flags = check_month(unit, m, result, rule, previous=previous, deposited_on=on)
        previous = result
        rows.append(
            store.MonthRow(
                m.unit_id,
                m.year,
                m.month,
                codec.month_json(m),
                DepositState.PASSED.value,
                on.isoformat(),
                BOT_ID,
                [dataclasses.asdict(f) | {"numbers": dict(f.numbers)} for f in flags],
            )
        )
    return rows


async def assign(engine: AsyncEngine, state: ClassState) -> None:
    """Each seat's verifier as the class says (the instructor, or the next seat); a verifier
    the class no longer names is unassigned from a seat whose report is not signed."""
    market_id = state.market_id
    operator = as_operator(market_id)
    year = state.compliance_year
    ids = [INSTRUCTOR_ID, *(seat_verifier_id(s) for s in state.seats)]
    for seat in state.seats:
        wanted = verifier_id(state, seat.account_id)
        if await store.report(engine, market_id, seat.account_id, year) is not None:
            continue
        for key_id in ids:
            if key_id != wanted:
                await store.unassign(engine, market_id, key_id, seat.account_id)
        v = verifier_seat(state, seat.account_id)
        verifier = as_instructor(market_id) if v is None else as_seat_verifier(market_id, v)
        await service.assign_verifier(engine, operator, verifier, wanted, [seat.account_id])


# ---------------------------------------------------------------------- leaving


async def leave(engine: AsyncEngine, room: Classroom) -> dict[str, Any]:
    """Publish every signed report of the year into the registry (the desk's publication); the
    seats without one, or whose report is under an open objection, are listed to fall back to
    verification without MRV."""
    runtime, state, scenario = room.runtime, room.state, room.scenario
    market_id, year = state.market_id, state.compliance_year
    operator = as_operator(market_id)
    allocation = scenario.loaded.spec.allocation
    benchmark = allocation.method == "benchmark"
    published, fell_back, objected = 0, [], []
    seats = {s.account_id for s in state.seats}
    for firm in scenario.loaded.firms:
        account = firm.account_id
        found = await store.report(engine, market_id, account, year)
        if found is not None and found.state == "signed" and objection_open(found.body):
            objected.append(account)  # not published (MRV_OBJECTION_OPEN): it falls back
        if found is None or found.state == "returned" or account in objected:
            if account in seats:
                fell_back.append(account)
            continue
        _, acks, _ = await service.publish_report(
            engine, operator, runtime, account, year, true_up=benchmark
        )
        for ack in acks:
            code = ack.outcome.code
            if code is not None and code != "DUPLICATE_OP":
                raise MrvDeskError("MRV_REPORT_STATE", f"publication refused: {code}", state=code)
        if allocation.method == "intensity":  # the class's own true-up, after the emissions
            ops = compliance_year.verification_ops(scenario.loaded, firm, year, found.verified_t)
            await runtime.submit_many([RegistryCommand(0, op) for op in ops[1:]])
        published += 1
    state.mrv_facts = {**state.mrv_facts, "fell_back": fell_back, "objected": objected}
    return {
        "mrv_published": published,
        "mrv_fell_back": len(fell_back),
        "mrv_objection_open": len(objected),
    }


def objection_open(body: dict[str, Any]) -> bool:
    """Whether a report's objection waits for the authority's decision (the desk refuses to
    publish it: ``MRV_OBJECTION_OPEN``)."""
    objection = body.get("objection")
    return objection is not None and objection.get("status") == "open"


def is_verified(runtime: MarketRuntime, account: str, year: int) -> bool:
    return runtime.market.registry.verified(AccountId(account), year) is not None


# ---------------------------------------------------------------------- the views


def _flag_view(flag: dict[str, Any]) -> dict[str, Any]:
    rule = rules().get(flag["rule_id"])
    title = dict(rule.title) if rule is not None else {}
    return {
        **flag,
        "title": title.get("en", flag["rule_id"]),
        "title_zh": title.get("zh-CN", title.get("en", flag["rule_id"])),
    }


def _preview_flags(unit: Unit, months: list[dict[str, Any]], year: int) -> None:
    """A draft's or returned month's flags as the checks would raise them if it were deposited
    on the class's date now (``preview``), in place; a deposited month keeps its own."""
    rule = guideline_for(year)
    previous = None
    for view in months:
        record = codec.month_from(unit.unit_id, year, view["month"], view["data"])
        result = month_emissions(record, rule)
        if view["state"] in service.EDITABLE:
            on = deposit_day(year, view["month"])
            flags = check_month(unit, record, result, rule, previous=previous, deposited_on=on)
            view["flags"] = [dataclasses.asdict(f) | {"numbers": dict(f.numbers)} for f in flags]
            view["preview"] = True
        else:
            view["preview"] = False
        view["flags"] = [_flag_view(f) for f in view["flags"]]
        previous = result


def _default_line(unit: Unit, months: list[dict[str, Any]], year: int) -> dict[str, Any]:
    """The year's combustion emissions as the data stand (measured carbon where a test has
    it), with the flagged months' tests at the default, and with every test at the default."""
    rule = guideline_for(year)
    measured = flagged = everything = Fraction(0)
    flagged_months = []
    for view in months:
        record = codec.month_from(unit.unit_id, year, view["month"], view["data"])
        doubted = any(f["rule_id"] in CARBON_RULES for f in view["flags"])
        if doubted:
            flagged_months.append(view["month"])
        at_default = _all_default(record)
        measured += month_emissions(record, rule).combustion_t
        everything += month_emissions(at_default, rule).combustion_t
        flagged += month_emissions(at_default if doubted else record, rule).combustion_t
    return {
        "measured_t": str(reported(measured, 2)),
        "flagged_default_t": str(reported(flagged, 2)),
        "all_default_t": str(reported(everything, 2)),
        "flagged_months": flagged_months,
        "default_carbon_per_heat": str(rule.carbon_per_heat_default(unit.coal)),
    }


def _all_default(record: UnitMonth) -> UnitMonth:
    fuels = tuple(
        dataclasses.replace(f, tests=tuple(dataclasses.replace(t, carbon=None) for t in f.tests))
        for f in record.fuels
    )
    return dataclasses.replace(record, fuels=fuels)


def _verifier_view(state: ClassState, account: str) -> dict[str, Any]:
    seat = verifier_seat(state, account)
    if seat is None:
        return {"kind": "instructor", "seat": None, "name": None, "name_zh": None}
    return {"kind": "seat", "seat": seat.seat, "name": seat.name, "name_zh": seat.name_zh}


async def seat_view(engine: AsyncEngine, room: Classroom, account: str) -> dict[str, Any]:
    """One seat's MRV year as the class shows it: the desk's months (the drafts' flags as the
    checks would raise them), the default line, the report, its verifier, the planted month's
    retained sample and whether it fell back."""
    state = room.state
    year = state.compliance_year
    seat = state.seat_of(account)
    if seat is None:
        raise ClassroomError("FORBIDDEN", "only a seat has MRV data in a class", account_id=account)
    planted = state.mrv_facts.get("planted", {}).get(account)
    base = {
        "account_id": account,
        "seat": seat.seat,
        "name": seat.name,
        "name_zh": seat.name_zh,
        "year": year,
        "phase": state.phase.value,
        "open": state.phase is Phase.MRV,
        "verifier": _verifier_view(state, account),
        "fell_back": account in state.mrv_facts.get("fell_back", []),
        "objected": account in state.mrv_facts.get("objected", []),
        "verified_t": (
            room.runtime.market.registry.verified(AccountId(account), year)
            if is_verified(room.runtime, account, year)
            else None
        ),
    }
    if planted is None:  # not entered yet
        return {**base, "months": [], "report": None, "summary": None, "default": None}
    year_view = await service.list_months(engine, as_operator(state.market_id), account, year)
    plan = year_view["unit"]
    unit = codec.unit_of(account, plan["capacity_mw"], plan["kind"], plan["coal"])
    months = year_view["months"]
    _preview_flags(unit, months, year)
    return {
        **base,
        "unit": plan,
        "months": months,
        "summary": year_view["summary"],
        "report": year_view["report"],
        "default": _default_line(unit, months, year),
        "retained_sample": {"month": planted["month"], "carbon": planted["retained_carbon"]},
        "quality": _quality(months, year_view["report"]),
    }


def _quality(months: list[dict[str, Any]], report: dict[str, Any] | None) -> dict[str, Any]:
    states = [m["state"] for m in months]
    return {
        "months": len(months),
        "drafts": sum(s in service.EDITABLE for s in states),
        "deposited": sum(s != DepositState.DRAFT.value for s in states),
        "passed": sum(s in ("passed", "locked") for s in states),
        "open_flags": sum(len(m["flags"]) for m in months),
        "findings": sum(len(m["findings"]) for m in months),
        "report": None if report is None else report["state"],
        "objection": None
        if report is None or not report["objection"]
        else report["objection"]["status"],
        "verified_t": None if report is None else report["verified_t"],
    }


async def overview(engine: AsyncEngine, room: Classroom) -> dict[str, Any]:
    """Every seat's data quality at a glance (the instructor's console)."""
    state = room.state
    rows = []
    for seat in sorted(state.seats, key=lambda s: s.seat):
        view = await seat_view(engine, room, seat.account_id)
        rows.append(
            {
                key: view[key]
                for key in (
                    "account_id",
                    "seat",
                    "name",
                    "name_zh",
                    "verifier",
                    "fell_back",
                    "objected",
                )
            }
            | {"quality": view.get("quality"), "verified_t": view["verified_t"]}
        )
    return {
        "market_id": state.market_id,
        "enabled": state.mrv is not None,
        "verifiers": state.mrv,
        "phase": state.phase.value,
        "year": state.compliance_year,
        "entered": "planted" in state.mrv_facts,
        "seats": rows,
    }


async def my_view(engine: AsyncEngine, room: Classroom, who: Principal) -> dict[str, Any]:
    """A seat's own MRV year and the seats it verifies (its key), or the overview (operators)."""
    state = room.state
    verifies = [
        {"account_id": a, "seat": s.seat, "name": s.name, "name_zh": s.name_zh}
        for a in verified_accounts(state, who)
        if (s := state.seat_of(a)) is not None
    ]
    common = {
        "market_id": state.market_id,
        "enabled": state.mrv is not None,
        "verifiers": state.mrv,
        "phase": state.phase.value,
        "verifies": verifies,
    }
    if who.role is not Role.PARTICIPANT or state.seat_of(who.account_id or "") is None:
        return {**common, "mine": None}
    return {**common, "mine": await seat_view(engine, room, who.account_id or "")}


async def may_see(state: ClassState, who: Principal, account: str) -> None:
    """A seat's MRV data: its own key, its verifier seat's key, operators."""
    if who.role is Role.OPERATOR or who.account_id == account:
        return
    if account in verified_accounts(state, who):
        return
    raise ClassroomError("FORBIDDEN", "not this seat's data", account_id=account)


# ---------------------------------------------------------------------- the seats' steps


async def correct(
    engine: AsyncEngine, room: Classroom, who: Principal, month: int, carbon: str | None
) -> dict[str, Any]:
    """A seat corrects a month's carbon test (its own key; a draft or a returned month): a
    new value, or None: not measured, so the guideline's default applies."""
    state = room.state
    must_be_mrv(state)
    account = who.account_id or ""
    if state.seat_of(account) is None or who.role is not Role.PARTICIPANT:
        raise ClassroomError("FORBIDDEN", "a seat corrects its own data", role=who.role.value)
    year = state.compliance_year
    found = await store.month(engine, state.market_id, account, year, month)
    if found is None:
        raise MrvDeskError("MRV_UNKNOWN_MONTH", "no such month", month=month, year=year)
    data = dict(found.record)
    fuels = [dict(f) for f in data["fuels"]]
    tests = [dict(t) for t in fuels[0]["tests"]]
    if tests:
        tests[0]["carbon"] = carbon
    fuels[0]["tests"] = tests
    data["fuels"] = fuels
    await service.put_month(engine, who, account, year, month, data)
    return await seat_view(engine, room, account)


async def deposit(
    engine: AsyncEngine, room: Classroom, who: Principal, months: list[int] | None
) -> dict[str, Any]:
    """A seat deposits months (its own key): ``months``, or every draft and returned month, in
    order, each on the class's date for it."""
    state = room.state
    must_be_mrv(state)
    account = who.account_id or ""
    if state.seat_of(account) is None:
        raise ClassroomError("FORBIDDEN", "a seat deposits its own data", role=who.role.value)
    year = state.compliance_year
    rows = await store.months(engine, state.market_id, account, (year,))
    chosen = sorted(
        r.month
        for r in rows
        if (months is None and r.state in service.EDITABLE) or (months and r.month in months)
    )
    for m in chosen:
        await service.deposit_month(
            engine, who, room.runtime, account, year, m, on=deposit_day(year, m)
        )
    return await seat_view(engine, room, account)


async def review(
    engine: AsyncEngine,
    room: Classroom,
    account: str,
    months: list[int] | None,
    decision: str,
    note: str | None,
) -> dict[str, Any]:
    """The instructor as the authority passes or returns a seat's deposited months (``months``,
    or every deposited one)."""
    state = room.state
    must_be_mrv(state)
    if state.seat_of(account) is None:
        raise ClassroomError("FORBIDDEN", "only a seat's months are reviewed", account_id=account)
    year = state.compliance_year
    rows = await store.months(engine, state.market_id, account, (year,))
    deposited = DepositState.DEPOSITED.value
    chosen = [r.month for r in rows if r.state == deposited and (not months or r.month in months)]
    for m in chosen:
        await service.review_month(
            engine, as_operator(state.market_id), account, year, m, decision, note
        )
    return await seat_view(engine, room, account)


async def add_finding(
    engine: AsyncEngine, room: Classroom, who: Principal, account: str, month: int
) -> dict[str, Any]:
    """The seat's verifier forces the default on a month's carbon test (``test_default``)."""
    state = room.state
    must_be_mrv(state)
    verifier = class_verifier(state, who)
    finding = {"kind": "test_default", "fuel": 0, "test": 0}
    await service.add_finding(engine, verifier, account, state.compliance_year, month, finding)
    return await seat_view(engine, room, account)


async def sign(
    engine: AsyncEngine, room: Classroom, who: Principal, account: str
) -> dict[str, Any]:
    """The seat's verifier signs the year's report (every month passed)."""
    state = room.state
    must_be_mrv(state)
    verifier = class_verifier(state, who)
    today = service.market_date(room.runtime)
    await service.sign_report(engine, verifier, account, state.compliance_year, today)
    return await seat_view(engine, room, account)


async def set_verifiers(engine: AsyncEngine, room: Classroom, mode: str | None) -> dict[str, Any]:
    """Who verifies the seats (the instructor or the trainees), or no MRV phase (None): the
    phase is switched on or off before it begins; in it, the verifiers are reassigned."""
    state = room.state
    if mode is None and state.phase is not Phase.ALLOCATION and state.phase is not Phase.TRADING:
        raise ClassroomError(
            "WRONG_CLASS_PHASE",
            "the MRV phase is switched off before it begins",
            phase=state.phase.value,
            expected=[Phase.ALLOCATION.value, Phase.TRADING.value],
        )
    if mode is not None and state.phase not in (Phase.ALLOCATION, Phase.TRADING, Phase.MRV):
        raise ClassroomError(
            "WRONG_CLASS_PHASE",
            "the verifiers are chosen before verification",
            phase=state.phase.value,
            expected=[Phase.ALLOCATION.value, Phase.TRADING.value, Phase.MRV.value],
        )
    state.mrv = mode
    if state.phase is Phase.MRV:
        await assign(engine, state)
    return await overview(engine, room)
