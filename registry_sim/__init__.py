"""The registry (注册登记): accounts, unit types, holdings, allocation, surrender with offset
caps, cancellation, compliance and penalties, under rule sets shipped as data.

Pure and synchronous: dates come in with operations; nothing reads a clock.
"""

from registry_sim.codes import DESCRIPTIONS, RefusalError, RegistryCode
from registry_sim.ledger import Ledger, Posting
from registry_sim.model import (
    FEES,
    ISSUANCE,
    NATIONAL,
    RETIRED,
    Account,
    AccountId,
    AccountKind,
    HoldingState,
    Project,
    UnitCode,
    UnitKind,
    UnitType,
    cea,
    offset_unit,
    provincial_authority,
)
from registry_sim.outcomes import ComplianceRecord
from registry_sim.projection import ComplianceProjection, penalty_fen, window_price_fen
from registry_sim.registry import (
    ComplianceStatus,
    Done,
    Refused,
    Registry,
    Result,
)
from registry_sim.rules import RuleSet, RuleSetError, load_rules, parse_rules

__all__ = [
    "DESCRIPTIONS",
    "FEES",
    "ISSUANCE",
    "NATIONAL",
    "RETIRED",
    "Account",
    "AccountId",
    "AccountKind",
    "ComplianceProjection",
    "ComplianceRecord",
    "ComplianceStatus",
    "Done",
    "HoldingState",
    "Ledger",
    "Posting",
    "Project",
    "RefusalError",
    "Refused",
    "Registry",
    "RegistryCode",
    "Result",
    "RuleSet",
    "RuleSetError",
    "UnitCode",
    "UnitKind",
    "UnitType",
    "cea",
    "load_rules",
    "offset_unit",
    "parse_rules",
    "penalty_fen",
    "provincial_authority",
    "window_price_fen",
]
