"""The gateway's FastAPI app: ``create_app(settings)``.

Its lifespan migrates the database, opens every market the database holds (recovering each from
its journal) or only those ``settings.markets`` names, starts their runtimes and keeps them in a
``Hub``; on shutdown it stops them, which drains what is queued.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.agents.live import DEFAULT_DAY_S, BotSpec, LiveBots
from exchange.api import (
    classroom,
    clock_routes,
    errors,
    markets,
    metrics,
    registry_routes,
    routes,
    ui,
    ws,
)
from exchange.api.common import not_a_trading_day
from exchange.api.errors import ApiError
from exchange.api.ratelimit import RateLimiter
from exchange.classroom import service as classroom_service
from exchange.classroom.room import Classroom
from exchange.db import tables as t
from exchange.db.engine import DEFAULT_DATABASE_URL, create_engine
from exchange.db.journal_store import INTEGRITY_ERRORS, market_ids, prepare_database
from exchange.logs import RequestLogMiddleware, access_lines
from exchange.runtime import MarketRuntime
from settlement.spec import MarketSpec

log = logging.getLogger("carbonx.api")


class Settings(BaseSettings):
    """From the environment with the ``CARBONX_`` prefix (``CARBONX_DATABASE_URL``, ...)."""

    model_config = SettingsConfigDict(env_prefix="CARBONX_")

    database_url: str = DEFAULT_DATABASE_URL
    markets: list[str] = []  # the markets to host; empty: every market in the database
    # Each API key's token bucket (exchange.api.ratelimit): requests a second, and at once.
    rate_limit_per_s: float = Field(default=200.0, gt=0)
    rate_limit_burst: int = Field(default=400, ge=1)
    # WebSocket /v1/ws (exchange.api.ws): each connection's queue, and its silence before a
    # heartbeat.
    ws_queue_size: int = Field(default=1000, ge=1)
    ws_heartbeat_s: float = Field(default=15.0, gt=0)
    # In-process bots (exchange.agents.live): JSON in CARBONX_BOTS mapping a market id to its
    # bots' specs (kind, account_id, params, wakeups_per_day; the accounts must exist), and
    # the wall seconds of their trading "day" (their wake-up rates are per day).
    bots: dict[str, list[BotSpec]] = {}
    bots_day_s: float = Field(default=DEFAULT_DAY_S, gt=0)


@dataclass(slots=True)
class Hub:
    """The markets one process hosts and the database engine the gateway reads keys from."""

    engine: AsyncEngine
    markets: dict[str, MarketRuntime] = field(default_factory=dict)
    feed: ws.Feed = field(default_factory=ws.Feed)  # publishes each commit to the WebSockets
    url: str = ""  # the database the markets journal to (``create``)
    creating: asyncio.Lock = field(default_factory=asyncio.Lock)  # one new market at a time
    clocks: dict[str, clock_routes.ClockDriver] = field(default_factory=dict)  # per market
    bots: dict[str, LiveBots] = field(default_factory=dict)  # in-process bots, per market
    classes: dict[str, Classroom] = field(default_factory=dict)  # class markets, with their bots

    def runtime(self, market_id: str) -> MarketRuntime:
        runtime = self.markets.get(market_id)
        if runtime is None:
            raise ApiError(404, "UNKNOWN_MARKET", f"no market {market_id!r}", market_id=market_id)
        return runtime

    async def open(self, url: str, wanted: list[str]) -> None:
        for market_id in wanted or await market_ids(url):
            self.host(await MarketRuntime.recover(url, market_id))

    def host(self, runtime: MarketRuntime) -> None:
        """Serve a runtime: its commits feed the WebSockets, it runs, requests reach it."""
        runtime.listeners.append(self.feed.listener(runtime.market_id))
        runtime.start()
        self.markets[runtime.market_id] = runtime
        log.info("market %s open at seq %d", runtime.market_id, runtime.last_seq)

    async def create(self, spec: MarketSpec) -> MarketRuntime:
        """Create a new market from its spec (its journal's first entry) and host it: the
        hook for ``createMarket`` and for markets made from a scenario. An id this process
        hosts, or the database has a journal for, is ``MARKET_EXISTS``."""
        market_id = spec.market_id
        exists = ApiError(409, "MARKET_EXISTS", f"market {market_id!r} exists", market_id=market_id)
        j = t.market_journal.c
        async with self.creating:
            if market_id in self.markets:
                raise exists
            async with self.engine.connect() as conn:
                query = select(j.seq).where(j.market_id == market_id).limit(1)
                if (await conn.execute(query)).first() is not None:
                    raise exists
            try:
                runtime = await MarketRuntime.create(self.url, spec)
            except INTEGRITY_ERRORS:  # another process created it just now
                raise exists from None
        self.host(runtime)
        return runtime

    async def create_class_market(self, spec: MarketSpec, first_day: dt.date) -> MarketRuntime:
        """A class's market (``exchange.classroom.service.ClassHost``): checked as
        ``createMarket`` checks it, ``first_day`` a trading day of its calendar, not opened."""
        rules = markets.check_spec(spec)
        if not rules.calendar.is_trading_day(first_day):
            raise not_a_trading_day(first_day)
        return await markets.create_market(self, spec)

    def add_class(self, room: Classroom) -> None:
        self.classes[room.market_id] = room

    async def resume_classes(self) -> None:
        """At start-up: the hosted class markets' state, and their bots where they trade."""
        for room in await classroom_service.resume(self.engine, self.markets):
            self.add_class(room)

    def start_bots(self, market_id: str, specs: Sequence[BotSpec], day_s: float) -> LiveBots:
        """Run in-process bots on a hosted market (``exchange.agents.live``)."""
        bots = LiveBots(self.runtime(market_id), specs, day_s=day_s)
        self.bots[market_id] = bots
        bots.start()
        return bots

    async def close(self) -> None:
        try:
            for bots in self.bots.values():  # no bot submits into a draining market
                await bots.stop()
            self.bots.clear()
            for room in self.classes.values():
                await room.stop_bots()
            for driver in self.clocks.values():  # no clock step queued behind the drain
                await driver.stop()
            for runtime in self.markets.values():
                await runtime.stop()
        finally:
            self.markets.clear()
            await self.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.database_url
        await prepare_database(url)
        feed = ws.Feed(settings.ws_queue_size, settings.ws_heartbeat_s)
        hub = Hub(create_engine(url), feed=feed, url=url)
        app.state.hub = hub
        try:
            await hub.open(url, settings.markets)
            await hub.resume_classes()  # class markets' state, and their bots
            for market_id, specs in settings.bots.items():
                if market_id in hub.markets:
                    hub.start_bots(market_id, specs, settings.bots_day_s)
                else:
                    log.warning("bots for market %s, which is not hosted: not started", market_id)
            yield
        finally:
            try:
                await hub.close()
            finally:
                access_lines.flush()  # the access lines still waiting for their batch

    app = FastAPI(
        title="carbonx",
        version="0.1.0",
        summary="A simulated exchange for China's carbon market",
        lifespan=lifespan,
    )
    app.state.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    errors.install(app)
    app.add_middleware(RequestLogMiddleware)  # one access line per request (exchange.logs)
    app.include_router(routes.health)
    app.include_router(metrics.router)
    app.include_router(routes.v1)
    app.include_router(classroom.router)  # the instructor console (issue 7)
    app.include_router(registry_routes.router)
    app.include_router(markets.router)
    app.include_router(clock_routes.router)
    app.include_router(ws.router)
    app.include_router(ui.router)  # the web UI at /ui/ (exchange/api/ui.py)
    return app
