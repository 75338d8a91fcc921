"""Ledger revision: a counter every write transaction moves on, for the API's response cache.

Revision ID: 0005_ledger_revision
Revises: 0004_income_due
"""

from alembic import op
import sqlalchemy as sa


revision = '0005_ledger_revision'
down_revision = '0004_income_due'
branch_labels = None
depends_on = None


def upgrade() -> None:
    revisions = op.create_table('ledger_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_revision'))
    )
    op.bulk_insert(revisions, [{'id': 1, 'number': 0}])


def downgrade() -> None:
    op.drop_table('ledger_revision')
