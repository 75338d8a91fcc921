"""Commitments and repayment terms that change from a date (issue 16).

Revision ID: 0013_commitments_variations
Revises: 0012_reviews_notifications
"""

revision = "0013_commitments_variations"
down_revision = "0012_reviews_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
