"""Cancel on disconnect journaled, and classes being made.

``market_disconnect_guards``: a WebSocket session's cancel-on-disconnect registration per
account (``armed``) and its clean end (``ended``), written in the journal's batches, so that a
recovery cancels the orders of sessions that died with the process (issue 15, item 5,
``exchange.disconnects``). ``class_creations``: a class market being made, until it is whole;
a start-up removes what a kill left half made (issue 15, item 12,
``exchange.classroom.making``). As exchange/db/tables.py has them at this revision.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_disconnect_guards",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("event", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "event IN ('armed', 'ended')", name=op.f("ck_market_disconnect_guards_event")
        ),
        sa.PrimaryKeyConstraint(
            "market_id",
            "session_id",
            "account_id",
            "event",
            name=op.f("pk_market_disconnect_guards"),
        ),
    )
    op.create_table(
        "class_creations",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("market_id", name=op.f("pk_class_creations")),
    )


def downgrade() -> None:
    op.drop_table("class_creations")
    op.drop_table("market_disconnect_guards")
