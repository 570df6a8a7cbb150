"""Market journal tables.

The market runtime's journal and its projections, written in batches by
exchange.db.journal_store: market_journal, market_orders, market_order_updates, market_trades,
market_postings, market_balances, market_statements and market_snapshots, as
exchange/db/tables.py has them at this revision. No foreign keys, to each other or to the
registry tables of 0001.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 07:32:44.523327
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_balances",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("asset", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "amount >= 0 OR account_id IN ('SYS:ISSUANCE', 'SYS:CASH')",
            name=op.f("ck_market_balances_amount_not_negative"),
        ),
        sa.PrimaryKeyConstraint(
            "market_id", "account_id", "asset", "state", name=op.f("pk_market_balances")
        ),
    )
    op.create_table(
        "market_journal",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("market_id", "seq", name=op.f("pk_market_journal")),
    )
    op.create_table(
        "market_order_updates",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("qty_t", sa.BigInteger(), nullable=False),
        sa.Column("leaves_t", sa.BigInteger(), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("market_id", "event_seq", name=op.f("pk_market_order_updates")),
    )
    op.create_table(
        "market_orders",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("trading_day", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=True),
        sa.Column("symbol", sa.String(length=128), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("qty_t", sa.BigInteger(), nullable=False),
        sa.Column("stp", sa.String(length=16), nullable=False),
        sa.CheckConstraint("qty_t > 0", name=op.f("ck_market_orders_qty_positive")),
        sa.PrimaryKeyConstraint("market_id", "order_id", name=op.f("pk_market_orders")),
        sa.UniqueConstraint(
            "market_id",
            "account_id",
            "client_order_id",
            "trading_day",
            name="uq_market_orders_client_order_id_per_day",
        ),
    )
    op.create_table(
        "market_postings",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("posting_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("asset", sa.String(length=128), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("from_account", sa.String(length=128), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_account", sa.String(length=128), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_market_postings_amount_positive")),
        sa.PrimaryKeyConstraint("market_id", "posting_id", name=op.f("pk_market_postings")),
    )
    op.create_table(
        "market_snapshots",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("trading_day", sa.String(length=10), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("market_id", "seq", name=op.f("pk_market_snapshots")),
    )
    op.create_table(
        "market_statements",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("trading_day", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "market_id", "trading_day", "account_id", name=op.f("pk_market_statements")
        ),
    )
    op.create_table(
        "market_trades",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("trade_id", sa.BigInteger(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(length=128), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("qty_t", sa.BigInteger(), nullable=False),
        sa.Column("aggressor", sa.String(length=8), nullable=False),
        sa.Column("buy_order_id", sa.BigInteger(), nullable=False),
        sa.Column("sell_order_id", sa.BigInteger(), nullable=False),
        sa.Column("buy_account_id", sa.String(length=128), nullable=False),
        sa.Column("sell_account_id", sa.String(length=128), nullable=False),
        sa.Column("buy_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("sell_fee_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "price_fen > 0 AND qty_t > 0", name=op.f("ck_market_trades_price_qty_positive")
        ),
        sa.PrimaryKeyConstraint("market_id", "trade_id", name=op.f("pk_market_trades")),
    )


def downgrade() -> None:
    op.drop_table("market_trades")
    op.drop_table("market_statements")
    op.drop_table("market_snapshots")
    op.drop_table("market_postings")
    op.drop_table("market_orders")
    op.drop_table("market_order_updates")
    op.drop_table("market_journal")
    op.drop_table("market_balances")
