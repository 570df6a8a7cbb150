"""API keys.

The bearer keys of the REST API (exchange.keys), stored as sha256 hashes: api_keys, as
exchange/db/tables.py has it at this revision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "role IN ('operator', 'participant', 'observer')", name=op.f("ck_api_keys_role")
        ),
        sa.CheckConstraint(
            "role != 'participant' OR account_id IS NOT NULL",
            name=op.f("ck_api_keys_participant_account"),
        ),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_api_keys")),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
