"""Reconciling with the finance ledger (issue 19): finance transactions, matches and balance assertions.

New tables only, append-only like the ledger (triggers as import_runs' in 0009).

Revision ID: 0011_reconciliation
Revises: 0010_must_change_password
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_reconciliation"
down_revision = "0010_must_change_password"
branch_labels = None
depends_on = None

TABLES = ("finance_imports", "finance_cost_codes", "finance_transactions", "reconciliation_decisions",
          "balance_assertions", "assertion_resolutions")


def upgrade() -> None:
    op.create_table(
        "finance_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("out_of_scope", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("balances", sa.Integer(), nullable=False),
        sa.Column("tolerance_days", sa.Integer(), nullable=False),
        sa.Column("remittance_parts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_imports")),
    )
    op.create_index(op.f("ix_finance_imports_at"), "finance_imports", ["at"], unique=False)
    op.create_table(
        "finance_cost_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["finance_imports.id"],
                                name=op.f("fk_finance_cost_codes_import_id_finance_imports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_cost_codes")),
    )
    op.create_index(op.f("ix_finance_cost_codes_code"), "finance_cost_codes", ["code"], unique=False)
    op.create_index(op.f("ix_finance_cost_codes_import_id"), "finance_cost_codes", ["import_id"], unique=False)
    op.create_table(
        "finance_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("cost_code", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.String(length=255), nullable=True),
        sa.Column("in_scope", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["finance_imports.id"],
                                name=op.f("fk_finance_transactions_import_id_finance_imports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_transactions")),
        sa.UniqueConstraint("key", name=op.f("uq_finance_transactions_key")),
    )
    op.create_index(op.f("ix_finance_transactions_cost_code"), "finance_transactions", ["cost_code"], unique=False)
    op.create_index(op.f("ix_finance_transactions_import_id"), "finance_transactions", ["import_id"], unique=False)
    op.create_index(op.f("ix_finance_transactions_posted_on"), "finance_transactions", ["posted_on"], unique=False)
    op.create_table(
        "reconciliation_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["transaction_id"], ["finance_transactions.id"],
                                name=op.f("fk_reconciliation_decisions_transaction_id_finance_transactions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_decisions")),
    )
    op.create_index(op.f("ix_reconciliation_decisions_transaction_id"), "reconciliation_decisions",
                    ["transaction_id"], unique=False)
    op.create_table(
        "balance_assertions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["finance_imports.id"],
                                name=op.f("fk_balance_assertions_import_id_finance_imports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_assertions")),
        sa.UniqueConstraint("scope", "code", "held_on", "amount",
                            name=op.f("uq_balance_assertions_scope_code_held_on_amount")),
    )
    op.create_table(
        "assertion_resolutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assertion_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assertion_id"], ["balance_assertions.id"],
                                name=op.f("fk_assertion_resolutions_assertion_id_balance_assertions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assertion_resolutions")),
    )
    op.create_index(op.f("ix_assertion_resolutions_assertion_id"), "assertion_resolutions", ["assertion_id"],
                    unique=False)
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
        else:
            for action in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    # Dropping a table drops its triggers on both engines; children before their parents.
    for table in reversed(TABLES):
        op.drop_table(table)
