"""Import history (issue 14): each committed import's run, summary and issues.

New tables only, append-only like the ledger (triggers as agreement_history's in 0006).

Revision ID: 0009_import_runs
Revises: 0008_statement_classes
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_import_runs"
down_revision = "0008_statement_classes"
branch_labels = None
depends_on = None

TABLES = ("import_runs", "import_issues")


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("committed", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("rejections", sa.Integer(), nullable=False),
        sa.Column("opening_balances", sa.Integer(), nullable=False),
        sa.Column("opening_balance_money", sa.BigInteger(), nullable=False),
        sa.Column("source_money", sa.BigInteger(), nullable=False),
        sa.Column("imported_money", sa.BigInteger(), nullable=False),
        sa.Column("unchanged_money", sa.BigInteger(), nullable=False),
        sa.Column("rejected_money", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    op.create_index(op.f("ix_import_runs_at"), "import_runs", ["at"], unique=False)
    op.create_table(
        "import_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=True),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["import_runs.id"], name=op.f("fk_import_issues_run_id_import_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_issues")),
    )
    op.create_index(op.f("ix_import_issues_run_id"), "import_issues", ["run_id"], unique=False)
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
        else:
            for action in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    # Dropping a table drops its triggers on both engines.
    op.drop_index(op.f("ix_import_issues_run_id"), table_name="import_issues")
    op.drop_table("import_issues")
    op.drop_index(op.f("ix_import_runs_at"), table_name="import_runs")
    op.drop_table("import_runs")
