"""How many agreements hold urgent money, kept with the day they are kept for (issue 17):
the agreements list with money at risk counted the day's 28,000 kept agreements (national
size) on every request; it now reads the count with the day.

The day's urgent state is cleared, so the first read of the day writes every urgent table
and the count afresh (as 0015 did).

Revision ID: 0018_kept_urgent_agreement_count
Revises: 0017_kept_project_positions
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_kept_urgent_agreement_count"
down_revision = "0017_kept_project_positions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM kept_urgent_state")
    op.add_column("kept_urgent_state",
                  sa.Column("agreements", sa.Integer(), nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("kept_urgent_state") as batch:
        batch.drop_column("agreements")
