"""A statement a council can publish (SPEC 8.1-8.3): authorities' default repayment terms,
opening balances' original date of receipt, and the obligation a deed of variation replaces.

Existing obligations keep every deadline they had: an obligation stored with no repayment
years had no time limit, and its basis becomes ``none``, which says so; the others keep
their basis and years. Authorities' defaults start ``unknown`` (SPEC 8.2).

Columns are added in place (no table copy), so the append-only triggers on entries stay.

Revision ID: 0008_statement_classes
Revises: 0007_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_statement_classes"
down_revision = "0007_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("authorities", sa.Column("default_repayment_basis", sa.String(length=32), nullable=False,
                                           server_default=sa.text("'unknown'")))
    op.add_column("authorities", sa.Column("default_repayment_years", sa.Integer(), nullable=True))
    op.add_column("entries", sa.Column("original_received_on", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("obligations", sa.Column("replaces_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_obligations_replaces_id_obligations"), "obligations", "obligations",
                              ["replaces_id"], ["id"])
    else:
        # SQLite adds a column with its reference in place; ALTER TABLE ADD CONSTRAINT it has not.
        op.execute("ALTER TABLE obligations ADD COLUMN replaces_id INTEGER "
                   "CONSTRAINT fk_obligations_replaces_id_obligations REFERENCES obligations (id)")
    obligations = sa.table("obligations", sa.column("repayment_years", sa.Integer),
                           sa.column("repayment_basis", sa.String))
    op.execute(obligations.update().where(obligations.c.repayment_years.is_(None)).values(repayment_basis="none"))


def downgrade() -> None:
    obligations = sa.table("obligations", sa.column("repayment_years", sa.Integer),
                           sa.column("repayment_basis", sa.String))
    # Before 0008 a null period meant no time limit and only these two bases existed.
    op.execute(obligations.update().where(obligations.c.repayment_basis.in_(("none", "unknown")))
               .values(repayment_basis="receipt", repayment_years=None))
    op.execute(obligations.update().where(obligations.c.repayment_basis == "last-payment")
               .values(repayment_basis="receipt"))
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_obligations_replaces_id_obligations"), "obligations", type_="foreignkey")
    # Dropped in place: a copied table would lose the revision triggers (0006).
    for table, column in (("obligations", "replaces_id"), ("entries", "original_received_on"),
                          ("authorities", "default_repayment_years"), ("authorities", "default_repayment_basis")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
