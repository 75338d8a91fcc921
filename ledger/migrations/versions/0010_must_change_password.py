"""A temporary password an admin sets must be changed at the user's next sign-in (issue 15).

The column is added and dropped in place, as 0008's are.

Revision ID: 0010_must_change_password
Revises: 0009_import_runs
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_must_change_password"
down_revision = "0009_import_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN must_change_password")
