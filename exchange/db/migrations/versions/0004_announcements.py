"""Class markets and announcements.

A class market's own state beside its journal (class_markets: scenario, seed, phase of the
compliance cycle, seats) and the instructor's announcements, as exchange/db/tables.py has them
at this revision (issue 7, exchange.classroom.store).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PHASES = "'allocation', 'trading', 'verification', 'surrender', 'assessment', 'closed'"


def upgrade() -> None:
    op.create_table(
        "class_markets",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("scenario", sa.String(length=128), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("compliance_year", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.CheckConstraint(f"phase IN ({PHASES})", name=op.f("ck_class_markets_phase")),
        sa.PrimaryKeyConstraint("market_id", name=op.f("pk_class_markets")),
    )
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint("level IN ('info', 'warning')", name=op.f("ck_announcements_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    op.create_index(op.f("ix_announcements_market_id_id"), "announcements", ["market_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_announcements_market_id_id"), table_name="announcements")
    op.drop_table("announcements")
    op.drop_table("class_markets")
