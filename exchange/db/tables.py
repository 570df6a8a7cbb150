"""The registry's tables (SQLAlchemy Core), one registry per market.

``operations`` and ``postings`` are the registry's journal: appended to, never changed. The other
tables hold the rest of its state (accounts, projects, unit types, emissions, allocation,
surrenders, compliance records, cancellations) and a queryable projection of it (``holdings``,
what the postings add up to). Every row carries its ``market_id``. Constraints guard what must
never happen: a negative holding outside the issuance account, a posting or an operation id
recorded twice, a movement of zero or fewer tonnes.

The Alembic migrations under ``exchange/db/migrations`` create these tables; change both together
(``tests/integration`` checks that they agree).
"""

from __future__ import annotations

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
    listed = ", ".join(f"'{v.value}'" for v in values)
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
