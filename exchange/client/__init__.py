"""A typed Python client for the carbonx gateway: REST (async and sync) and WebSocket.

    from exchange.client import Client, CarbonxError

    with Client("http://127.0.0.1:8000", key, "demo") as client:
        try:
            client.place_order("CEA2025", "buy", 100, 6000)
        except CarbonxError as error:
            print(error.code, error.numbers)

One method per OpenAPI operation id, in snake_case (``placeOrder`` -> ``place_order``),
defined once in ``operations.py`` and executed by either transport (``rest.py``). Results are
the server's JSON typed as TypedDicts (``types.py``). The package imports nothing from the
server (``exchange.api``, the domain packages): it works installed alone, on httpx and
websockets.
"""

from exchange.client.errors import (
    CarbonxError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    RefusedError,
    SequenceGapError,
    StreamClosedError,
    StreamError,
    StreamTimeoutError,
    UnauthenticatedError,
    UnavailableError,
)
from exchange.client.operation import Operation
from exchange.client.operations import Operations, new_client_order_id
from exchange.client.rest import AsyncClient, Client
from exchange.client.transport import Call, RetryPolicy
from exchange.client.ws import Stream

__all__ = [
    "AsyncClient",
    "Call",
    "CarbonxError",
    "Client",
    "ForbiddenError",
    "InvalidRequestError",
    "NotFoundError",
    "Operation",
    "Operations",
    "RateLimitedError",
    "RefusedError",
    "RetryPolicy",
    "SequenceGapError",
    "Stream",
    "StreamClosedError",
    "StreamError",
    "StreamTimeoutError",
    "UnauthenticatedError",
    "UnavailableError",
    "new_client_order_id",
]
