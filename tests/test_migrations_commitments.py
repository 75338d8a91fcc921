"""Migration 0013 (commitments and terms from a date) on a ledger with data, on SQLite and
PostgreSQL: every obligation keeps its terms and every deadline, commits no money, has no
terms history until one is recorded, and the migration goes down and up again."""

from datetime import date
from decimal import Decimal

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from ledger.db import make_engine
from ledger.domain.dates import NoDeadline
from ledger.migrate import downgrade, upgrade
from ledger.services import Actor, variations
from ledger.services.balances import obligation_balance

BEFORE = "0012_reviews_notifications"
#: Obligation -> (basis, years) as stored before 0013, and each one's deadline for a receipt
#: of 1 February 2020 (the agreement completed on 1 January 2022).
TERMS = {
    "OB-R": ("receipt", 10, date(2030, 2, 1)),
    "OB-C": ("completion", 5, date(2027, 1, 1)),
    "OB-L": ("last-payment", 3, date(2023, 2, 1)),
    "OB-N": ("none", None, NoDeadline.NONE),
    "OB-U": ("unknown", None, NoDeadline.UNKNOWN),
}


def fill(engine: object) -> None:
    with engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(text("INSERT INTO authorities (code, name, kind) VALUES ('A', 'A', 'district')"))
        connection.execute(text(
            "INSERT INTO agreements (reference, type, authority_code, signed_on, completion_on, needs_review, "
            "created_by, created_at) VALUES ('AG', 'section-106', 'A', '2019-01-01', '2022-01-01', false, 'x', "
            "'2020-01-01 00:00:00')"))
        for reference, (basis, years, _) in TERMS.items():
            connection.execute(text(
                'INSERT INTO obligations (reference, agreement_id, purpose, service, commuted_sum, "index", '
                "repayment_years, repayment_basis, needs_review, created_by, created_at) SELECT :reference, id, "
                "'education', 'send', false, 'none', :years, :basis, false, 'x', '2020-01-01 00:00:00' "
                "FROM agreements"), {"reference": reference, "years": years, "basis": basis})
        connection.execute(text(
            "INSERT INTO entries (reference, kind, obligation_id, amount, occurred_on, created_by, created_at, reason) "
            "SELECT 'R-' || reference, 'receipt', id, 100000, '2020-02-01', 'x', '2020-02-01 00:00:00', 'r' "
            "FROM obligations"))


def deadlines(engine: object) -> dict[str, object]:
    with Session(engine) as session:  # type: ignore[call-overload]
        return {reference: obligation_balance(session, reference, on=date(2021, 6, 1)).receipts[0].deadline
                for reference in TERMS}


def test_every_obligation_keeps_its_terms_and_deadlines_and_commits_nothing(database_url: str) -> None:
    engine = make_engine(database_url)
    downgrade(engine, BEFORE)
    assert "repayment_terms" not in inspect(engine).get_table_names()
    fill(engine)
    upgrade(engine)
    assert deadlines(engine) == {reference: deadline for reference, (_, _, deadline) in TERMS.items()}
    with engine.connect() as connection:
        assert not any(connection.execute(text("SELECT commitment_stops_clock FROM obligations")).scalars())
        assert connection.execute(text("SELECT count(*) FROM repayment_terms")).scalar() == 0
    with Session(engine) as session:
        [own] = variations.terms_records(session, "OB-R")
        assert (own.in_force_from, own.repayment_basis, own.repayment_years) == (None, "receipt", 10)
        variations.change_terms(session, "OB-R", basis="receipt", years=12, in_force_from=date(2021, 1, 1),
                                reason="a variation", actor=Actor(email="x", role="officer"))
    assert deadlines(engine)["OB-R"] == date(2032, 2, 1)
    # Down and up again: the history goes with the table, the deed's terms stay.
    downgrade(engine, BEFORE)
    assert "commitment_stops_clock" not in {c["name"] for c in inspect(engine).get_columns("obligations")}
    upgrade(engine)
    assert deadlines(engine) == {reference: deadline for reference, (_, _, deadline) in TERMS.items()}
    with Session(engine) as session:
        assert obligation_balance(session, "OB-R", on=date(2021, 6, 1)).balances.held == Decimal("1000.00")
    engine.dispose()
