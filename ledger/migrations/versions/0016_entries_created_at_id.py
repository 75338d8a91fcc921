"""The entries' index of when they were written takes their id too (issue 17): an import's
entries are written at one moment, and on PostgreSQL the dashboard's ten latest entries
sorted every entry of the latest import (20,000 in the national demo) by id.

SQLite's index had the id already (every index ends with the rowid); the new index is the
same there, and PostgreSQL reads the latest entries from its end.

Revision ID: 0016_entries_created_at_id
Revises: 0015_kept_urgent_agreements
"""

from alembic import op

revision = "0016_entries_created_at_id"
down_revision = "0015_kept_urgent_agreements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entries_created_at_id", "entries", ["created_at", "id"])
    op.drop_index("ix_entries_created_at", table_name="entries")


def downgrade() -> None:
    op.create_index("ix_entries_created_at", "entries", ["created_at"])
    op.drop_index("ix_entries_created_at_id", table_name="entries")
