"""Indexation and income due: index values, instalments, occupations, invoices, payments.

Revision ID: 0004_income_due
Revises: 0003_sign_in_lockout
"""

from alembic import op
import sqlalchemy as sa


revision = '0004_income_due'
down_revision = '0003_sign_in_lockout'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('index_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('index', sa.String(length=32), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_index_values')),
    sa.UniqueConstraint('index', 'period', 'published_on', name=op.f('uq_index_values_index_period_published_on'))
    )
    op.create_table('occupations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('occupied', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_occupations_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occupations'))
    )
    with op.batch_alter_table('occupations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_occupations_agreement_id'), ['agreement_id'], unique=False)

    op.create_table('instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=False),
    sa.Column('share', sa.String(length=40), nullable=True),
    sa.Column('fixed_sum', sa.BigInteger(), nullable=True),
    sa.Column('trigger_event', sa.String(length=32), nullable=False),
    sa.Column('trigger_dwellings', sa.Integer(), nullable=True),
    sa.Column('trigger_on', sa.Date(), nullable=True),
    sa.Column('index', sa.String(length=32), nullable=False),
    sa.Column('base_date', sa.Date(), nullable=True),
    sa.Column('floor', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligations.id'], name=op.f('fk_instalments_obligation_id_obligations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instalments')),
    sa.UniqueConstraint('reference', name=op.f('uq_instalments_reference'))
    )
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instalments_obligation_id'), ['obligation_id'], unique=False)

    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.Column('instalment_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('base_amount', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('index', sa.String(length=32), nullable=False),
    sa.Column('base_period', sa.Date(), nullable=True),
    sa.Column('base_value', sa.String(length=40), nullable=True),
    sa.Column('base_published_on', sa.Date(), nullable=True),
    sa.Column('trigger_period', sa.Date(), nullable=True),
    sa.Column('trigger_value', sa.String(length=40), nullable=True),
    sa.Column('trigger_published_on', sa.Date(), nullable=True),
    sa.Column('floored', sa.Boolean(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instalment_id'], ['instalments.id'], name=op.f('fk_invoices_instalment_id_instalments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('instalment_id', name=op.f('uq_invoices_instalment_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_invoices_reference'))
    )
    op.create_table('invoice_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_invoice_payments_entry_id_entries')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_payments_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_payments')),
    sa.UniqueConstraint('invoice_id', 'entry_id', name=op.f('uq_invoice_payments_invoice_id_entry_id'))
    )
    with op.batch_alter_table('invoice_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_payments_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_payments_invoice_id'), ['invoice_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('invoice_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_payments_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_payments_entry_id'))

    op.drop_table('invoice_payments')
    op.drop_table('invoices')
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instalments_obligation_id'))

    op.drop_table('instalments')
    with op.batch_alter_table('occupations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_occupations_agreement_id'))

    op.drop_table('occupations')
    op.drop_table('index_values')
