"""Bots over the network: the same agents trading a live server through ``exchange.client``.

Each bot has its own participant key and ``AsyncClient``. At each wake-up (exponential wall
intervals, its ``wakeups_per_day`` per wall "day" of ``day_s`` seconds, as in
``exchange.agents.live``) it reads the market over REST into a ``RemoteView``: ``getMarket``
(is the session continuous?), ``listInstruments``, ``getQuote`` of each tradable instrument,
``getBalances``, ``listOrders``, the block board (``listBlockQuotes``, while the market
offers block trading) and for a compliance firm ``getComplianceStatus``. Its agent's actions go
back as REST calls: ``placeOrder`` (with a ``client_order_id``, so a resend after a dropped
connection cannot place twice), ``cancelOrder``, ``amendOrder``, ``cancelAllOrders``,
``surrender``, ``postBlockQuote``, ``acceptBlockQuote``, ``cancelBlockQuote``. A refusal
(``CarbonxError``) is counted by its code; an agent's exception pauses that bot; ``Abate`` does
not exist over the network and is ignored.

``carbonx bots --url URL --market M --key-file FILE --bot KIND:COUNT[:PARAMS] ...`` runs them:
for classes (a moving market beside the students) and for load. With an operator key in the
key file (the demo's ``exchange_operator_key``, else ``operator_key``) it opens a funded
participant per bot (``createParticipant``, or ``issueKey`` when the account exists);
otherwise the file's ``participants`` (account id -> key) are used, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exchange.agents.base import (
    Abate,
    AcceptBlock,
    Action,
    Agent,
    Amend,
    AuctionInfo,
    BidAuction,
    BlockInfo,
    BlockQuoteInfo,
    Cancel,
    CancelAll,
    CancelBlock,
    ComplianceView,
    InstrumentInfo,
    OpenOrder,
    Place,
    PostBlock,
    Quote,
    SurrenderUnits,
)
from exchange.agents.common import CEA_PREFIX
from exchange.agents.firm import ComplianceFirm
from exchange.agents.live import DEFAULT_DAY_S, BotSpec, BotStats, wake_delays
from exchange.client import (
    AsyncClient,
    CarbonxError,
    ForbiddenError,
    RetryPolicy,
    UnauthenticatedError,
)
from exchange.client.auction_types import AuctionBoard
from exchange.client.block_types import BlockBoard
from exchange.client.types import (
    AllowanceGrant,
    Balances,
    ComplianceStatus,
    Orders,
    SurrenderItem,
)
from matching.types import Side

log = logging.getLogger("carbonx.bots")

UNLIMITED_QTY_T = 10**12  # an instrument without an order maximum
TRANSPORT_ERROR = "TRANSPORT_ERROR"  # counted like a refusal code: the server did not answer


class RemoteView:
    """One account's ``MarketView`` of a live market, read over REST at one wake-up."""

    def __init__(
        self,
        account_id: str,
        trading_day: dt.date,
        compliance_year: int,
        instruments: Sequence[InstrumentInfo],
        quotes: dict[str, tuple[Quote | None, Quote | None, int | None]],
        balances: Balances,
        orders: Orders,
        compliance: ComplianceStatus | None = None,
        board: BlockBoard | None = None,
        auctions: AuctionBoard | None = None,
    ) -> None:
        self._account_id = account_id
        self._day = trading_day
        self._year = compliance_year
        self._instruments = tuple(instruments)
        self._by_symbol = {i.symbol: i for i in instruments}
        self._quotes = quotes
        self._cash_fen = balances["cash"]["available_fen"]
        self._holdings = {h["unit"]: h for h in balances["holdings"]}
        self._orders = [
            OpenOrder(o["order_id"], o["symbol"], Side(o["side"]), o["price_fen"], o["leaves_t"])
            for o in orders["orders"]
        ]
        self._compliance = compliance
        self._board = board if board is not None and board["offered"] else None
        self._auctions = [] if auctions is None else auctions["auctions"]
        self._now_ns = time.time_ns()
        deadline = _deadline(compliance) or dt.date(trading_day.year, 12, 31)
        self._days_left = max(1, _weekdays(trading_day, deadline))

    @property
    def account_id(self) -> str:
        return self._account_id

    @property
    def block_offered(self) -> bool:
        """Whether the board was read and the market offers block trading."""
        return self._board is not None

    @property
    def now_ns(self) -> int:
        return self._now_ns

    @property
    def trading_day(self) -> dt.date:
        return self._day

    @property
    def compliance_year(self) -> int:
        return self._year

    @property
    def trading_days_left(self) -> int:
        """Weekdays to the surrender deadline (the firm's status gives it; else the year's
        end): the server's holiday calendar is not read, so this is an upper bound."""
        return self._days_left

    def instruments(self) -> Sequence[InstrumentInfo]:
        return self._instruments

    def instrument(self, symbol: str) -> InstrumentInfo:
        return self._by_symbol[symbol]

    def best_bid(self, symbol: str) -> Quote | None:
        quote = self._quotes.get(symbol)
        return None if quote is None else quote[0]

    def best_ask(self, symbol: str) -> Quote | None:
        quote = self._quotes.get(symbol)
        return None if quote is None else quote[1]

    def last_price(self, symbol: str) -> int | None:
        quote = self._quotes.get(symbol)
        if quote is not None and quote[2] is not None:
            return quote[2]
        info = self._by_symbol.get(symbol)
        return None if info is None else info.reference_price_fen

    def cash_fen(self) -> int:
        return self._cash_fen

    def sellable_t(self, symbol: str) -> int:
        holding = self._holdings.get(symbol)
        return 0 if holding is None else holding["sellable_t"]

    def holding_t(self, symbol: str) -> int:
        h = self._holdings.get(symbol)
        return 0 if h is None else h["available_t"] + h["held_t"] + h["frozen_t"]

    def open_orders(self) -> Sequence[OpenOrder]:
        return self._orders

    def block(self, symbol: str) -> BlockInfo | None:
        """From the block board read at this wake-up: None where the market offers no block
        trading (or the board was not read)."""
        board = self._board
        if board is None:
            return None
        for band in board["bands"]:
            if band["symbol"] == symbol:
                assert board["min_qty_t"] is not None  # offered
                return BlockInfo(
                    board["min_qty_t"], (band["lower_fen"], band["upper_fen"]), board["open_now"]
                )
        return None

    def block_quotes(self) -> Sequence[BlockQuoteInfo]:
        """The board as the server showed it to the account (a hidden price is None)."""
        if self._board is None:
            return ()
        return [
            BlockQuoteInfo(
                q["quote_id"],
                q["symbol"],
                Side(q["side"]),
                q["price_fen"],
                q["qty_t"],
                q["account_id"],
            )
            for q in self._board["quotes"]
        ]

    def auctions(self) -> Sequence[AuctionInfo]:
        """The auctions read at this wake-up (a compliance firm's view only)."""
        me = self._account_id
        return [
            AuctionInfo(
                a["auction_id"],
                a["symbol"],
                a["volume_t"],
                a["reserve_fen"],
                a["lot_t"],
                a["min_bid_t"],
                a["cap_t"],
                a["open_now"],
                sum(b["qty_t"] for b in a["bids"] if b["account_id"] == me),
            )
            for a in self._auctions
        ]

    def compliance(self, year: int) -> ComplianceView:
        """Read with the view for a compliance firm only (other agents never ask)."""
        status = self._compliance
        if status is None or status["year"] != year:
            raise LookupError(f"compliance {year} was not read for this view")
        return ComplianceView(
            year,
            status["obligation_t"],
            status["allowances_t"] + status["offsets_t"],
            status["offsets_t"],
            status["offset_cap_t"],
            dt.date.fromisoformat(status["deadline"]),
        )


def _deadline(status: ComplianceStatus | None) -> dt.date | None:
    return None if status is None else dt.date.fromisoformat(status["deadline"])


def _weekdays(start: dt.date, end: dt.date) -> int:
    """Weekdays from ``start`` to ``end``, both included."""
    days = (end - start).days + 1
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    return weeks * 5 + sum(1 for i in range(rest) if (start.weekday() + i) % 7 < 5)


def compliance_year_of(symbols: Sequence[str], day: dt.date) -> int:
    """The compliance year a remote bot trades for: the latest allowance vintage listed that
    is not after the trading day's year (the demo lists last year's), else the day's year."""
    vintages = [
        int(s[len(CEA_PREFIX) :])
        for s in symbols
        if s.startswith(CEA_PREFIX) and s[len(CEA_PREFIX) :].isdigit()
    ]
    eligible = [v for v in vintages if v <= day.year]
    return max(eligible) if eligible else day.year


async def read_view(
    client: AsyncClient,
    account_id: str,
    *,
    with_compliance: bool = False,
    with_block: bool = True,
) -> RemoteView | None:
    """The account's view now, or None outside continuous trading (nothing else is read);
    the block board unless ``with_block`` is False."""
    market = await client.get_market()
    if market["session"] != "continuous" or market["day_closed"] or not market["trading_day"]:
        return None
    day = dt.date.fromisoformat(market["trading_day"])
    listed = (await client.list_instruments())["instruments"]
    infos: list[InstrumentInfo] = []
    quotes: dict[str, tuple[Quote | None, Quote | None, int | None]] = {}
    for i in listed:
        tradable = i["state"] == "continuous"
        max_qty = i["max_qty_t"]
        infos.append(
            InstrumentInfo(
                i["symbol"],
                i["tick_fen"],
                i["lot_t"],
                i["min_qty_t"],
                UNLIMITED_QTY_T if max_qty is None else max_qty,
                (i["band_lower_fen"], i["band_upper_fen"]),
                i["reference_price_fen"],
                tradable,
            )
        )
        if tradable:
            q = await client.get_quote(i["symbol"])
            bid = None if q["bid_price_fen"] is None else Quote(q["bid_price_fen"], q["bid_qty_t"])
            ask = None if q["ask_price_fen"] is None else Quote(q["ask_price_fen"], q["ask_qty_t"])
            quotes[i["symbol"]] = (bid, ask, q["last_price_fen"])
        else:
            quotes[i["symbol"]] = (None, None, i["last_price_fen"])
    year = compliance_year_of([i.symbol for i in infos], day)
    balances = await client.get_balances(account_id)
    orders = await client.list_orders()
    status = await client.get_compliance_status(account_id, year) if with_compliance else None
    board = await client.list_block_quotes() if with_block else None
    # A compliance firm bids in auctions: only its view reads them.
    auctions = await client.list_auctions() if with_compliance else None
    return RemoteView(
        account_id, day, year, infos, quotes, balances, orders, status, board, auctions
    )


# ---------------------------------------------------------------------- running bots


@dataclass(slots=True)
class RemoteBot:
    """One bot over the network: its spec, agent, own client (its participant key), seeded
    randomness and counters."""

    spec: BotSpec
    agent: Agent
    client: AsyncClient
    rng: random.Random
    stats: BotStats
    day: dt.date | None = None
    block_offered: bool = True  # until a board says the market has no block trading


class RemoteBots:
    """Bots trading one market of a live server, each with its own key."""

    def __init__(
        self,
        base_url: str,
        market_id: str,
        bots: Sequence[tuple[BotSpec, str]],
        *,
        day_s: float = DEFAULT_DAY_S,
        seed: int | None = None,
    ) -> None:
        if day_s <= 0:
            raise ValueError(f"day_s must be positive, got {day_s}")
        self.day_s = day_s
        self._token = f"rb{time.time_ns():x}"  # client order ids unique across runs
        self._sent = 0
        base = int.from_bytes(os.urandom(8)) if seed is None else seed
        retry = RetryPolicy(rate_limited=2, max_wait_s=5.0)
        self.bots = [
            RemoteBot(
                spec,
                spec.build(),
                AsyncClient(base_url, key, market_id, retry=retry),
                random.Random(base * 1_000_003 + i),
                BotStats(),
            )
            for i, (spec, key) in enumerate(bots)
        ]

    @property
    def stats(self) -> dict[str, BotStats]:
        return {bot.spec.account_id: bot.stats for bot in self.bots}

    async def run(self, duration_s: float | None = None) -> dict[str, BotStats]:
        """Run every bot until ``duration_s`` passes (None: until cancelled); close the
        clients; answer the counters."""
        tasks = [asyncio.create_task(self._run(bot)) for bot in self.bots]
        try:
            if duration_s is None:
                await asyncio.gather(*tasks)
            else:
                await asyncio.wait(tasks, timeout=duration_s)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for bot in self.bots:
                await bot.client.aclose()
        return self.stats

    async def _run(self, bot: RemoteBot) -> None:
        rate_per_s = bot.agent.wakeups_per_day / self.day_s
        if rate_per_s <= 0:
            return
        firm = isinstance(bot.agent, ComplianceFirm)
        for delay_s in wake_delays(bot.rng, rate_per_s):
            await asyncio.sleep(delay_s)
            try:
                view = await read_view(
                    bot.client,
                    bot.spec.account_id,
                    with_compliance=firm,
                    with_block=bot.block_offered,
                )
            except CarbonxError as error:
                _count(bot.stats, error.code or "ERROR")
                continue
            except OSError:  # connection refused or reset: the server may come back
                _count(bot.stats, TRANSPORT_ERROR)
                continue
            if view is None:
                continue
            if bot.block_offered and not view.block_offered:
                bot.block_offered = False  # a market's rules do not change: stop asking
            bot.stats.wakeups += 1
            try:
                actions: list[Action] = []
                if bot.day != view.trading_day:
                    bot.day = view.trading_day
                    actions.extend(bot.agent.on_day_open(view, bot.rng))
                actions.extend(bot.agent.act(view, bot.rng))
            except Exception:
                log.exception("bot %s (%s) failed: paused", bot.spec.account_id, bot.spec.kind)
                bot.stats.paused = True
                return
            for action in actions:
                await self._send(bot, action)

    async def _send(self, bot: RemoteBot, action: Action) -> None:
        """One action as its REST call; a refusal is counted, not raised."""
        self._sent += 1
        ref = f"{self._token}-{self._sent}"
        try:
            if not await send_action(bot.client, bot.spec.account_id, action, ref):
                return
            bot.stats.commands += 1
        except CarbonxError as error:
            bot.stats.commands += 1
            code = error.code or "ERROR"
            _count(bot.stats, code)
            log.debug("bot %s refused: %s %s", bot.spec.account_id, code, error)
        except OSError:
            _count(bot.stats, TRANSPORT_ERROR)


async def send_action(client: AsyncClient, account_id: str, action: Action, ref: str) -> bool:
    """``action`` of the agent of ``account_id`` as its REST call (``ref``: a client order id
    or request id, unique per action); False for one that does not exist over the network
    (``Abate``). A refusal raises ``CarbonxError``."""
    if isinstance(action, Place):
        await client.place_order(
            action.symbol,
            "buy" if action.side is Side.BUY else "sell",
            action.qty_t,
            action.price_fen,
            order_type=action.order_type.value,
            client_order_id=ref,
            retry=True,
        )
    elif isinstance(action, Cancel):
        await client.cancel_order(action.order_id)
    elif isinstance(action, Amend):
        await client.amend_order(action.order_id, price_fen=action.price_fen, qty_t=action.qty_t)
    elif isinstance(action, CancelAll):
        await client.cancel_all_orders(action.symbol)
    elif isinstance(action, SurrenderUnits):
        items: list[SurrenderItem] = [{"unit": unit, "qty_t": qty} for unit, qty in action.items]
        await client.surrender(account_id, action.year, items, request_id=ref)
    elif isinstance(action, PostBlock):
        await client.post_block_quote(
            action.symbol,
            "buy" if action.side is Side.BUY else "sell",
            action.price_fen,
            action.qty_t,
            counterparty=action.counterparty,
        )
    elif isinstance(action, AcceptBlock):
        await client.accept_block_quote(action.quote_id, action.qty_t)
    elif isinstance(action, CancelBlock):
        await client.cancel_block_quote(action.quote_id)
    elif isinstance(action, BidAuction):
        await client.submit_bid(action.auction_id, action.price_fen, action.qty_t)
    else:
        assert isinstance(action, Abate), action
        return False  # simulation only
    return True


def _count(stats: BotStats, code: str) -> None:
    stats.refusals[code] = stats.refusals.get(code, 0) + 1


# ---------------------------------------------------------------------- accounts and keys


async def open_bot_accounts(
    base_url: str, market_id: str, operator_key: str, specs: Sequence[BotSpec], vintage: int
) -> list[tuple[BotSpec, str]]:
    """A funded participant and its key per bot, opened with an operator key (one with this
    market, or the exchange-wide one). An account open already gets a fresh key instead
    (its funding is what it has)."""
    out: list[tuple[BotSpec, str]] = []
    async with AsyncClient(base_url, operator_key, market_id) as operator:
        for spec in specs:
            grants: list[AllowanceGrant] = []
            if spec.allowances_t:
                grants.append({"vintage": vintage, "qty_t": spec.allowances_t})
            try:
                reply = await operator.create_participant(
                    spec.account_id,
                    f"Bot {spec.account_id} ({spec.kind})",
                    cash_fen=spec.cash_fen or None,
                    allowances=grants or None,
                )
                key = reply["api_key"]
            except CarbonxError as error:
                if error.code != "ACCOUNT_EXISTS":
                    raise
                key = (await operator.issue_key("participant", spec.account_id))["api_key"]
            out.append((spec, key))
    return out


def parse_bot_option(text: str, prefix: str, start: int) -> list[BotSpec]:
    """``KIND:COUNT[:PARAMS]`` (PARAMS a JSON object of the agent's parameters, plus the
    optional ``wakeups_per_day``, ``cash_fen`` and ``allowances_t``) as ``COUNT`` specs with
    account ids ``<prefix><n>`` numbered from ``start``."""
    kind, _, rest = text.partition(":")
    count_text, _, params_text = rest.partition(":")
    try:
        count = int(count_text or "1")
        params: dict[str, Any] = json.loads(params_text) if params_text else {}
    except ValueError as error:
        raise ValueError(f"--bot {text!r}: expected KIND:COUNT[:JSON] ({error})") from None
    if not isinstance(params, dict) or count < 1:
        raise ValueError(f"--bot {text!r}: expected KIND:COUNT[:JSON] with COUNT >= 1")
    rate = params.pop("wakeups_per_day", None)
    cash = int(params.pop("cash_fen", DEFAULT_CASH_FEN))
    allowances = int(params.pop("allowances_t", DEFAULT_ALLOWANCES_T))
    return [
        BotSpec(kind, f"{prefix}{start + i:04d}", params, rate, cash, allowances)
        for i in range(count)
    ]


DEFAULT_CASH_FEN = 50_000_000  # CNY 500,000 per bot unless its --bot says otherwise
DEFAULT_ALLOWANCES_T = 5_000


def add_bots_parser(commands: Any) -> None:
    """The ``carbonx bots`` subcommand."""
    bots = commands.add_parser("bots", help="run agents against a live server over its API")
    bots.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    bots.add_argument("--market", required=True)
    bots.add_argument(
        "--key-file",
        type=Path,
        required=True,
        help="JSON: an operator key (operator_key or exchange_operator_key) to open the bots' "
        "accounts, or participants {account: key} to trade as (carbonx demo writes one)",
    )
    bots.add_argument(
        "--bot",
        action="append",
        required=True,
        metavar="KIND:COUNT[:JSON]",
        help='e.g. market_maker:1 zic:5:{"side":"buy"} noise:10:{"cash_fen":10000000}',
    )
    bots.add_argument("--prefix", default="RB", help="account id prefix (default RB)")
    bots.add_argument("--day-s", type=float, default=DEFAULT_DAY_S, help="wall seconds a day")
    bots.add_argument("--duration", type=float, default=None, help="seconds (default: forever)")
    bots.add_argument("--vintage", type=int, default=None, help="allowances' vintage")
    bots.add_argument("--seed", type=int, default=None)


def run_bots(args: argparse.Namespace) -> int:
    """``carbonx bots``: open or find the bots' accounts, run them, print their counters."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    try:
        specs: list[BotSpec] = []
        for text in args.bot:
            specs += parse_bot_option(text, args.prefix, len(specs) + 1)
        for spec in specs:
            spec.build()  # unknown kinds and parameters fail here, before any account opens
        keys = json.loads(args.key_file.read_text())
    except (ValueError, TypeError, OSError) as error:
        print(f"carbonx bots: {error}")
        return 2
    try:
        stats = asyncio.run(_run_bots(args, specs, keys))
    except (CarbonxError, ValueError) as error:
        print(f"carbonx bots: {error}")
        return 1
    except KeyboardInterrupt:
        return 130
    for account, s in stats.items():
        print(
            f"{account}: {s.wakeups} wake-ups, {s.commands} requests, "
            f"refusals {s.refusals or '{}'}{' (paused)' if s.paused else ''}"
        )
    return 0


async def _run_bots(
    args: argparse.Namespace, specs: list[BotSpec], keys: dict[str, Any]
) -> dict[str, BotStats]:
    bots = await _bot_keys(args, specs, keys)
    runner = RemoteBots(args.url, args.market, bots, day_s=args.day_s, seed=args.seed)
    return await runner.run(args.duration)


async def _bot_keys(
    args: argparse.Namespace, specs: list[BotSpec], keys: dict[str, Any]
) -> list[tuple[BotSpec, str]]:
    """Each bot's (spec, key): accounts opened with the first operator key that may, else
    the key file's participants in order (their funding is what they have)."""
    for name in ("exchange_operator_key", "operator_key"):
        operator_key = keys.get(name)
        if not operator_key:
            continue
        try:
            vintage = args.vintage
            if vintage is None:
                async with AsyncClient(args.url, operator_key, args.market) as operator:
                    listed = (await operator.get_market())["instruments"]
                vintage = compliance_year_of(listed, dt.date.today())
            return await open_bot_accounts(args.url, args.market, operator_key, specs, vintage)
        except (ForbiddenError, UnauthenticatedError):
            continue  # a key of another market, or revoked
    participants = list(keys.get("participants", {}).items())
    if len(participants) < len(specs):
        raise ValueError(f"{len(specs)} bots but {len(participants)} participant keys")
    return [
        (BotSpec(s.kind, account, s.params, s.wakeups_per_day), key)
        for s, (account, key) in zip(specs, participants, strict=False)
    ]
