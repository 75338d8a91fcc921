"""The money with a deadline kept per division (issue 17): the whole list of money at risk
summed every deadline date's kept money (8,700 rows at national size) on every request; it
now sums the divisions' 1,500 rows.

Every kept position is worked out from the entries, once, by the application's own rules, in
the latest migration to add a kept table or column (0020), so that every table and column the
rebuild writes exists: it was here until 0020 added columns.

Revision ID: 0019_kept_division_dated_money
Revises: 0018_kept_urgent_agreement_count
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_kept_division_dated_money"
down_revision = "0018_kept_urgent_agreement_count"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("kept_division_positions",
                  sa.Column("dated", sa.BigInteger(), nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("kept_division_positions") as batch:
        batch.drop_column("dated")
