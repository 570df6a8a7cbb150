"""Registry tables.

Markets, accounts, projects, unit types, the journal (operations and postings), holdings,
verified emissions, net sales, allocations, deductions, surrenders, compliance records and
cancellations: exchange/db/tables.py as of this revision.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 05:55:18.128682
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "markets",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("rules", sa.String(length=128), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("market_id", name=op.f("pk_markets")),
    )
    op.create_table(
        "accounts",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sector", sa.Text(), nullable=False),
        sa.Column("province", sa.Text(), nullable=False),
        sa.Column("gas_fired", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('covered_entity', 'participant', 'issuance', 'national_authority', "
            "'provincial_authority', 'fees', 'retired')",
            name=op.f("ck_accounts_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.market_id"], name=op.f("fk_accounts_market_id_markets")
        ),
        sa.PrimaryKeyConstraint("market_id", "account_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "operations",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("op_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("op_type", sa.String(length=32), nullable=False),
        sa.Column("op", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_operations_seq_positive")),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.market_id"], name=op.f("fk_operations_market_id_markets")
        ),
        sa.PrimaryKeyConstraint("market_id", "op_id", name=op.f("pk_operations")),
        sa.UniqueConstraint("market_id", "seq", name=op.f("uq_operations_market_id_seq")),
    )
    op.create_table(
        "projects",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("project_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("methodology", sa.Text(), nullable=False),
        sa.Column("province", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("registration_date", sa.Date(), nullable=False),
        sa.Column("inside_ets_scope", sa.Boolean(), nullable=False),
        sa.CheckConstraint("kind IN ('CEA', 'CCER', 'PHCER')", name=op.f("ck_projects_kind")),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.market_id"], name=op.f("fk_projects_market_id_markets")
        ),
        sa.PrimaryKeyConstraint("market_id", "project_id", name=op.f("pk_projects")),
    )
    op.create_table(
        "allocations",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("allocated_t", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("allocated_t >= 0", name=op.f("ck_allocations_allocated_not_negative")),
        sa.ForeignKeyConstraint(
            ["market_id", "account_id"],
            ["accounts.market_id", "accounts.account_id"],
            name=op.f("fk_allocations_market_id_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("market_id", "account_id", "year", name=op.f("pk_allocations")),
    )
    op.create_table(
        "compliance_records",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("obligation_t", sa.BigInteger(), nullable=False),
        sa.Column("allowances_t", sa.BigInteger(), nullable=False),
        sa.Column("offsets_t", sa.BigInteger(), nullable=False),
        sa.Column("shortfall_t", sa.BigInteger(), nullable=False),
        sa.Column("penalty_fen", sa.BigInteger(), nullable=False),
        sa.Column("deduction_t", sa.BigInteger(), nullable=False),
        sa.Column("reference_price_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "shortfall_t >= 0", name=op.f("ck_compliance_records_shortfall_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["market_id", "account_id"],
            ["accounts.market_id", "accounts.account_id"],
            name=op.f("fk_compliance_records_market_id_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint(
            "market_id", "account_id", "year", name=op.f("pk_compliance_records")
        ),
    )
    op.create_table(
        "deductions",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("owed_t", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("owed_t >= 0", name=op.f("ck_deductions_owed_not_negative")),
        sa.ForeignKeyConstraint(
            ["market_id", "account_id"],
            ["accounts.market_id", "accounts.account_id"],
            name=op.f("fk_deductions_market_id_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("market_id", "account_id", name=op.f("pk_deductions")),
    )
    op.create_table(
        "net_sales",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("net_sales_t", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("net_sales_t >= 0", name=op.f("ck_net_sales_net_sales_not_negative")),
        sa.ForeignKeyConstraint(
            ["market_id", "account_id"],
            ["accounts.market_id", "accounts.account_id"],
            name=op.f("fk_net_sales_market_id_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("market_id", "account_id", name=op.f("pk_net_sales")),
    )
    op.create_table(
        "unit_types",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=128), nullable=True),
        sa.CheckConstraint("kind IN ('CEA', 'CCER', 'PHCER')", name=op.f("ck_unit_types_kind")),
        sa.ForeignKeyConstraint(
            ["market_id", "project_id"],
            ["projects.market_id", "projects.project_id"],
            name=op.f("fk_unit_types_market_id_project_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.market_id"], name=op.f("fk_unit_types_market_id_markets")
        ),
        sa.PrimaryKeyConstraint("market_id", "code", name=op.f("pk_unit_types")),
    )
    op.create_table(
        "verified_emissions",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("verified_t", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "verified_t >= 0", name=op.f("ck_verified_emissions_verified_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["market_id", "account_id"],
            ["accounts.market_id", "accounts.account_id"],
            name=op.f("fk_verified_emissions_market_id_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint(
            "market_id", "account_id", "year", name=op.f("pk_verified_emissions")
        ),
    )
    op.create_table(
        "cancellations",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("op_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("qty_t", sa.BigInteger(), nullable=False),
        sa.Column("beneficiary", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.CheckConstraint("qty_t > 0", name=op.f("ck_cancellations_qty_positive")),
        sa.ForeignKeyConstraint(
            ["market_id", "account_id"],
            ["accounts.market_id", "accounts.account_id"],
            name=op.f("fk_cancellations_market_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id", "op_id"],
            ["operations.market_id", "operations.op_id"],
            name=op.f("fk_cancellations_market_id_op_id_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id", "unit"],
            ["unit_types.market_id", "unit_types.code"],
            name=op.f("fk_cancellations_market_id_unit_unit_types"),
        ),
        sa.PrimaryKeyConstraint("market_id", "op_id", name=op.f("pk_cancellations")),
        sa.UniqueConstraint("market_id", "seq", name=op.f("uq_cancellations_market_id_seq")),
    )
    op.create_table(
        "holdings",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("qty_t", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "qty_t >= 0 OR account_id = 'SYS:ISSUANCE'", name=op.f("ck_holdings_qty_not_negative")
        ),
        sa.CheckConstraint(
            "state IN ('available', 'held', 'pending', 'frozen')", name=op.f("ck_holdings_state")
        ),
        sa.ForeignKeyConstraint(
            ["market_id", "account_id"],
            ["accounts.market_id", "accounts.account_id"],
            name=op.f("fk_holdings_market_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id", "unit"],
            ["unit_types.market_id", "unit_types.code"],
            name=op.f("fk_holdings_market_id_unit_unit_types"),
        ),
        sa.PrimaryKeyConstraint(
            "market_id", "account_id", "unit", "state", name=op.f("pk_holdings")
        ),
    )
    op.create_table(
        "postings",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("posting_id", sa.BigInteger(), nullable=False),
        sa.Column("op_id", sa.String(length=128), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("qty_t", sa.BigInteger(), nullable=False),
        sa.Column("from_account", sa.String(length=128), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_account", sa.String(length=128), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "from_state IN ('available', 'held', 'pending', 'frozen')",
            name=op.f("ck_postings_from_state"),
        ),
        sa.CheckConstraint(
            "to_state IN ('available', 'held', 'pending', 'frozen')",
            name=op.f("ck_postings_to_state"),
        ),
        sa.CheckConstraint("qty_t > 0", name=op.f("ck_postings_qty_positive")),
        sa.ForeignKeyConstraint(
            ["market_id", "from_account"],
            ["accounts.market_id", "accounts.account_id"],
            name=op.f("fk_postings_market_id_from_account_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id", "op_id"],
            ["operations.market_id", "operations.op_id"],
            name=op.f("fk_postings_market_id_op_id_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id", "to_account"],
            ["accounts.market_id", "accounts.account_id"],
            name=op.f("fk_postings_market_id_to_account_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id", "unit"],
            ["unit_types.market_id", "unit_types.code"],
            name=op.f("fk_postings_market_id_unit_unit_types"),
        ),
        sa.PrimaryKeyConstraint("market_id", "posting_id", name=op.f("pk_postings")),
    )
    op.create_index(op.f("ix_postings_market_id_op_id"), "postings", ["market_id", "op_id"])
    op.create_table(
        "surrenders",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("entry", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("qty_t", sa.BigInteger(), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.CheckConstraint("qty_t > 0", name=op.f("ck_surrenders_qty_positive")),
        sa.ForeignKeyConstraint(
            ["market_id", "account_id"],
            ["accounts.market_id", "accounts.account_id"],
            name=op.f("fk_surrenders_market_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id", "unit"],
            ["unit_types.market_id", "unit_types.code"],
            name=op.f("fk_surrenders_market_id_unit_unit_types"),
        ),
        sa.PrimaryKeyConstraint(
            "market_id", "account_id", "year", "entry", name=op.f("pk_surrenders")
        ),
    )


def downgrade() -> None:
    op.drop_table("surrenders")
    op.drop_index(op.f("ix_postings_market_id_op_id"), table_name="postings")
    op.drop_table("postings")
    op.drop_table("holdings")
    op.drop_table("cancellations")
    op.drop_table("verified_emissions")
    op.drop_table("unit_types")
    op.drop_table("net_sales")
    op.drop_table("deductions")
    op.drop_table("compliance_records")
    op.drop_table("allocations")
    op.drop_table("projects")
    op.drop_table("operations")
    op.drop_table("accounts")
    op.drop_table("markets")
