"""The faults, each injected while the traders trade, and each checked for what the server
promises about it (docs/operations.md, docs/architecture.md: failures):

* ``kill``: SIGKILL (the campaign restarts the server once the traders have noticed);
* ``db_cut``: PostgreSQL refuses connections to the run's database and the server's backends are
  terminated; ``/readyz`` must say 503 ``NOT_READY`` (market ``reconnecting``) until the
  database is back, and 200 again after;
* ``slow_clients``: connections from other loopback addresses that never finish their headers;
  each is answered 408 after the header timeout, or refused at once past the per-address cap
  (429, which the client meets as a reset when the refusal closes on its unread half request),
  and the traders are served meanwhile;
* ``flood``: one key sends far more than its rate on a socket or pipelined on REST, or one
  address guesses keys; the flood is answered no more than its bucket allows, the rest
  ``RATE_LIMITED``, and the traders are neither limited nor left unserved;
* ``revoke``: a trader's key is revoked; a socket open with it is closed 4401, REST answers 401
  at once, and the trader goes on with a new key at the next step;
* ``day_roll``: the operator closes the day and opens the next with the traders trading.

Each returns what it measured, for the report.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from loadtests.wire import HttpConnection, WebSocketClosedError, WsConnection
from tests.faults.ledger import Ledger
from tests.faults.plan import Fault, InvariantError, Where
from tests.faults.system import (
    AUTH_FAILURES_BURST,
    AUTH_FAILURES_PER_S,
    CONNECTIONS_PER_CLIENT_MAX,
    HEADER_TIMEOUT_S,
    HOST,
    RATE_LIMIT_PER_S,
    System,
)
from tests.faults.traders import Trader

READY_WAIT_S = 30.0
POLL_S = 0.05
SLOW_ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
SLOW_ANSWER_WAIT_S = HEADER_TIMEOUT_S + 10.0
KEY_GUESSER = "127.0.0.5"
RESET = -1  # a held connection reset rather than answered
REVOKED_CLOSE = 4401
FLOOD_WAIT_S = 30.0
FLOOD_CHUNK = 50  # pings between two waits for the socket's buffer
SLOW_CONSUMER = 4008
# (per second, burst) of the bucket each flood draws on: its key's, or its address's failures.
FLOOD_BUCKETS = {
    "socket": (RATE_LIMIT_PER_S, RATE_LIMIT_PER_S),
    "pipelined": (RATE_LIMIT_PER_S, RATE_LIMIT_PER_S),
    "key_guessing": (AUTH_FAILURES_PER_S, AUTH_FAILURES_BURST),
}
BUCKET_SLACK = 2  # tokens: the clocks of the driver and of the server differ a little

Measured = dict[str, Any]


@dataclass
class Step:
    """What a fault works with: the system, the traders, what they were told, the step's own
    random stream, and where in the run it is (for a failure's message)."""

    system: System
    traders: list[Trader]
    ledger: Ledger
    rng: random.Random
    where: Where

    def fail(self, what: str) -> InvariantError:
        return InvariantError(self.where, what)


async def until(condition: Callable[[], Awaitable[bool]], wait_s: float) -> float | None:
    """Seconds until ``condition`` held, polled; None if it never did within ``wait_s``."""
    start = time.monotonic()
    while time.monotonic() - start < wait_s:
        if await condition():
            return time.monotonic() - start
        await asyncio.sleep(POLL_S)
    return None


async def readiness(system: System) -> tuple[int, dict[str, Any]]:
    status, body = await system.request("GET", "/readyz")
    return status, body or {}


async def kill(step: Step) -> Measured:
    step.system.kill()
    return {}


async def day_roll(step: Step) -> Measured:
    """closeDay, endOfDay, openDay (the calendar's next), setSession continuous."""
    system = step.system
    await system.operate("POST", "/session/close-day")
    await system.operate("POST", "/session/end-of-day")
    opened = await system.operate("POST", "/session/open-day", {})
    await system.operate("POST", "/session", {"state": "continuous"})
    for trader in step.traders:
        trader.new_day()
    return {"trading_day": str(opened["clock"]["trading_day"])}


async def db_cut(step: Step) -> Measured:
    """Cut, see /readyz turn 503 and stay so for the cut, restore, see it turn 200."""
    system = step.system

    async def not_ready() -> bool:
        status, body = await readiness(system)
        states = {m["state"] for m in body.get("markets", ())}
        return status == 503 and body.get("code") == "NOT_READY" and "reconnecting" in states

    async def ready() -> bool:
        status, body = await readiness(system)
        return status == 200 and all(m["state"] == "running" for m in body["markets"])

    step.ledger.database_away = True  # from now a read may be refused: MARKET_RECONNECTING
    terminated = await system.cut_database()
    noticed_s = await until(not_ready, READY_WAIT_S)
    if noticed_s is None:
        raise step.fail(
            f"/readyz never said NOT_READY with the database cut: {await readiness(system)}"
        )
    held_until = time.monotonic() + step.rng.uniform(0.2, 1.0)
    samples = 0
    while time.monotonic() < held_until:
        if not await not_ready():
            status, body = await readiness(system)
            raise step.fail(f"/readyz said {status} {body} while the database was cut")
        samples += 1
        await asyncio.sleep(POLL_S)
    await system.restore_database()
    ready_s = await until(ready, READY_WAIT_S)
    if ready_s is None:
        raise step.fail(f"/readyz not ready {READY_WAIT_S} s after the database came back")
    step.ledger.database_away = False
    return {
        "backends_terminated": terminated,
        "not_ready_after_s": round(noticed_s, 3),
        "not_ready_samples": samples + 1,
        "ready_again_after_s": round(ready_s, 3),
    }


async def _answer_of_held(reader: asyncio.StreamReader) -> int:
    """The status a held connection was finally answered; ``RESET`` if the connection was
    reset instead: a refusal at once closes a connection whose half request is unread, and
    the kernel then resets it, the answer possibly lost with it."""
    try:
        data = await reader.read()
    except ConnectionResetError:
        return RESET
    if not data.startswith(b"HTTP/1.1 "):
        return 0
    return int(data.split(b" ", 2)[1])


async def slow_clients(step: Step) -> Measured:
    """Connections from other addresses that send half a request's headers and wait. Each is
    answered 408 once the header timeout passed, or 429 at once past its address's cap; the
    traders and a fresh ``/healthz`` are served meanwhile."""
    system, rng = step.system, step.rng
    addresses = SLOW_ADDRESSES[: rng.randint(1, len(SLOW_ADDRESSES))]
    wanted = {address: rng.randint(8, CONNECTIONS_PER_CLIENT_MAX + 16) for address in addresses}
    held: list[tuple[str, asyncio.StreamReader, asyncio.StreamWriter]] = []
    acked_before = len(step.ledger.commands)
    opening = time.monotonic()
    try:
        for address, count in wanted.items():
            for _ in range(count):
                reader, writer = await asyncio.open_connection(
                    HOST, system.port, local_addr=(address, 0)
                )
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: carbonx\r\n")  # and no end
                held.append((address, reader, writer))
        opened_s = time.monotonic() - opening
        healthz, _ = await system.request("GET", "/healthz")
        if healthz != 200:
            raise step.fail(f"/healthz answered {healthz} while slow clients were held")
        answers = await asyncio.wait_for(
            asyncio.gather(*(_answer_of_held(reader) for _, reader, _ in held)),
            SLOW_ANSWER_WAIT_S,
        )
    except TimeoutError:
        raise step.fail(f"slow connections not answered within {SLOW_ANSWER_WAIT_S} s") from None
    finally:
        for _, _, writer in held:
            writer.close()
    served = len(step.ledger.commands) - acked_before
    for address, count in wanted.items():
        mine = [status for (a, _, _), status in zip(held, answers, strict=True) if a == address]
        over = max(0, count - CONNECTIONS_PER_CLIENT_MAX)
        at_once = mine.count(429) + mine.count(RESET)
        if set(mine) - {408, 429, RESET} or at_once > over:
            raise step.fail(f"{count} slow clients at {address} answered {sorted(mine)}")
        # Held together, all but the cap's are refused; a slow opening lets early ones time out.
        if opened_s < HEADER_TIMEOUT_S / 2 and at_once != over:
            raise step.fail(f"{count} slow clients at {address}: {at_once} refused at once")
    if served == 0:
        raise step.fail("no trader was served while slow clients held their connections")
    return {
        "held": len(held),
        "answered_408": answers.count(408),
        "answered_429": answers.count(429),
        "reset_instead_of_429": answers.count(RESET),
        "acked_while_held": served,
    }


async def flood(step: Step) -> Measured:
    """One of three floods, the step's stream decides. What a flood gets answered (rather than
    ``RATE_LIMITED``) is at most its bucket's burst and what the bucket refilled meanwhile;
    the traders are neither limited nor left unserved."""
    how = step.rng.choice(("socket", "pipelined", "key_guessing"))
    acked_before = len(step.ledger.commands)
    limited_before = step.ledger.refusals["RATE_LIMITED"]
    flooding = {"socket": _socket_flood, "pipelined": _pipelined_flood, "key_guessing": _guesses}
    started = time.monotonic()
    measured = await flooding[how](step)
    elapsed_s = time.monotonic() - started
    per_s, burst = FLOOD_BUCKETS[how]
    allowed = burst + per_s * elapsed_s + BUCKET_SLACK
    if measured["answered"] > allowed:
        raise step.fail(
            f"a {how} flood was answered {measured['answered']} times in {elapsed_s:.2f} s, "
            f"more than its bucket allows ({allowed:.0f}): {measured}"
        )
    if step.ledger.refusals["RATE_LIMITED"] != limited_before:
        raise step.fail("a trader was rate limited by another client's flood")
    served = len(step.ledger.commands) - acked_before
    if served == 0:
        raise step.fail(f"no trader was served during a {how} flood")
    return {"how": how, **measured, "seconds": round(elapsed_s, 3), "acked_during": served}


def _flood_key(system: System) -> str:
    """The key of the account no trader uses."""
    return system.market.keys[max(system.market.keys)]


async def _socket_flood(step: Step) -> Measured:
    """Pings, far more than the key's burst, as fast as the socket takes them, the answers
    read meanwhile. Each is answered ``pong`` or ``RATE_LIMITED``; a flood that reads its
    answers slower than it sends may instead be dropped as a slow consumer (4008)."""
    system = step.system
    count = step.rng.randint(2_000, 4_000)
    path = f"/v1/ws?key={_flood_key(system)}&market_id={system.market.market_id}"
    ws = await WsConnection.open(HOST, system.port, path)
    answers: Counter[str] = Counter()

    async def read_answers() -> None:
        while answers.total() < count:
            message = json.loads(await ws.recv())
            answers[message.get("code") or message["type"]] += 1

    try:
        authed = json.loads(await ws.recv())
        if authed["type"] != "authed":
            raise step.fail(f"the flooding key's socket was answered {authed}")
        reading = asyncio.ensure_future(read_answers())
        for n in range(count):
            ws.send({"op": "ping", "req_id": n})
            if n % FLOOD_CHUNK == 0:
                await ws.drain()
        await ws.drain()
        await asyncio.wait_for(reading, FLOOD_WAIT_S)
    except WebSocketClosedError as closed:
        if closed.code != SLOW_CONSUMER:
            raise step.fail(f"a socket flood was closed {closed.code}: {answers}") from None
        answers["dropped"] += 1
    except TimeoutError:
        raise step.fail(f"a socket flood of {count} pings was answered {answers} only") from None
    finally:
        await ws.close()
    unexpected = set(answers) - {"pong", "RATE_LIMITED", "dropped", "heartbeat"}
    if unexpected:
        raise step.fail(f"a socket flood was answered {dict(answers)}")
    return {
        "sent": count,
        "answered": answers["pong"],
        "rate_limited": answers["RATE_LIMITED"],
        "dropped_slow_consumer": answers["dropped"],
    }


async def _pipelined_flood(step: Step) -> Measured:
    """getBook requests pipelined on two connections, more than the key's burst."""
    system = step.system
    count = step.rng.randint(800, 1_400)
    path = f"{system.market_path}/book/{system.market.symbol}"
    key = _flood_key(system)

    async def one_connection() -> list[int]:
        conn = await HttpConnection.open(HOST, system.port)
        try:
            for _ in range(count):
                conn.send("GET", path, key)
            return [(await conn.response())[0] for _ in range(count)]
        finally:
            await conn.close()

    try:
        answers = await asyncio.wait_for(
            asyncio.gather(one_connection(), one_connection()), FLOOD_WAIT_S
        )
    except TimeoutError:
        raise step.fail(f"a pipelined flood of 2 x {count} requests was not answered") from None
    statuses = [status for part in answers for status in part]
    unexpected = sorted({s for s in statuses if s not in (200, 429)})
    if unexpected:
        raise step.fail(f"a pipelined flood was answered {unexpected}")
    return {
        "sent": len(statuses),
        "answered": statuses.count(200),
        "rate_limited": statuses.count(429),
    }


async def _guesses(step: Step) -> Measured:
    """Unknown keys from an address of their own: 401 until its budget of failed lookups is
    spent, then 429 without a lookup."""
    system = step.system
    count = step.rng.randint(40, 80)
    conn = await HttpConnection.open(HOST, system.port, KEY_GUESSER)
    statuses = []
    try:
        for _ in range(count):
            guess = "cx_" + step.rng.randbytes(16).hex()
            status, _ = await conn.request("GET", f"{system.market_path}/orders", guess)
            statuses.append(status)
    finally:
        await conn.close()
    unexpected = sorted({s for s in statuses if s not in (401, 429)})
    if unexpected:
        raise step.fail(f"guessed keys were answered {unexpected}")
    return {"sent": count, "answered": statuses.count(401), "rate_limited": statuses.count(429)}


async def _close_code(ws: WsConnection) -> int | None:
    """Read a socket to its end: the server's close code."""
    try:
        while True:
            await ws.recv()
    except WebSocketClosedError as closed:
        return closed.code


async def revoke(step: Step) -> Measured:
    """Revoke a trader's key with a socket open on it; a new key for its next step."""
    system, victim = step.system, step.rng.choice(step.traders)
    old_key = victim.key
    path = f"/v1/ws?key={old_key}&market_id={system.market.market_id}"
    watcher = await WsConnection.open(HOST, system.port, path)
    try:
        authed = json.loads(await watcher.recv())
        if authed["type"] != "authed":
            raise step.fail(f"{victim}'s key was refused before its revocation: {authed}")
        revoked_at = time.monotonic()
        await system.revoke(old_key)
        close_code = await asyncio.wait_for(_close_code(watcher), READY_WAIT_S)
        closed_s = time.monotonic() - revoked_at
    except TimeoutError:
        raise step.fail(f"a socket of {victim}'s revoked key stayed open") from None
    finally:
        await watcher.close()
    if close_code != REVOKED_CLOSE:
        raise step.fail(f"a socket of {victim}'s revoked key was closed {close_code}")
    status, _ = await system.request("GET", f"{system.market_path}/orders", old_key)
    if status != 401:
        raise step.fail(f"REST answered {status} to {victim}'s revoked key")
    victim.key = await system.new_participant_key(victim.account)
    return {"victim": victim.name, "socket_closed_after_s": round(closed_s, 3)}


FAULTS: dict[Fault, Callable[[Step], Awaitable[Measured]]] = {
    Fault.KILL: kill,
    Fault.DB_CUT: db_cut,
    Fault.SLOW_CLIENTS: slow_clients,
    Fault.FLOOD: flood,
    Fault.REVOKE: revoke,
    Fault.DAY_ROLL: day_roll,
}
