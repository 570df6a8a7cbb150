"""A pipe server process under order load, for the crash tests (``test_crash.py``).

``PipeServer`` runs ``python -m exchange.pipe_server`` as a child process with its stderr in a
file; ``run_load`` streams random orders and cancels into it as fast as a pipelining window
allows while reading the acks, until the caller kills it; ``Tally`` is everything the server
acknowledged, which the crash tests then look for in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.conftest import Database

ROOT = Path(__file__).resolve().parents[2]
SYMBOL = "CEA2025"
REFERENCE_FEN = 6_000
SPEC = {"rules": "cn_national", "instruments": [[SYMBOL, REFERENCE_FEN]]}
ACCOUNTS = tuple(f"P{n:02d}" for n in range(1, 13))
CASH_FEN = 10**11  # each: a billion yuan, far more than its buys can hold
ALLOWANCES_T = 200_000  # each: well inside the 1,000,000 t position limit of cn_national
FIRST_DAY = dt.date(2026, 11, 23)  # a Monday

WINDOW = 1_000  # requests in flight before the load waits for acks (a pipelining client)
CHUNK = 50  # requests per write to the server's stdin
CANCEL_SHARE = 0.1
CLIENT_ID_SHARE = 0.5  # of the orders, those sent with a client order id
PRICE_SPREAD_FEN = 30  # orders within ±0.30 yuan of the reference: they cross often
MAX_QTY_T = 50
READY_TIMEOUT_S = 60.0
REPLY_TIMEOUT_S = 30.0

Message = dict[str, Any]


def trading_days(first: dt.date = FIRST_DAY) -> Iterator[dt.date]:
    """Weekdays from ``first`` on (the market checks only that each day is after the last)."""
    day = first
    while True:
        if day.weekday() < 5:
            yield day
        day += dt.timedelta(days=1)


class ServerExitedError(AssertionError):
    """The server ended (or hung) when it should have been serving: the message carries its
    stderr."""


class PipeServer:
    """One run of the pipe server, from its start to its exit (or its SIGKILL)."""

    def __init__(self, process: asyncio.subprocess.Process, stderr_path: Path) -> None:
        self.process = process
        self.stderr_path = stderr_path
        self.ready: Message = {}
        self._next_id = 0

    @classmethod
    async def start(
        cls, database: Database, market_id: str, stderr_path: Path, create: bool = False
    ) -> PipeServer:
        """The server started on ``database`` and ready (its ready line read)."""
        args = ["--url", database.url, "--connect-args", json.dumps(database.connect_args)]
        args += ["--market", market_id]
        if create:
            args += ["--create", json.dumps(SPEC)]
        with stderr_path.open("wb") as stderr:  # the child keeps its own copy of the file
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "exchange.pipe_server",
                *args,
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        server = cls(process, stderr_path)
        try:
            server.ready = await server._read_ready()
        except BaseException:
            await server.close()
            raise
        return server

    async def _read_ready(self) -> Message:
        try:
            line = await asyncio.wait_for(self._stdout.readline(), READY_TIMEOUT_S)
        except TimeoutError:
            raise ServerExitedError(f"not ready in {READY_TIMEOUT_S} s:\n{self.log()}") from None
        if not line:
            code = await self.process.wait()
            raise ServerExitedError(
                f"the server exited ({code}) instead of getting ready:\n{self.log()}"
            )
        ready: Message = json.loads(line)
        assert ready.get("ready") is True, f"not a ready line: {ready}\n{self.log()}"
        return ready

    @property
    def _stdout(self) -> asyncio.StreamReader:
        assert self.process.stdout is not None
        return self.process.stdout

    @property
    def _stdin(self) -> asyncio.StreamWriter:
        assert self.process.stdin is not None
        return self.process.stdin

    def log(self) -> str:
        """The server's stderr so far (its last 4,000 characters)."""
        return self.stderr_path.read_text(errors="replace")[-4000:]

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def write(self, messages: Sequence[Message]) -> None:
        data = "".join(json.dumps(m, separators=(",", ":")) + "\n" for m in messages)
        self._stdin.write(data.encode())
        await self._stdin.drain()

    async def read(self) -> Message | None:
        """The next line the server wrote, None at end of its output. A last line cut short
        (no newline: the process was killed while writing it) never reached the client
        whole, so it acknowledges nothing and ends the output like EOF."""
        line = await self._stdout.readline()
        if not line.endswith(b"\n"):
            return None
        message: Message = json.loads(line)
        return message

    async def call(self, requests: Sequence[Message]) -> list[Message]:
        """Send ``requests`` (their ids are set here) and return their replies, by request."""
        for request in requests:
            request["id"] = self.new_id()
        await self.write(requests)
        replies: dict[int, Message] = {}
        while len(replies) < len(requests):
            reply = await asyncio.wait_for(self.read(), REPLY_TIMEOUT_S)
            if reply is None:
                raise ServerExitedError(f"the server exited while answering:\n{self.log()}")
            replies[reply["id"]] = reply
        return [replies[request["id"]] for request in requests]

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind in the server."""
        if self.process.returncode is None:
            self.process.kill()

    async def finish(self) -> int:
        """End of input: the server drains, stops and exits; its exit code."""
        self._stdin.close()
        rest = await asyncio.wait_for(self._stdout.read(), REPLY_TIMEOUT_S)
        assert not rest, f"unexpected output at the end: {rest[:500]!r}"
        return await asyncio.wait_for(self.process.wait(), REPLY_TIMEOUT_S)

    async def close(self) -> None:
        """Make sure the process is gone (teardown): killed if it still runs, and reaped."""
        self.kill()
        await self.process.wait()


def setup_requests() -> list[Message]:
    """The market's participants with cash and allowances, and a first continuous session."""
    requests: list[Message] = []
    for account in ACCOUNTS:
        requests += [
            {"cmd": "open_account", "account_id": account, "kind": "participant"},
            {"cmd": "deposit", "account_id": account, "amount_fen": CASH_FEN},
            {"cmd": "issue", "account_id": account, "vintage": 2025, "qty_t": ALLOWANCES_T},
        ]
    return [*requests, *next_day_requests(FIRST_DAY, close=False)]


def next_day_requests(day: dt.date, close: bool = True) -> list[Message]:
    """Close the trading day (day orders expire, a day-end snapshot is written) and open
    ``day`` in a continuous session."""
    closing: list[Message] = [{"cmd": "close_day"}, {"cmd": "end_of_day"}] if close else []
    return [
        *closing,
        {"cmd": "open_day", "trading_day": day.isoformat()},
        {"cmd": "session", "state": "continuous"},
    ]


@dataclass
class Tally:
    """What the servers acknowledged, over every run: what must survive every crash."""

    order_ids: set[int] = field(default_factory=set)
    trade_ids: set[int] = field(default_factory=set)
    max_seq: int = 0
    # Orders of the current trading day acked with a client order id: the request and order id.
    client_orders: dict[str, tuple[Message, int]] = field(default_factory=dict)
    resting: list[tuple[int, str]] = field(default_factory=list)  # (order id, account): to cancel
    refusals: dict[str, int] = field(default_factory=dict)  # code: count
    errors: list[Message] = field(default_factory=list)  # error lines: must stay empty

    def record(self, request: Message, reply: Message) -> None:
        """One ack of ``request``."""
        if "error" in reply:
            self.errors.append({**reply, "request": request})
            return
        self.max_seq = max(self.max_seq, reply["seq"])
        self.trade_ids.update(reply["trades"])
        code = reply["code"]
        if code is not None:
            self.refusals[code] = self.refusals.get(code, 0) + 1
            return
        if request["cmd"] != "place":
            return
        order_id = reply["order_id"]
        self.order_ids.add(order_id)
        self.resting.append((order_id, request["account_id"]))
        client_order_id = request.get("client_order_id")
        if client_order_id is not None:
            self.client_orders[client_order_id] = (request, order_id)

    def new_day(self) -> None:
        """Day orders expired at the close and client order ids are per day."""
        self.client_orders.clear()
        self.resting.clear()


@dataclass
class CycleLoad:
    """One run's load: counts for the report and to show that the kill hit work in flight."""

    sent: int = 0
    acked: int = 0
    acked_orders: int = 0
    trades: int = 0
    in_flight_at_kill: int = 0


class LoadGenerator:
    """Random limit orders around the reference price, and cancels of acknowledged orders."""

    def __init__(self, rng: random.Random, tally: Tally, tag: str) -> None:
        self.rng = rng
        self.tally = tally
        self.tag = tag  # makes client order ids unique across runs
        self.count = 0

    def request(self) -> Message:
        rng = self.rng
        resting = self.tally.resting
        if resting and rng.random() < CANCEL_SHARE:
            order_id, account = resting.pop(rng.randrange(len(resting)))
            return {"cmd": "cancel", "account_id": account, "order_id": order_id}
        self.count += 1
        request: Message = {
            "cmd": "place",
            "account_id": rng.choice(ACCOUNTS),
            "symbol": SYMBOL,
            "side": rng.choice(("buy", "sell")),
            "order_type": "limit",
            "qty_t": rng.randint(1, MAX_QTY_T),
            "price_fen": REFERENCE_FEN + rng.randint(-PRICE_SPREAD_FEN, PRICE_SPREAD_FEN),
        }
        if rng.random() < CLIENT_ID_SHARE:
            request["client_order_id"] = f"{self.tag}-{self.count}"
        return request


async def run_load(
    server: PipeServer, tally: Tally, generator: LoadGenerator, kill_after_s: float
) -> CycleLoad:
    """Stream requests into ``server`` and read its acks; SIGKILL it after ``kill_after_s``
    seconds of load, then read what it had written before it died."""
    load = CycleLoad()
    in_flight: dict[int, Message] = {}
    room = asyncio.Event()
    room.set()

    async def write() -> None:
        while True:
            await room.wait()
            chunk = [generator.request() for _ in range(CHUNK)]
            for request in chunk:
                request["id"] = server.new_id()
                in_flight[request["id"]] = request
            load.sent += len(chunk)
            if len(in_flight) >= WINDOW:
                room.clear()
            await server.write(chunk)

    async def read() -> None:
        while (reply := await server.read()) is not None:
            request = in_flight.pop(reply["id"], None)
            assert request is not None, f"a reply to nothing sent: {reply}"
            tally.record(request, reply)
            load.acked += 1
            load.trades += len(reply.get("trades", ()))
            load.acked_orders += request["cmd"] == "place" and reply.get("code", "") is None
            if len(in_flight) < WINDOW // 2:
                room.set()

    writing = asyncio.create_task(write())
    reading = asyncio.create_task(read())
    try:
        # The crash moment: a random time into the load, not a wait for a condition.
        await asyncio.sleep(kill_after_s)
        assert not reading.done(), f"the server stopped under load:\n{server.log()}"
        load.in_flight_at_kill = len(in_flight)
        server.kill()
        await server.process.wait()
        await asyncio.wait_for(reading, REPLY_TIMEOUT_S)  # the acks it wrote before dying
    finally:
        writing.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await writing  # a write after the kill finds the pipe broken
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
    return load
