"""Reconciling with the finance ledger (issue 19): finance transactions, matches and balance assertions.

Revision ID: 0011_reconciliation
Revises: 0010_must_change_password
"""

revision = "0011_reconciliation"
down_revision = "0010_must_change_password"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
