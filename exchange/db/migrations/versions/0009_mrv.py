"""MRV over the API (issue 19).

``mrv_units``, ``mrv_months``, ``mrv_verifiers`` and ``mrv_reports`` (exchange.mrv_desk), and the
``verifier`` role of ``api_keys``. As exchange/db/tables.py has them at this revision.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "role IN ('operator', 'participant', 'observer')"
ROLES_AFTER = "role IN ('operator', 'participant', 'observer', 'verifier')"


def _roles(check: str) -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint(op.f("ck_api_keys_role"), type_="check")
        batch.create_check_constraint(op.f("ck_api_keys_role"), check)


def upgrade() -> None:
    _roles(ROLES_AFTER)
    op.create_table(
        "mrv_units",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("capacity_mw", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("coal", sa.String(length=16), nullable=False),
        sa.Column("benchmark", sa.String(length=32), nullable=False),
        sa.Column("guideline_id", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("market_id", "account_id", name=op.f("pk_mrv_units")),
    )
    op.create_table(
        "mrv_months",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("deposited_on", sa.String(length=10), nullable=True),
        sa.Column("deposited_by", sa.String(length=16), nullable=True),
        sa.Column("flags", sa.Text(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'deposited', 'passed', 'returned', 'locked')",
            name=op.f("ck_mrv_months_mrv_month_state"),
        ),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name=op.f("ck_mrv_months_mrv_month_number")),
        sa.PrimaryKeyConstraint(
            "market_id", "account_id", "year", "month", name=op.f("pk_mrv_months")
        ),
    )
    op.create_table(
        "mrv_verifiers",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("assigned_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("market_id", "key_id", "account_id", name=op.f("pk_mrv_verifiers")),
    )
    op.create_table(
        "mrv_reports",
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("verifier", sa.String(length=16), nullable=False),
        sa.Column("verified_t", sa.BigInteger(), nullable=False),
        sa.Column("emissions_t", sa.String(length=32), nullable=False),
        sa.Column("generation_mwh", sa.String(length=32), nullable=False),
        sa.Column("output_mwh", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.Text(), nullable=False),
        sa.Column("published_at", sa.Text(), nullable=True),
        sa.Column("publication", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('signed', 'returned', 'published')",
            name=op.f("ck_mrv_reports_mrv_report_state"),
        ),
        sa.CheckConstraint("verified_t >= 0", name=op.f("ck_mrv_reports_mrv_report_verified")),
        sa.PrimaryKeyConstraint("market_id", "account_id", "year", name=op.f("pk_mrv_reports")),
    )


def downgrade() -> None:
    op.drop_table("mrv_reports")
    op.drop_table("mrv_verifiers")
    op.drop_table("mrv_months")
    op.drop_table("mrv_units")
    _roles(ROLES_BEFORE)
