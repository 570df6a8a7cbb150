"""A market runtime driven over pipes: JSON lines in on stdin, acknowledgements out on stdout.

``python -m exchange.pipe_server --url URL [--connect-args JSON] --market ID [--create SPEC]``

It exists so that a test can kill a real server process (SIGKILL) in the middle of a load and
check what survived (``tests/integration/test_crash.py``), and so that a script can drive a market
without HTTP. On start it migrates the database, recovers the market from its journal (or creates
it from ``--create``, e.g. ``{"rules": "cn_national", "instruments": [["CEA2025", 6000]]}``),
starts the sequencer and prints one line, ``{"ready": true, "last_seq": N, "state_hash": H}``.

Then each stdin line is one command, ``{"id": <client int>, "cmd": <kind>, ...fields}``
(``_BUILDERS`` lists the kinds and their fields). Commands are pipelined: a line is submitted
as soon as it is read, and its ack ``{"id", "seq", "code", "order_id", "trades"}`` is written
only once the runtime has committed it (durable before acknowledged), in completion order. A
line that is not valid JSON or names no known command gets ``{"id", "error"}`` at once. The
command ``state`` waits until everything before it is committed and answers ``{"id",
"state_hash", "last_seq"}``. At end of input the server drains, stops and exits 0.

Exit codes: 0 after end of input; 1 if the market stopped (a failed commit: the database is
gone); 2 for bad arguments; 3 if recovery refused to open the market (``RecoveryError``). Logs go
to stderr; stdout carries only the protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import stat
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from exchange.db.journal_store import market_ids, prepare_database
from exchange.runtime import Ack, MarketRuntime, MarketStoppedError, RecoveryError
from matching.types import OrderType, Side, TradingState
from registry_sim.model import Account, AccountId, AccountKind
from registry_sim.ops import IssueAllowances, OpenAccount
from settlement.commands import (
    CancelOrder,
    CloseDay,
    Deposit,
    EndOfDay,
    MarketCommand,
    OpenDay,
    PlaceOrder,
    RegistryCommand,
    SetSession,
)
from settlement.spec import MarketSpec

log = logging.getLogger("carbonx.pipe_server")

MAX_IN_FLIGHT = 20_000  # submitted, not yet acknowledged: beyond this stdin waits (backpressure)
READ_LIMIT_BYTES = 1 << 20  # the longest command line accepted
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EXIT_OK, EXIT_MARKET_STOPPED, EXIT_USAGE, EXIT_RECOVERY = 0, 1, 2, 3

Message = dict[str, Any]


class CommandError(ValueError):
    """A line the server cannot turn into a command: answered with an error line carrying the
    line's id when it had one, so the client can match the error to its request."""

    def __init__(self, message: str, client_id: Any = None) -> None:
        super().__init__(message)
        self.client_id = client_id


# ---------------------------------------------------------------------- commands from lines


def _field(message: Message, name: str, kind: type, optional: bool = False) -> Any:
    """``message[name]`` if it has type ``kind``. A bool is not an int here (JSON's ``true``
    must not become a quantity of 1), and an int must fit the database's BIGINT columns: one
    that does not would fail the batch's commit and stop the market."""
    value = message.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CommandError(f"{name!r} must be {kind.__name__}, not {value!r}")
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise CommandError(f"{name!r} does not fit the journal's 64-bit integers: {value}")
    return value


def _enum(message: Message, name: str, enum: Callable[[str], Any]) -> Any:
    value = _field(message, name, str)
    try:
        return enum(value)
    except ValueError as error:
        raise CommandError(f"{name!r}: {error}") from error


def _account(message: Message) -> AccountId:
    return AccountId(_field(message, "account_id", str))


def _open_account(m: Message, ref: str) -> MarketCommand:
    account_id = _account(m)
    kind = _enum(m, "kind", AccountKind)
    province = _field(m, "province", str, optional=True) or ""
    op_id = _field(m, "op_id", str, optional=True) or f"open:{account_id}"  # once per account
    return RegistryCommand(
        0, OpenAccount(op_id, Account(account_id, kind, account_id, "", province))
    )


def _deposit(m: Message, ref: str) -> MarketCommand:
    ref = _field(m, "ref", str, optional=True) or ref
    return Deposit(0, _account(m), _field(m, "amount_fen", int), ref)


def _issue(m: Message, ref: str) -> MarketCommand:
    account_id = _account(m)
    vintage, qty_t = _field(m, "vintage", int), _field(m, "qty_t", int)
    op_id = _field(m, "op_id", str, optional=True) or ref
    return RegistryCommand(0, IssueAllowances(op_id, account_id, vintage, qty_t))


def _open_day(m: Message, ref: str) -> MarketCommand:
    text = _field(m, "trading_day", str)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"'trading_day': {error}") from error
    return OpenDay(0, day)


def _place(m: Message, ref: str) -> MarketCommand:
    return PlaceOrder(
        0,
        _account(m),
        _field(m, "symbol", str),
        _enum(m, "side", Side),
        _enum(m, "order_type", OrderType),
        _field(m, "qty_t", int),
        _field(m, "price_fen", int, optional=True),
        client_order_id=_field(m, "client_order_id", str, optional=True),
    )


# The kinds of command and their fields (? optional). Every command is built with ts_ns = 0:
# the runtime stamps market time, the server has no clock. A builder's second argument is the
# default deposit ref / issuance op id (see ``PipeSession.ref``).
_BUILDERS: dict[str, Callable[[Message, str], MarketCommand]] = {
    "open_account": _open_account,  # account_id, kind, province?, op_id?
    "deposit": _deposit,  # account_id, amount_fen, ref?
    "issue": _issue,  # account_id, vintage, qty_t, op_id?
    "open_day": _open_day,  # trading_day (ISO date)
    "session": lambda m, _: SetSession(0, _enum(m, "state", TradingState)),
    "place": _place,  # account_id, symbol, side, order_type, qty_t, price_fen?, client_order_id?
    "cancel": lambda m, _: CancelOrder(0, _account(m), _field(m, "order_id", int)),
    "close_day": lambda m, _: CloseDay(0),
    "end_of_day": lambda m, _: EndOfDay(0),
}


def parse_line(line: bytes) -> tuple[Any, str, Message]:
    """(client id, kind, message) of one input line, or ``CommandError``."""
    try:
        message = json.loads(line)
    except ValueError as error:
        raise CommandError(f"not JSON: {error}") from error
    if not isinstance(message, dict):
        raise CommandError("a command is a JSON object")
    client_id, kind = message.get("id"), message.get("cmd")
    if not isinstance(kind, str) or (kind != "state" and kind not in _BUILDERS):
        raise CommandError(f"unknown command {kind!r}", client_id)
    return client_id, kind, message


def build_command(kind: str, message: Message, ref: str) -> MarketCommand:
    try:
        return _BUILDERS[kind](message, ref)
    except CommandError as error:
        raise CommandError(str(error), message.get("id")) from None


def ack_message(client_id: Any, ack: Ack) -> Message:
    outcome = ack.outcome
    return {
        "id": client_id,
        "seq": ack.seq,
        "code": outcome.code,
        "order_id": outcome.order_id,
        "trades": [fill.trade.trade_id for fill in outcome.fills],
        **({} if outcome.code is None else {"details": outcome.details}),
    }


# ---------------------------------------------------------------------- the pipes


class _StdoutPipe(asyncio.Protocol):
    """Flow control and closing of the stdout pipe: ``writable`` is clear while the reader of
    our stdout lags (the transport's buffer is full), ``closed`` resolves once all is written."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.writable.set()  # nobody reads any more: let the input run to its end
        if not self.closed.done():
            self.closed.set_result(None)


class LineWriter:
    """Lines to stdout, gathered per turn of the event loop and written together: every ack of
    one commit goes out in one write, in the order the futures resolved. Through an asyncio
    pipe transport when stdout is a pipe, so a write never blocks the sequencer; else straight
    to the file."""

    def __init__(
        self, transport: asyncio.WriteTransport | None = None, pipe: _StdoutPipe | None = None
    ) -> None:
        self._transport = transport
        self._pipe = pipe
        self._pending: list[str] = []
        self._scheduled = False

    def send(self, message: Message) -> None:
        self._pending.append(json.dumps(message, separators=(",", ":"), default=str))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        data = ("\n".join(self._pending) + "\n").encode()
        self._pending.clear()
        if self._transport is None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        elif not self._transport.is_closing():
            self._transport.write(data)

    async def writable(self) -> None:
        """Return once the reader of stdout keeps up (input waits for it: backpressure)."""
        if self._pipe is not None:
            await self._pipe.writable.wait()

    async def close(self, timeout_s: float = 10.0) -> None:
        """Write what is pending and wait (a while) until the pipe has taken it."""
        self.flush()
        if self._transport is not None and self._pipe is not None:
            self._transport.close()
            await asyncio.wait([self._pipe.closed], timeout=timeout_s)


def _is_stream(fd: int) -> bool:
    """Whether asyncio's pipe transports take ``fd`` (a pipe, socket or terminal, not a file)."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


async def open_stdout() -> LineWriter:
    if not _is_stream(sys.stdout.fileno()):
        return LineWriter()
    loop = asyncio.get_running_loop()
    transport, pipe = await loop.connect_write_pipe(_StdoutPipe, sys.stdout)
    return LineWriter(transport, pipe)


class FileLines:
    """Lines of a regular file given as stdin (``< commands.jsonl``), read in a thread because
    asyncio's pipe transports refuse regular files."""

    async def readline(self) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.readline)


async def open_stdin() -> asyncio.StreamReader | FileLines:
    if not _is_stream(sys.stdin.fileno()):
        return FileLines()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_LIMIT_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


# ---------------------------------------------------------------------- serving


class PipeSession:
    """One stdin/stdout conversation with a running market."""

    def __init__(self, runtime: MarketRuntime, out: LineWriter) -> None:
        self.runtime = runtime
        self.out = out
        self.failed = False
        self.started_seq = runtime.last_seq
        self.pending: dict[asyncio.Future[Ack], Any] = {}  # submitted, not acknowledged: id
        self._room = asyncio.Event()  # clear while MAX_IN_FLIGHT commands await their commit
        self._room.set()
        self._all_acknowledged = asyncio.Event()  # set while nothing awaits its commit
        self._all_acknowledged.set()
        self._reading: asyncio.Task[None] | None = None

    async def serve(self, lines: asyncio.StreamReader | FileLines) -> None:
        """Submit every line as it comes, until end of input or until the market stops (a
        failed ack cancels the reading: nothing more can be acknowledged)."""
        self._reading = asyncio.create_task(self._read(lines))
        await asyncio.wait([self._reading])
        if not self._reading.cancelled():
            self._reading.result()  # raises what stopped the reading, if anything did

    async def _read(self, lines: asyncio.StreamReader | FileLines) -> None:
        while True:
            try:
                line = await lines.readline()
            except ValueError as error:  # longer than READ_LIMIT_BYTES: the stream is lost
                self.out.send({"id": None, "error": f"line too long: {error}"})
                return
            if not line:
                return
            if line.strip():
                await self.handle(line)

    async def handle(self, line: bytes) -> None:
        try:
            client_id, kind, message = parse_line(line)
            if kind == "state":
                await self.answer_state(client_id)
                return
            command = build_command(kind, message, self.ref(client_id))
        except CommandError as error:
            self.out.send({"id": error.client_id, "error": str(error)})
            return
        await self._room.wait()
        await self.out.writable()
        try:
            future = self.runtime.submit_nowait(command, wait_for_database=True)
        except MarketStoppedError as error:
            self.market_stopped(client_id, error)
            return
        self.pending[future] = client_id
        self._all_acknowledged.clear()
        if len(self.pending) >= MAX_IN_FLIGHT:
            self._room.clear()
        future.add_done_callback(self.acknowledge)

    def acknowledge(self, done: asyncio.Future[Ack]) -> None:
        client_id = self.pending.pop(done)
        if len(self.pending) < MAX_IN_FLIGHT:
            self._room.set()
        if not self.pending:
            self._all_acknowledged.set()
        error = done.exception()
        if error is not None:
            self.market_stopped(client_id, error)
            return
        self.out.send(ack_message(client_id, done.result()))

    def market_stopped(self, client_id: Any, error: BaseException) -> None:
        """Nothing more can be acknowledged: say so, and stop reading."""
        self.out.send({"id": client_id, "error": f"market stopped: {error}"})
        if not self.failed:
            self.failed = True
            log.error("market %s stopped: %s", self.runtime.market_id, error)
            if self._reading is not None:
                self._reading.cancel()

    def abandon_pending(self) -> None:
        """After the runtime has stopped: commands it never answered were not acknowledged,
        and their clients must hear so rather than wait."""
        for future, client_id in list(self.pending.items()):
            if not future.done():
                stopped = MarketStoppedError("the market stopped before committing it")
                self.market_stopped(client_id, stopped)
        self.pending.clear()

    def ref(self, client_id: Any) -> str:
        """A deposit's ref or an issuance's op id when the line gives none: unique across
        server runs, since client ids repeat from one run to the next but every run starts
        after the journal's end (any command read advances it) and an op id seen again would
        be taken for a repeat of the first (registry idempotency)."""
        return f"pipe:{self.started_seq}:{client_id}"

    async def answer_state(self, client_id: Any) -> None:
        """Answered once everything before it is committed and its ack line sent first, so
        the hash is of that state. ``drain`` waits for the commit (and raises if the market
        failed); it can return before the futures' done callbacks have run, so the answer
        then waits for the last ack line too."""
        try:
            await self.runtime.drain()
        except MarketStoppedError as error:
            self.market_stopped(client_id, error)
            return
        await self._all_acknowledged.wait()
        market = self.runtime.market
        message = {"id": client_id, "state_hash": market.state_hash()}
        self.out.send({**message, "last_seq": self.runtime.last_seq})


async def open_market(
    url: str, connect_args: Mapping[str, Any], market_id: str, create: Message | None
) -> MarketRuntime:
    """The market recovered from its journal, or created from ``create`` if it has none."""
    await prepare_database(url, connect_args=connect_args)
    if market_id in await market_ids(url, connect_args=connect_args):
        started = time.perf_counter()
        runtime = await MarketRuntime.recover(url, market_id, connect_args=connect_args)
        log.info(
            "market %s recovered at seq %d in %.2f s",
            market_id,
            runtime.last_seq,
            time.perf_counter() - started,
        )
        return runtime
    if create is None:
        raise RecoveryError(f"market {market_id} has no journal and no --create spec was given")
    instruments = tuple((str(symbol), int(price)) for symbol, price in create["instruments"])
    spec = MarketSpec(market_id, create["rules"], instruments, create.get("overrides", {}))
    log.info("market %s created: %s", market_id, spec)
    return await MarketRuntime.create(url, spec, connect_args=connect_args)


async def run(
    url: str, connect_args: Mapping[str, Any], market_id: str, create: Message | None
) -> int:
    try:
        runtime = await open_market(url, connect_args, market_id, create)
    except RecoveryError as error:
        log.error("%s", error)
        return EXIT_RECOVERY
    runtime.start()
    out = await open_stdout()
    session = PipeSession(runtime, out)
    state_hash = runtime.market.state_hash()
    out.send({"ready": True, "last_seq": runtime.last_seq, "state_hash": state_hash})
    out.flush()
    await session.serve(await open_stdin())
    try:
        await runtime.stop()  # drains: every command read is acknowledged before the exit
    except MarketStoppedError as error:  # the market failed while draining
        session.market_stopped(None, error)
    session.abandon_pending()
    await out.close()
    log.info(
        "market %s %s at seq %d",
        market_id,
        "failed" if session.failed else "stopped",
        runtime.last_seq,
    )
    return EXIT_MARKET_STOPPED if session.failed else EXIT_OK


def _json_arg(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from error


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m exchange.pipe_server", description=__doc__)
    parser.add_argument("--url", required=True, help="SQLAlchemy database URL")
    parser.add_argument("--connect-args", type=_json_arg, default={}, help="JSON connect args")
    parser.add_argument("--market", required=True, help="market id")
    parser.add_argument("--create", type=_json_arg, help="JSON spec if the market is new")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    return asyncio.run(run(args.url, args.connect_args, args.market, args.create))


if __name__ == "__main__":
    sys.exit(main())
