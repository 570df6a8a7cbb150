"""What a seed decides: which fault each step injects, and a random stream for every other
choice of the step (when the fault strikes, which client, how many connections, ...).

Step ``n`` of a run depends on the seed, the database and ``n`` only, never on how many steps
the run has: a failure at step 7 of a 120-step soak is replayed by the same seed with 8 steps.
The faults come in decks: each round of ``len(DECKS[backend])`` steps deals every card of the
database's deck once, one card of each kind first and then the rest, each part in an order the
seed shuffles, so the first ``len(KINDS[backend])`` steps of any round inject every kind and a
run as short as that (``make test``'s) already does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Fault(StrEnum):
    KILL = "kill"  # SIGKILL of the server under load, then a restart
    DB_CUT = "db_cut"  # the server's PostgreSQL backends terminated, connections refused a while
    SLOW_CLIENTS = "slow_clients"  # connections that never finish their headers
    FLOOD = "flood"  # one key (or one address) sending far more than its rate
    REVOKE = "revoke"  # a trader's key revoked while its socket is open
    DAY_ROLL = "day_roll"  # the operator closes the day and opens the next, mid-traffic


BACKENDS = ("sqlite", "postgresql")

# A deck per database: SIGKILLs are the heaviest fault and the most telling, so they come
# three times a round; a cut database connection is PostgreSQL's alone.
DECKS: dict[str, tuple[Fault, ...]] = {
    "sqlite": (
        *(Fault.KILL,) * 3,
        *(Fault.REVOKE,) * 2,
        *(Fault.DAY_ROLL,) * 2,
        *(Fault.FLOOD,) * 2,
        Fault.SLOW_CLIENTS,
    ),
    "postgresql": (
        *(Fault.KILL,) * 3,
        *(Fault.DB_CUT,) * 2,
        Fault.REVOKE,
        *(Fault.DAY_ROLL,) * 2,
        Fault.FLOOD,
        Fault.SLOW_CLIENTS,
    ),
}


# The kinds of fault each deck holds.
KINDS: dict[str, frozenset[Fault]] = {backend: frozenset(deck) for backend, deck in DECKS.items()}


def rng(seed: int, backend: str, *names: object) -> random.Random:
    """A random stream fixed by the seed, the database and ``names`` (a step, a client):
    string seeds are hashed with SHA-512, so the stream is the same in every process."""
    return random.Random("/".join(str(part) for part in (seed, backend, *names)))


def fault_at(seed: int, backend: str, step: int) -> Fault:
    """The fault step ``step`` (from 0) injects."""
    round_number, place = divmod(step, len(DECKS[backend]))
    return deal(seed, backend, round_number)[place]


def deal(seed: int, backend: str, round_number: int) -> list[Fault]:
    """A round's order of the deck: one card of each kind, shuffled, then the others,
    shuffled."""
    firsts = sorted(KINDS[backend])
    others = list(DECKS[backend])
    for kind in firsts:
        others.remove(kind)
    shuffler = rng(seed, backend, "round", round_number)
    shuffler.shuffle(firsts)
    shuffler.shuffle(others)
    return firsts + others


def faults(seed: int, backend: str, steps: int) -> list[Fault]:
    return [fault_at(seed, backend, step) for step in range(steps)]


SETUP, CLEAN_RESTART = "setup", "clean_restart"  # the checks before the first step, after the last


@dataclass(frozen=True, slots=True)
class Where:
    """A moment of a run, as a failure names it: enough to replay the run up to it."""

    seed: int
    backend: str
    step: int  # -1: the set-up; ``steps``: the last restart after the steps
    fault: str

    def __str__(self) -> str:
        return f"seed={self.seed} database={self.backend} step={self.step} fault={self.fault}"

    def replay_command(self) -> str:
        steps = self.step if self.fault == CLEAN_RESTART else max(self.step + 1, 1)
        return (
            f"python -m tests.faults --seed {self.seed} --database {self.backend} --faults {steps}"
        )


class InvariantError(AssertionError):
    """A promise the server broke, or a fault it did not meet as documented."""

    def __init__(self, where: Where, what: str) -> None:
        super().__init__(f"{where}: {what}\nreplay: {where.replay_command()}")
        self.where = where
