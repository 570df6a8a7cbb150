"""Double-entry holdings: every movement of units is a posting from one (account, state) to
another, so for each unit type the balances of all accounts sum to zero. The issuance account
is the only one that goes below zero: minus its balance is what has been issued."""

from __future__ import annotations

from dataclasses import dataclass

from registry_sim.model import ISSUANCE, RETIRED, AccountId, HoldingState, UnitCode

AVAILABLE = HoldingState.AVAILABLE

Key = tuple[AccountId, UnitCode, HoldingState]


@dataclass(frozen=True, slots=True)
class Posting:
    posting_id: int
    op_id: str
    unit: UnitCode
    qty_t: int
    from_account: AccountId
    from_state: HoldingState
    to_account: AccountId
    to_state: HoldingState


class Ledger:
    def __init__(self) -> None:
        self._balances: dict[Key, int] = {}
        # The market's settlement also moves units directly in ``_balances`` (holds, releases,
        # deliveries of orders): their postings are the market journal's, not kept here.
        self._postings: list[Posting] = []

    def balance(self, account: AccountId, unit: UnitCode, state: HoldingState = AVAILABLE) -> int:
        return self._balances.get((account, unit, state), 0)

    def post(
        self,
        op_id: str,
        unit: UnitCode,
        qty_t: int,
        source: tuple[AccountId, HoldingState],
        target: tuple[AccountId, HoldingState],
    ) -> Posting:
        """Move ``qty_t`` units. Callers validate first; a negative balance here is a bug."""
        assert qty_t > 0, f"posting of {qty_t} t"
        from_key = (source[0], unit, source[1])
        to_key = (target[0], unit, target[1])
        left = self._balances.get(from_key, 0) - qty_t
        assert left >= 0 or source[0] == ISSUANCE, f"{from_key} would go to {left}"
        self._set(from_key, left)
        self._set(to_key, self._balances.get(to_key, 0) + qty_t)
        posting = Posting(len(self._postings) + 1, op_id, unit, qty_t, *source, *target)
        self._postings.append(posting)
        return posting

    def _set(self, key: Key, value: int) -> None:
        if value:
            self._balances[key] = value
        else:
            self._balances.pop(key, None)

    def balances(self) -> dict[Key, int]:
        return dict(self._balances)

    def postings(self) -> list[Posting]:
        return list(self._postings)

    def holdings(self, account: AccountId) -> dict[UnitCode, dict[HoldingState, int]]:
        out: dict[UnitCode, dict[HoldingState, int]] = {}
        for (owner, unit, state), qty in sorted(self._balances.items()):
            if owner == account:
                out.setdefault(unit, {})[state] = qty
        return out

    def issued(self, unit: UnitCode) -> int:
        return -self.balance(ISSUANCE, unit)

    def retired(self, unit: UnitCode) -> int:
        return self.balance(RETIRED, unit)

    def units(self) -> list[UnitCode]:
        return sorted({unit for (_, unit, _) in self._balances})
