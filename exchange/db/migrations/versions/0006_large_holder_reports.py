"""Large-holder reports journaled.

``market_large_holder_reports``: each report (大户报告) a command made when an account's position
rose above the rule set's reporting threshold, with the journal seq and trading day of that
command (issue 16, "out of reach": the market built the reports and dropped them). As
exchange/db/tables.py has it at this revision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_large_holder_reports",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("trading_day", sa.String(length=10), nullable=False),
        sa.Column("position_t", sa.BigInteger(), nullable=False),
        sa.Column("threshold_t", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "market_id", "seq", "account_id", name=op.f("pk_market_large_holder_reports")
        ),
    )


def downgrade() -> None:
    op.drop_table("market_large_holder_reports")
