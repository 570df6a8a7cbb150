"""Kill points for the crash tests: with ``CARBONX_KILL_AT=<name>`` in its environment, the
process kills itself with SIGKILL when it reaches the point of that name, a real crash at a
chosen moment (``exchange.classroom.making`` has two). Without the variable a point costs an
environment lookup; none is on a hot path."""

from __future__ import annotations

import logging
import os
import signal

KILL_AT_VARIABLE = "CARBONX_KILL_AT"

log = logging.getLogger("carbonx.faults")


def kill_point(name: str) -> None:
    """SIGKILL this process if ``CARBONX_KILL_AT`` names this point."""
    if os.environ.get(KILL_AT_VARIABLE) == name:
        log.warning("%s=%s: killing the process", KILL_AT_VARIABLE, name)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os.kill(os.getpid(), signal.SIGKILL)
