"""What the registry answers: ``Done`` with the postings an operation made, or ``Refused`` with
a stable code and the numbers behind it; and ``ComplianceRecord``, the outcome of an entity's
compliance year (履约结果) that the assessment sets.

``registry_sim.registry`` exports all of them; they live here so that the operation handlers
(``registry_sim.handlers``) and the registry can both use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from registry_sim.codes import RegistryCode
from registry_sim.ledger import Posting
from registry_sim.model import AccountId


@dataclass(frozen=True, slots=True)
class Done:
    op_id: str
    postings: tuple[Posting, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refused:
    op_id: str
    code: RegistryCode
    details: Mapping[str, Any]


Result = Done | Refused


@dataclass(frozen=True, slots=True)
class ComplianceRecord:
    """The outcome of one entity's compliance year (履约结果)."""

    account_id: AccountId
    year: int
    obligation_t: int
    allowances_t: int
    offsets_t: int
    shortfall_t: int
    penalty_fen: int
    deduction_t: int
    reference_price_fen: int
