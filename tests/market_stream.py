"""Seeded command streams for a whole market (settlement commands), shared by the runtime's
integration tests and the benchmarks in ``loadtests/``.

``market_setup`` opens the accounts (participants, and every fourth one a covered entity with a
province), funds them, issues them allowances of every listed CEA vintage and opens the first
trading day. ``market_stream(seed, n, ...)`` then yields ``n`` commands that depend only on the
seed and the arguments, never on a market: limit orders near the touch (about a quarter of them
crossing), market, IOC and FOK orders, cancels and amendments, kill switches, deposits and
withdrawals, registry transfers, client order ids and their repeats, halts and resumes, and a
day cycle (close, day-end clearing, the next weekday's open, continuous trading) every
``day_commands`` commands, so that expiry, day-end snapshots and T+1 release all happen.

Order ids are what the market assigns (1, 2, 3, ... in acceptance order, refused orders get
none). The stream does not run a market to learn them: it counts the orders it expects to be
accepted (it knows which instruments it halted; funds, units and bands are ample by
construction) and aims cancels and amendments at recently placed limit orders by that count.
Many of those orders have traded away already, so a good share of cancels and amendments are
refused, which exercises refusals in the journal too.

Generation is cheap on purpose (a benchmark feeds it to the sequencer): per command a few draws
from one ``random.Random`` and the command tuple itself, nothing else allocated.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from zoneinfo import ZoneInfo

from matching.types import OrderType, Side, StpMode, TradingState
from registry_sim.model import Account, AccountId, AccountKind, UnitCode
from registry_sim.ops import IssueAllowances, OpenAccount, Transfer
from settlement.commands import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    CloseDay,
    Deposit,
    EndOfDay,
    Halt,
    MarketCommand,
    OpenDay,
    PlaceOrder,
    RegistryCommand,
    Resume,
    SetSession,
    Withdraw,
)

FIRST_DAY = dt.date(2026, 11, 23)  # a Monday, no holiday near it in cn_national
INSTRUMENTS: tuple[tuple[str, int], ...] = (("CEA2025", 6_000), ("CEA2024", 5_500))
DEFAULT_CASH_FEN = 10**11  # CNY 1 bn each: no order of the stream ever lacks funds
DEFAULT_UNITS_T = 100_000  # per CEA vintage: far below the 1,000,000 t position limit
DEFAULT_DAY_COMMANDS = 5_000
RING = 256  # recent limit orders that cancels and amendments aim at
PROVINCES = ("GD", "HB", "SH", "BJ")
SHANGHAI = ZoneInfo("Asia/Shanghai")
SETUP_AT = dt.time(9, 0)
PRE_OPEN_AT = dt.time(9, 15)
SESSION_AT = dt.time(9, 30)
CLOSE_AT = dt.time(15, 0)
DAY_END_AT = dt.time(15, 30)
SESSION_NS = 5 * 3600 * 1_000_000_000  # 09:30-15:00 as one span: market time per day
MAX_STEP_NS = 1_000_000  # 1 ms of market time between two commands at most
MID_DRIFT = 0.03  # mids wander at most ±3 % from the first reference price
STP_MODES = tuple(StpMode)

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET, IOC, FOK = OrderType.LIMIT, OrderType.MARKET, OrderType.IOC, OrderType.FOK


def local_ns(day: dt.date, at: dt.time) -> int:
    """Market time (ns since the epoch) of a Shanghai wall-clock time."""
    moment = dt.datetime.combine(day, at, tzinfo=SHANGHAI)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


def next_weekday(day: dt.date) -> dt.date:
    """The next Monday-to-Friday date: the stream does not need the holiday calendar, since
    ``OpenDay`` accepts any later date."""
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def market_accounts(n_accounts: int) -> list[AccountId]:
    """The trading accounts ``market_setup`` opens: ``P000``, ``P001``, ``P002``, ``E003``, ...
    (every fourth a covered entity)."""
    return [AccountId(f"{'E' if i % 4 == 3 else 'P'}{i:03d}") for i in range(n_accounts)]


def _vintage(symbol: str) -> int:
    if not (symbol.startswith("CEA") and symbol[3:].isdigit()):
        raise ValueError(f"the stream trades CEA vintages only (no projects for {symbol!r})")
    return int(symbol[3:])


def market_setup(
    n_accounts: int,
    instruments: Sequence[tuple[str, int]] = INSTRUMENTS,
    *,
    first_day: dt.date = FIRST_DAY,
    cash_fen: int = DEFAULT_CASH_FEN,
    units_t: int = DEFAULT_UNITS_T,
) -> list[MarketCommand]:
    """The commands that open, fund and stock ``market_accounts(n_accounts)`` and open
    ``first_day`` for continuous trading, timed before ``market_stream``'s first command."""
    ts = local_ns(first_day, SETUP_AT)
    commands: list[MarketCommand] = []
    for i, account_id in enumerate(market_accounts(n_accounts)):
        if account_id.startswith("E"):
            account = Account(
                account_id, AccountKind.COVERED_ENTITY, f"电厂 {i}", "power", PROVINCES[i % 4]
            )
        else:
            account = Account(account_id, AccountKind.PARTICIPANT, f"Investor {i}")
        commands.append(RegistryCommand(ts, OpenAccount(f"open:{account_id}", account)))
        commands.append(Deposit(ts, account_id, cash_fen, f"setup:{account_id}"))
        for symbol, _ in instruments:
            op = IssueAllowances(
                f"issue:{account_id}:{symbol}", account_id, _vintage(symbol), units_t
            )
            commands.append(RegistryCommand(ts, op))
    commands.append(OpenDay(local_ns(first_day, PRE_OPEN_AT), first_day))
    commands.append(SetSession(local_ns(first_day, SESSION_AT), TradingState.CONTINUOUS))
    return commands


def market_stream(
    seed: int,
    n: int,
    accounts: Sequence[AccountId],
    instruments: Sequence[tuple[str, int]] = INSTRUMENTS,
    *,
    days: int | None = None,
    day_commands: int = DEFAULT_DAY_COMMANDS,
    first_day: dt.date = FIRST_DAY,
) -> Iterator[MarketCommand]:
    """``n`` commands after ``market_setup(len(accounts), instruments, first_day=first_day)``.

    A day cycle (4 of the ``n`` commands) comes every ``day_commands`` commands, or, with
    ``days``, that many cycles spread evenly over the stream. Without ``days`` a shorter stream
    of the same seed is a prefix of a longer one (what a test needs to continue a run).
    """
    if days is not None:
        day_commands = max(8, n // (days + 1))
    if not accounts or not instruments:
        raise ValueError("a stream needs accounts and instruments")
    for symbol, _ in instruments:
        _vintage(symbol)
    rnd = random.Random(seed)
    random_ = rnd.random
    randint = rnd.randint
    accts = list(accounts)
    n_accts = len(accts)
    symbols = [symbol for symbol, _ in instruments]
    n_symbols = len(symbols)
    refs = [price for _, price in instruments]
    lows = [int(p * (1 - MID_DRIFT)) for p in refs]
    highs = [int(p * (1 + MID_DRIFT)) for p in refs]
    mids = list(refs)
    halted = [False] * n_symbols
    ring_ids = [0] * RING  # (order id, account, side, symbol index) of recent limit orders
    ring_accounts = [accts[0]] * RING
    ring_buys = [True] * RING
    ring_symbols = [0] * RING
    ring_len = 0
    ring_at = 0
    next_id = 0  # the id the market gives the next accepted order, as far as we can tell
    last_client: PlaceOrder | None = None

    day = first_day
    step_ns = max(1, min(MAX_STEP_NS, SESSION_NS // (day_commands + 1)))
    ts = local_ns(day, SESSION_AT)
    since_open = 0
    emitted = 0
    while emitted < n:
        if since_open >= day_commands:
            for command in _day_cycle(day):
                if emitted == n:
                    return
                yield command
                emitted += 1
            day = next_weekday(day)
            ts = local_ns(day, SESSION_AT)
            since_open = 0
            halted = [False] * n_symbols
            last_client = None
            continue
        since_open += 1
        emitted += 1
        ts += step_ns
        # The mid wanders by ticks, pulled back inside ±MID_DRIFT of the first reference,
        # so every price the stream sends stays well inside the ±10 % band.
        s = randint(0, n_symbols - 1)
        if random_() < 0.08:
            mid = mids[s] + randint(-3, 3)
            mids[s] = lows[s] if mid < lows[s] else highs[s] if mid > highs[s] else mid
        mid = mids[s]
        symbol = symbols[s]
        account = accts[int(n_accts * random_() ** 2)]  # the first accounts are the busiest
        r = random_()
        if r < 0.66:  # new orders
            buy = random_() < 0.5
            qty = randint(1, 60) if random_() < 0.95 else randint(100, 2_000)
            stp = StpMode.CANCEL_NEWEST if random_() < 0.9 else STP_MODES[randint(0, 3)]
            if r < 0.48:
                offset = randint(-15, 5)  # a quarter of limits cross the touch
                price = mid + offset if buy else mid - offset
                client = None
                if r < 0.03:
                    client = f"c{emitted}"
                command = PlaceOrder(
                    ts, account, symbol, BUY if buy else SELL, LIMIT, qty, price, stp, client
                )
                if not halted[s]:
                    if client is not None:
                        last_client = command  # accepted, so a repeat will not be placed
                    next_id += 1
                    ring_ids[ring_at] = next_id
                    ring_accounts[ring_at] = account
                    ring_buys[ring_at] = buy
                    ring_symbols[ring_at] = s
                    ring_at = (ring_at + 1) % RING
                    ring_len = min(ring_len + 1, RING)
                yield command
                continue
            if r < 0.56:
                order_type, price_or_none = MARKET, None
            else:
                offset = randint(0, 20)
                order_type = IOC if r < 0.62 else FOK
                price_or_none = mid + offset if buy else mid - offset
            if not halted[s]:
                next_id += 1
            yield PlaceOrder(
                ts, account, symbol, BUY if buy else SELL, order_type, qty, price_or_none, stp
            )
            continue
        if r < 0.86:  # cancels and amendments of recent limit orders
            if ring_len == 0:
                yield CancelOrder(ts, account, randint(1, 1_000))
                continue
            k = (ring_at - 1 - int(ring_len * random_() ** 2)) % RING  # the newest mostly
            target = ring_ids[k]
            owner = ring_accounts[k] if random_() < 0.95 else account  # sometimes not theirs
            if r < 0.77:
                yield CancelOrder(ts, owner, target)
                continue
            mid = mids[ring_symbols[k]]
            new_price: int | None = None
            new_qty: int | None = None
            what = random_()
            if what < 0.7:
                offset = randint(0, 15)
                new_price = mid - offset if ring_buys[k] else mid + offset
            if what > 0.4:
                new_qty = randint(1, 80)
            yield AmendOrder(ts, owner, target, new_price, new_qty)
            continue
        if r < 0.87:  # kill switch
            yield CancelAll(ts, account, symbol if random_() < 0.5 else None)
            continue
        if r < 0.90:
            yield Deposit(ts, account, randint(1, 10_000_000), f"d{emitted}")
            continue
        if r < 0.92:
            yield Withdraw(ts, account, randint(1, 1_000_000), f"w{emitted}")
            continue
        if r < 0.935:
            to = accts[randint(0, n_accts - 1)]
            op = Transfer(f"x{emitted}", account, to, UnitCode(symbol), randint(1, 200))
            yield RegistryCommand(ts, op)
            continue
        if r < 0.95:
            if last_client is None:
                yield CancelOrder(ts, account, 0)  # an id the market never gives
                continue
            yield last_client._replace(ts_ns=ts)  # the same order again: answered, not placed
            continue
        if r < 0.97 and any(halted):  # so halts last some fifty commands
            if all(halted):
                halted = [False] * n_symbols
                yield Resume(ts, None)
                continue
            h = halted.index(True)
            halted[h] = False
            yield Resume(ts, symbols[h])
            continue
        if r < 0.951:  # halt one instrument, now and then all of them
            cancel = random_() < 0.5
            if random_() < 0.2:
                halted = [True] * n_symbols
                yield Halt(ts, None, cancel)
                continue
            halted[s] = True
            yield Halt(ts, symbol, cancel)
            continue
        # the rest: a resting limit order away from the touch, to keep the book deep
        buy = random_() < 0.5
        price = mid - randint(5, 40) if buy else mid + randint(5, 40)
        if not halted[s]:
            next_id += 1
            ring_ids[ring_at] = next_id
            ring_accounts[ring_at] = account
            ring_buys[ring_at] = buy
            ring_symbols[ring_at] = s
            ring_at = (ring_at + 1) % RING
            ring_len = min(ring_len + 1, RING)
        yield PlaceOrder(ts, account, symbol, BUY if buy else SELL, LIMIT, randint(1, 60), price)


def _day_cycle(day: dt.date) -> list[MarketCommand]:
    """Close ``day``, clear it, open the next weekday and its continuous session."""
    following = next_weekday(day)
    return [
        CloseDay(local_ns(day, CLOSE_AT)),
        EndOfDay(local_ns(day, DAY_END_AT)),
        OpenDay(local_ns(following, PRE_OPEN_AT), following),
        SetSession(local_ns(following, SESSION_AT), TradingState.CONTINUOUS),
    ]
