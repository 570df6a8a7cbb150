"""The markets one gateway process hosts (``Hub``), one record each (``HostedMarket``).

A hosted market is its runtime plus what the gateway runs beside it: the clock driver an
instructor started (``exchange.api.clock_driver``), the in-process bots ``CARBONX_BOTS`` asked
for (``exchange.agents.live``) and, for a market made from a scenario, its class
(``exchange.classroom``, with the scenario's bots). Every commit of every hosted market feeds
the WebSockets (``exchange.api.feed``), and so does every committed change of the MRV desk
(``exchange.mrv_desk.notify``), whose state lives in the database, outside the journals. The
hub is also what the classroom needs of the gateway (``exchange.classroom.service.ClassHost``):
the database, and creating a class's market.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection

from exchange import disconnects
from exchange.agents.live import BotSpec, LiveBots
from exchange.api.clock_driver import ClockDriver
from exchange.api.errors import ApiError, accepted
from exchange.api.feed import Feed
from exchange.api.market_specs import check_spec, not_a_trading_day
from exchange.api.open_sockets import OpenSockets
from exchange.classroom import making
from exchange.classroom import service as classroom
from exchange.classroom.room import Classroom
from exchange.classroom.setup import class_start_ns
from exchange.clock import day_start_ns
from exchange.db.journal_store import INTEGRITY_ERRORS, has_journal, market_ids
from exchange.faults import kill_point
from exchange.keys import key_cache
from exchange.mrv_desk import notify as mrv_notify
from exchange.runtime import MarketRuntime
from exchange.sessions import opening
from settlement.spec import MarketSpec

log = logging.getLogger("carbonx.api")


@dataclass(slots=True)
class HostedMarket:
    """One market this process hosts: its runtime, the clock driving it (once an instructor
    started one), its in-process bots, and its class if it is a class market."""

    runtime: MarketRuntime
    clock: ClockDriver | None = None
    bots: LiveBots | None = None
    classroom: Classroom | None = None

    async def stop_bots(self) -> None:
        """Stop every bot trading on the market (its own and its class's)."""
        bots, self.bots = self.bots, None
        if bots is not None:
            await bots.stop()
        if self.classroom is not None:
            await self.classroom.stop_bots()


@dataclass(slots=True)
class Hub:
    """The markets one process hosts and the database engine the gateway reads keys from;
    the open WebSockets by key, which the engine's key cache tells of each revocation."""

    engine: AsyncEngine
    feed: Feed = field(default_factory=Feed)  # publishes each commit to the WebSockets
    url: str = ""  # the database the markets journal to (``create``)
    hosted: dict[str, HostedMarket] = field(default_factory=dict)
    creating: asyncio.Lock = field(default_factory=asyncio.Lock)  # one new market at a time
    sockets: OpenSockets = field(default_factory=OpenSockets)

    def __post_init__(self) -> None:
        key_cache(self.engine).listeners.append(self.sockets.revoked)
        mrv_notify.listeners(self.engine).append(self.mrv_changed)

    def mrv_changed(self, market_id: str, message: dict[str, Any]) -> None:
        """An MRV desk change, committed (``exchange.mrv_desk.notify``): to the market's ``mrv``
        channel."""
        if market_id in self.hosted:
            self.feed.mrv(self.engine, market_id, message)

    def market(self, market_id: str) -> HostedMarket:
        """The hosted market, or 404 ``UNKNOWN_MARKET``."""
        hosted = self.hosted.get(market_id)
        if hosted is None:
            raise ApiError(404, "UNKNOWN_MARKET", f"no market {market_id!r}", market_id=market_id)
        return hosted

    def runtime(self, market_id: str) -> MarketRuntime:
        """The hosted market's runtime, or 404 ``UNKNOWN_MARKET``."""
        return self.market(market_id).runtime

    def runtimes(self) -> dict[str, MarketRuntime]:
        """Every hosted market's runtime, by market id."""
        return {market_id: hosted.runtime for market_id, hosted in self.hosted.items()}

    # ------------------------------------------------------------------ opening markets

    async def open(self, url: str, wanted: list[str]) -> None:
        """Recover and host the markets (every one of the database unless ``wanted`` names
        some); the orders of sessions with cancel on disconnect that died with the last
        process are cancelled before anything is served (``exchange.disconnects``). First,
        classes a kill left half made are removed (``exchange.classroom.making``)."""
        await making.remove_half_made(self.engine, wanted)
        for market_id in wanted or await market_ids(url):
            runtime = self.host(await MarketRuntime.recover(url, market_id)).runtime
            await disconnects.cancel_dead(runtime, self.engine)

    def host(self, runtime: MarketRuntime) -> HostedMarket:
        """Serve a runtime: its commits feed the WebSockets, it runs, requests reach it."""
        runtime.listeners.append(self.feed.listener(runtime.market_id))
        runtime.start()
        hosted = self.hosted[runtime.market_id] = HostedMarket(runtime)
        log.info("market %s open at seq %d", runtime.market_id, runtime.last_seq)
        return hosted

    async def create(
        self,
        spec: MarketSpec,
        open_day: dt.date | None = None,
        start_ts_ns: int = 0,
        *,
        class_market: bool = False,
    ) -> MarketRuntime:
        """Create a new market from its spec (its journal's first entry, at market time
        ``start_ts_ns``), checked (``check_spec``), and host it; given ``open_day``, open that
        trading day and its continuous session: ``createMarket``'s work, and the hook for
        scenarios. An id this process hosts, or the database has a journal for, is
        ``MARKET_EXISTS``. A ``class_market`` is marked as being made first
        (``exchange.classroom.making``)."""
        rules = check_spec(spec)
        if open_day is not None and not start_ts_ns:  # its journal begins at that day's pre-open
            start_ts_ns = day_start_ns(rules.calendar, open_day)[0]
        market_id = spec.market_id
        exists = ApiError(409, "MARKET_EXISTS", f"market {market_id!r} exists", market_id=market_id)
        async with self.creating:
            if market_id in self.hosted or await has_journal(self.engine, market_id):
                raise exists
            if class_market and not await making.begin(self.engine, market_id):
                raise exists  # another process is making it just now
            try:
                runtime = await MarketRuntime.create(self.url, spec, start_ts_ns=start_ts_ns)
            except INTEGRITY_ERRORS:  # another process created it just now
                if class_market:
                    await making.finish(self.engine, market_id)  # the mark was ours
                raise exists from None
        self.host(runtime)
        if open_day is not None:
            for ack in await runtime.submit_many(opening(open_day)):
                accepted(ack)
        return runtime

    # ------------------------------------------------------------------ classes

    async def create_class_market(self, spec: MarketSpec, first_day: dt.date) -> MarketRuntime:
        """A class's market (``ClassHost``): checked as ``createMarket`` checks it,
        ``first_day`` a trading day of its calendar, not opened yet; its market time starts
        at the class's start, the first day's pre-open."""
        rules = check_spec(spec)
        if not rules.calendar.is_trading_day(first_day):
            raise not_a_trading_day(first_day)
        start_ts_ns = class_start_ns(rules.calendar, first_day)
        runtime = await self.create(spec, start_ts_ns=start_ts_ns, class_market=True)
        kill_point("class-market-created")  # the crash tests' moment: a journal, nothing else
        return runtime

    def add_class(self, room: Classroom) -> None:
        self.market(room.market_id).classroom = room

    async def resume_classes(self) -> None:
        """At start-up: the hosted class markets' state, and their bots where they trade."""
        for room in await classroom.resume(self.engine, self.runtimes()):
            self.add_class(room)

    # ------------------------------------------------------------------ bots, closing

    def start_bots(self, market_id: str, specs: Sequence[BotSpec], day_s: float) -> LiveBots:
        """Run in-process bots on a hosted market (``exchange.agents.live``)."""
        hosted = self.market(market_id)
        bots = hosted.bots = LiveBots(hosted.runtime, specs, day_s=day_s)
        bots.start()
        return bots

    async def close(self) -> None:
        try:
            for hosted in self.hosted.values():  # no bot submits into a draining market
                await hosted.stop_bots()
            for hosted in self.hosted.values():  # no clock step queued behind the drain
                if hosted.clock is not None:
                    await hosted.clock.stop()
            for hosted in self.hosted.values():
                await hosted.runtime.stop()
        finally:
            self.hosted.clear()
            with contextlib.suppress(ValueError):
                key_cache(self.engine).listeners.remove(self.sockets.revoked)
            with contextlib.suppress(ValueError):
                mrv_notify.listeners(self.engine).remove(self.mrv_changed)
            await self.engine.dispose()


def hub_of(connection: HTTPConnection) -> Hub:
    """The app's ``Hub``: the markets this process hosts (for a request or a WebSocket)."""
    found: Hub = connection.app.state.hub
    return found
