"""What each obligation's money did for each project, kept (issue 17): a division's page
summed every entry of its agreements that named a project (2,000 at national size) where it
now sums a few kept rows.

Derived, not ledger records, as 0014's tables. Every kept position is worked out from the
entries, once, by the application's own rules (the same code that keeps them), in the latest
migration to add a kept table or column (0020), so that every table and column the rebuild
writes exists: it was here until 0019 added a column.

Revision ID: 0017_kept_project_positions
Revises: 0016_entries_created_at_id
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_kept_project_positions"
down_revision = "0016_entries_created_at_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_project_positions",
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in ("spent", "transferred", "allocated")),
        sa.ForeignKeyConstraint(["obligation_id"], ["obligations.id"],
                                name=op.f("fk_kept_project_positions_obligation_id_obligations")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_kept_project_positions_project_id_projects")),
        sa.PrimaryKeyConstraint("obligation_id", "project_id", name=op.f("pk_kept_project_positions")),
    )


def downgrade() -> None:
    op.drop_table("kept_project_positions")
