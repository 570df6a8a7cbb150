"""The MRV operations (``exchange.api.routes.mrv``), as ``Call`` builders for both clients:
operators put plans, assign verifiers, review months and publish reports; an account's own key
saves and deposits months; an assigned verifier adds findings and signs."""

from __future__ import annotations

from typing import Any, Literal

from exchange.client.mrv_types import (
    MrvCreditRecord,
    MrvFindingAdded,
    MrvMonth,
    MrvPenalties,
    MrvPenalty,
    MrvPublished,
    MrvReport,
    MrvUnit,
    MrvYear,
    VerifierAccounts,
)
from exchange.client.operation import OperationsBase, fields, operation, segment
from exchange.client.transport import Call


class MrvOperations(OperationsBase):
    def _mrv(self, account_id: str, path: str = "") -> str:
        return self._market(f"/mrv/accounts/{segment(account_id)}{path}")

    def _mrv_month(self, account_id: str, year: int, month: int, path: str = "") -> str:
        return self._mrv(account_id, f"/years/{year}/months/{month}{path}")

    @operation("putMrvUnit")
    def put_mrv_unit(
        self,
        account_id: str,
        capacity_mw: str,
        kind: Literal["condensing", "chp"],
        coal: str,
        benchmark: str,
        *,
        guideline_id: str | None = None,
    ) -> Call[MrvUnit]:
        """An account's monitoring plan (operators); decimals as strings."""
        body = fields(
            capacity_mw=capacity_mw,
            kind=kind,
            coal=coal,
            benchmark=benchmark,
            guideline_id=guideline_id,
        )
        return Call("PUT", self._mrv(account_id, "/unit"), body=body)

    @operation("putMrvMonth")
    def put_mrv_month(
        self, account_id: str, year: int, month: int, data: dict[str, Any]
    ) -> Call[MrvMonth]:
        """Save a month's data as a draft (``data``: fuels with tests, generation, ...)."""
        return Call("PUT", self._mrv_month(account_id, year, month), body=data)

    @operation("depositMrvMonth")
    def deposit_mrv_month(self, account_id: str, year: int, month: int) -> Call[MrvMonth]:
        """Deposit a saved month on the market's date: its flags and emissions."""
        return Call("POST", self._mrv_month(account_id, year, month, "/deposit"))

    @operation("reviewMrvMonth")
    def review_mrv_month(
        self,
        account_id: str,
        year: int,
        month: int,
        decision: Literal["pass", "return"],
        *,
        note: str | None = None,
    ) -> Call[MrvMonth]:
        """The authority's review of a deposited month (operators)."""
        body = fields(decision=decision, note=note)
        return Call("POST", self._mrv_month(account_id, year, month, "/review"), body=body)

    @operation("listMrvMonths")
    def list_mrv_months(self, account_id: str, year: int) -> Call[MrvYear]:
        """The account's months of ``year`` and the year's summary."""
        return Call("GET", self._mrv(account_id, f"/years/{year}"))

    @operation("assignVerifier")
    def assign_verifier(self, key_id: str, account_ids: list[str]) -> Call[VerifierAccounts]:
        """Assign a verifier key to accounts (operators)."""
        path = self._market(f"/mrv/verifiers/{segment(key_id)}/accounts")
        return Call("POST", path, body={"account_ids": account_ids})

    @operation("unassignVerifier")
    def unassign_verifier(self, key_id: str, account_id: str) -> Call[VerifierAccounts]:
        path = f"/mrv/verifiers/{segment(key_id)}/accounts/{segment(account_id)}"
        return Call("DELETE", self._market(path))

    @operation("addMrvFinding")
    def add_mrv_finding(
        self,
        account_id: str,
        year: int,
        month: int,
        kind: Literal["test_default", "meter_uncalibrated"],
        reason: str,
        *,
        fuel: int | None = None,
        test: int | None = None,
        meter: str | None = None,
        required_accuracy: str | None = None,
    ) -> Call[MrvFindingAdded]:
        """A verifier's finding forcing a conservative treatment on a month."""
        body = fields(
            kind=kind,
            reason=reason,
            fuel=fuel,
            test=test,
            meter=meter,
            required_accuracy=required_accuracy,
        )
        return Call("POST", self._mrv_month(account_id, year, month, "/findings"), body=body)

    @operation("signVerification")
    def sign_verification(self, account_id: str, year: int) -> Call[MrvReport]:
        """Sign the year's verification report (the assigned verifier)."""
        return Call("POST", self._mrv(account_id, f"/years/{year}/report"))

    @operation("objectToVerification")
    def object_to_verification(self, account_id: str, year: int, reason: str) -> Call[MrvReport]:
        """Object to the signed report (the entity), within 7 working days of the signing."""
        path = self._mrv(account_id, f"/years/{year}/report/objection")
        return Call("POST", path, body={"reason": reason})

    @operation("decideObjection")
    def decide_objection(
        self,
        account_id: str,
        year: int,
        decision: Literal["upheld", "dismissed"],
        *,
        note: str | None = None,
    ) -> Call[MrvReport]:
        """Decide an open objection (operators): upheld sends the report back to its verifier."""
        path = self._mrv(account_id, f"/years/{year}/report/objection/decision")
        return Call("POST", path, body=fields(decision=decision, note=note))

    @operation("returnVerification")
    def return_verification(
        self, account_id: str, year: int, *, note: str | None = None
    ) -> Call[MrvReport]:
        """Return a signed report to its verifier (operators)."""
        path = self._mrv(account_id, f"/years/{year}/report/return")
        return Call("POST", path, body=fields(note=note))

    @operation("publishVerification")
    def publish_verification(self, account_id: str, year: int) -> Call[MrvPublished]:
        """Publish a signed report into the registry, with the allocation true-up (operators)."""
        return Call("POST", self._mrv(account_id, f"/years/{year}/report/publish"))

    @operation("recordMrvPenalty")
    def record_mrv_penalty(
        self,
        account_id: str,
        article: str,
        fine_fen: int,
        *,
        gains_fen: int = 0,
        cut_bp: int | None = None,
        base: Literal["next_year_allocation", "misreported_t"] | None = None,
        next_year_allocation_t: int | None = None,
        misreported_t: int | None = None,
        note: str = "",
    ) -> Call[MrvPenalty]:
        """Record a penalty of the 2024 Regulation in the account's credit record (operators):
        the fine within its article's range for the gains; for Art. 22 optionally next year's
        allocation cut, ``cut_bp`` of ``base`` (recorded, not taken in the registry)."""
        body = fields(
            article=article,
            fine_fen=fine_fen,
            gains_fen=gains_fen,
            cut_bp=cut_bp,
            base=base,
            next_year_allocation_t=next_year_allocation_t,
            misreported_t=misreported_t,
            note=note,
        )
        return Call("POST", self._mrv(account_id, "/penalties"), body=body)

    @operation("listMrvPenalties")
    def list_mrv_penalties(self, account_id: str) -> Call[MrvCreditRecord]:
        """The account's credit record in order, with its totals (its own key, operators)."""
        return Call("GET", self._mrv(account_id, "/penalties"))

    @operation("listPublishedMrvPenalties")
    def list_published_mrv_penalties(self) -> Call[MrvPenalties]:
        """Every penalty of the market, by date (any key of the market)."""
        return Call("GET", self._market("/mrv/penalties"))
