"""``/healthz`` (``health``: the process is alive), ``/readyz`` (``readiness``: every hosted
market takes orders) and ``/metrics``: the Prometheus text of every hosted market's runtime
(``exchange.api.metrics``), left out of the OpenAPI document. None needs a key: a supervisor
or a load balancer carries none.

``/readyz`` answers 200 ``{"status": "ready", "markets": [...]}`` while every market runs, and
503 ``NOT_READY`` (a problem, with the same ``markets``) while one reconnects to its database
or has stopped: each market's ``state`` (``running``, ``reconnecting``, ``stopped``), its last
seq applied and last seq durable, the database blips it outlasted and how long the current one
has lasted. A supervisor restarts the process on a stopped market, and only waits on a
reconnecting one (a restart would not bring the database back sooner).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Response

from exchange.api.common import problem_responses
from exchange.api.deps import HubDep
from exchange.api.errors import ApiError
from exchange.api.metrics import CONTENT_TYPE, render
from exchange.api.models import Health, Readiness
from exchange.runtime import MarketRuntime, MarketState

router = APIRouter(tags=["health"])

NOT_READY_RETRY_AFTER_S = 1


@router.get("/healthz", operation_id="health", response_model=Health)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readiness",
    response_model=Readiness,
    responses=problem_responses({503: "NOT_READY: a market is reconnecting or stopped"}),
)
async def readyz(hub: HubDep) -> dict[str, Any]:
    """Whether every hosted market takes orders: 503 ``NOT_READY`` while one reconnects to its
    database or has stopped, with each market's state."""
    markets = [market_readiness(runtime) for _, runtime in sorted(hub.runtimes().items())]
    waiting = [m["market_id"] for m in markets if m["state"] != MarketState.RUNNING]
    if waiting:
        raise ApiError(
            503,
            "NOT_READY",
            f"not every market runs: {', '.join(waiting)}",
            headers={"Retry-After": str(NOT_READY_RETRY_AFTER_S)},
            markets=markets,
        )
    return {"status": "ready", "markets": markets}


def market_readiness(runtime: MarketRuntime) -> dict[str, Any]:
    stats = runtime.stats
    since = stats.reconnecting_since
    return {
        "market_id": runtime.market_id,
        "state": runtime.state,
        "last_seq": runtime.last_seq,
        "durable_seq": runtime.durable_seq,
        "reconnects": stats.reconnects,
        "reconnecting_s": None if since is None else round(time.time() - since, 3),
    }


@router.get("/metrics", operation_id="metrics", include_in_schema=False)
async def metrics(hub: HubDep) -> Response:
    return Response(render(hub.runtimes().values()), media_type=CONTENT_TYPE)
