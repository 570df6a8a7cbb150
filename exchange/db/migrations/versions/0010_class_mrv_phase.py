"""A class's MRV phase (issue 19): ``mrv`` among the phases ``class_markets`` allows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "phase IN ('allocation', 'trading', 'verification', 'surrender', 'assessment', 'closed')"
AFTER = (
    "phase IN ('allocation', 'trading', 'mrv', 'verification', 'surrender', 'assessment', 'closed')"
)


def _phases(check: str) -> None:
    with op.batch_alter_table("class_markets") as batch:
        batch.drop_constraint(op.f("ck_class_markets_phase"), type_="check")
        batch.create_check_constraint(op.f("ck_class_markets_phase"), check)


def upgrade() -> None:
    _phases(AFTER)


def downgrade() -> None:
    _phases(BEFORE)
