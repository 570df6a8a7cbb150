"""A simulation and a class end the compliance year alike: given the same holdings, emissions
and trade tape, the class's assessment step fixes the same shortfalls, penalties and
reference price as the headless run (both call ``exchange.compliance_year``).

The headless run of ``classroom_national`` is stopped at each assessment: the market as it
stands then (every trade of the year, the emissions verified, the surrenders made) is
snapshotted, and one firm takes its surrender back first, so that someone is short. The class
path restores that snapshot behind a runtime stand-in that applies what is submitted at once,
and advances the class from surrender to assessment.

A class does not apply a scenario's scheduled rule changes (its rules are its market's), so
the scenario runs here without them: the two then run under the same rules."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, cast

from exchange.classroom.lifecycle import Phase
from exchange.classroom.phases import advance
from exchange.classroom.room import Classroom
from exchange.classroom.setup import ClassScenario
from exchange.classroom.state import ClassState
from exchange.runtime import MarketRuntime
from exchange.sim.runner import Simulation
from exchange.sim.scenario import LoadedScenario, load_scenario
from exchange.sim.setup import account_of
from registry_sim.ops import WithdrawSurrender
from settlement import Market
from tests.classroom.conftest import MarketNow

SEED = 7


class StoppedBeforeAssessment(Simulation):
    """The headless run, keeping the market as it stands before each year's assessment."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.before_assessment: dict[int, bytes] = {}

    def _assess(self, year: int) -> None:
        first = account_of(self.scenario.firms[0])
        withdrawn = self._op(WithdrawSurrender(f"withdraw:{first}:{year}", first, year), False)
        assert withdrawn.code is None, withdrawn.details  # it had surrendered: now it is short
        self.before_assessment[year] = self.market.snapshot()
        super()._assess(year)


def without_rule_changes(loaded: LoadedScenario) -> LoadedScenario:
    events = [e for e in loaded.spec.events if e.kind != "rule_change"]
    assert len(events) < len(loaded.spec.events), "the scenario changed no rule to leave out"
    return dataclasses.replace(loaded, spec=loaded.spec.model_copy(update={"events": events}))


def test_a_class_assesses_the_year_as_the_simulation_did() -> None:
    loaded = without_rule_changes(load_scenario("classroom_national"))
    sim = StoppedBeforeAssessment(loaded, SEED)
    outcome = sim.run()
    assert sim.before_assessment, "the run assessed no year"
    simulated = {(row["year"], row["account_id"]): row for row in outcome.compliance}
    assert any(row["shortfall_t"] > 0 and row["penalty_fen"] > 0 for row in simulated.values())

    scenario = ClassScenario.make(loaded, [], SEED)
    for year, snapshot in sim.before_assessment.items():
        runtime = MarketNow(Market.restore(snapshot))
        assert runtime.market.rules == loaded.rules  # the class's own rules
        state = ClassState("class", loaded.name, "", SEED, Phase.SURRENDER, year, [])
        room = Classroom(cast(MarketRuntime, runtime), state, scenario)
        done = asyncio.run(advance(room))
        assert (state.phase, done["assessed"]) == (Phase.ASSESSMENT, len(loaded.firms))
        registry = runtime.market.registry
        for firm in loaded.firms:
            record = registry.record(account_of(firm), year)
            assert record is not None
            row = simulated[(year, firm.account_id)]
            assert (record.shortfall_t, record.penalty_fen, record.reference_price_fen) == (
                row["shortfall_t"],
                row["penalty_fen"],
                row["reference_price_fen"],
            ), firm.account_id
        total = sum(simulated[(year, f.account_id)]["penalty_fen"] for f in loaded.firms)
        assert done["total_penalty_fen"] == total
