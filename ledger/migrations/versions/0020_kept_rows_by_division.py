"""A division's page reads its kept rows by its division (issue 17): each obligation's kept row
carries its agreement, the agreement's signing and the obligation's service, and each kept
project row its division, so the page sums them from two indexes where it looked each of the
division's obligations up through its agreement (at national size, 434 obligations: 5 ms of
the database's time on every request). The agreements' index by division holds their signing
too: the page counts those signed by the day and those proposed (not signed) from the index.

The latest migration to add a kept table or column: the kept rows are derived, so they are
emptied before the new columns are added (without a default, a filled table would refuse
them) and every kept position is then worked out from the entries, once, by the
application's own rules (the same code that keeps them), as 0019 did before these columns
existed.

Revision ID: 0020_kept_rows_by_division
Revises: 0019_kept_division_dated_money
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0020_kept_rows_by_division"
down_revision = "0019_kept_division_dated_money"
branch_labels = None
depends_on = None

#: Read by the division's page from the indexes alone (PostgreSQL; SQLite has no INCLUDE).
OBLIGATION_COLUMNS = ["obligation_id", "signed_on", "service", "secured", "received", "spent", "transferred", "repaid"]
PROJECT_COLUMNS = ["obligation_id", "spent", "transferred", "allocated"]


def upgrade() -> None:
    op.drop_index("ix_agreements_division_code", table_name="agreements")
    op.create_index("ix_agreements_division_code_signed_on", "agreements", ["division_code", "signed_on"])
    op.execute("DELETE FROM kept_project_positions")
    op.execute("DELETE FROM kept_obligation_positions")
    with op.batch_alter_table("kept_obligation_positions") as batch:
        batch.drop_index("ix_kept_obligation_positions_division_code")
        batch.add_column(sa.Column("agreement_id", sa.Integer(), nullable=False))
        batch.add_column(sa.Column("signed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("service", sa.String(length=64), nullable=False))
        batch.create_foreign_key("fk_kept_obligation_positions_agreement_id_agreements", "agreements",
                                 ["agreement_id"], ["id"])
        batch.create_index("ix_kept_obligation_positions_division_agreement", ["division_code", "agreement_id"],
                           postgresql_include=OBLIGATION_COLUMNS)
    with op.batch_alter_table("kept_project_positions") as batch:
        batch.add_column(sa.Column("division_code", sa.String(length=64), nullable=True))
        batch.create_index("ix_kept_project_positions_division_project", ["division_code", "project_id"],
                           postgresql_include=PROJECT_COLUMNS)
    from ledger.services import kept

    kept.rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    with op.batch_alter_table("kept_project_positions") as batch:
        batch.drop_index("ix_kept_project_positions_division_project")
        batch.drop_column("division_code")
    with op.batch_alter_table("kept_obligation_positions") as batch:
        batch.drop_index("ix_kept_obligation_positions_division_agreement")
        batch.drop_constraint("fk_kept_obligation_positions_agreement_id_agreements", type_="foreignkey")
        batch.drop_column("service")
        batch.drop_column("signed_on")
        batch.drop_column("agreement_id")
        batch.create_index("ix_kept_obligation_positions_division_code", ["division_code"])
    op.drop_index("ix_agreements_division_code_signed_on", table_name="agreements")
    op.create_index("ix_agreements_division_code", "agreements", ["division_code"])
