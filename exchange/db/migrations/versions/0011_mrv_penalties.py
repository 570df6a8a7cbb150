"""The credit record over the API (issue 19): ``mrv_penalties``, each entity's fines and
allocation cuts under the 2024 Regulation (exchange.mrv_desk.enforcement). As
exchange/db/tables.py has it at this revision.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mrv_penalties",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.String(length=10), nullable=False),
        sa.Column("article", sa.String(length=32), nullable=False),
        sa.Column("fine_fen", sa.BigInteger(), nullable=False),
        sa.Column("gains_fen", sa.BigInteger(), nullable=False),
        sa.Column("allocation_cut_t", sa.BigInteger(), nullable=False),
        sa.Column("cut_bp", sa.Integer(), nullable=True),
        sa.Column("base", sa.String(length=32), nullable=True),
        sa.Column("base_t", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "fine_fen >= 0 AND gains_fen >= 0", name=op.f("ck_mrv_penalties_mrv_penalty_amounts")
        ),
        sa.CheckConstraint("allocation_cut_t >= 0", name=op.f("ck_mrv_penalties_mrv_penalty_cut")),
        sa.CheckConstraint(
            "base IS NULL OR base IN ('next_year_allocation', 'misreported_t')",
            name=op.f("ck_mrv_penalties_mrv_penalty_base"),
        ),
        sa.PrimaryKeyConstraint("market_id", "account_id", "seq", name=op.f("pk_mrv_penalties")),
    )


def downgrade() -> None:
    op.drop_table("mrv_penalties")
