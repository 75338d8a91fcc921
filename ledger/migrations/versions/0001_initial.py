"""Initial schema, with the append-only guards on entries and audit events.

Revision ID: 0001_initial
Revises: 
"""

from alembic import op
import sqlalchemy as sa


revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY_TABLES = ("entries", "audit_events")


def _install_append_only_guards() -> None:
    """Refuse UPDATE and DELETE on ledger entries and audit events in the database itself,
    so neither the app nor hand-written SQL can rewrite history (SPEC rule 2)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: correct a mistake with a reversal entry',
                    TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
            END $$
            """
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
            )
    else:
        for table in APPEND_ONLY_TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: correct a mistake "
                    "with a reversal entry'); END"
                )


def _drop_append_only_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION ledger_refuse_change()")
    else:
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('target_type', sa.String(length=64), nullable=True),
    sa.Column('target_reference', sa.String(length=255), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)

    op.create_table('authorities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authorities')),
    sa.UniqueConstraint('code', name=op.f('uq_authorities_code'))
    )
    op.create_table('divisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('authority_code', sa.String(length=64), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['authority_code'], ['authorities.code'], name=op.f('fk_divisions_authority_code_authorities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_divisions')),
    sa.UniqueConstraint('code', name=op.f('uq_divisions_code'))
    )
    with op.batch_alter_table('divisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_divisions_authority_code'), ['authority_code'], unique=False)

    op.create_table('agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('authority_code', sa.String(length=64), nullable=False),
    sa.Column('planning_application', sa.String(length=255), nullable=True),
    sa.Column('site_name', sa.String(length=255), nullable=True),
    sa.Column('division_code', sa.String(length=64), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('varies', sa.String(length=255), nullable=True),
    sa.Column('superseded_on', sa.Date(), nullable=True),
    sa.Column('commencement_on', sa.Date(), nullable=True),
    sa.Column('completion_on', sa.Date(), nullable=True),
    sa.Column('dwellings', sa.Integer(), nullable=True),
    sa.Column('developer', sa.String(length=255), nullable=True),
    sa.Column('document_url', sa.String(length=2048), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['authority_code'], ['authorities.code'], name=op.f('fk_agreements_authority_code_authorities')),
    sa.ForeignKeyConstraint(['division_code'], ['divisions.code'], name=op.f('fk_agreements_division_code_divisions')),
    sa.ForeignKeyConstraint(['varies'], ['agreements.reference'], name=op.f('fk_agreements_varies_agreements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements')),
    sa.UniqueConstraint('reference', name=op.f('uq_agreements_reference'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreements_authority_code'), ['authority_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_division_code'), ['division_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_signed_on'), ['signed_on'], unique=False)

    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('division_code', sa.String(length=64), nullable=True),
    sa.Column('repays_borrowing', sa.Boolean(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['division_code'], ['divisions.code'], name=op.f('fk_projects_division_code_divisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('reference', name=op.f('uq_projects_reference'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_division_code'), ['division_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_service'), ['service'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('division_code', sa.String(length=64), nullable=True),
    sa.Column('password_hash', sa.String(length=512), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['division_code'], ['divisions.code'], name=op.f('fk_users_division_code_divisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('obligations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('units', sa.Integer(), nullable=True),
    sa.Column('unit_kind', sa.String(length=64), nullable=True),
    sa.Column('school_category', sa.String(length=32), nullable=True),
    sa.Column('commuted_sum', sa.Boolean(), nullable=False),
    sa.Column('index', sa.String(length=32), nullable=False),
    sa.Column('index_base_date', sa.Date(), nullable=True),
    sa.Column('trigger', sa.Text(), nullable=True),
    sa.Column('repayment_years', sa.Integer(), nullable=True),
    sa.Column('repayment_basis', sa.String(length=32), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_obligations_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligations')),
    sa.UniqueConstraint('reference', name=op.f('uq_obligations_reference'))
    )
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_obligations_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_obligations_purpose'), ['purpose'], unique=False)
        batch_op.create_index(batch_op.f('ix_obligations_service'), ['service'], unique=False)

    op.create_table('entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('interest', sa.BigInteger(), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=255), nullable=True),
    sa.Column('reverses', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligations.id'], name=op.f('fk_entries_obligation_id_obligations')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_entries_project_id_projects')),
    sa.ForeignKeyConstraint(['reverses'], ['entries.id'], name=op.f('fk_entries_reverses_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
    sa.UniqueConstraint('kind', 'reference', name=op.f('uq_entries_kind_reference')),
    sa.UniqueConstraint('reverses', name=op.f('uq_entries_reverses'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entries_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_entries_obligation_id_occurred_on', ['obligation_id', 'occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_entries_project_id'), ['project_id'], unique=False)

    _install_append_only_guards()


def downgrade() -> None:
    _drop_append_only_guards()
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entries_project_id'))
        batch_op.drop_index('ix_entries_obligation_id_occurred_on')
        batch_op.drop_index(batch_op.f('ix_entries_created_at'))

    op.drop_table('entries')
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_obligations_service'))
        batch_op.drop_index(batch_op.f('ix_obligations_purpose'))
        batch_op.drop_index(batch_op.f('ix_obligations_agreement_id'))

    op.drop_table('obligations')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_service'))
        batch_op.drop_index(batch_op.f('ix_projects_division_code'))

    op.drop_table('projects')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreements_signed_on'))
        batch_op.drop_index(batch_op.f('ix_agreements_division_code'))
        batch_op.drop_index(batch_op.f('ix_agreements_authority_code'))

    op.drop_table('agreements')
    with op.batch_alter_table('divisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_divisions_authority_code'))

    op.drop_table('divisions')
    op.drop_table('authorities')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
