"""The registry operations (``exchange.api.routes.registry``), as ``Call`` builders for both
clients. Every write takes an optional ``request_id``: a repeat with the same one answers the
first result instead of acting twice."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from exchange.client.operation import OperationsBase, fields, operation, segment
from exchange.client.registry_types import (
    Allocated,
    Allocation,
    Assessment,
    Cancellations,
    Certificate,
    ClientOrder,
    FreezeDone,
    Holdings,
    LargeHolderReports,
    NetSalesRecorded,
    OffsetsIssued,
    ProjectRegistered,
    RetiredRegister,
    Statements,
    SurrenderPlan,
    Transferred,
    UnitsCancelled,
)
from exchange.client.transport import Call


class RegistryOperations(OperationsBase):
    @operation("getHoldings")
    def get_holdings(self, account_id: str) -> Call[Holdings]:
        """Every unit the account holds, by state, by kind and in total."""
        return Call("GET", self._account(account_id, "/holdings"))

    @operation("getSurrenderPlan")
    def get_surrender_plan(
        self, account_id: str, year: int, reference_price_fen: int | None = None
    ) -> Call[SurrenderPlan]:
        """What to surrender for ``year`` within the offset cap, and the penalty left."""
        params = fields(reference_price_fen=reference_price_fen)
        return Call("GET", self._account(account_id, f"/compliance/{year}/plan"), params=params)

    @operation("cancelUnits")
    def cancel_units(
        self,
        account_id: str,
        unit: str,
        qty_t: int,
        beneficiary: str,
        *,
        purpose: str | None = None,
        request_id: str | None = None,
    ) -> Call[UnitsCancelled]:
        """Cancel (retire voluntarily, 注销) units for a beneficiary."""
        body = fields(
            unit=unit,
            qty_t=qty_t,
            beneficiary=beneficiary,
            purpose=purpose,
            request_id=request_id,
        )
        return Call("POST", self._account(account_id, "/cancellations"), body=body)

    @operation("listLargeHolderReports")
    def list_large_holder_reports(self) -> Call[LargeHolderReports]:
        """The market's large-holder reports, most recent first (operators)."""
        return Call("GET", self._market("/large-holder-reports"))

    @operation("listStatements")
    def list_statements(
        self, account_id: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> Call[Statements]:
        """The account's daily statements from ``start`` to ``end`` (both included)."""
        params = fields(
            **{
                "from": None if start is None else start.isoformat(),
                "to": None if end is None else end.isoformat(),
            }
        )
        return Call("GET", self._account(account_id, "/statements"), params=params)

    @operation("getRetiredRegister")
    def get_retired_register(self) -> Call[RetiredRegister]:
        """Every voluntary cancellation in the market, with beneficiary, purpose and day."""
        return Call("GET", self._market("/retired"))

    @operation("listCancellations")
    def list_cancellations(self, account_id: str) -> Call[Cancellations]:
        """The account's own voluntary cancellations."""
        return Call("GET", self._account(account_id, "/cancellations"))

    @operation("getCancellationCertificate")
    def get_cancellation_certificate(self, serial: int) -> Call[Certificate]:
        """The certificate of the register's cancellation ``serial``: its lines and the
        bilingual HTML page (``html``)."""
        return Call("GET", self._market(f"/retired/{serial}/certificate"))

    @operation("allocate")
    def allocate(self, account_id: str, allocation: Allocation) -> Call[Allocated]:
        """Allocate allowances (配额分配) to an account (operators); ``allocation["method"]``
        is ``issue`` (paid issuance), ``fixed``, ``pre_allocation``, ``true_up`` or
        ``intensity``; all but ``issue`` are issued less what a shortfall deducts."""
        return Call("POST", self._account(account_id, "/allocations"), body=dict(allocation))

    @operation("transferUnits")
    def transfer_units(
        self,
        from_account: str,
        to_account: str,
        unit: str,
        qty_t: int,
        *,
        request_id: str | None = None,
    ) -> Call[Transferred]:
        """Move units between registry accounts."""
        body = fields(
            from_account=from_account,
            to_account=to_account,
            unit=unit,
            qty_t=qty_t,
            request_id=request_id,
        )
        return Call("POST", self._market("/transfers"), body=body)

    @operation("freezeUnits")
    def freeze_units(
        self,
        account_id: str,
        unit: str,
        qty_t: int,
        reference: str,
        *,
        request_id: str | None = None,
    ) -> Call[FreezeDone]:
        """Freeze units (冻结, operators): they can be neither sold nor surrendered."""
        body = fields(unit=unit, qty_t=qty_t, reference=reference, request_id=request_id)
        return Call("POST", self._account(account_id, "/freezes"), body=body)

    @operation("unfreezeUnits")
    def unfreeze_units(
        self,
        account_id: str,
        unit: str,
        qty_t: int,
        reference: str,
        *,
        request_id: str | None = None,
    ) -> Call[FreezeDone]:
        """Release frozen units (operators)."""
        body = fields(unit=unit, qty_t=qty_t, reference=reference, request_id=request_id)
        return Call("POST", self._account(account_id, "/unfreezes"), body=body)

    @operation("registerProject")
    def register_project(
        self,
        project_id: str,
        methodology: str,
        province: str,
        start_date: dt.date,
        registration_date: dt.date,
        *,
        kind: Literal["CCER", "PHCER"] | None = None,
        inside_ets_scope: bool | None = None,
        request_id: str | None = None,
    ) -> Call[ProjectRegistered]:
        """Register an offset project (operators)."""
        body = fields(
            project_id=project_id,
            kind=kind,
            methodology=methodology,
            province=province,
            start_date=start_date.isoformat(),
            registration_date=registration_date.isoformat(),
            inside_ets_scope=inside_ets_scope,
            request_id=request_id,
        )
        return Call("POST", self._market("/projects"), body=body)

    @operation("issueOffsets")
    def issue_offsets(
        self,
        project_id: str,
        account_id: str,
        vintage: int,
        qty_t: int,
        *,
        request_id: str | None = None,
    ) -> Call[OffsetsIssued]:
        """Issue a project's offsets (CCER, 签发) of ``vintage`` to an account (operators)."""
        body = fields(account_id=account_id, vintage=vintage, qty_t=qty_t, request_id=request_id)
        path = self._market(f"/projects/{segment(project_id)}/issuances")
        return Call("POST", path, body=body)

    @operation("recordNetSales")
    def record_net_sales(
        self,
        account_id: str,
        net_sales_t: int | None = None,
        *,
        request_id: str | None = None,
    ) -> Call[NetSalesRecorded]:
        """Record an entity's net allowance sales for the old-vintage cap (operators): the
        figure given, or computed from its daily statements over the rule set's period."""
        body = fields(net_sales_t=net_sales_t, request_id=request_id)
        return Call("POST", self._account(account_id, "/net-sales"), body=body)

    @operation("assessCompliance")
    def assess_compliance(
        self,
        year: int,
        *,
        reference_price_fen: int | None = None,
        account_ids: list[str] | None = None,
        request_id: str | None = None,
    ) -> Call[Assessment]:
        """Assess ``year`` (operators): shortfalls, penalties, deductions."""
        body = fields(
            reference_price_fen=reference_price_fen,
            account_ids=account_ids,
            request_id=request_id,
        )
        return Call("POST", self._market(f"/compliance/{year}/assessments"), body=body)

    @operation("getOrderByClientId")
    def get_order_by_client_id(
        self,
        client_order_id: str,
        trading_day: dt.date | None = None,
        account_id: str | None = None,
    ) -> Call[ClientOrder]:
        """The order a ``client_order_id`` named (on ``trading_day``, default the current)."""
        day = None if trading_day is None else trading_day.isoformat()
        params = fields(trading_day=day, account_id=account_id)
        path = self._market(f"/orders/by-client-id/{segment(client_order_id)}")
        return Call("GET", path, params=params)
