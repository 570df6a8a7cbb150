"""A scenario's market set up as commands: its instruments, accounts, cash, CCER projects,
history, starting allowances, each year's allocation and CCER issuance.

The headless run (``exchange.sim.runner``) applies them to its in-memory market; a class market
(``exchange.classroom``) submits them to its runtime, so both set up and allocate alike. The
year's end is ``exchange.compliance_year``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exchange.sim.scenario import FirmPlan, LoadedScenario
from registry_sim.allocation import (
    benchmark_allocation_t,
    final_allocation_t,
    intensity_allocation_t,
)
from registry_sim.model import Account, AccountId, AccountKind, Project, UnitKind
from registry_sim.ops import (
    AllocateFixed,
    IssueAllowances,
    IssueOffsets,
    Op,
    OpenAccount,
    PreAllocate,
    RecordEmissions,
    RegisterProject,
)
from registry_sim.rules import BP, AllocationRules, RuleSet
from settlement.commands import Deposit, MarketCommand, RegistryCommand


def firm_offset_cap_bp(rules: RuleSet) -> int | None:
    """The offset cap a compliance firm is told (``ComplianceFirm.offset_cap_bp``): the rule
    set's share when it is one share of the obligation, else None (the registry states a
    previous-year cap all year, or a cap that changes by year: California's 4 %, then 6 %)."""
    compliance = rules.compliance
    if compliance.offset_cap_basis != "obligation" or compliance.offset_caps:
        return None
    return compliance.offset_cap_bp


def account_of(firm: FirmPlan) -> AccountId:
    return AccountId(firm.account_id)


def scenario_instruments(scenario: LoadedScenario) -> tuple[tuple[str, int], ...]:
    """(symbol, first reference price) of every instrument a scenario lists: each simulated
    year's CEA vintage, then each CCER project's vintage."""
    market = scenario.spec.market
    instruments = [(f"CEA{y}", market.reference_price_fen) for y in scenario.years]
    ccer_price = market.ccer_reference_price_fen or market.reference_price_fen
    for p in scenario.spec.ccer_projects:
        instruments.append((f"{p.kind}:{p.id}:{p.vintage}", p.reference_price_fen or ccer_price))
    return tuple(instruments)


AUCTIONEER = "AUCTIONEER"  # the account a scenario's auctions sell from (paid allocation)


def opening_commands(scenario: LoadedScenario, ts_ns: int) -> list[MarketCommand]:
    """Before the first year: open every account (firms as covered entities, agents and seats
    as participants) with its starting cash, register the CCER projects, record last year's
    emissions where allocation or the offset cap needs them, issue the starting allowances."""
    out: list[MarketCommand] = []

    def op(registry_op: Op) -> None:
        out.append(RegistryCommand(ts_ns, registry_op))

    for firm in scenario.firms:
        account = Account(
            AccountId(firm.account_id),
            AccountKind.COVERED_ENTITY,
            firm.account_id,
            firm.sector,
            firm.province,
            firm.gas_fired,
        )
        op(OpenAccount(f"open:{firm.account_id}", account))
        if firm.cash_fen:
            out.append(Deposit(ts_ns, account.account_id, firm.cash_fen, "start"))
    others = [(a.account_id, a.cash_fen) for a in scenario.agents if a.firm is None]
    if scenario.spec.auctions:
        others.append((AUCTIONEER, 0))
    seats = scenario.spec.seats
    others += [(s, seats.cash_fen if seats else 0) for s in scenario.seats]
    for account_id, cash in others:
        account = Account(AccountId(account_id), AccountKind.PARTICIPANT, account_id)
        op(OpenAccount(f"open:{account_id}", account))
        if cash:
            out.append(Deposit(ts_ns, account.account_id, cash, "start"))
    for p in scenario.spec.ccer_projects:
        op(RegisterProject(f"project:{p.id}", project_of(p)))
    first = scenario.years[0]
    needs_history = (
        scenario.spec.allocation.method != "fixed"
        or scenario.rules.compliance.offset_cap_basis == "previous_year_emissions"
    )
    if needs_history:  # last year's verified emissions: the pre-allocation's basis
        for firm in scenario.firms:
            history = firm.baseline_t * BP // (BP + firm.growth_bp)
            op(RecordEmissions(f"history:{firm.account_id}", account_of(firm), first - 1, history))
    starting = [(a.account_id, a.allowances_t) for a in scenario.agents if a.firm is None]
    starting += [(s, seats.allowances_t if seats else 0) for s in scenario.seats]
    for account_id, qty in starting:
        if qty:
            op(IssueAllowances(f"start:{account_id}", AccountId(account_id), first, qty))
    return out


def offset_issuance_ops(
    scenario: LoadedScenario, year: int, day_in_year: int | None = None
) -> list[IssueOffsets]:
    """The CCER issuance of compliance year ``year`` scheduled for its ``day_in_year``-th
    trading day (1 = the first), or for any day of the year when it is None."""
    return [
        IssueOffsets(f"ccer:{p.id}:{year}:{k}", AccountId(p.owner), p.id, p.vintage, issue.qty_t)
        for p in scenario.spec.ccer_projects
        for k, issue in enumerate(p.issuance)
        if day_in_year in (None, issue.day) and issue.year in (None, year)
    ]


def allocation_op(scenario: LoadedScenario, firm: FirmPlan, year: int, index: int) -> Op | None:
    """A firm's allocation of vintage ``year`` (the ``index``-th simulated year) at the year's
    start, by the scenario's method: fixed allocates it (None when it is 0; less what the firm
    owes from an earlier shortfall, as every allocation), benchmark and
    intensity pre-allocate (the true-up follows verification: ``verification_ops``)."""
    allocation = scenario.spec.allocation
    if allocation.method != "fixed":
        return PreAllocate(f"pre:{firm.account_id}:{year}", account_of(firm), year)
    amount = _cap_t(scenario, firm, index)
    amount -= amount * allocation.auctioned_bp_in(index) // BP
    if not amount:
        return None
    return AllocateFixed(f"alloc:{firm.account_id}:{year}", account_of(firm), year, amount)


def _cap_t(scenario: LoadedScenario, firm: FirmPlan, index: int) -> int:
    """A firm's share of the cap under fixed allocation: its allocation or baseline × share."""
    if firm.allocation_t is not None:
        return firm.allocation_t
    return firm.baseline_in(index) * (scenario.spec.allocation.share_bp or 0) // BP


def auctioned_t(scenario: LoadedScenario, index: int) -> int:
    """The allowances of the ``index``-th simulated year withheld from free allocation to be
    auctioned (``allocation.auctioned_bp``)."""
    allocation = scenario.spec.allocation
    share = allocation.auctioned_bp_in(index)
    if allocation.method != "fixed" or not share:
        return 0
    return sum(_cap_t(scenario, f, index) * share // BP for f in scenario.firms)


def project_of(p: Any) -> Project:
    return Project(
        p.id, UnitKind(p.kind), p.methodology, p.province, p.start, p.registered, p.inside_ets_scope
    )


def expected_allocation_t(
    scenario: LoadedScenario, firm: FirmPlan, baseline_t: int, rules: AllocationRules
) -> int:
    """The year's final allocation if emissions come out at ``baseline_t``, under a
    method with a true-up (benchmark, intensity: a fixed allocation is issued whole at the
    year's start, ``allocation_op``)."""
    allocation = scenario.spec.allocation
    if allocation.method == "intensity":
        return intensity_allocation_t(baseline_t, allocation.alpha_bp)
    benchmark = Fraction(allocation.benchmarks[firm.sector])
    by_benchmark = benchmark_allocation_t(
        firm.output, benchmark, tuple(Fraction(f) for f in allocation.factors)
    )
    return final_allocation_t(by_benchmark, baseline_t, gas_fired=firm.gas_fired, rules=rules)
