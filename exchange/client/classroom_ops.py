"""The instructor console's operations (``exchange.api.routes.classroom``), as ``Call`` builders for
both clients. Replies are the server's JSON objects; results and seat keys come as JSON here
(the server also answers them as CSV, ``?format=csv``, for a browser or a spreadsheet)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from exchange.client.operation import OperationsBase, fields, operation
from exchange.client.transport import Call

Json = dict[str, Any]


class ClassroomOperations(OperationsBase):
    @operation("listScenarios")
    def list_scenarios(self) -> Call[Json]:
        """The shipped scenarios a class can be made from: name, title and description (in
        English and Chinese), rule set, firms, bots, default seats and trading days a year
        (any key)."""
        return Call("GET", "/v1/scenarios")

    @operation("createClassMarket")
    def create_class_market(
        self,
        market_id: str,
        *,
        scenario: str | None = None,
        yaml: str | None = None,
        seats: int | None = None,
        seed: int | None = None,
        open_day: dt.date | None = None,
        gas_fired_seats: int | None = None,
    ) -> Call[Json]:
        """A class market from a shipped scenario (by name) or YAML text, with its seats'
        keys and a new operator key (exchange-wide operator keys only); ``gas_fired_seats``:
        the first that many seats are gas-fired, the others not (default: as their
        profiles)."""
        body = fields(
            market_id=market_id,
            scenario=scenario,
            yaml=yaml,
            seats=seats,
            seed=seed,
            open_day=None if open_day is None else open_day.isoformat(),
            gas_fired_seats=gas_fired_seats,
        )
        return Call("POST", "/v1/markets/from-scenario", body=body)

    @operation("getClassPhase")
    def get_class_phase(self) -> Call[Json]:
        """Where the class's compliance cycle stands."""
        return Call("GET", self._market("/class/phase"))

    @operation("getMyClassSeat")
    def get_my_class_seat(self, account_id: str | None = None) -> Call[Json]:
        """The class as a seat sees it (clock, trading day n of N, what comes next, the
        surrender window) and the key's firm (operators: ``account_id``'s)."""
        return Call("GET", self._market("/class/me"), params=fields(account_id=account_id))

    @operation("quoteAbatement")
    def quote_abatement(self, qty_t: int, account_id: str | None = None) -> Call[Json]:
        """What cutting ``qty_t`` tonnes this year would cost the key's seat (operators:
        ``account_id``'s), from its firm's abatement curve."""
        params = fields(qty_t=qty_t, account_id=account_id)
        return Call("GET", self._market("/class/abatement"), params=params)

    @operation("advanceClassPhase")
    def advance_class_phase(self) -> Call[Json]:
        """Move the class to its next phase (operators); ``done`` counts what it did."""
        return Call("POST", self._market("/class/phase/advance"))

    @operation("declareAbatement")
    def declare_abatement(self, qty_t: int) -> Call[Json]:
        """The tonnes the key's seat cuts this year (before verification)."""
        return Call("POST", self._market("/class/abatement"), body={"qty_t": qty_t})

    @operation("postAnnouncement")
    def post_announcement(
        self, text: str, level: Literal["info", "warning"] | None = None
    ) -> Call[Json]:
        """Announce news to the market (operators)."""
        return Call("POST", self._market("/announcements"), body=fields(text=text, level=level))

    @operation("listAnnouncements")
    def list_announcements(self, limit: int | None = None) -> Call[Json]:
        """The market's announcements, newest first."""
        params = fields(limit=limit)
        return Call("GET", self._market("/announcements"), params=params)

    @operation("getClassDashboard")
    def get_class_dashboard(self) -> Call[Json]:
        """Prices, today's activity, participation and the compliance ranking."""
        return Call("GET", self._market("/class/dashboard"))

    @operation("getClassResults")
    def get_class_results(self) -> Call[Json]:
        """The compliance year's results per account (operators)."""
        return Call("GET", self._market("/class/results"))

    @operation("listSeats")
    def list_seats(self) -> Call[Json]:
        """The class's seats and their accounts (operators)."""
        return Call("GET", self._market("/class/seats"))

    @operation("issueSeatKeys")
    def issue_seat_keys(self) -> Call[Json]:
        """A fresh key for every seat, the old ones revoked (operators)."""
        return Call("POST", self._market("/class/seats/keys"))

    @operation("getReplay")
    def get_replay(self, seq: int) -> Call[Json]:
        """The market as it stood after journal entry ``seq`` (operators)."""
        return Call("GET", self._market("/replay"), params={"seq": seq})

    @operation("getReplayTimeline")
    def get_replay_timeline(self) -> Call[Json]:
        """The journal's day steps and trades per minute, for a replay slider (operators)."""
        return Call("GET", self._market("/replay/timeline"))

    # -- the MRV phase (docs/classroom.md "The MRV phase")

    @operation("getClassMrv")
    def get_class_mrv(self) -> Call[Json]:
        """A seat's own MRV year and the seats it verifies; every seat's data quality
        (operators)."""
        return Call("GET", self._market("/class/mrv"))

    @operation("getClassMrvSeat")
    def get_class_mrv_seat(self, account_id: str) -> Call[Json]:
        """One seat's MRV year (its own key, its verifier, operators)."""
        return Call("GET", self._market(f"/class/mrv/seats/{account_id}"))

    @operation("setClassMrv")
    def set_class_mrv(self, verifiers: Literal["instructor", "trainees"] | None) -> Call[Json]:
        """Who verifies the seats' reports, or no MRV phase (None) (operators)."""
        return Call("PUT", self._market("/class/mrv/settings"), body={"verifiers": verifiers})

    @operation("correctClassMrvMonth")
    def correct_class_mrv_month(self, month: int, carbon: str | None) -> Call[Json]:
        """Correct a draft or returned month's carbon test: a value (tC/t, as text), or None
        for not measured (the guideline's default applies)."""
        return Call("PUT", self._market(f"/class/mrv/months/{month}"), body={"carbon": carbon})

    @operation("depositClassMrv")
    def deposit_class_mrv(self, months: list[int] | None = None) -> Call[Json]:
        """Deposit the seat's months: those named, or every draft and returned one."""
        return Call("POST", self._market("/class/mrv/deposit"), body={"months": months})

    @operation("reviewClassMrv")
    def review_class_mrv(
        self,
        account_id: str,
        decision: Literal["pass", "return"],
        months: list[int] | None = None,
        note: str | None = None,
    ) -> Call[Json]:
        """Pass or return a seat's deposited months (operators)."""
        body = fields(decision=decision, months=months, note=note)
        return Call("POST", self._market(f"/class/mrv/seats/{account_id}/review"), body=body)

    @operation("addClassMrvFinding")
    def add_class_mrv_finding(self, account_id: str, month: int) -> Call[Json]:
        """The seat's verifier counts a month's carbon test at the default."""
        path = f"/class/mrv/seats/{account_id}/findings"
        return Call("POST", self._market(path), body={"month": month})

    @operation("signClassMrv")
    def sign_class_mrv(self, account_id: str) -> Call[Json]:
        """The seat's verifier signs its year (every month passed)."""
        return Call("POST", self._market(f"/class/mrv/seats/{account_id}/sign"))
