"""What the MRV operations answer (``putMrvUnit``, ``putMrvMonth``, ``depositMrvMonth``,
``reviewMrvMonth``, ``listMrvMonths``, ``assignVerifier``, ``unassignVerifier``,
``addMrvFinding``, ``signVerification``, ``returnVerification``, ``publishVerification``), as
TypedDicts like ``types``. Decimals are strings."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class MrvUnit(TypedDict):
    account_id: str
    capacity_mw: str
    kind: str
    coal: str
    benchmark: str
    guideline_id: str | None


class MrvMonth(TypedDict):
    account_id: str
    year: int
    month: int
    state: Literal["draft", "deposited", "passed", "returned", "locked"]
    deposited_on: str | None
    review_note: str | None
    data: dict[str, Any]
    flags: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    calculated: dict[str, Any]
    verified: dict[str, Any]


class MrvReport(TypedDict):
    account_id: str
    year: int
    state: Literal["signed", "returned", "published"]
    verifier: str
    verified_t: int
    emissions_t: str
    generation_mwh: str
    output_mwh: int
    guideline_id: str
    calculated_t: str
    electricity_t: str
    findings: list[dict[str, Any]]
    signed_at: str
    published_at: str | None
    note: str | None
    publication: dict[str, Any] | None
    signed_on: NotRequired[str | None]  # the market's date of the signing
    objection: NotRequired[dict[str, Any] | None]  # reason, filed_on, decide_by, status, ...


class MrvYear(TypedDict):
    account_id: str
    year: int
    unit: MrvUnit
    months: list[MrvMonth]
    summary: dict[str, Any]
    report: MrvReport | None


class VerifierAccounts(TypedDict):
    key_id: str
    account_ids: list[str]


class MrvFindingAdded(TypedDict):
    finding: dict[str, Any]
    month: MrvMonth


class MrvPublished(TypedDict):
    report: MrvReport
    verified_t: int
    allocated_t: int
    issued_t: int
    returned_t: int
    deduction_added_t: int


class MrvPenalty(TypedDict):
    account_id: str
    seq: int
    on: str  # the market's local date
    article: str
    fine_fen: int
    gains_fen: int
    fine_min_fen: int
    fine_max_fen: int
    allocation_cut_t: int
    cut_bp: int | None
    base: Literal["next_year_allocation", "misreported_t"] | None
    base_t: int | None
    cut_in_registry: bool  # False: recorded, not taken in the registry
    note: str
    recorded_at: str


class MrvCreditRecord(TypedDict):
    account_id: str
    entries: list[MrvPenalty]
    fines_fen: int
    allocation_cut_t: int


class MrvPenalties(TypedDict):
    penalties: list[MrvPenalty]
