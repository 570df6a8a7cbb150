"""The HTTP gateway: REST under ``/v1`` (``create_app``), API keys and roles, problem errors."""

from exchange.api.app import Hub, Settings, create_app

__all__ = ["Hub", "Settings", "create_app"]
