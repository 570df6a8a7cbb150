"""The seed's plan: the same seed deals the same faults, a run's first steps do not depend on
its length (a failure at step n replays with n + 1 steps), every round deals its database's
whole deck and every kind in its first steps, and a failure names what replays it."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.faults.plan import (
    BACKENDS,
    CLEAN_RESTART,
    DECKS,
    KINDS,
    Fault,
    InvariantError,
    Where,
    fault_at,
    faults,
    rng,
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_seed_deals_the_same_faults_whatever_the_length(backend: str) -> None:
    long = faults(7, backend, 60)
    assert faults(7, backend, 60) == long
    assert faults(7, backend, 13) == long[:13]
    assert faults(8, backend, 60) != long


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_round_deals_the_whole_deck(backend: str) -> None:
    deck = DECKS[backend]
    dealt = faults(3, backend, 5 * len(deck))
    for start in range(0, len(dealt), len(deck)):
        assert Counter(dealt[start : start + len(deck)]) == Counter(deck)
    assert set(deck) == set(Fault) - ({Fault.DB_CUT} if backend == "sqlite" else set())


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_round_deals_every_kind_first(backend: str) -> None:
    deck, kinds = DECKS[backend], KINDS[backend]
    assert len(kinds) == {"sqlite": 5, "postgresql": 6}[backend] < len(deck) == 10
    for seed in range(20):
        dealt = faults(seed, backend, 3 * len(deck))
        for start in range(0, len(dealt), len(deck)):
            assert set(dealt[start : start + len(kinds)]) == kinds, (seed, start)
    # The kinds' order and the others' are shuffled: not the same in every round or seed.
    openings = {tuple(faults(seed, backend, len(kinds))) for seed in range(20)}
    assert len(openings) > 1
    assert len({tuple(faults(seed, backend, len(deck))[len(kinds) :]) for seed in range(20)}) > 1


def test_the_databases_have_streams_of_their_own() -> None:
    assert rng(1, "sqlite", "step", 0).random() == rng(1, "sqlite", "step", 0).random()
    assert rng(1, "sqlite", "step", 0).random() != rng(1, "postgresql", "step", 0).random()
    assert fault_at(1, "sqlite", 0) in DECKS["sqlite"]


def test_a_failure_says_how_to_replay_it() -> None:
    error = InvariantError(Where(42, "postgresql", 6, Fault.KILL), "acknowledged order 7 lost")
    message = str(error)
    assert "seed=42 database=postgresql step=6 fault=kill: acknowledged order 7 lost" in message
    assert message.endswith("python -m tests.faults --seed 42 --database postgresql --faults 7")
    last = Where(42, "sqlite", 12, CLEAN_RESTART)
    assert last.replay_command().endswith("--database sqlite --faults 12")
