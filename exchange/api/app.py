"""The gateway's FastAPI app: ``create_app(settings)``.

Its lifespan migrates the database, opens every market the database holds (recovering each from
its journal) or only those ``settings.markets`` names, starts their runtimes and keeps them in a
``Hub``; on shutdown it stops them, which drains what is queued.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.api import errors, metrics, routes, ws
from exchange.api.errors import ApiError
from exchange.api.ratelimit import RateLimiter
from exchange.db.engine import DEFAULT_DATABASE_URL, create_engine
from exchange.db.journal_store import market_ids, prepare_database
from exchange.runtime import MarketRuntime

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


@dataclass(slots=True)
class Hub:
    """The markets one process hosts and the database engine the gateway reads keys from."""

    engine: AsyncEngine
    markets: dict[str, MarketRuntime] = field(default_factory=dict)
    feed: ws.Feed = field(default_factory=ws.Feed)  # publishes each commit to the WebSockets

    def runtime(self, market_id: str) -> MarketRuntime:
        runtime = self.markets.get(market_id)
        if runtime is None:
            raise ApiError(404, "UNKNOWN_MARKET", f"no market {market_id!r}", market_id=market_id)
        return runtime

    async def open(self, url: str, wanted: list[str]) -> None:
        for market_id in wanted or await market_ids(url):
            runtime = await MarketRuntime.recover(url, market_id)
            runtime.listeners.append(self.feed.listener(market_id))
            runtime.start()
            self.markets[market_id] = runtime
            log.info("market %s open at seq %d", market_id, runtime.last_seq)

    async def close(self) -> None:
        try:
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
        hub = Hub(create_engine(url), feed=feed)
        app.state.hub = hub
        try:
            await hub.open(url, settings.markets)
            yield
        finally:
            await hub.close()

    app = FastAPI(
        title="carbonx",
        version="0.1.0",
        summary="A simulated exchange for China's carbon market",
        lifespan=lifespan,
    )
    app.state.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    errors.install(app)
    app.include_router(routes.health)
    app.include_router(metrics.router)
    app.include_router(routes.v1)
    app.include_router(ws.router)
    return app
