"""``/healthz`` (``health``) and ``/metrics``: the Prometheus text of every hosted market's
runtime (``exchange.api.metrics``), left out of the OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter, Response

from exchange.api.deps import HubDep
from exchange.api.metrics import CONTENT_TYPE, render
from exchange.api.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="health", response_model=Health)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/metrics", operation_id="metrics", include_in_schema=False)
async def metrics(hub: HubDep) -> Response:
    return Response(render(hub.runtimes().values()), media_type=CONTENT_TYPE)
