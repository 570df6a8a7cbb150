"""One class as this process hosts it (``Classroom``), and finding it (``class_of``)."""

from __future__ import annotations

from exchange.agents.live import LiveBots
from exchange.classroom.errors import ClassroomError
from exchange.classroom.setup import ClassScenario
from exchange.classroom.state import ClassState
from exchange.runtime import MarketRuntime


class Classroom:
    """A class market: its runtime, the class's state, its scenario as resolved (once; after a
    restart on first use, since parsing takes tens of milliseconds) and the scenario's bots
    while they run."""

    __slots__ = ("_scenario", "bots", "runtime", "state")

    def __init__(
        self, runtime: MarketRuntime, state: ClassState, scenario: ClassScenario | None = None
    ) -> None:
        self.runtime = runtime
        self.state = state
        self._scenario = scenario
        self.bots: LiveBots | None = None

    @property
    def market_id(self) -> str:
        return self.state.market_id

    @property
    def scenario(self) -> ClassScenario:
        if self._scenario is None:
            self._scenario = ClassScenario.of(self.state)
        return self._scenario

    async def stop_bots(self) -> int:
        """Stop the class's bots; how many ran."""
        bots, self.bots = self.bots, None
        if bots is None:
            return 0
        await bots.stop()
        return len(bots.bots)


def class_of(room: Classroom | None, market_id: str) -> Classroom:
    """The class of a hosted market (``room``, None if it has none), or ``NOT_A_CLASS``."""
    if room is None:
        raise ClassroomError(
            "NOT_A_CLASS", f"market {market_id!r} is not a class", market_id=market_id
        )
    return room
