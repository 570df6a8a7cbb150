"""A real ``carbonx demo`` process on loopback, for the API tests."""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
DEMO_COMMAND = (sys.executable, "-m", "exchange.cli", "demo")
SERVE_COMMAND = (sys.executable, "-m", "exchange.cli", "serve", "--log-format", "text")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class DemoServer:
    process: subprocess.Popen[bytes]
    base_url: str
    keys: dict[str, Any]
    log: Path

    def kill(self) -> None:
        """SIGKILL: a crash, nothing drains."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM (uvicorn shuts down gracefully, the markets drain), SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _open_files(most: int) -> Callable[[], None]:
    def limit() -> None:  # in the child, before exec
        resource.setrlimit(resource.RLIMIT_NOFILE, (most, most))

    return limit


def start_demo(
    database: Path, env: Mapping[str, str] | None = None, open_files_max: int | None = None
) -> DemoServer:
    """Start ``carbonx demo`` on a free port; ``env`` adds to its environment (settings such as
    ``CARBONX_RATE_LIMIT_PER_S``); ``open_files_max`` lowers its open-file limit (``ulimit
    -n``)."""
    port = free_port()
    keys_file = database.with_name(database.name + ".keys.json")
    keys_file.unlink(missing_ok=True)
    command = [*DEMO_COMMAND, "--port", str(port), "--database", str(database)]
    log = database.with_name(f"server-{port}.log")
    server = _start(command, port, log, env, open_files_max)
    try:
        server.keys = json.loads(keys_file.read_text())
    except BaseException:
        server.stop()
        raise
    return server


def start_serve(
    database_url: str, logs: Path, keys: dict[str, Any], env: Mapping[str, str] | None = None
) -> DemoServer:
    """Start ``carbonx serve`` on a free port, on the markets of ``database_url`` (e.g. a
    PostgreSQL database ``exchange.cli.prepare_demo`` filled, whose ``keys`` it returned)."""
    port = free_port()
    command = [*SERVE_COMMAND, "--port", str(port), "--database-url", database_url]
    server = _start(command, port, logs / f"server-{port}.log", env)
    server.keys = keys
    return server


def _start(
    command: list[str],
    port: int,
    log: Path,
    env: Mapping[str, str] | None,
    open_files_max: int | None = None,
) -> DemoServer:
    """Run ``command`` with its output in ``log`` (and at most ``open_files_max`` open files),
    until ``/healthz`` answers."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            # No demo bots unless ``env`` asks (CARBONX_DEMO_BOTS): the API tests want a quiet book.
            env={**os.environ, "PYTHONUNBUFFERED": "1", "CARBONX_DEMO_BOTS": "0", **(env or {})},
            preexec_fn=None if open_files_max is None else _open_files(open_files_max),
        )
    server = DemoServer(process, f"http://127.0.0.1:{port}", {}, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()}")
            try:
                if httpx.get(server.base_url + "/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    except BaseException:
        server.stop()
        raise
    return server
