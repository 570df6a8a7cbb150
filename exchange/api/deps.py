"""The route modules' dependencies and parameters, as ``Annotated`` aliases.

* ``HubDep``: the app's ``Hub`` (``exchange.api.hub``);
* ``CurrentPrincipal``: who the bearer key says is asking (401 without a valid key, 403 for
  another market's key, 429 over its rate; ``exchange.api.auth``);
* ``Runtime``: the runtime of the market in the path, for an authenticated key (404
  ``UNKNOWN_MARKET``); ``OperatorRuntime`` the same for an operator key only (403 first);
* the path and query parameters the routes share (``MarketId``, ``AccountPath``, ...).

A dependency runs before the route's own parameters are read: a route whose refusals come in
another order (its own checks before the market's) takes ``HubDep`` and looks the market up
itself. Each dependency costs FastAPI some microseconds a request, so the busiest routes (order
entry) take the ``Request`` and ``exchange.api.hub.hub_of`` instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from exchange.api.auth import principal, require
from exchange.api.hub import Hub, hub_of
from exchange.keys import Principal, Role
from exchange.runtime import MarketRuntime

MarketId = Annotated[str, Path(max_length=128)]
AccountPath = Annotated[str, Path(max_length=128)]
YearPath = Annotated[int, Path(ge=2000, le=2100)]
SymbolPath = Annotated[str, Path(min_length=1, max_length=128)]
AccountQuery = Annotated[str | None, Query(max_length=128)]
SymbolQuery = Annotated[str | None, Query(min_length=1, max_length=128)]
Limit = Annotated[int, Query(ge=1, le=500)]


async def _hub(request: Request) -> Hub:  # async: no thread pool for a dependency
    return hub_of(request)


HubDep = Annotated[Hub, Depends(_hub)]
CurrentPrincipal = Annotated[Principal, Depends(principal)]


async def market_runtime(hub: HubDep, market_id: MarketId, who: CurrentPrincipal) -> MarketRuntime:
    """The market's runtime, once the key is known (else 404 ``UNKNOWN_MARKET``)."""
    return hub.runtime(market_id)


async def operator_runtime(
    hub: HubDep, market_id: MarketId, who: CurrentPrincipal
) -> MarketRuntime:
    """The market's runtime, for an operator key only (else 403 ``FORBIDDEN``, then 404)."""
    require(who, Role.OPERATOR)
    return hub.runtime(market_id)


Runtime = Annotated[MarketRuntime, Depends(market_runtime)]
OperatorRuntime = Annotated[MarketRuntime, Depends(operator_runtime)]
