"""The gateway's composition root: ``Settings``, and ``create_app(settings)`` with its lifespan,
error handlers, middleware and routers.

Its lifespan migrates the database, opens every market the database holds (recovering each from
its journal) or only those ``settings.markets`` names, starts their runtimes and keeps them in a
``Hub`` (``exchange.api.hub``); on shutdown it stops them, which drains what is queued.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.agents.live import DEFAULT_DAY_S, BotSpec
from exchange.api import errors, ui, ws
from exchange.api.addresses import public_base_url
from exchange.api.feed import Feed
from exchange.api.hub import Hub
from exchange.api.limits import BodyLimitMiddleware
from exchange.api.ratelimit import RateLimiter
from exchange.api.routes import (
    auctions,
    block,
    classroom,
    clock,
    health,
    logins,
    market_data,
    markets,
    mrv,
    orders,
    participants,
    registry,
    registry_operator,
    replay,
    reports,
    retired,
    scenarios,
)
from exchange.db.engine import DEFAULT_DATABASE_URL, create_engine
from exchange.db.journal_store import prepare_database
from exchange.logs import RequestLogMiddleware, access_lines

log = logging.getLogger("carbonx.api")


class Settings(BaseSettings):
    """From the environment with the ``CARBONX_`` prefix (``CARBONX_DATABASE_URL``, ...)."""

    model_config = SettingsConfigDict(env_prefix="CARBONX_")

    database_url: str = DEFAULT_DATABASE_URL
    markets: list[str] = []  # the markets to host; empty: every market in the database
    # Each API key's token bucket (exchange.api.ratelimit): requests a second, and at once.
    rate_limit_per_s: float = Field(default=200.0, gt=0)
    rate_limit_burst: int = Field(default=400, ge=1)
    # A request body's size at most, unless its route allows more (exchange.api.limits).
    body_max_bytes: int = Field(default=64 * 1024, ge=1024)
    # Each client address's bucket for key lookups that found no valid key (exchange.api.auth).
    auth_failures_per_s: float = Field(default=2.0, gt=0)
    auth_failures_burst: int = Field(default=20, ge=1)
    # WebSocket /v1/ws (exchange.api.ws): each connection's queue, and its silence before a
    # heartbeat.
    ws_queue_size: int = Field(default=1000, ge=1)
    ws_heartbeat_s: float = Field(default=15.0, gt=0)
    # In-process bots (exchange.agents.live): JSON in CARBONX_BOTS mapping a market id to its
    # bots' specs (kind, account_id, params, wakeups_per_day; the accounts must exist), and
    # the wall seconds of their trading "day" (their wake-up rates are per day).
    bots: dict[str, list[BotSpec]] = {}
    bots_day_s: float = Field(default=DEFAULT_DAY_S, gt=0)
    # The address trainees open (login cards and links; exchange.api.addresses), e.g.
    # http://192.168.1.20:8000 or https://class.example; never a loopback one. And what the
    # server listens on, as the carbonx command was told (--host), for getPublicAddress.
    public_url: str | None = None
    listen_host: str | None = None

    @field_validator("public_url")
    @classmethod
    def _reachable_base(cls, value: str | None) -> str | None:
        return None if not value else public_base_url(value)


# Every router, in the order requests are matched (one pattern after another): order entry, the
# busiest, comes first among /v1.
ROUTERS: tuple[APIRouter, ...] = (
    health.router,  # /healthz, /metrics
    orders.router,
    block.router,  # block agreement trades (大宗协议)
    auctions.router,  # auctions (拍卖)
    participants.router,
    market_data.router,
    markets.router,
    replay.router,  # announcements and the replay of any market
    scenarios.router,
    classroom.router,  # the instructor console (issue 7)
    logins.router,  # who a key is, and the address trainees open
    registry.router,
    registry_operator.router,
    mrv.router,  # MRV: monitoring plans, deposits, verifiers, reports (issue 19)
    retired.router,  # the retired register and cancellation certificates
    reports.router,  # large-holder reports and daily statements
    clock.router,
    ws.router,
    ui.router,  # the web UI at /ui/ (exchange/api/ui.py)
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.database_url
        await prepare_database(url)
        feed = Feed(settings.ws_queue_size, settings.ws_heartbeat_s)
        hub = Hub(create_engine(url), feed=feed, url=url)
        app.state.hub = hub
        try:
            await hub.open(url, settings.markets)
            await hub.resume_classes()  # class markets' state, and their bots
            for market_id, specs in settings.bots.items():
                if market_id in hub.hosted:
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
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    app.state.auth_failures = RateLimiter(
        settings.auth_failures_per_s,
        settings.auth_failures_burst,
        what="failed key lookups a second (burst {burst}) from this address",
    )
    errors.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.body_max_bytes)
    # One access line per request (exchange.logs), the limit's refusals too: the outer layer.
    app.add_middleware(RequestLogMiddleware)
    for router in ROUTERS:
        app.include_router(router)
    return app
