"""The ``carbonx`` command.

``carbonx serve [--database-url URL] [--host H] [--port N] [--public-url URL]`` serves every
market of a database (``--host 0.0.0.0`` for a class's network; ``--public-url`` is the address
trainees open, printed on their login cards: ``exchange.api.addresses``).
``carbonx demo [--host H] [--port N] [--public-url URL] [--database PATH] [--bots N | --no-bots]``
serves a demo
market from an embedded SQLite file: on first start it creates market ``demo`` (national rules,
CEA2025 at CNY 60.00); on every start it opens a trading day and the continuous session if none
is open, opens the demo participants and bots if they are missing and mints fresh API keys. Its
bots (``exchange.agents.live``; six unless ``--bots``/``CARBONX_DEMO_BOTS`` say otherwise) keep
the market moving. It prints the URL, the keys and
a curl line that places an order, and writes the keys as JSON beside the database
(``<database>.keys.json``) for scripts and tests, with an exchange operator key (market ``*``:
every market, and ``createMarket``).
``carbonx sweep SWEEP.yaml [--executor ray|process|serial]`` runs a scenario over a grid of
overrides and seeds (``exchange.sim.sweep``, docs/research.md).
``carbonx bots --url URL --market M --key-file FILE --bot KIND:COUNT[:JSON]`` runs agents against
a live server over its API (``exchange.agents.remote``).
``carbonx keys issue [--database-url URL] --market ID|'*' --role R [--account A]`` mints a key
and prints it, e.g. ``--market '*' --role operator`` for ``serve``'s exchange operator key.

Both read the gateway's other settings from the environment (``exchange.api.app.Settings``),
e.g. ``CARBONX_RATE_LIMIT_PER_S`` and ``CARBONX_RATE_LIMIT_BURST`` (each key's token bucket;
default 200 a second, bursts of 400) and ``CARBONX_BODY_MAX_BYTES``, and the server's limits
(``exchange.api.server.ServerSettings``: header and body timeouts, connections per client and
in all; docs/operations.md). ``GET /metrics`` serves Prometheus counters, no key needed.
Logs go to stderr as JSON lines (``serve``'s default) or text (``demo``'s), chosen by
``--log-format json|text`` or ``CARBONX_LOG_FORMAT`` (``exchange.logs``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from exchange.agents.live import BotSpec, demo_bots, open_account_commands
from exchange.agents.remote import add_bots_parser, run_bots
from exchange.api import server
from exchange.api.addresses import public_base_url
from exchange.api.app import Settings, create_app
from exchange.db.engine import create_engine, database_url
from exchange.db.journal_store import market_ids, prepare_database
from exchange.db.keys import create_key
from exchange.keys import EXCHANGE_WIDE, Role
from exchange.logs import configure_logging, log_format
from exchange.runtime import MarketRuntime
from exchange.sim.command import add_simulate_parser, run_simulate
from exchange.sim.sweep import add_sweep_parser, run_sweep_command
from matching.types import TradingState
from registry_sim.model import Account, AccountId, AccountKind
from registry_sim.ops import IssueAllowances, OpenAccount
from settlement.commands import (
    Deposit,
    EndOfDay,
    MarketCommand,
    OpenDay,
    RegistryCommand,
    SetSession,
)
from settlement.market import Market
from settlement.spec import MarketSpec

DEMO_MARKET = MarketSpec("demo", "cn_national", (("CEA2025", 6000),))
DEMO_PARTICIPANTS = (("P001", "Demo trader one"), ("P002", "Demo trader two"))
DEMO_CASH_FEN = 100_000_000  # CNY 1,000,000 each
DEMO_VINTAGE, DEMO_ALLOWANCES_T = 2025, 10_000
DEMO_BOTS = 6  # a market maker, zero-intelligence buyers and sellers, noise traders


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="carbonx", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the markets of a database")
    serve.add_argument("--database-url", default=None, help="default: CARBONX_DATABASE_URL")
    _address_options(serve)
    demo = commands.add_parser("demo", help="a demo market on an embedded SQLite file")
    demo.add_argument("--database", type=Path, default=Path("carbonx-demo.db"))
    demo.add_argument(
        "--bots",
        type=_bot_count,
        default=os.environ.get("CARBONX_DEMO_BOTS", str(DEMO_BOTS)),
        metavar="N",
        help=f"bots trading (default CARBONX_DEMO_BOTS, else {DEMO_BOTS})",
    )
    demo.add_argument("--no-bots", dest="bots", action="store_const", const=0, help="no bots")
    _address_options(demo)
    _keys_options(commands.add_parser("keys", help="mint API keys"))
    add_simulate_parser(commands)
    add_sweep_parser(commands)
    add_bots_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "simulate":
        raise SystemExit(run_simulate(args))
    if args.command == "sweep":
        raise SystemExit(run_sweep_command(args))
    if args.command == "bots":
        raise SystemExit(run_bots(args))
    if args.command == "keys":
        url = args.database_url or database_url()
        print(asyncio.run(issue_key(url, args.market, Role(args.role), args.account)))
        return
    # Logs: --log-format, else CARBONX_LOG_FORMAT, else json to serve and text for the demo.
    configure_logging(log_format(args.log_format, "json" if args.command == "serve" else "text"))
    # The address trainees open: --public-url, else CARBONX_PUBLIC_URL (read by Settings).
    address: dict[str, Any] = {"listen_host": args.host}
    if args.public_url:
        address["public_url"] = args.public_url
    if args.command == "serve":
        settings = Settings(database_url=args.database_url or database_url(), **address)
    else:
        bots = demo_bots(args.bots)
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{args.database.resolve()}",
            bots={DEMO_MARKET.market_id: bots} if bots else {},
            **address,
        )
        keys = asyncio.run(prepare_demo(settings.database_url, bots=bots))
        keys_file = args.database.with_name(args.database.name + ".keys.json")
        _write_private(keys_file, json.dumps(keys, indent=2) + "\n")
        print(demo_banner(keys, args.host, args.port, keys_file), flush=True)
    # uvicorn, with limits on connections, timeouts and header sizes (exchange.api.server).
    server.serve(create_app(settings), args.host, args.port, server.ServerSettings())


def _bot_count(text: str) -> int:
    count = int(text)
    if count < 0:
        raise argparse.ArgumentTypeError(f"a number of bots, not {count}")
    return count


def _public_url(text: str) -> str:
    try:
        return public_base_url(text)
    except ValueError as wrong:
        raise argparse.ArgumentTypeError(str(wrong)) from None


def _address_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format", choices=("json", "text"), default=None, help="default: CARBONX_LOG_FORMAT"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="default 127.0.0.1; 0.0.0.0 for a class's network"
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--public-url",
        type=_public_url,
        default=None,
        help="the address trainees open (login cards), e.g. http://192.168.1.20:8000; "
        "default: CARBONX_PUBLIC_URL",
    )


def _keys_options(keys: argparse.ArgumentParser) -> None:
    actions = keys.add_subparsers(dest="action", required=True)
    issue = actions.add_parser("issue", help="mint a key and print it (shown once)")
    issue.add_argument("--database-url", default=None, help="default: CARBONX_DATABASE_URL")
    issue.add_argument("--market", required=True, help=f"a market id, or {EXCHANGE_WIDE!r}")
    issue.add_argument("--role", required=True, choices=[r.value for r in Role])
    issue.add_argument("--account", default=None, help="a participant key's account")


async def issue_key(url: str, market_id: str, role: Role, account_id: str | None) -> str:
    """Mint a key for a market of the database at ``url``, or an exchange-wide one (market
    ``*``, e.g. the operator key that may create markets); return the key."""
    await prepare_database(url)
    if market_id != EXCHANGE_WIDE and market_id not in await market_ids(url):
        raise SystemExit(f"no market {market_id!r} in the database")
    engine = create_engine(url)
    try:
        return await create_key(engine, market_id, role, account_id)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    finally:
        await engine.dispose()


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


async def prepare_demo(
    url: str, today: dt.date | None = None, bots: Sequence[BotSpec] = ()
) -> dict[str, Any]:
    """Create or recover the demo market, open a trading day, open the demo participants and
    the ``bots``' accounts, and mint keys; return ``{"market_id", "operator_key",
    "exchange_operator_key", "participants": {id: key}}``."""
    await prepare_database(url)
    market_id = DEMO_MARKET.market_id
    if market_id in await market_ids(url):
        runtime = await MarketRuntime.recover(url, market_id)
    else:
        runtime = await MarketRuntime.create(url, DEMO_MARKET)
    runtime.start()
    try:
        for command in _day_commands(runtime.market, today or dt.date.today()):
            _expect_accepted(await runtime.submit(command))
        for account_id, name in DEMO_PARTICIPANTS:
            for command in _participant_commands(runtime.market, AccountId(account_id), name):
                _expect_accepted(await runtime.submit(command))
        for bot in bots:
            for command in open_account_commands(runtime.market, bot, DEMO_VINTAGE):
                _expect_accepted(await runtime.submit(command))
    finally:
        await runtime.stop()
    engine = create_engine(url)
    try:
        participants = {
            account_id: await create_key(engine, market_id, Role.PARTICIPANT, account_id)
            for account_id, _ in DEMO_PARTICIPANTS
        }
        operator = await create_key(engine, market_id, Role.OPERATOR)
        exchange_operator = await create_key(engine, EXCHANGE_WIDE, Role.OPERATOR)
    finally:
        await engine.dispose()
    return {
        "market_id": market_id,
        "operator_key": operator,
        "exchange_operator_key": exchange_operator,
        "participants": participants,
    }


def _day_commands(market: Market, today: dt.date) -> list[MarketCommand]:
    """What opens a trading day with a continuous session, from wherever the market stands.
    No clock runs in the demo yet: the day stays open until the process is told otherwise."""
    commands: list[MarketCommand] = []
    if market.trading_day is None or market.day_closed:
        if not market.day_cleared:
            commands.append(EndOfDay(0))
        last = market.trading_day
        day = today if last is None or today > last else last + dt.timedelta(days=1)
        commands.append(OpenDay(0, day))
    if market.session is not TradingState.CONTINUOUS or commands:
        commands.append(SetSession(0, TradingState.CONTINUOUS))
    return commands


def _participant_commands(market: Market, account_id: AccountId, name: str) -> list[MarketCommand]:
    if market.registry.account(account_id) is not None:
        return []
    account = Account(account_id, AccountKind.PARTICIPANT, name)
    issue = IssueAllowances(f"issue:{account_id}:demo", account_id, DEMO_VINTAGE, DEMO_ALLOWANCES_T)
    return [
        RegistryCommand(0, OpenAccount(f"open:{account_id}", account)),
        Deposit(0, account_id, DEMO_CASH_FEN, f"initial:{account_id}"),
        RegistryCommand(0, issue),
    ]


def _expect_accepted(ack: Any) -> None:
    if ack.outcome.code is not None:
        raise SystemExit(
            f"demo set-up refused: {type(ack.command).__name__} {ack.outcome.code} "
            f"{dict(ack.outcome.details)}"
        )


def demo_banner(keys: dict[str, Any], host: str, port: int, keys_file: Path) -> str:
    base = f"http://{host}:{port}"
    market = keys["market_id"]
    order = '{"symbol":"CEA2025","side":"buy","order_type":"limit","qty_t":100,"price_fen":6000}'
    p001 = keys["participants"]["P001"]
    curl = (
        f"curl -s -X POST {base}/v1/markets/{market}/orders "
        f'-H "Authorization: Bearer {p001}" -H "Content-Type: application/json" '
        f"-d {shlex.quote(order)}"
    )
    lines = [
        f"carbonx demo: market {market!r} at {base} (API docs: {base}/docs)",
        f"  trading screen: {base}/ui/ (paste a key below: it names its market)",
        f"  operator key: {keys['operator_key']}",
        f"  exchange operator key (every market, createMarket): {keys['exchange_operator_key']}",
        *(f"  {account} key: {key}" for account, key in keys["participants"].items()),
        f"  keys as JSON: {keys_file}",
        "Place an order as P001:",
        f"  {curl}",
        "See the book:",
        f'  curl -s {base}/v1/markets/{market}/book/CEA2025 -H "Authorization: Bearer {p001}"',
        "KEYS " + json.dumps(keys),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
