"""Web sign-in: count failed sign-ins and lock the account for a while after too many.

Revision ID: 0003_sign_in_lockout
Revises: 0002_imports
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_sign_in_lockout"
down_revision = "0002_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_sign_ins")
