"""Reviews of money at risk, proposed agreements and notifications (issue 16).

Revision ID: 0012_reviews_notifications
Revises: 0011_reconciliation
"""

revision = "0012_reviews_notifications"
down_revision = "0011_reconciliation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
