"""Each instrument's close at day-end clearing.

``market_closes``: the close (收盘价) the rule set made for an instrument at a day's end (the
VWAP of the day's listed trades, or the open or previous close on a quiet day), written in the
journal's batches, so that the daily bar publishes the rule's close, not the last trade
(issue 16). As exchange/db/tables.py has it at this revision.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_closes",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("trading_day", sa.String(length=10), nullable=False),
        sa.Column("symbol", sa.String(length=128), nullable=False),
        sa.Column("close_fen", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint(
            "market_id", "trading_day", "symbol", name=op.f("pk_market_closes")
        ),
    )


def downgrade() -> None:
    op.drop_table("market_closes")
