"""The revision moved by triggers on every ledger table; agreement details keep a history.

Revision ID: 0006_revision_triggers
Revises: 0005_ledger_revision
"""

from alembic import op
import sqlalchemy as sa


revision = '0006_revision_triggers'
down_revision = '0005_ledger_revision'
branch_labels = None
depends_on = None

#: Every table a ledger read shows. Users, tokens, sign-in attempts and the audit log are not.
REVISED_TABLES = ("authorities", "divisions", "agreements", "agreement_history", "obligations", "projects",
                  "entries", "income_due", "index_values", "instalments", "occupations", "invoices",
                  "invoice_payments")
#: The revision moves to the clock's microseconds (or one on, if the clock is behind): so after
#: a backup is restored, later writes never reach a number that stood for other data.
MOVE = {
    "postgresql": "UPDATE ledger_revision SET number = greatest(number + 1, "
                  "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint) WHERE id = 1",
    "sqlite": "UPDATE ledger_revision SET number = max(number + 1, "
              "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)) WHERE id = 1",
}


def _install_revision_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Once per transaction: the revision row's versions would pile up along its update chain
        # (one per statement, and executemany runs a statement per row), each slower to reach.
        op.execute(f"""
            CREATE FUNCTION ledger_move_revision() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF coalesce(current_setting('ledger.revision_moved_in', true), '') <> txid_current()::text THEN
                    {MOVE['postgresql']};
                    PERFORM set_config('ledger.revision_moved_in', txid_current()::text, true);
                END IF;
                RETURN NULL;
            END $$
            """)
        for table in REVISED_TABLES:
            op.execute(f"CREATE TRIGGER {table}_moves_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION ledger_move_revision()")
    else:
        # SQLite has row triggers only: one small update per row written.
        for table in REVISED_TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_{action.lower()}_moves_revision AFTER {action} ON {table} "
                           f"BEGIN {MOVE['sqlite']}; END")


def _drop_revision_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in REVISED_TABLES:
            op.execute(f"DROP TRIGGER {table}_moves_revision ON {table}")
        op.execute("DROP FUNCTION ledger_move_revision()")
    else:
        for table in REVISED_TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"DROP TRIGGER {table}_{action.lower()}_moves_revision")


def upgrade() -> None:
    op.create_table('agreement_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('planning_application', sa.String(length=255), nullable=True),
    sa.Column('site_name', sa.String(length=255), nullable=True),
    sa.Column('division_code', sa.String(length=64), nullable=True),
    sa.Column('superseded_on', sa.Date(), nullable=True),
    sa.Column('commencement_on', sa.Date(), nullable=True),
    sa.Column('completion_on', sa.Date(), nullable=True),
    sa.Column('dwellings', sa.Integer(), nullable=True),
    sa.Column('developer', sa.String(length=255), nullable=True),
    sa.Column('document_url', sa.String(length=2048), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_history_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_history'))
    )
    with op.batch_alter_table('agreement_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_history_agreement_id'), ['agreement_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER agreement_history_append_only BEFORE UPDATE OR DELETE ON agreement_history "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER agreement_history_no_{action.lower()} BEFORE {action} ON agreement_history "
                       "BEGIN SELECT RAISE(ABORT, 'agreement_history is append-only'); END")
    _install_revision_triggers()


def downgrade() -> None:
    _drop_revision_triggers()
    if op.get_bind().dialect.name != "postgresql":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER agreement_history_no_{action.lower()}")
    with op.batch_alter_table('agreement_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_history_agreement_id'))
    op.drop_table('agreement_history')
