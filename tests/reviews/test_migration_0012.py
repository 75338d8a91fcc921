"""Migration 0012 on SQLite and PostgreSQL: agreements already recorded are signed; the
agreements table keeps its revision triggers (SQLite copies the table to relax NOT NULL);
reviews move the ledger revision; a downgrade refuses to lose a proposed agreement."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.db import make_engine
from ledger.migrate import downgrade, upgrade

AGREEMENT = ("INSERT INTO agreements (reference, type, authority_code, signed_on, created_by, created_at, needs_review) "
             "VALUES ('{ref}', 'section-106', 'A', '2020-01-01', 'x', '2020-01-01 00:00:00', false)")


def revision(connection) -> int:  # type: ignore[no-untyped-def]
    return int(connection.execute(text("SELECT number FROM ledger_revision WHERE id = 1")).scalar())


def test_agreements_recorded_before_are_signed_and_still_move_the_revision(database_url: str) -> None:
    engine = make_engine(database_url)
    downgrade(engine, "0011_reconciliation")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO authorities (code, name, kind, default_repayment_basis) "
                                "VALUES ('A', 'A', 'district', 'unknown')"))
        connection.execute(text(AGREEMENT.format(ref="OLD")))
    upgrade(engine)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT status, signed_recorded_at FROM agreements")).one() == ("signed", None)
        before = revision(connection)
    with engine.begin() as connection:
        connection.execute(text(AGREEMENT.format(ref="NEW")))
    with engine.begin() as connection:
        after_insert = revision(connection)
        connection.execute(text("UPDATE agreements SET notes = 'n' WHERE reference = 'NEW'"))
    with engine.begin() as connection:
        after_update = revision(connection)
        connection.execute(text(
            "INSERT INTO obligations (reference, agreement_id, purpose, service, commuted_sum, \"index\", "
            "repayment_basis, needs_review, created_by, created_at) SELECT 'OB', id, 'education', 'send', false, "
            "'none', 'receipt', false, 'x', '2020-01-01 00:00:00' FROM agreements WHERE reference = 'NEW'"))
        connection.execute(text(
            "INSERT INTO reviews (obligation_id, status, note, owner_email, next_review_on, created_by, created_at) "
            "SELECT id, 'no-action', 'n', 'a@b.uk', '2030-01-01', 'x', '2020-01-01 00:00:00' FROM obligations"))
    with engine.begin() as connection:
        assert before < after_insert < after_update < revision(connection)
    engine.dispose()


def test_a_downgrade_refuses_to_lose_a_proposed_agreement(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO authorities (code, name, kind, default_repayment_basis) "
                                "VALUES ('A', 'A', 'district', 'unknown')"))
        connection.execute(text(
            "INSERT INTO agreements (reference, type, authority_code, status, created_by, created_at, needs_review) "
            "VALUES ('P', 'section-106', 'A', 'proposed', 'x', '2020-01-01 00:00:00', false)"))
    with pytest.raises(RuntimeError, match="1 proposed agreement"):
        downgrade(engine, "0011_reconciliation")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM reviews")).scalar() == 0  # still at head
    engine.dispose()
