"""The market runtime: one sequencer per market, a group-committing journal writer, recovery.

The sequencer is an asyncio task that takes commands in arrival order, stamps each with the
market clock and a journal sequence number, and applies it to the pure ``settlement.Market``
(hold → match → settle → registry). The rows it produces (the command for the journal, and the
orders, trades, postings, balances, statements and day-end snapshot it caused) collect in the
open batch. The writer task commits whatever has collected whenever the previous commit is done
(group commit), and only then resolves the callers' futures and tells the listeners (market
data): durable before acknowledged. The database is never on the matching path.

Reads see only what is durable: ``read`` computes its answer from the market at once (the state
after the last command applied) but hands it over only once that command is committed, so a
caller is never shown an order, a trade or a balance that a crash could still take back.

A database blip (a lost connection, a failover, a full disk: ``journal_store.is_transient``)
does not stop the market: the writer reconnects with a growing, capped backoff and commits the
failed batch again unless it went in after all (``JournalWriter.holds``: idempotent by seq).
Meanwhile the market is ``RECONNECTING``: nothing more is applied, new commands and reads are
refused with ``MarketReconnectingError`` (the gateway's 503 ``MARKET_RECONNECTING``), and the
callers already queued wait for their acknowledgement. Any other failure of a commit, or a bug
in the business logic, stops the market (``STOPPED``): nothing more is acknowledged.

Recovery loads the latest day-end snapshot, replays the journal after it, and compares the
rebuilt state with the stored projections; if they differ the market does not open.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar, cast

from exchange import codec, rows
from exchange.bars import NS_PER_MIN
from exchange.clock import (
    ClockAction,
    ClockEvent,
    MarketClock,
    day_start_ns,
    events_after,
    local_date,
    run_schedule,
)
from exchange.db.journal_store import (
    Batch,
    JournalWriter,
    is_transient,
    iter_journal,
    latest_snapshot,
    open_writer,
    projection_summary,
)
from exchange.rows import Ack as Ack  # re-exported: part of the runtime's interface
from exchange.tuning import collect_frozen, settle_young_objects, tune_gc_for_sequencer
from matching.types import TradingState
from settlement.commands import (
    CloseDay,
    EndOfDay,
    MarketCommand,
    OpenDay,
    SetSession,
)
from settlement.market import Market
from settlement.outcome import Outcome
from settlement.spec import MarketSpec

log = logging.getLogger("carbonx.runtime")

MAX_BATCH_COMMANDS = 20_000  # the sequencer waits for the writer beyond this (backpressure)
SLICE_COMMANDS = 50  # between two yields: the writer's round trips wait at most one slice
RECONNECT_FIRST_S = 0.05  # the writer's first wait after a database blip, doubled each attempt
RECONNECT_MAX_S = 2.0  # ... up to this: a database back after a failover is found within 2 s

Listener = Callable[[Sequence[Ack]], None]
Guard = tuple[str, str, str]  # (session_id, account_id, event): exchange.disconnects
T = TypeVar("T")


class _Group:
    """Commands submitted together (``submit_many``): one future for all their acks, which
    saves a bulk client a future and a callback per command."""

    __slots__ = ("acks", "future", "guards", "size")

    def __init__(
        self, future: asyncio.Future[list[Ack]], size: int, guards: Sequence[Guard] = ()
    ) -> None:
        self.future = future
        self.size = size
        self.acks: list[Ack] = []
        self.guards = guards  # journaled with the group's last command


Waiter = asyncio.Future[Ack] | _Group | None


class RecoveryError(RuntimeError):
    """The journal and the projections disagree: the market must not open."""


class MarketState(StrEnum):
    """What a market's runtime is doing (``MarketRuntime.state``, the gateway's ``/readyz``)."""

    RUNNING = "running"
    RECONNECTING = "reconnecting"  # its database is gone for now: nothing new is taken
    STOPPED = "stopped"  # not started, stopped, or broken by a failed commit or a bug


class MarketStoppedError(RuntimeError):
    """The market is not running (stopped, or broken by a failed commit or a bug)."""

    code = "MARKET_STOPPED"


class MarketReconnectingError(MarketStoppedError):
    """The market lost its database and is reconnecting: it takes nothing new until the
    database is back (a caller retries; what was queued before is acknowledged then)."""

    code = "MARKET_RECONNECTING"


@dataclass(slots=True)
class RuntimeStats:
    commands: int = 0
    commits: int = 0
    committed_commands: int = 0
    commit_seconds_total: float = 0.0
    commit_seconds_max: float = 0.0
    recent_commit_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1024))
    reconnects: int = 0  # database blips outlasted
    reconnect_attempts: int = 0
    reconnecting_since: float | None = None  # wall time (s) the current blip began
    database_error: str = ""  # the last error of the journal's database


class MarketRuntime:
    """The running market: submit commands, get durable acknowledgements."""

    def __init__(
        self,
        market: Market,
        writer: JournalWriter,
        *,
        last_seq: int,
        last_ts_ns: int,
        clock: MarketClock | None = None,
    ) -> None:
        self.market = market
        self.market_id = market.spec.market_id
        self.clock = clock
        self.listeners: list[Listener] = []
        self.stats = RuntimeStats()
        self._writer = writer
        self._seq = last_seq
        self._last_ts_ns = last_ts_ns
        self._wall_day: tuple[int, dt.date | None] = (-1, None)  # (wall minute, local date)
        self._day_times: tuple[dt.date | None, int, int] = (None, 0, 0)  # (day, pre-open, open)
        self._inbox: deque[tuple[MarketCommand, Waiter]] = deque()
        self._inbox_ready = asyncio.Event()
        self._rows_ready = asyncio.Event()
        self._batch_taken = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._batch = Batch(self.market_id)
        self._acks: list[Ack] = []  # of the open batch, in order
        self._due: list[tuple[asyncio.Future[Any], Any]] = []  # (future, result) at its commit
        self._dirty: set[tuple[Any, Any, Any]] = set()
        self._in_flight: list[tuple[asyncio.Future[Any], Any]] = []  # due of the batch committing
        self._durable_seq = last_seq  # the last seq committed
        self._tasks: list[asyncio.Task[None]] = []
        self._failure: BaseException | None = None
        self._running = False
        self._reconnecting = False
        self._accepting = False  # running and not reconnecting: takes new commands and reads
        self._resumed = asyncio.Event()  # set unless reconnecting: the sequencer applies
        self._resumed.set()
        self._day: dt.date | None = None
        self._day_text = ""

    # ------------------------------------------------------------------ opening

    @classmethod
    async def create(
        cls,
        url: str,
        spec: MarketSpec,
        *,
        connect_args: Mapping[str, Any] | None = None,
        clock: MarketClock | None = None,
        start_ts_ns: int = 0,
    ) -> MarketRuntime:
        """A new market: its spec is the journal's first entry, so a replay needs nothing
        else. The tables must exist (``journal_store.prepare_database``)."""
        market = Market(spec)
        writer = await open_writer(url, connect_args=connect_args)
        batch = Batch(spec.market_id)
        batch.journal.append(
            (spec.market_id, 1, start_ts_ns, codec.CREATE_MARKET, None, codec.encode_spec(spec))
        )
        try:
            await writer.commit(batch)
        except BaseException:
            await writer.close()
            raise
        return cls(market, writer, last_seq=1, last_ts_ns=start_ts_ns, clock=clock)

    @classmethod
    async def recover(
        cls,
        url: str,
        market_id: str,
        *,
        connect_args: Mapping[str, Any] | None = None,
        clock: MarketClock | None = None,
    ) -> MarketRuntime:
        """The market as its journal left it (see ``rebuild``), checked against the
        projections, ready to start."""
        rebuilt = await rebuild_market(url, market_id, connect_args=connect_args)
        await check_projections(
            url,
            rebuilt.market,
            rebuilt.last_seq,
            connect_args=connect_args,
            base_posting_id=rebuilt.base_posting_id,
            base_balances=rebuilt.base_balances,
        )
        writer = await open_writer(url, connect_args=connect_args)
        return cls(
            rebuilt.market,
            writer,
            last_seq=rebuilt.last_seq,
            last_ts_ns=rebuilt.last_ts_ns,
            clock=clock,
        )

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        """Start the sequencer and the writer (within a running event loop)."""
        if self._running:
            return
        tune_gc_for_sequencer()
        self._running = self._accepting = True
        self._tasks = [
            asyncio.create_task(self._sequence(), name=f"sequencer:{self.market_id}"),
            asyncio.create_task(self._write(), name=f"writer:{self.market_id}"),
        ]

    def run_clock(
        self, clock: MarketClock, events: Iterable[ClockEvent] | None = None
    ) -> asyncio.Task[None]:
        """Drive the trading day from the rule set's calendar: each clock event becomes a
        journaled command at the event's market time. ``events`` defaults to the calendar's
        after the last journaled time; the gateway passes what the market's state still needs
        (``exchange.api.routes.clock``)."""
        self.clock = clock
        if events is None:
            events = events_after(self.market.rules.calendar, self._last_ts_ns)
        task = asyncio.create_task(run_schedule(clock, events, self._submit_clock_event))
        self._tasks.append(task)
        return task

    async def _submit_clock_event(self, event: ClockEvent) -> Ack:
        return await self.submit_nowait(clock_command(event), wait_for_database=True)

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def durable_seq(self) -> int:
        """The last seq committed: everything up to it survives a crash."""
        return self._durable_seq

    @property
    def state(self) -> MarketState:
        if not self._running:
            return MarketState.STOPPED
        return MarketState.RECONNECTING if self._reconnecting else MarketState.RUNNING

    @property
    def last_ts_ns(self) -> int:
        """The market time of the last command applied (journal order never goes back)."""
        return self._last_ts_ns

    def submit_nowait(
        self, command: MarketCommand, *, wait_for_database: bool = False
    ) -> asyncio.Future[Ack]:
        """Queue a command; the future resolves once it is durable. While the market
        reconnects to its database a command is refused (``MarketReconnectingError``) unless
        ``wait_for_database`` (the clock, cancel on disconnect, bots: work that must not be
        lost): then it is queued, and applied once the database is back."""
        if not self._accepting:
            self._refuse(wait_for_database)
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._inbox.append((command, future))
        self._inbox_ready.set()
        return future

    async def submit(self, command: MarketCommand, *, wait_for_database: bool = False) -> Ack:
        return await self.submit_nowait(command, wait_for_database=wait_for_database)

    def submit_many(
        self,
        commands: Sequence[MarketCommand],
        *,
        wait_for_database: bool = False,
        guards: Sequence[Guard] = (),
    ) -> asyncio.Future[list[Ack]]:
        """Queue commands in order; the future resolves with their acks, in order, once the
        last of them is durable (bots, simulations and bulk loads). ``guards`` (cancel on
        disconnect's ``ended``) are journaled in the batch of the last command, so they are
        durable exactly when it is. ``wait_for_database`` as ``submit_nowait``'s."""
        if not self._accepting:
            self._refuse(wait_for_database)
        future: asyncio.Future[list[Ack]] = asyncio.get_running_loop().create_future()
        if not commands:
            assert not guards, "guards go with a command: note_guards"
            future.set_result([])
            return future
        group = _Group(future, len(commands), guards)
        self._inbox.extend((command, group) for command in commands)
        self._inbox_ready.set()
        return future

    def note_guards(self, guards: Sequence[Guard]) -> asyncio.Future[None]:
        """Journal cancel-on-disconnect guards (``exchange.disconnects``) after every command
        applied so far: any command submitted later is journaled in the same batch or a later
        one. The future resolves once they are durable. Taken while the market reconnects."""
        if not self._running:
            raise MarketStoppedError(f"market {self.market_id} is not running") from self._failure
        self._add_guards(guards)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._due.append((future, None))
        self._rows_ready.set()
        return future

    def _add_guards(self, guards: Sequence[Guard]) -> None:
        m, seq = self.market_id, self._seq
        rows = [(m, session, account, event, seq) for session, account, event in guards]
        self._batch.disconnect_guards.extend(rows)

    async def read(self, view: Callable[[Market], T]) -> T:
        """``view`` of the market, answered only once durable: computed now, from the state
        after the last command applied, and handed over once that command is committed (at
        once when it is). Its exception, if it raises one, is held the same way. Refused
        while the market is stopped or reconnecting: its state may hold what never will be."""
        if not self._accepting:
            self._refuse(wait_for_database=False)
        outcome: tuple[Any, Exception | None]
        try:
            outcome = (view(self.market), None)
        except Exception as error:  # handed to the caller, once durable
            outcome = (None, error)
        if self._durable_seq != self._seq:
            future: asyncio.Future[tuple[Any, Exception | None]]
            future = asyncio.get_running_loop().create_future()
            self._due.append((future, outcome))
            self._rows_ready.set()
            outcome = await future
        value, failure = outcome
        if failure is not None:
            raise failure
        return cast(T, value)

    def _refuse(self, wait_for_database: bool) -> None:
        """Raise why the market takes nothing now, unless it is reconnecting and the caller
        waits for the database."""
        if not self._running:
            raise MarketStoppedError(f"market {self.market_id} is not running") from self._failure
        if self._reconnecting and not wait_for_database:
            raise MarketReconnectingError(
                f"market {self.market_id} is reconnecting to its database"
            )

    async def drain(self) -> None:
        """Wait until every queued command is applied and committed (through a database
        blip, however long)."""
        await self._drain(through_blips=True)

    async def _drain(self, *, through_blips: bool) -> None:
        while (
            self._running
            and (through_blips or not self._reconnecting)
            and (self._inbox or self._acks or self._due or not self._idle.is_set())
        ):
            self._rows_ready.set()
            await asyncio.sleep(0.001)
        if self._failure is not None:
            raise MarketStoppedError(f"market {self.market_id} failed") from self._failure

    async def stop(self) -> None:
        """Drain, then stop the tasks and close the writer. A market reconnecting to its
        database is not waited for: what it has not committed was never acknowledged, and
        its callers are told it stopped."""
        try:
            if self._failure is None:
                await self._drain(through_blips=False)
        finally:
            abandoned = self._reconnecting
            self._running = self._accepting = False
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
            if abandoned:
                self._fail(MarketStoppedError("stopped while reconnecting to its database"))
            await self._writer.close()

    # ------------------------------------------------------------------ the sequencer

    async def _sequence(self) -> None:
        inbox = self._inbox
        try:
            while True:
                if self._reconnecting:  # nothing more is applied until the database is back
                    await self._resumed.wait()
                    continue
                if not inbox:
                    self._inbox_ready.clear()
                    await self._inbox_ready.wait()
                    continue
                for _ in range(min(len(inbox), SLICE_COMMANDS)):
                    command, future = inbox.popleft()
                    try:
                        self._apply(command, future)
                    except BaseException:
                        inbox.appendleft((command, future))  # so _fail tells its caller
                        raise
                settle_young_objects()
                self._rows_ready.set()
                if len(self._batch.journal) >= MAX_BATCH_COMMANDS:
                    self._batch_taken.clear()
                    await self._batch_taken.wait()
                else:
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # a bug in the business logic: stop the market
            self._fail(error)

    def now_ns(self) -> int:
        """The market time a command submitted now would carry: the clock's, else the time
        of a market without one (``_unclocked_ts_ns``); never before the last command's."""
        ts = self.clock.now_ns() if self.clock is not None else self._unclocked_ts_ns(None)
        return max(ts, self._last_ts_ns)

    def _unclocked_ts_ns(self, command: MarketCommand | None) -> int:
        """Market time without a clock: the wall time while the market trades today (its
        calendar's date), as in the demo. A day in the past or future (a market opened on
        another date) is opened at its pre-open and runs at its open, its first session's
        start, so no trade is stamped 1970-01-01. Before any day is open it stays at the last
        journaled time (a class's journal begins at its first pre-open)."""
        day = command.trading_day if type(command) is OpenDay else self.market.trading_day
        if day is None:
            return self._last_ts_ns
        now = time.time_ns()
        minute = now // NS_PER_MIN  # a local date changes only on a minute's boundary
        if minute != self._wall_day[0]:
            self._wall_day = (minute, local_date(self.market.rules.calendar, now))
        if self._wall_day[1] == day:
            return now
        pre_open, opens = self._day_time(day)
        return max(self._last_ts_ns, pre_open if type(command) is OpenDay else opens)

    def _day_time(self, day: dt.date) -> tuple[int, int]:
        """``day``'s pre-open and its first session's open, in market time (remembered)."""
        known, pre_open, opens = self._day_times
        if known != day:
            pre_open, opens = day_start_ns(self.market.rules.calendar, day)
            self._day_times = (day, pre_open, opens)
        return pre_open, opens

    def _apply(self, command: MarketCommand, future: Waiter) -> None:
        ts = command.ts_ns
        if self.clock is not None:
            ts = self.clock.now_ns()
        elif not ts:  # no market clock: an unstamped command (the API's)
            ts = self._unclocked_ts_ns(command)
        if ts < self._last_ts_ns:
            ts = self._last_ts_ns  # market time never runs backwards in the journal
        if ts != command.ts_ns:
            # command._replace(ts_ns=ts) in a third of the time (no keyword matching): every
            # market command is a named tuple with ts_ns first, as
            # tests/integration/test_runtime.py checks. Most commands come here: the API's are
            # unstamped and a clock restamps every one.
            command = type(command)._make((ts, *command[1:]))
        self._last_ts_ns = ts
        self._seq += 1
        seq = self._seq
        outcome = self.market.apply(command)
        kind, account, body = codec.encode(command)
        self._batch.journal.append((self.market_id, seq, ts, kind, account, body))
        if outcome.code is None:
            self._project(seq, command, outcome)
        ack = Ack(seq, command, outcome)
        self._acks.append(ack)
        if type(future) is _Group:
            future.acks.append(ack)
            if len(future.acks) == future.size:
                self._due.append((future.future, future.acks))
                if future.guards:
                    self._add_guards(future.guards)
        elif future is not None:
            self._due.append((future, ack))  # type: ignore[arg-type]
        self.stats.commands += 1

    def _project(self, seq: int, command: MarketCommand, outcome: Outcome) -> None:
        """The rows of the projections that one applied command adds to the batch."""
        m = self.market_id
        batch = self._batch
        market = self.market
        if market.trading_day is not self._day:
            self._day = market.trading_day
            self._day_text = "" if self._day is None else self._day.isoformat()
        day = self._day_text
        rows.project(batch, self._dirty, seq, day, command, outcome)
        if type(command) is EndOfDay:
            batch.snapshots.append((m, seq, day, market.state_hash(), market.snapshot()))

    # ------------------------------------------------------------------ the writer

    async def _write(self) -> None:
        try:
            while True:
                if not self._acks and not self._due:
                    self._idle.set()
                    self._rows_ready.clear()
                    await self._rows_ready.wait()
                    continue
                self._idle.clear()
                batch, acks, due, dirty = self._batch, self._acks, self._due, self._dirty
                self._batch, self._acks, self._due = Batch(self.market_id), [], []
                self._dirty = set()
                # The market now is exactly the batch's last command: its balances are the
                # batch's to write.
                batch.balances = self.market.balances_of(dirty)
                self._batch_taken.set()
                self._in_flight = due  # for _fail
                if batch.journal or batch.disconnect_guards:  # else only reads wait on it
                    started = time.perf_counter()
                    try:
                        await self._writer.commit(batch)
                    except Exception as error:
                        if not is_transient(error):
                            raise
                        await self._commit_again(batch, error)
                    self._record_commit(time.perf_counter() - started, len(acks))
                if acks:
                    self._durable_seq = acks[-1].seq
                self._in_flight = []
                if batch.snapshots:  # a day end: no order waits on a full collection
                    collect_frozen()
                for future, result in due:
                    if not future.done():
                        future.set_result(result)
                self._tell(acks)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # the database failed: nothing more is acknowledged
            self._fail(error)

    async def _commit_again(self, batch: Batch, error: Exception) -> None:
        """Outlast a database blip: reconnect with a growing, capped backoff, and commit the
        batch again unless the lost commit went in after all. Only a non-transient error
        (a bug) gets out of here."""
        stats = self.stats
        self._reconnecting, self._accepting = True, False
        self._resumed.clear()
        stats.reconnecting_since, stats.database_error = time.time(), repr(error)
        log.warning("market %s lost its database (%r): reconnecting", self.market_id, error)
        delay = RECONNECT_FIRST_S
        while True:
            await asyncio.sleep(delay)
            delay = min(2 * delay, RECONNECT_MAX_S)
            stats.reconnect_attempts += 1
            try:
                await self._writer.reconnect()
            except Exception as refused:  # not back yet, whatever it answers: try again
                self._database_error(refused)
                continue
            try:
                if not await self._writer.holds(batch):
                    await self._writer.commit(batch)
            except Exception as again:
                if not is_transient(again):
                    raise
                self._database_error(again)
                continue
            break
        log.warning(
            "market %s: database back after %.1f s",
            self.market_id,
            time.time() - (stats.reconnecting_since or 0.0),
        )
        stats.reconnects += 1
        stats.reconnecting_since = None
        self._reconnecting, self._accepting = False, self._running
        self._resumed.set()

    def _database_error(self, error: Exception) -> None:
        """Keep the last error of a blip; log it when it changes (not at every attempt)."""
        if repr(error) != self.stats.database_error:
            log.warning("market %s: still reconnecting: %r", self.market_id, error)
        self.stats.database_error = repr(error)

    def _record_commit(self, seconds: float, commands: int) -> None:
        stats = self.stats
        stats.commits += 1
        stats.committed_commands += commands
        stats.commit_seconds_total += seconds
        stats.commit_seconds_max = max(stats.commit_seconds_max, seconds)
        stats.recent_commit_ms.append(seconds * 1000)

    def _tell(self, acks: Sequence[Ack]) -> None:
        for listener in self.listeners:
            try:
                listener(acks)
            except Exception:  # a listener's bug must not stop the market
                log.exception("market %s: listener %r failed", self.market_id, listener)

    def _fail(self, error: BaseException) -> None:
        log.error("market %s stopped: %r", self.market_id, error)
        self._failure = error
        self._running = False
        self._accepting = self._reconnecting = False
        self._resumed.set()
        stopped = MarketStoppedError(f"market {self.market_id} stopped: {error!r}")
        futures: list[asyncio.Future[Any] | None] = [f for f, _ in self._in_flight + self._due]
        for _, waiter in self._inbox:
            futures.append(waiter.future if type(waiter) is _Group else waiter)  # type: ignore[arg-type]
        for future in futures:
            if future is not None and not future.done():
                future.set_exception(stopped)
        self._acks.clear()
        self._due.clear()
        self._in_flight = []
        self._inbox.clear()
        self._idle.set()


def clock_command(event: ClockEvent) -> MarketCommand:
    """The journaled command for a step of the trading calendar."""
    action = event.action
    if action is ClockAction.PRE_OPEN:
        return OpenDay(event.ts_ns, event.trading_day)
    if action is ClockAction.SESSION_OPEN:
        return SetSession(event.ts_ns, TradingState.CONTINUOUS)
    if action is ClockAction.SESSION_BREAK:
        return SetSession(event.ts_ns, TradingState.BREAK)
    if action is ClockAction.CLOSE:
        return CloseDay(event.ts_ns)
    return EndOfDay(event.ts_ns)


# ---------------------------------------------------------------------- recovery


@dataclass(slots=True)
class Rebuilt:
    """A market rebuilt from its journal, and where the replay started: the snapshot's last
    posting id and balances (0 and none when replayed from the start)."""

    market: Market
    last_seq: int
    last_ts_ns: int
    base_posting_id: int = 0
    base_balances: dict[tuple[str, str, str], int] = field(default_factory=dict)


async def rebuild(
    url: str, market_id: str, *, connect_args: Mapping[str, Any] | None = None
) -> tuple[Market, int, int]:
    """(market, last seq, last market time) from the latest day-end snapshot whose state hash
    checks out, and the journal after it; from the journal's start without one."""
    rebuilt = await rebuild_market(url, market_id, connect_args=connect_args)
    return rebuilt.market, rebuilt.last_seq, rebuilt.last_ts_ns


async def rebuild_market(
    url: str, market_id: str, *, connect_args: Mapping[str, Any] | None = None
) -> Rebuilt:
    """``rebuild``, with where the replay started (for ``check_projections``)."""
    market: Market | None = None
    after = 0
    base: tuple[int, dict[tuple[str, str, str], int]] = (0, {})
    snapshot = await latest_snapshot(url, market_id, connect_args=connect_args)
    if snapshot is not None:
        try:
            candidate = Market.restore(snapshot.body)
        except Exception:  # written by other code: replay from the start instead
            log.warning("market %s: snapshot at seq %d unreadable", market_id, snapshot.seq)
        else:
            if candidate.state_hash() == snapshot.state_hash:
                market, after = candidate, snapshot.seq
                base = (candidate.posting_seq, candidate.balances())
            else:
                log.warning("market %s: snapshot at seq %d has another hash", market_id, after)
    last_seq, last_ts = after, 0
    async for row in iter_journal(url, market_id, after, connect_args=connect_args):
        if row.seq != last_seq + 1:
            raise RecoveryError(f"market {market_id}: journal jumps from {last_seq} to {row.seq}")
        last_seq, last_ts = row.seq, row.ts_ns
        if market is None:
            if row.kind != codec.CREATE_MARKET:
                raise RecoveryError(f"market {market_id}: journal does not start with its spec")
            market = Market(codec.decode_spec(row.body))
            continue
        market.apply(codec.decode(row.kind, row.ts_ns, row.account_id, row.body))
    if market is None:
        raise RecoveryError(f"market {market_id}: no journal")
    return Rebuilt(market, last_seq, last_ts, *base)


async def check_projections(
    url: str,
    market: Market,
    last_seq: int,
    *,
    connect_args: Mapping[str, Any] | None = None,
    base_posting_id: int = 0,
    base_balances: Mapping[tuple[str, str, str], int] | None = None,
) -> None:
    """Refuse (``RecoveryError``) unless the stored projections are what the journal says:
    every balance, the postings adding up to them, every trade and every order. Given where a
    replay from a snapshot started, only the postings after it are summed, against the
    balances' change since then."""
    market_id = market.spec.market_id
    summary = await projection_summary(
        url, market_id, connect_args=connect_args, postings_after=base_posting_id
    )
    problems = []
    if summary.last_seq != last_seq:
        problems.append(f"journal ends at {summary.last_seq}, replayed {last_seq}")
    if summary.balances != market.balances():
        problems.append(_difference("balances", summary.balances, market.balances()))
    change = _minus(summary.balances, base_balances or {})
    if summary.posting_sums != change:
        problems.append(_difference("postings", summary.posting_sums, change))
    if (summary.trade_count, summary.max_trade_id) != (market.last_trade_id,) * 2:
        problems.append(
            f"{summary.trade_count} trades stored up to id {summary.max_trade_id}, "
            f"the journal made {market.last_trade_id}"
        )
    if (summary.order_count, summary.max_order_id) != (market.next_order_id,) * 2:
        problems.append(
            f"{summary.order_count} orders stored up to id {summary.max_order_id}, "
            f"the journal accepted {market.next_order_id}"
        )
    if problems:
        raise RecoveryError(f"market {market_id} does not open: " + "; ".join(problems))


def _minus(
    now: Mapping[tuple[str, str, str], int], then: Mapping[tuple[str, str, str], int]
) -> dict[tuple[str, str, str], int]:
    """``now - then`` per key, non-zero differences only."""
    out = {key: amount - then.get(key, 0) for key, amount in now.items()}
    for key, amount in then.items():
        if key not in now:
            out[key] = -amount
    return {key: amount for key, amount in out.items() if amount}


def _difference(what: str, stored: Mapping[Any, int], expected: Mapping[Any, int]) -> str:
    keys = sorted(set(stored) ^ set(expected) | {k for k in stored if stored[k] != expected.get(k)})
    shown = ", ".join(f"{k}: {stored.get(k, 0)} != {expected.get(k, 0)}" for k in keys[:5])
    return f"{what} differ at {len(keys)} keys ({shown})"
