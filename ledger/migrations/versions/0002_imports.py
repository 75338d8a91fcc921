"""Imports: placeholder agreements flagged for review, and income due.

Revision ID: 0002_imports
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_imports"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agreements") as batch:
        batch.add_column(sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "income_due",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["obligation_id"], ["obligations.id"], name=op.f("fk_income_due_obligation_id_obligations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_income_due")),
        sa.UniqueConstraint("reference", name=op.f("uq_income_due_reference")),
    )
    with op.batch_alter_table("income_due") as batch:
        batch.create_index(batch.f("ix_income_due_obligation_id"), ["obligation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("income_due") as batch:
        batch.drop_index(batch.f("ix_income_due_obligation_id"))
    op.drop_table("income_due")
    with op.batch_alter_table("agreements") as batch:
        batch.drop_column("needs_review")
