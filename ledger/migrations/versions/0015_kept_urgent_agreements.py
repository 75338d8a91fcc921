"""The agreements holding urgent money, kept for the day with the obligations' (issue 17):
the agreements list with money at risk reads them newest first by their own index.

Derived, not ledger records, as 0014's tables. The table starts empty and the day's urgent
state is cleared, so the first read of the day works out every urgent table afresh.

Revision ID: 0015_kept_urgent_agreements
Revises: 0014_kept_positions
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_kept_urgent_agreements"
down_revision = "0014_kept_positions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_urgent_agreements",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("dated", sa.Boolean(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"],
                                name=op.f("fk_kept_urgent_agreements_agreement_id_agreements")),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f("pk_kept_urgent_agreements")),
    )
    op.create_index("ix_kept_urgent_agreements_newest", "kept_urgent_agreements",
                    ["dated", "signed_on", "agreement_id"])
    op.execute("DELETE FROM kept_urgent_state")


def downgrade() -> None:
    op.drop_table("kept_urgent_agreements")
