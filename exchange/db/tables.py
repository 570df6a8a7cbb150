"""The registry's tables (SQLAlchemy Core), one registry per market.

``operations`` and ``postings`` are the registry's journal: appended to, never changed. The other
tables hold the rest of its state (accounts, projects, unit types, emissions, allocation,
surrenders, compliance records, cancellations) and a queryable projection of it (``holdings``,
what the postings add up to). Every row carries its ``market_id``. Constraints guard what must
never happen: a negative holding outside the issuance account, a posting or an operation id
recorded twice, a movement of zero or fewer tonnes.

The ``market_*`` tables are the market runtime's journal and what it projects from it (orders,
order updates, trades, double-entry postings of cash and units, balances, statements, snapshots),
written in batches by ``exchange.db.journal_store``. They have no foreign keys, to each other or
to the registry tables: they are appended to by COPY, one transaction per batch, and the runtime
has checked every row already; the constraints left are the cheap last guards (ids and seqs
stored once, positive quantities, no negative balance outside the system sources).

The Alembic migrations under ``exchange/db/migrations`` create these tables; change both together
(``tests/integration`` checks that they agree).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from registry_sim.model import ISSUANCE, AccountKind, HoldingState, UnitKind

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = 128  # length of ids: market, account, project, unit code, operation


def _one_of(column: str, values: type[AccountKind | HoldingState | UnitKind]) -> str:
    return _in_list(column, [v.value for v in values])


def _in_list(column: str, values: Iterable[str]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({listed})"


def _market() -> Column[str]:
    return Column("market_id", String(ID), nullable=False)


markets = Table(
    "markets",
    metadata,
    Column("market_id", String(ID), primary_key=True),
    Column("rules", String(ID), nullable=False),  # the rule set's name
    Column("state_hash", String(64), nullable=False),  # Registry.state_hash() at the last save
)

accounts = Table(
    "accounts",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("sector", Text, nullable=False),
    Column("province", Text, nullable=False),
    Column("gas_fired", Boolean, nullable=False),
    PrimaryKeyConstraint("market_id", "account_id"),
    ForeignKeyConstraint(["market_id"], ["markets.market_id"]),
    CheckConstraint(_one_of("kind", AccountKind), name="kind"),
)

projects = Table(
    "projects",
    metadata,
    _market(),
    Column("project_id", String(ID), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("methodology", Text, nullable=False),
    Column("province", Text, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("registration_date", Date, nullable=False),
    Column("inside_ets_scope", Boolean, nullable=False),
    PrimaryKeyConstraint("market_id", "project_id"),
    ForeignKeyConstraint(["market_id"], ["markets.market_id"]),
    CheckConstraint(_one_of("kind", UnitKind), name="kind"),
)

unit_types = Table(
    "unit_types",
    metadata,
    _market(),
    Column("code", String(ID), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("project_id", String(ID), nullable=True),  # offsets only
    PrimaryKeyConstraint("market_id", "code"),
    ForeignKeyConstraint(["market_id"], ["markets.market_id"]),
    ForeignKeyConstraint(
        ["market_id", "project_id"], ["projects.market_id", "projects.project_id"]
    ),
    CheckConstraint(_one_of("kind", UnitKind), name="kind"),
)

operations = Table(
    "operations",
    metadata,
    _market(),
    Column("op_id", String(ID), nullable=False),
    Column("seq", Integer, nullable=False),  # 1, 2, ... in the order applied
    Column("op_type", String(32), nullable=False),  # e.g. "Transfer"
    Column("op", JSON, nullable=False),  # the operation, as registry_store encodes it
    Column("result", JSON, nullable=False),  # {"details": ..., "postings": [posting ids]}
    PrimaryKeyConstraint("market_id", "op_id"),
    ForeignKeyConstraint(["market_id"], ["markets.market_id"]),
    UniqueConstraint("market_id", "seq"),
    CheckConstraint("seq >= 1", name="seq_positive"),
)

postings = Table(
    "postings",
    metadata,
    _market(),
    Column("posting_id", BigInteger, nullable=False),
    Column("op_id", String(ID), nullable=False),
    Column("unit", String(ID), nullable=False),
    Column("qty_t", BigInteger, nullable=False),
    Column("from_account", String(ID), nullable=False),
    Column("from_state", String(16), nullable=False),
    Column("to_account", String(ID), nullable=False),
    Column("to_state", String(16), nullable=False),
    PrimaryKeyConstraint("market_id", "posting_id"),
    ForeignKeyConstraint(["market_id", "op_id"], ["operations.market_id", "operations.op_id"]),
    ForeignKeyConstraint(["market_id", "unit"], ["unit_types.market_id", "unit_types.code"]),
    ForeignKeyConstraint(
        ["market_id", "from_account"], ["accounts.market_id", "accounts.account_id"]
    ),
    ForeignKeyConstraint(
        ["market_id", "to_account"], ["accounts.market_id", "accounts.account_id"]
    ),
    CheckConstraint("qty_t > 0", name="qty_positive"),
    CheckConstraint(_one_of("from_state", HoldingState), name="from_state"),
    CheckConstraint(_one_of("to_state", HoldingState), name="to_state"),
    Index(None, "market_id", "op_id"),
)

holdings = Table(
    "holdings",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("unit", String(ID), nullable=False),
    Column("state", String(16), nullable=False),
    Column("qty_t", BigInteger, nullable=False),
    PrimaryKeyConstraint("market_id", "account_id", "unit", "state"),
    ForeignKeyConstraint(
        ["market_id", "account_id"], ["accounts.market_id", "accounts.account_id"]
    ),
    ForeignKeyConstraint(["market_id", "unit"], ["unit_types.market_id", "unit_types.code"]),
    CheckConstraint(f"qty_t >= 0 OR account_id = '{ISSUANCE}'", name="qty_not_negative"),
    CheckConstraint(_one_of("state", HoldingState), name="state"),
)

verified_emissions = Table(
    "verified_emissions",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("year", Integer, nullable=False),
    Column("verified_t", BigInteger, nullable=False),
    PrimaryKeyConstraint("market_id", "account_id", "year"),
    ForeignKeyConstraint(
        ["market_id", "account_id"], ["accounts.market_id", "accounts.account_id"]
    ),
    CheckConstraint("verified_t >= 0", name="verified_not_negative"),
)

net_sales = Table(
    "net_sales",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("net_sales_t", BigInteger, nullable=False),
    PrimaryKeyConstraint("market_id", "account_id"),
    ForeignKeyConstraint(
        ["market_id", "account_id"], ["accounts.market_id", "accounts.account_id"]
    ),
    CheckConstraint("net_sales_t >= 0", name="net_sales_not_negative"),
)

allocations = Table(
    "allocations",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("year", Integer, nullable=False),
    Column("allocated_t", BigInteger, nullable=False),
    PrimaryKeyConstraint("market_id", "account_id", "year"),
    ForeignKeyConstraint(
        ["market_id", "account_id"], ["accounts.market_id", "accounts.account_id"]
    ),
    CheckConstraint("allocated_t >= 0", name="allocated_not_negative"),
)

deductions = Table(
    "deductions",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("owed_t", BigInteger, nullable=False),  # to deduct from the next allocation
    PrimaryKeyConstraint("market_id", "account_id"),
    ForeignKeyConstraint(
        ["market_id", "account_id"], ["accounts.market_id", "accounts.account_id"]
    ),
    CheckConstraint("owed_t >= 0", name="owed_not_negative"),
)

surrenders = Table(
    "surrenders",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("year", Integer, nullable=False),
    Column("entry", Integer, nullable=False),  # 0, 1, ... in the order submitted for the year
    Column("unit", String(ID), nullable=False),
    Column("qty_t", BigInteger, nullable=False),
    Column("local", Boolean, nullable=False),
    Column("retired", Boolean, nullable=False),
    PrimaryKeyConstraint("market_id", "account_id", "year", "entry"),
    ForeignKeyConstraint(
        ["market_id", "account_id"], ["accounts.market_id", "accounts.account_id"]
    ),
    ForeignKeyConstraint(["market_id", "unit"], ["unit_types.market_id", "unit_types.code"]),
    CheckConstraint("qty_t > 0", name="qty_positive"),
)

compliance_records = Table(
    "compliance_records",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("year", Integer, nullable=False),
    Column("obligation_t", BigInteger, nullable=False),
    Column("allowances_t", BigInteger, nullable=False),
    Column("offsets_t", BigInteger, nullable=False),
    Column("shortfall_t", BigInteger, nullable=False),
    Column("penalty_fen", BigInteger, nullable=False),
    Column("deduction_t", BigInteger, nullable=False),
    Column("reference_price_fen", BigInteger, nullable=False),
    PrimaryKeyConstraint("market_id", "account_id", "year"),
    ForeignKeyConstraint(
        ["market_id", "account_id"], ["accounts.market_id", "accounts.account_id"]
    ),
    CheckConstraint("shortfall_t >= 0", name="shortfall_not_negative"),
)

cancellations = Table(
    "cancellations",
    metadata,
    _market(),
    Column("op_id", String(ID), nullable=False),
    Column("seq", Integer, nullable=False),  # 1, 2, ... in the order made
    Column("account_id", String(ID), nullable=False),
    Column("unit", String(ID), nullable=False),
    Column("qty_t", BigInteger, nullable=False),
    Column("beneficiary", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    PrimaryKeyConstraint("market_id", "op_id"),
    ForeignKeyConstraint(["market_id", "op_id"], ["operations.market_id", "operations.op_id"]),
    ForeignKeyConstraint(
        ["market_id", "account_id"], ["accounts.market_id", "accounts.account_id"]
    ),
    ForeignKeyConstraint(["market_id", "unit"], ["unit_types.market_id", "unit_types.code"]),
    UniqueConstraint("market_id", "seq"),
    CheckConstraint("qty_t > 0", name="qty_positive"),
)


# ---------------------------------------------------------------------- the market journal
#
# Written by ``exchange.db.journal_store`` in batches, one transaction per batch. The runtime's
# state is the journal (``market_journal``) replayed; the other tables are what it wrote along
# the way so that orders, trades, postings, balances, statements and snapshots can be queried
# without a replay. Nothing here refers to the registry tables above: a market's registry lives
# in its journal. Every table's column order is the order of the row tuples the writer takes.

CASH_SOURCE = "SYS:CASH"  # where the cash paid into the market comes from
SYSTEM_SOURCES = (ISSUANCE, CASH_SOURCE)  # sources of units and cash: their balances go negative


market_journal = Table(
    "market_journal",
    metadata,
    _market(),
    Column("seq", BigInteger, nullable=False),  # 1, 2, ... per market, no gaps
    Column("ts_ns", BigInteger, nullable=False),  # the market clock
    Column("kind", String(32), nullable=False),
    Column("account_id", String(ID), nullable=True),
    Column("body", Text, nullable=False),  # JSON, as the runtime wrote it
    PrimaryKeyConstraint("market_id", "seq"),
)

market_orders = Table(
    "market_orders",
    metadata,
    _market(),
    Column("order_id", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),  # the journal seq of the command that placed it
    Column("trading_day", String(10), nullable=False),  # YYYY-MM-DD
    Column("account_id", String(ID), nullable=False),
    Column("client_order_id", String(64), nullable=True),
    Column("symbol", String(ID), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(8), nullable=False),
    Column("price_fen", BigInteger, nullable=True),  # none for a market order
    Column("qty_t", BigInteger, nullable=False),
    Column("stp", String(16), nullable=False),
    PrimaryKeyConstraint("market_id", "order_id"),
    UniqueConstraint(  # a client order id names one order per account and trading day
        "market_id",
        "account_id",
        "client_order_id",
        "trading_day",
        name="uq_market_orders_client_order_id_per_day",  # the default is over 63 characters
    ),
    CheckConstraint("qty_t > 0", name="qty_positive"),
)

market_order_updates = Table(
    "market_order_updates",
    metadata,
    _market(),
    Column("event_seq", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),  # journal seq
    Column("order_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # cancelled, reduced, amended
    Column("qty_t", BigInteger, nullable=False),
    Column("leaves_t", BigInteger, nullable=False),
    Column("price_fen", BigInteger, nullable=True),
    Column("reason", String(32), nullable=True),
    PrimaryKeyConstraint("market_id", "event_seq"),
)

market_trades = Table(
    "market_trades",
    metadata,
    _market(),
    Column("trade_id", BigInteger, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),  # journal seq
    Column("ts_ns", BigInteger, nullable=False),
    Column("symbol", String(ID), nullable=False),
    Column("price_fen", BigInteger, nullable=False),
    Column("qty_t", BigInteger, nullable=False),
    Column("aggressor", String(8), nullable=False),
    Column("buy_order_id", BigInteger, nullable=False),
    Column("sell_order_id", BigInteger, nullable=False),
    Column("buy_account_id", String(ID), nullable=False),
    Column("sell_account_id", String(ID), nullable=False),
    Column("buy_fee_fen", BigInteger, nullable=False),
    Column("sell_fee_fen", BigInteger, nullable=False),
    PrimaryKeyConstraint("market_id", "trade_id"),
    CheckConstraint("price_fen > 0 AND qty_t > 0", name="price_qty_positive"),
)

market_postings = Table(
    "market_postings",
    metadata,
    _market(),
    Column("posting_id", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),  # journal seq
    Column("asset", String(ID), nullable=False),  # CNY (in fen) or a unit code (in tonnes)
    Column("amount", BigInteger, nullable=False),
    Column("from_account", String(ID), nullable=False),
    Column("from_state", String(16), nullable=False),
    Column("to_account", String(ID), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("ref", String(ID), nullable=False),
    PrimaryKeyConstraint("market_id", "posting_id"),
    CheckConstraint("amount > 0", name="amount_positive"),
)

market_balances = Table(
    "market_balances",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("asset", String(ID), nullable=False),
    Column("state", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),  # what the postings add up to, now
    PrimaryKeyConstraint("market_id", "account_id", "asset", "state"),
    CheckConstraint(
        f"amount >= 0 OR {_in_list('account_id', SYSTEM_SOURCES)}",
        name="amount_not_negative",
    ),
)

market_statements = Table(
    "market_statements",
    metadata,
    _market(),
    Column("trading_day", String(10), nullable=False),
    Column("account_id", String(ID), nullable=False),
    Column("body", Text, nullable=False),  # JSON
    PrimaryKeyConstraint("market_id", "trading_day", "account_id"),
)

market_large_holder_reports = Table(  # 大户报告: a position above the reporting threshold
    "market_large_holder_reports",
    metadata,
    _market(),
    Column("seq", BigInteger, nullable=False),  # the journal seq of the command that made it
    Column("account_id", String(ID), nullable=False),
    Column("trading_day", String(10), nullable=False),  # YYYY-MM-DD
    Column("position_t", BigInteger, nullable=False),
    Column("threshold_t", BigInteger, nullable=False),
    PrimaryKeyConstraint("market_id", "seq", "account_id"),
)

# Block agreement deals (大宗协议成交): settled like listed trades but off the book, so they
# set neither the open nor the close; the trade tape and the daily statistics show them apart.
market_block_deals = Table(
    "market_block_deals",
    metadata,
    _market(),
    Column("deal_id", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),  # journal seq
    Column("ts_ns", BigInteger, nullable=False),
    Column("trading_day", String(10), nullable=False),  # YYYY-MM-DD
    Column("symbol", String(ID), nullable=False),
    Column("price_fen", BigInteger, nullable=False),
    Column("qty_t", BigInteger, nullable=False),
    Column("buy_account_id", String(ID), nullable=False),
    Column("sell_account_id", String(ID), nullable=False),
    Column("buy_fee_fen", BigInteger, nullable=False),
    Column("sell_fee_fen", BigInteger, nullable=False),
    Column("quote_id", BigInteger, nullable=False),
    Column("negotiation_id", BigInteger, nullable=True),  # None: accepted at the quote's terms
    PrimaryKeyConstraint("market_id", "deal_id"),
    CheckConstraint("price_fen > 0 AND qty_t > 0", name="block_price_qty_positive"),
)

# Each instrument's close (收盘价) at day-end clearing, as the rule set makes it (the VWAP of
# the day's listed trades, or the open or previous close on a quiet day): the daily bar's close.
market_closes = Table(
    "market_closes",
    metadata,
    _market(),
    Column("trading_day", String(10), nullable=False),
    Column("symbol", String(ID), nullable=False),
    Column("close_fen", BigInteger, nullable=False),
    Column("method", String(8), nullable=False),  # vwap, open, previous
    PrimaryKeyConstraint("market_id", "trading_day", "symbol"),
)

market_snapshots = Table(
    "market_snapshots",
    metadata,
    _market(),
    Column("seq", BigInteger, nullable=False),  # the journal seq the snapshot was taken after
    Column("trading_day", String(10), nullable=False),
    Column("state_hash", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
    PrimaryKeyConstraint("market_id", "seq"),
)

DISCONNECT_GUARD_EVENTS = ("armed", "ended")

market_disconnect_guards = Table(  # cancel on disconnect, journaled (exchange.disconnects)
    "market_disconnect_guards",
    metadata,
    _market(),
    Column("session_id", String(32), nullable=False),  # one WebSocket connection
    Column("account_id", String(ID), nullable=False),
    Column("event", String(8), nullable=False),  # armed: its orders go if it dies; ended
    Column("seq", BigInteger, nullable=False),  # the journal seq it came after
    PrimaryKeyConstraint("market_id", "session_id", "account_id", "event"),
    CheckConstraint(_in_list("event", DISCONNECT_GUARD_EVENTS), name="event"),
)


# ---------------------------------------------------------------------- the gateway

API_ROLES = ("operator", "participant", "observer", "verifier")

api_keys = Table(  # bearer keys of the REST API (exchange.keys); only their hashes are kept
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),  # sha256 hex of the key
    _market(),
    Column("account_id", String(ID), nullable=True),  # a participant's account
    Column("role", String(16), nullable=False),
    Column("created_at", Text, nullable=False),  # ISO 8601, UTC
    Column("revoked", Boolean, nullable=False),
    CheckConstraint(_in_list("role", API_ROLES), name="role"),
    CheckConstraint("role != 'participant' OR account_id IS NOT NULL", name="participant_account"),
)


# ---------------------------------------------------------------------- classes (issue 7)
# A class market's own state beside its journal (exchange.classroom.store): what the
# instructor console needs that no market command records (the phase of the compliance
# cycle, the seats), and the instructor's announcements.

CLASS_PHASES = (
    "allocation",
    "trading",
    "mrv",
    "verification",
    "surrender",
    "assessment",
    "closed",
)
ANNOUNCEMENT_LEVELS = ("info", "warning")

class_markets = Table(
    "class_markets",
    metadata,
    Column("market_id", String(ID), primary_key=True),
    Column("scenario", String(ID), nullable=False),  # the scenario's name
    Column("source", Text, nullable=False),  # the scenario's YAML the class was made from
    Column("seed", BigInteger, nullable=False),
    Column("phase", String(16), nullable=False),
    Column("compliance_year", Integer, nullable=False),
    Column("state", Text, nullable=False),  # JSON: seats, declared abatement, the last summary
    CheckConstraint(_in_list("phase", CLASS_PHASES), name="phase"),
)

announcements = Table(
    "announcements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _market(),
    Column("ts_ns", BigInteger, nullable=False),  # the market's time when it was made
    Column("text", Text, nullable=False),
    Column("level", String(16), nullable=False),
    Column("created_at", Text, nullable=False),  # ISO 8601, UTC
    CheckConstraint(_in_list("level", ANNOUNCEMENT_LEVELS), name="level"),
    Index(None, "market_id", "id"),
)

class_creations = Table(  # a class being made: gone once it is whole (exchange.classroom.making)
    "class_creations",
    metadata,
    Column("market_id", String(ID), primary_key=True),
    Column("started_at", Text, nullable=False),  # ISO 8601, UTC
)


# ---------------------------------------------------------------------- MRV (issue 19)
# A market's monitoring, reporting and verification beside its journal (exchange.mrv_desk,
# docs/mrv.md "Over the API"): units' plans, unit-months with their deposit states, flags and
# findings, verifiers' assignments, verification reports. Decimals are kept as strings, in
# their columns and inside the JSON, so nothing is lost. Verified emissions reach the registry
# only through the market's journal (publication), never from these tables.

MRV_MONTH_STATES = ("draft", "deposited", "passed", "returned", "locked")
MRV_REPORT_STATES = ("signed", "returned", "published")

mrv_units = Table(
    "mrv_units",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("capacity_mw", String(32), nullable=False),  # decimal text
    Column("kind", String(16), nullable=False),  # mrv.model.UnitKind
    Column("coal", String(16), nullable=False),  # mrv.model.Fuel
    Column("benchmark", String(32), nullable=False),  # t/MWh, decimal text
    Column("guideline_id", String(16), nullable=True),  # None: by the data year
    Column("updated_at", Text, nullable=False),  # ISO 8601, UTC
    PrimaryKeyConstraint("market_id", "account_id"),
)

mrv_months = Table(
    "mrv_months",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("year", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("record", Text, nullable=False),  # JSON: the UnitMonth as saved, decimals as text
    Column("state", String(16), nullable=False),  # mrv.platform.DepositState
    Column("deposited_on", String(10), nullable=True),  # the market's local date
    Column("deposited_by", String(16), nullable=True),  # the depositing key's id
    Column("flags", Text, nullable=False),  # JSON: the checks' flags at the last deposit
    Column("findings", Text, nullable=False),  # JSON: the verifier's forced changes
    Column("review_note", Text, nullable=True),  # the authority's note on a return
    Column("updated_at", Text, nullable=False),
    CheckConstraint(_in_list("state", MRV_MONTH_STATES), name="mrv_month_state"),
    CheckConstraint("month BETWEEN 1 AND 12", name="mrv_month_number"),
    PrimaryKeyConstraint("market_id", "account_id", "year", "month"),
)

mrv_verifiers = Table(  # which verifier key may verify which account
    "mrv_verifiers",
    metadata,
    _market(),
    Column("key_id", String(16), nullable=False),
    Column("account_id", String(ID), nullable=False),
    Column("assigned_at", Text, nullable=False),
    PrimaryKeyConstraint("market_id", "key_id", "account_id"),
)

mrv_reports = Table(
    "mrv_reports",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("year", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("verifier", String(16), nullable=False),  # the signing key's id
    Column("verified_t", BigInteger, nullable=False),  # whole tonnes, into the registry
    Column("emissions_t", String(32), nullable=False),  # to 0.01 t, decimal text
    Column("generation_mwh", String(32), nullable=False),  # after the meters' rules
    Column("output_mwh", BigInteger, nullable=False),  # whole MWh, for the true-up
    Column("body", Text, nullable=False),  # JSON: the report (months, findings, guideline)
    Column("signed_at", Text, nullable=False),
    Column("published_at", Text, nullable=True),
    Column("publication", Text, nullable=True),  # JSON: the registry's figures
    Column("note", Text, nullable=True),  # the authority's note on a return
    CheckConstraint(_in_list("state", MRV_REPORT_STATES), name="mrv_report_state"),
    CheckConstraint("verified_t >= 0", name="mrv_report_verified"),
    PrimaryKeyConstraint("market_id", "account_id", "year"),
)

# The credit record (issue 19, mrv/enforcement.py): each entity's penalties under the 2024
# Regulation, numbered per account in the order recorded, dated by the market clock's local
# date. An allocation cut (Art. 22) is recorded here with its base; the registry has no
# operation that takes it from next year's allocation yet (docs/mrv.md, "Enforcement over
# the API").

MRV_CUT_BASES = ("next_year_allocation", "misreported_t")

mrv_penalties = Table(
    "mrv_penalties",
    metadata,
    _market(),
    Column("account_id", String(ID), nullable=False),
    Column("seq", Integer, nullable=False),  # 1, 2, ... per account
    Column("on_date", String(10), nullable=False),  # the market's local date
    Column("article", String(32), nullable=False),  # a section of mrv/enforcement.toml
    Column("fine_fen", BigInteger, nullable=False),
    Column("gains_fen", BigInteger, nullable=False),  # the illegal gains the fine was set against
    Column("allocation_cut_t", BigInteger, nullable=False),  # 0: no cut
    Column("cut_bp", Integer, nullable=True),  # the cut's share of its base; None: no cut
    Column("base", String(32), nullable=True),  # MRV_CUT_BASES; None: no cut
    Column("base_t", BigInteger, nullable=True),  # the base's tonnes the cut was taken from
    Column("note", Text, nullable=False),
    Column("recorded_by", String(16), nullable=False),  # the operator key's id
    Column("recorded_at", Text, nullable=False),  # ISO 8601, UTC
    CheckConstraint("fine_fen >= 0 AND gains_fen >= 0", name="mrv_penalty_amounts"),
    CheckConstraint("allocation_cut_t >= 0", name="mrv_penalty_cut"),
    CheckConstraint("base IS NULL OR " + _in_list("base", MRV_CUT_BASES), name="mrv_penalty_base"),
    PrimaryKeyConstraint("market_id", "account_id", "seq"),
)
