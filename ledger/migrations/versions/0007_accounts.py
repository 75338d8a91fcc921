"""Accounts: session versions, disabled users, token expiry and last use, sign-in throttles
in place of the lock-out, and refusals counted per client and minute in the audit log.

Tokens made before expiry existed get one: a year after they were made, but never sooner than
30 days after this upgrade, so a deployer has a month to replace old tokens.

Revision ID: 0007_accounts
Revises: 0006_revision_triggers
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0007_accounts"
down_revision = "0006_revision_triggers"
branch_labels = None
depends_on = None

TOKEN_LIFETIME = timedelta(days=365)
GRACE = timedelta(days=30)
#: Every audit_events column but count: an aggregated row may move its count on, nothing else.
FIXED_COLUMNS = ("id", "at", "actor", "action", "outcome", "target_type", "target_reference", "reason",
                 "before", "after", "client", "aggregate_key")
REFUSE_SQLITE = "SELECT RAISE(ABORT, 'audit_events is append-only: correct a mistake with a reversal entry')"


def _expire_old_tokens() -> None:
    tokens = sa.table("api_tokens", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime),
                      sa.column("expires_at", sa.DateTime))
    earliest = datetime.now(UTC).replace(tzinfo=None) + GRACE
    bind = op.get_bind()
    for token_id, created_at in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        expires_at = max(created_at + TOKEN_LIFETIME, earliest)
        bind.execute(tokens.update().where(tokens.c.id == token_id).values(expires_at=expires_at))


def _let_aggregated_refusals_count() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("""
            CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND OLD.aggregate_key IS NOT NULL AND NEW.count > OLD.count
                   AND (to_jsonb(NEW) - 'count') = (to_jsonb(OLD) - 'count') THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'audit_events is append-only: correct a mistake with a reversal entry';
            END $$
            """)
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()")
    else:
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FIXED_COLUMNS)
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute(f"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   f"WHEN OLD.aggregate_key IS NULL OR NEW.count <= OLD.count OR {changed} "
                   f"BEGIN {REFUSE_SQLITE}; END")


def _refuse_every_audit_change() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_event_refuse_change()")
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute(f"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN {REFUSE_SQLITE}; END")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch.add_column(sa.Column("disabled_at", sa.DateTime(), nullable=True))
        batch.drop_column("locked_until")
        batch.drop_column("failed_sign_ins")

    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))
    _expire_old_tokens()
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)

    op.create_table(
        "sign_in_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_throttles")),
        sa.UniqueConstraint("key", name=op.f("uq_sign_in_throttles_key")),
    )
    op.create_index(op.f("ix_sign_in_throttles_last_failure_at"), "sign_in_throttles", ["last_failure_at"])

    # Plain ADD COLUMN, not batch: rebuilding audit_events would drop its append-only triggers.
    op.add_column("audit_events", sa.Column("client", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("count", sa.Integer(), server_default=sa.text("1"), nullable=False))
    op.add_column("audit_events", sa.Column("aggregate_key", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_audit_events_aggregate_key"), "audit_events", ["aggregate_key"], unique=True)
    _let_aggregated_refusals_count()


def downgrade() -> None:
    _refuse_every_audit_change()
    op.drop_index(op.f("ix_audit_events_aggregate_key"), table_name="audit_events")
    for column in ("aggregate_key", "count", "client"):
        op.drop_column("audit_events", column)

    op.drop_index(op.f("ix_sign_in_throttles_last_failure_at"), table_name="sign_in_throttles")
    op.drop_table("sign_in_throttles")

    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")

    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch.drop_column("disabled_at")
        batch.drop_column("session_version")
