"""Block agreement deals journaled.

``market_block_deals``: each block agreement deal (大宗协议成交) with its journal seq, trading day,
price, quantity, both accounts and their fees, and the quote and negotiation it came from. As
exchange/db/tables.py has it at this revision.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_block_deals",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("trading_day", sa.String(length=10), nullable=False),
        sa.Column("symbol", sa.String(length=128), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("qty_t", sa.BigInteger(), nullable=False),
        sa.Column("buy_account_id", sa.String(length=128), nullable=False),
        sa.Column("sell_account_id", sa.String(length=128), nullable=False),
        sa.Column("buy_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("sell_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("quote_id", sa.BigInteger(), nullable=False),
        sa.Column("negotiation_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "price_fen > 0 AND qty_t > 0",
            name=op.f("ck_market_block_deals_block_price_qty_positive"),
        ),
        sa.PrimaryKeyConstraint("market_id", "deal_id", name=op.f("pk_market_block_deals")),
    )


def downgrade() -> None:
    op.drop_table("market_block_deals")
