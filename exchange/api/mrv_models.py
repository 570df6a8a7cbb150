"""Bodies and replies of the MRV operations (``exchange.api.routes.mrv``). Decimals travel as
strings ("0.5460"), so nothing is rounded on the way; dates as ISO text."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from exchange.api.models import AccountIdText, Body, Reply

DecimalText = Annotated[str, Field(pattern=r"^\d{1,15}(\.\d{1,10})?$")]
DateText = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Note = Annotated[str, Field(max_length=2000)]


class MrvUnitPlan(Body):
    capacity_mw: DecimalText
    kind: Literal["condensing", "chp"]
    coal: Literal["lignite", "bituminous", "anthracite", "natural_gas"]
    benchmark: DecimalText  # t/MWh: the allocation's benchmark for the unit's category
    # A guideline version (mrv/guidelines.toml) instead of the data year's; None: by the year.
    guideline_id: Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9]{2}$")] | None = None


class MrvMeter(Body):
    state: Literal["ok", "out_of_spec", "uncalibrated"] = "ok"
    required_accuracy: DecimalText = "0"
    actual_error: DecimalText = "0"


class MrvTest(Body):
    sampled: DateText
    reported: DateText
    fuel_t: DecimalText
    ncv: DecimalText
    carbon: DecimalText | None  # None: not measured
    accredited_lab: bool = True
    complete: bool = True


class MrvFuel(Body):
    fuel: Literal["lignite", "bituminous", "anthracite", "natural_gas"]
    consumption: DecimalText
    tests: list[MrvTest] = Field(default_factory=list, max_length=62)
    ncv: DecimalText | None = None
    meter: MrvMeter = MrvMeter()


class MrvMonthData(Body):
    fuels: list[MrvFuel] = Field(min_length=1, max_length=8)
    generation_mwh: DecimalText
    heat_gj: DecimalText = "0"
    run_hours: DecimalText = "0"
    load_factor: DecimalText | None = None
    purchased_mwh: DecimalText = "0"
    generation_meter: MrvMeter = MrvMeter()
    grid_mwh: DecimalText | None = None


class MrvReview(Body):
    decision: Literal["pass", "return"]
    note: Note | None = None


class VerifierAssignment(Body):
    account_ids: list[AccountIdText] = Field(min_length=1, max_length=100)


class MrvFinding(Body):
    kind: Literal["test_default", "meter_uncalibrated"]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    fuel: Annotated[int, Field(ge=0, le=7)] | None = None  # test_default: the fuel's index
    test: Annotated[int, Field(ge=0, le=61)] | None = None  # and the test's
    meter: Annotated[str, Field(pattern=r"^(generation|[0-7])$")] | None = None  # "generation"
    required_accuracy: DecimalText | None = None  # meter_uncalibrated: the stated accuracy


class ReportNote(Body):
    note: Note | None = None


# --------------------------------------------------------------------------- replies


class MrvUnit(Reply):
    account_id: str
    capacity_mw: str
    kind: str
    coal: str
    benchmark: str
    guideline_id: str | None


class MrvMonth(Reply):
    account_id: str
    year: int
    month: int
    state: Literal["draft", "deposited", "passed", "returned", "locked"]
    deposited_on: str | None
    review_note: str | None
    data: dict[str, Any]  # the month as saved (MrvMonthData)
    flags: list[dict[str, Any]]  # rule_id, severity, official, what, numbers
    findings: list[dict[str, Any]]
    calculated: dict[str, Any]  # emissions as deposited, with each value's source
    verified: dict[str, Any]  # with the verifier's findings applied


class MrvReport(Reply):
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
    signed_on: str | None = None  # the market's date of the signing
    # the entity's objection: reason, filed_on, decide_by, status (open, upheld, dismissed),
    # and once decided decided_on, late, note
    objection: dict[str, Any] | None = None


class MrvObjection(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2_000)]


class MrvObjectionDecision(Body):
    decision: Literal["upheld", "dismissed"]
    note: Annotated[str | None, Field(max_length=2_000)] = None


class MrvYear(Reply):
    account_id: str
    year: int
    unit: MrvUnit
    months: list[MrvMonth]
    summary: dict[str, Any]
    report: MrvReport | None


class VerifierAccounts(Reply):
    key_id: str
    account_ids: list[str]


class MrvFindingAdded(Reply):
    finding: dict[str, Any]
    month: MrvMonth


class MrvPublished(Reply):
    report: MrvReport
    verified_t: int  # the registry's verified emissions for the year
    allocated_t: int  # the year's allocation after the true-up
    issued_t: int  # what this true-up issued (0 on a repeat)
    returned_t: int  # what it took back
    deduction_added_t: int


# --------------------------------------------------------------------------- enforcement

Fen = Annotated[int, Field(ge=0, le=10**16)]
Tonnes = Annotated[int, Field(ge=0, le=10**12)]


class MrvPenaltyEntry(Body):
    """A penalty of the 2024 Regulation (mrv/enforcement.toml): the article, the fine in fen
    against the illegal gains, and for Art. 22 optionally next year's allocation cut."""

    article: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}$")]  # e.g. "art21", "art22"
    fine_fen: Fen
    gains_fen: Fen = 0
    cut_bp: Annotated[int, Field(ge=0, le=10_000)] | None = None  # Art. 22: 5000-10000
    # the cut's base; None: the rule data's (next year's allocation)
    base: Literal["next_year_allocation", "misreported_t"] | None = None
    next_year_allocation_t: Tonnes | None = None  # None: the registry's for next year
    misreported_t: Tonnes | None = None  # base misreported_t: the tonnes misreported
    note: Note = ""


class MrvPenalty(Reply):
    account_id: str
    seq: int  # 1, 2, ... in the account's credit record
    on: str  # the market's local date
    article: str
    fine_fen: int
    gains_fen: int
    fine_min_fen: int  # the article's range for the gains
    fine_max_fen: int
    allocation_cut_t: int  # 0: no cut
    cut_bp: int | None
    base: Literal["next_year_allocation", "misreported_t"] | None
    base_t: int | None  # the base's tonnes the cut was taken from
    cut_in_registry: bool  # False: the cut is recorded, not taken in the registry
    note: str
    recorded_at: str


class MrvCreditRecord(Reply):
    account_id: str
    entries: list[MrvPenalty]  # in order
    fines_fen: int
    allocation_cut_t: int


class MrvPenalties(Reply):
    penalties: list[MrvPenalty]  # the market's, by date
