"""The cash ledger (资金账户) of one market, in fen, double entry.

Every movement is from one (account, state) to another, so the balances of all accounts always
sum to zero. ``SYS:CASH`` stands for the world outside the market (banks): deposits come from it
and withdrawals go to it, so it is the only account below zero, and minus its balance is the
cash the participants brought in. Fees go to the exchange's fee account ``SYS:FEES``.
"""

from __future__ import annotations

from enum import StrEnum

from registry_sim.model import FEES, AccountId

CNY = "CNY"  # the asset name of cash in postings
OUTSIDE = AccountId("SYS:CASH")

__all__ = ["CNY", "FEES", "OUTSIDE", "CashLedger", "CashState"]


class CashState(StrEnum):
    AVAILABLE = "available"
    HELD = "held"  # reserved for open buy orders (冻结资金)


class CashLedger:
    def __init__(self) -> None:
        self._balances: dict[tuple[AccountId, CashState], int] = {}

    def balance(self, account: AccountId, state: CashState = CashState.AVAILABLE) -> int:
        return self._balances.get((account, state), 0)

    def move(
        self,
        amount_fen: int,
        source: tuple[AccountId, CashState],
        target: tuple[AccountId, CashState],
    ) -> None:
        """Move ``amount_fen``. Callers validate first; an overdraft here is a bug."""
        assert amount_fen > 0, f"cash movement of {amount_fen} fen"
        balances = self._balances
        left = balances.get(source, 0) - amount_fen
        assert left >= 0 or source[0] == OUTSIDE, f"{source} would go to {left}"
        if left:
            balances[source] = left
        else:
            del balances[source]
        total = balances.get(target, 0) + amount_fen
        if total:
            balances[target] = total
        else:  # the outside world's account back at zero: every fen brought in went out
            del balances[target]

    def balances(self) -> dict[tuple[AccountId, CashState], int]:
        return dict(self._balances)

    def restore(self, balances: dict[tuple[AccountId, CashState], int]) -> None:
        """Load what ``balances()`` gave (a snapshot) into an empty ledger."""
        assert not self._balances, "restore into an empty ledger"
        self._balances = {key: fen for key, fen in balances.items() if fen}

    def total_fen(self) -> int:
        """The sum over every account: zero, always (double entry)."""
        return sum(self._balances.values())
