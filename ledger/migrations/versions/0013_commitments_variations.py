"""Commitments and repayment terms that change from a date (issue 16, SPEC 8.2 and 8.7).

- ``obligations.commitment_stops_clock``: false for every existing obligation, so no money
  that was at risk stops being at risk.
- ``repayment_terms``: terms an obligation takes from a date. An obligation's own columns
  stay its deed's terms, in force until its first change, so existing obligations need no
  row and every deadline stays as it was. Append-only like agreement_history (0006), and
  it moves the ledger's revision (a change of terms moves deadlines, so cached reads go).
- The entry kinds ``commitment`` and ``decommitment`` need nothing here: ``entries.kind``
  is a plain string column, checked by the application's table of kinds.

The column is added and dropped in place, as 0008's are, so the triggers on obligations stay.

Revision ID: 0013_commitments_variations
Revises: 0012_reviews_notifications
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_commitments_variations"
down_revision = "0012_reviews_notifications"
branch_labels = None
depends_on = None

TABLE = "repayment_terms"
#: As 0006 moves the revision on SQLite (PostgreSQL reuses 0006's function).
MOVE_SQLITE = ("UPDATE ledger_revision SET number = max(number + 1, "
               "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)) WHERE id = 1")


def upgrade() -> None:
    op.add_column("obligations", sa.Column("commitment_stops_clock", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("in_force_from", sa.Date(), nullable=False),
        sa.Column("repayment_basis", sa.String(length=32), nullable=False),
        sa.Column("repayment_years", sa.Integer(), nullable=True),
        sa.Column("variation_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["obligation_id"], ["obligations.id"],
                                name=op.f("fk_repayment_terms_obligation_id_obligations")),
        sa.ForeignKeyConstraint(["variation_id"], ["agreements.id"],
                                name=op.f("fk_repayment_terms_variation_id_agreements")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayment_terms")),
    )
    op.create_index(op.f("ix_repayment_terms_obligation_id"), TABLE, ["obligation_id"], unique=False)
    op.create_index(op.f("ix_repayment_terms_variation_id"), TABLE, ["variation_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
        op.execute(f"CREATE TRIGGER {TABLE}_moves_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION ledger_move_revision()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
                       f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END")
        for action in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {TABLE}_{action.lower()}_moves_revision AFTER {action} ON {TABLE} "
                       f"BEGIN {MOVE_SQLITE}; END")


def downgrade() -> None:
    # Dropping a table drops its triggers on both engines.
    op.drop_index(op.f("ix_repayment_terms_variation_id"), table_name=TABLE)
    op.drop_index(op.f("ix_repayment_terms_obligation_id"), table_name=TABLE)
    op.drop_table(TABLE)
    op.execute("ALTER TABLE obligations DROP COLUMN commitment_stops_clock")
