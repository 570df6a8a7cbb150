"""The end of a compliance year (履约周期), one implementation for a simulation and a class.

What happens once a year's trading is done, in this order:

1. **verification** (核查): each covered firm's verified emissions are recorded, the scenario's
   baseline for the year (shocks included) less the abatement decided or declared
   (``verified_emissions_t``), and its allocation trued up where the scenario's method has a
   true-up (``verification_ops``);
2. **surrender** (清缴), the callers' own: the agents decide what to surrender, and both turn
   their ``SurrenderUnits`` into commands with ``exchange.agents.local.to_commands`` (the
   simulator in two rounds, before and after verification; a class when the instructor opens
   surrender, and the seats whenever they choose);
3. **assessment** (履约核定): every covered entity with verified emissions and no record yet is
   assessed at the surrender deadline at the penalty reference price
   (``settlement.reference.penalty_price``): pending units retire, the shortfall, the penalty
   and next year's deduction are fixed (``assessment``).

Steps 1 and 3 are lists of registry operations built from the market's state, without I/O: the
simulator applies them to its in-memory market at once; a class submits them through its
market runtime when the instructor advances the phase (``exchange.classroom``). So the same
holdings, emissions and trades give the same shortfall and penalty in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.sim.scenario import FirmPlan, LoadedScenario
from registry_sim.model import AccountId, AccountKind
from registry_sim.ops import AllocateByIntensity, Assess, Op, RecordEmissions, TrueUpAllocation
from registry_sim.outcomes import ComplianceRecord
from registry_sim.registry import Registry
from registry_sim.rules import AllocationRules
from settlement.market import Market
from settlement.reference import PenaltyPrice, penalty_price


def abatement_t(wanted_t: int, most_t: int) -> int:
    """The abatement that counts: what was decided or declared, within what the firm can cut."""
    return max(0, min(wanted_t, most_t))


def verified_emissions_t(baseline_t: int, abated_t: int) -> int:
    """A firm's verified emissions: its baseline for the year less its abatement."""
    return baseline_t - abated_t


def compliance_cost_fen(net_spend_fen: int, abatement_cost_fen: int, penalty_fen: int) -> int:
    """What a compliance year cost a covered entity (履约成本): its net spend on units (what it
    paid for the allowances and offsets it bought, less what its sales brought in, plus the
    fees of both), the cost of the abatement it made (the area under its abatement curve) and
    the penalty on its shortfall. Allocated units cost nothing; units bought and still held
    count at what they cost, unvalued (a trading P&L marks them at the last price). Selling a
    surplus makes it smaller, below zero if the sales brought in more than the rest cost."""
    return net_spend_fen + abatement_cost_fen + penalty_fen


def tops_up_gas_fired(scenario: LoadedScenario, rules: AllocationRules) -> bool:
    """Whether verification's true-up (``verification_ops``) tops a gas-fired firm up to its
    verified emissions: under a benchmark allocation, with rules that have the gas top-up
    (``allocation.gas_fired_top_up``). A fixed allocation has no true-up; an intensity one is
    emissions × (1 + α) for every firm."""
    return scenario.spec.allocation.method == "benchmark" and rules.gas_fired_top_up


def verification_ops(
    scenario: LoadedScenario, firm: FirmPlan, year: int, verified_t: int
) -> list[Op]:
    """A firm's verified emissions for ``year``, then its allocation's true-up where the
    scenario's method has one (benchmark, intensity). Fixed op ids: a repeat does nothing."""
    allocation = scenario.spec.allocation
    account = AccountId(firm.account_id)
    ops: list[Op] = [
        RecordEmissions(f"emissions:{firm.account_id}:{year}", account, year, verified_t)
    ]
    if allocation.method == "benchmark":
        ops.append(
            TrueUpAllocation(
                f"trueup:{firm.account_id}:{year}",
                account,
                year,
                firm.output,
                allocation.benchmarks[firm.sector],
                tuple(allocation.factors),
            )
        )
    elif allocation.method == "intensity":
        ops.append(
            AllocateByIntensity(
                f"trueup:{firm.account_id}:{year}", account, year, allocation.alpha_bp
            )
        )
    return ops


@dataclass(frozen=True, slots=True)
class Assessment:
    """The year's assessments to apply (dated the deadline), and the one reference price they
    are priced at."""

    price: PenaltyPrice
    ops: tuple[Assess, ...]


def to_assess(registry: Registry, year: int) -> list[AccountId]:
    """The covered entities whose ``year`` is verified and not yet assessed."""
    return [
        a.account_id
        for a in registry.accounts()
        if a.kind is AccountKind.COVERED_ENTITY
        and registry.verified(a.account_id, year) is not None
        and registry.record(a.account_id, year) is None
    ]


def assessment(market: Market, year: int, op_prefix: str = "") -> Assessment:
    """Assess every entity ``to_assess`` names, dated the rule set's deadline, at the penalty
    reference price of the market as it stands (a price multiple without any price is refused
    by the registry as INVALID_PRICE). Op ids are ``{op_prefix}assess:{account}:{year}``."""
    price = penalty_price(market, year)
    on = market.rules.compliance.deadline(year)
    ops = tuple(
        Assess(f"{op_prefix}assess:{account}:{year}", account, year, price.price_fen or 0, on)
        for account in to_assess(market.registry, year)
    )
    return Assessment(price, ops)


@dataclass(frozen=True, slots=True)
class YearOutcome:
    """The assessed year in totals."""

    assessed: int
    complied: int
    shortfall_t: int
    penalty_fen: int

    @classmethod
    def of(cls, records: list[ComplianceRecord]) -> YearOutcome:
        return cls(
            len(records),
            sum(1 for r in records if r.shortfall_t == 0),
            sum(r.shortfall_t for r in records),
            sum(r.penalty_fen for r in records),
        )


def records(registry: Registry, year: int) -> list[ComplianceRecord]:
    """Every entity's compliance record of ``year``, by account."""
    return [r for a in registry.accounts() if (r := registry.record(a.account_id, year))]
