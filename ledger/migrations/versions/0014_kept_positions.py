"""Positions kept as the ledger is written (issue 17): per obligation, per receipt with money
remaining, and per division, each moved in the transaction of every write that changes it
(ledger.services.kept). They are derived, not ledger records: rewritten, never appended to,
so they have neither the append-only nor the revision triggers (the write that moves them
moves the revision itself). An existing ledger's positions are worked out once, from its
entries, by the latest migration that adds a kept table or column (0019): the rebuild writes
every kept table as the code has them now, and a later table or column does not exist yet here.

Revision ID: 0014_kept_positions
Revises: 0013_commitments_variations
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_kept_positions"
down_revision = "0013_commitments_variations"
branch_labels = None
depends_on = None

MONEY = ("secured", "received", "spent", "transferred", "repaid", "held", "allocated", "committed")


def _money(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "kept_obligation_positions",
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=64), nullable=True),
        *_money(*MONEY),
        sa.Column("settled_from", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["obligation_id"], ["obligations.id"],
                                name=op.f("fk_kept_obligation_positions_obligation_id_obligations")),
        sa.PrimaryKeyConstraint("obligation_id", name=op.f("pk_kept_obligation_positions")),
    )
    op.create_index(op.f("ix_kept_obligation_positions_division_code"), "kept_obligation_positions",
                    ["division_code"])
    op.create_index(op.f("ix_kept_obligation_positions_settled_from"), "kept_obligation_positions",
                    ["settled_from"])
    op.create_table(
        "kept_receipt_positions",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=64), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("no_deadline", sa.String(length=32), nullable=True),
        *_money("remaining", "allocated", "committed"),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], name=op.f("fk_kept_receipt_positions_entry_id_entries")),
        sa.ForeignKeyConstraint(["obligation_id"], ["obligations.id"],
                                name=op.f("fk_kept_receipt_positions_obligation_id_obligations")),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_kept_receipt_positions")),
    )
    op.create_index(op.f("ix_kept_receipt_positions_obligation_id"), "kept_receipt_positions", ["obligation_id"])
    op.create_index(op.f("ix_kept_receipt_positions_deadline"), "kept_receipt_positions", ["deadline"])
    op.create_index("ix_kept_receipt_positions_division_code_deadline", "kept_receipt_positions",
                    ["division_code", "deadline"])
    op.create_table(
        "kept_division_positions",
        sa.Column("division_code", sa.String(length=64), nullable=False),
        *_money(*MONEY),
        sa.Column("receipts", sa.Integer(), nullable=False),
        *_money("no_deadline", "unknown_deadline"),
        sa.PrimaryKeyConstraint("division_code", name=op.f("pk_kept_division_positions")),
    )
    op.create_table(
        "kept_deadline_totals",
        sa.Column("deadline", sa.Date(), nullable=False),
        *_money("remaining"),
        sa.Column("receipts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("deadline", name=op.f("pk_kept_deadline_totals")),
    )
    op.create_table(
        "kept_urgent_obligations",
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=64), nullable=True),
        *_money("money"),
        sa.Column("earliest_deadline", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["obligation_id"], ["obligations.id"],
                                name=op.f("fk_kept_urgent_obligations_obligation_id_obligations")),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"],
                                name=op.f("fk_kept_urgent_obligations_agreement_id_agreements")),
        sa.PrimaryKeyConstraint("obligation_id", name=op.f("pk_kept_urgent_obligations")),
    )
    op.create_index(op.f("ix_kept_urgent_obligations_agreement_id"), "kept_urgent_obligations", ["agreement_id"])
    op.create_index(op.f("ix_kept_urgent_obligations_money"), "kept_urgent_obligations", ["money"])
    op.create_table(
        "kept_urgent_divisions",
        sa.Column("division_code", sa.String(length=64), nullable=False),
        *_money("money"),
        sa.Column("obligations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("division_code", name=op.f("pk_kept_urgent_divisions")),
    )
    op.create_table(
        "kept_urgent_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("amber_months", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_urgent_state")),
    )
    op.create_table(
        "kept_invoices_outstanding",
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        *_money("paid", "outstanding"),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"],
                                name=op.f("fk_kept_invoices_outstanding_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_kept_invoices_outstanding")),
    )
    op.create_index(op.f("ix_kept_invoices_outstanding_due_on"), "kept_invoices_outstanding", ["due_on"])


def downgrade() -> None:
    for table in ("kept_invoices_outstanding", "kept_urgent_state", "kept_urgent_divisions",
                  "kept_urgent_obligations"):
        op.drop_table(table)
    op.drop_table("kept_deadline_totals")
    op.drop_table("kept_division_positions")
    op.drop_table("kept_receipt_positions")
    op.drop_table("kept_obligation_positions")
