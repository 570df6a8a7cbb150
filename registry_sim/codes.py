"""Stable refusal codes of registry operations; values are public API and never change meaning."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class RegistryCode(StrEnum):
    # -- operation identity
    OP_ID_CONFLICT = "OP_ID_CONFLICT"
    # -- accounts, projects, units
    ACCOUNT_EXISTS = "ACCOUNT_EXISTS"
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    SYSTEM_ACCOUNT = "SYSTEM_ACCOUNT"
    NOT_A_COVERED_ENTITY = "NOT_A_COVERED_ENTITY"
    PROJECT_EXISTS = "PROJECT_EXISTS"
    UNKNOWN_PROJECT = "UNKNOWN_PROJECT"
    UNKNOWN_UNIT_TYPE = "UNKNOWN_UNIT_TYPE"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INSUFFICIENT_UNITS = "INSUFFICIENT_UNITS"
    FREEZE_NOT_FOUND = "FREEZE_NOT_FOUND"
    # -- emissions and allocation
    EMISSIONS_ALREADY_RECORDED = "EMISSIONS_ALREADY_RECORDED"
    NO_VERIFIED_EMISSIONS = "NO_VERIFIED_EMISSIONS"
    ALREADY_PRE_ALLOCATED = "ALREADY_PRE_ALLOCATED"
    ALPHA_OUT_OF_RANGE = "ALPHA_OUT_OF_RANGE"
    INVALID_ALLOCATION_INPUT = "INVALID_ALLOCATION_INPUT"
    # -- surrender
    ALREADY_ASSESSED = "ALREADY_ASSESSED"
    DEADLINE_PASSED = "DEADLINE_PASSED"
    DEADLINE_NOT_REACHED = "DEADLINE_NOT_REACHED"
    EMPTY_SURRENDER = "EMPTY_SURRENDER"
    VINTAGE_NOT_ELIGIBLE = "VINTAGE_NOT_ELIGIBLE"
    OLD_VINTAGE_CAP_EXCEEDED = "OLD_VINTAGE_CAP_EXCEEDED"
    OFFSET_NOT_ELIGIBLE = "OFFSET_NOT_ELIGIBLE"
    OFFSET_CAP_EXCEEDED = "OFFSET_CAP_EXCEEDED"
    LOCAL_OFFSET_SHARE_TOO_LOW = "LOCAL_OFFSET_SHARE_TOO_LOW"
    SURRENDER_EXCEEDS_OBLIGATION = "SURRENDER_EXCEEDS_OBLIGATION"
    NOTHING_PENDING = "NOTHING_PENDING"
    # -- assessment
    INVALID_PRICE = "INVALID_PRICE"


DESCRIPTIONS: dict[RegistryCode, str] = {
    RegistryCode.OP_ID_CONFLICT: "This operation id was already used for a different operation.",
    RegistryCode.ACCOUNT_EXISTS: "An account with this id is already open.",
    RegistryCode.UNKNOWN_ACCOUNT: "No account with this id is open.",
    RegistryCode.SYSTEM_ACCOUNT: "Issuance and retired units move only by issuance and retirement.",
    RegistryCode.NOT_A_COVERED_ENTITY: "Only covered entities (重点排放单位) have this obligation.",
    RegistryCode.PROJECT_EXISTS: "An offset project with this id is already registered.",
    RegistryCode.UNKNOWN_PROJECT: "No offset project with this id is registered.",
    RegistryCode.UNKNOWN_UNIT_TYPE: "No unit of this type was ever issued.",
    RegistryCode.INVALID_QUANTITY: "Quantities are whole tonnes of at least 1.",
    RegistryCode.INSUFFICIENT_UNITS: "The account holds fewer units in that state than asked.",
    RegistryCode.FREEZE_NOT_FOUND: "No judicial freeze of that much under that reference.",
    RegistryCode.EMISSIONS_ALREADY_RECORDED: "Verified emissions for this year are recorded.",
    RegistryCode.NO_VERIFIED_EMISSIONS: "No verified emissions are recorded for that year.",
    RegistryCode.ALREADY_PRE_ALLOCATED: "The year already has an allocation; true it up instead.",
    RegistryCode.ALPHA_OUT_OF_RANGE: "The adjustment α lies outside the rule set's range.",
    RegistryCode.INVALID_ALLOCATION_INPUT: "Output, benchmark and factors must be positive.",
    RegistryCode.ALREADY_ASSESSED: "Compliance for this year has been assessed; it is closed.",
    RegistryCode.DEADLINE_PASSED: "The surrender deadline for that year has passed.",
    RegistryCode.DEADLINE_NOT_REACHED: "Compliance is assessed at the deadline, not before.",
    RegistryCode.EMPTY_SURRENDER: "A surrender names at least one unit type and quantity.",
    RegistryCode.VINTAGE_NOT_ELIGIBLE: "Allowances of a later vintage cannot cover this year.",
    RegistryCode.OLD_VINTAGE_CAP_EXCEEDED: "Old vintages beyond the conversion cap.",
    RegistryCode.OFFSET_NOT_ELIGIBLE: "These offsets may not be used for compliance here.",
    RegistryCode.OFFSET_CAP_EXCEEDED: "Offsets beyond the rule set's cap.",
    RegistryCode.LOCAL_OFFSET_SHARE_TOO_LOW: "Too few of the offsets come from local projects.",
    RegistryCode.SURRENDER_EXCEEDS_OBLIGATION: "More units than the obligation still needs.",
    RegistryCode.NOTHING_PENDING: "No pending surrender to withdraw for that year.",
    RegistryCode.INVALID_PRICE: "A price must be a positive whole number of fen.",
}


class RefusalError(Exception):
    """A refusal raised while validating an operation, before any change; the registry answers
    it as ``Refused``. It never escapes ``Registry.apply``."""

    def __init__(self, code: RegistryCode, **details: Any) -> None:
        super().__init__(code.value)
        self.code = code
        self.details = details
