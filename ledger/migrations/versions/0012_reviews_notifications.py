"""Reviews of money at risk, proposed agreements and notifications (issue 16).

Agreements gain a status (proposed or signed; every existing one is signed) and lose the
requirement of a signing date, which a proposed agreement does not have yet; a check keeps
the two in step. SQLite cannot relax NOT NULL in place: the table is copied, and its
revision triggers (0006), which the copy loses, are made again.

Reviews are append-only like the ledger and move the ledger revision (the at-risk report
shows the latest). Notifications and preferences are the mailer's own records.

Revision ID: 0012_reviews_notifications
Revises: 0011_reconciliation
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_reviews_notifications"
down_revision = "0011_reconciliation"
branch_labels = None
depends_on = None

STATUS_CHECK = "(status = 'signed' AND signed_on IS NOT NULL) OR (status = 'proposed' AND signed_on IS NULL)"
#: As 0006 moves the revision.
MOVE_SQLITE = ("UPDATE ledger_revision SET number = max(number + 1, "
               "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)) WHERE id = 1")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _sqlite_revision_triggers(table: str) -> None:
    for action in ("INSERT", "UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_{action.lower()}_moves_revision AFTER {action} ON {table} "
                   f"BEGIN {MOVE_SQLITE}; END")


def _agreements_upgrade() -> None:
    status = sa.Column("status", sa.String(length=16), nullable=False, server_default=sa.text("'signed'"))
    recorded = sa.Column("signed_recorded_at", sa.DateTime(), nullable=True)
    if _postgres():
        op.add_column("agreements", status)
        op.add_column("agreements", recorded)
        op.alter_column("agreements", "signed_on", existing_type=sa.Date(), nullable=True)
        op.create_check_constraint(op.f("ck_agreements_status_signed_on"), "agreements", STATUS_CHECK)
        return
    with op.batch_alter_table("agreements", recreate="always") as batch:
        batch.add_column(status)
        batch.add_column(recorded)
        batch.alter_column("signed_on", existing_type=sa.Date(), nullable=True)
        batch.create_check_constraint(op.f("ck_agreements_status_signed_on"), STATUS_CHECK)
    _sqlite_revision_triggers("agreements")


def _agreements_downgrade() -> None:
    proposed = op.get_bind().execute(sa.text("SELECT count(*) FROM agreements WHERE status = 'proposed'")).scalar()
    if proposed:
        raise RuntimeError(f"{proposed} proposed agreement(s) have no signing date, which the earlier schema "
                           "requires: sign or remove them before downgrading")
    if _postgres():
        op.drop_constraint(op.f("ck_agreements_status_signed_on"), "agreements", type_="check")
        op.alter_column("agreements", "signed_on", existing_type=sa.Date(), nullable=False)
        op.drop_column("agreements", "signed_recorded_at")
        op.drop_column("agreements", "status")
        return
    with op.batch_alter_table("agreements", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_agreements_status_signed_on"), type_="check")
        batch.alter_column("signed_on", existing_type=sa.Date(), nullable=False)
        batch.drop_column("signed_recorded_at")
        batch.drop_column("status")
    _sqlite_revision_triggers("agreements")


def upgrade() -> None:
    _agreements_upgrade()
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("owner_email", sa.String(length=255), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["obligation_id"], ["obligations.id"], name=op.f("fk_reviews_obligation_id_obligations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index("ix_reviews_obligation_id_id", "reviews", ["obligation_id", "id"], unique=False)
    op.create_index(op.f("ix_reviews_next_review_on"), "reviews", ["next_review_on"], unique=False)
    if _postgres():
        op.execute("CREATE TRIGGER reviews_append_only BEFORE UPDATE OR DELETE ON reviews "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
        op.execute("CREATE TRIGGER reviews_moves_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reviews "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_move_revision()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER reviews_no_{action.lower()} BEFORE {action} ON reviews "
                       "BEGIN SELECT RAISE(ABORT, 'reviews is append-only'); END")
        _sqlite_revision_triggers("reviews")
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "kind", "period", name=op.f("uq_notifications_user_id_kind_period")),
    )
    op.create_index(op.f("ix_notifications_user_id"), "notifications", ["user_id"], unique=False)
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint("user_id", "kind", name=op.f("uq_notification_preferences_user_id_kind")),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
    op.drop_index(op.f("ix_notifications_user_id"), table_name="notifications")
    op.drop_table("notifications")
    # Dropping a table drops its triggers on both engines.
    op.drop_index(op.f("ix_reviews_next_review_on"), table_name="reviews")
    op.drop_index("ix_reviews_obligation_id_id", table_name="reviews")
    op.drop_table("reviews")
    _agreements_downgrade()
