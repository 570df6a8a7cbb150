"""The HTTP gateway: REST under ``/v1`` (``create_app``), API keys and roles, problem errors."""

from exchange.api.app import Settings, create_app
from exchange.api.hub import Hub

__all__ = ["Hub", "Settings", "create_app"]
