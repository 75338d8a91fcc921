"""Migration 0014 (issue 17) on a ledger with entries, on SQLite and PostgreSQL: a database at
0013 with entries of every kind, reversals, opening balances, changes of terms and agreements
in several divisions and none, upgraded to head, has kept positions that agree with the
entries, and that services.balances' replay gives; down and up again, the same."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from freezegun import freeze_time
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from ledger.db import make_engine
from ledger.migrate import downgrade, upgrade
from ledger.models import KeptDivisionPosition, KeptObligationPosition, Obligation
from ledger.services import income, kept, registry, variations
from ledger.services.entries import reverse_entry
from tests.factories import OFFICER, make_agreement, make_ledger, make_obligation, post
from tests.integration.test_kept_positions import assert_kept_is_the_replay

BEFORE = "0013_commitments_variations"
TODAY = datetime(2026, 1, 5, 10, tzinfo=UTC)
OB = "20/00001/FUL/1"


def write_through_the_services(session: Session) -> None:
    """A ledger as the services write it: every kind, a reversal, opening balances, a change of
    terms, a completion, a second division."""
    make_ledger(session)
    registry.create_division(session, {"code": "ashford-rural", "name": "Ashford Rural", "authority_code": "E07000105",
                                       "members": []}, actor=OFFICER)
    make_obligation(session, reference="20/00001/FUL/2", repayment_basis="completion", repayment_years=5,
                    commitment_stops_clock=True)
    make_agreement(session, reference="21/00002/FUL", division_code="ashford-rural")
    make_obligation(session, agreement="21/00002/FUL", reference="21/00002/FUL/1", amount=Decimal("40000.00"))
    with freeze_time(TODAY):
        post(session, "receipt", "10000.00", date(2021, 2, 1), reference="R-1")
        wrong = post(session, "receipt", "999.00", date(2021, 2, 2), reference="R-WRONG")
        reverse_entry(session, wrong.id, actor=OFFICER, reason="keyed twice")
        post(session, "allocation", "6000.00", date(2021, 3, 1), project="PRJ-1")
        post(session, "commitment", "2000.00", date(2021, 4, 1), project="PRJ-1")
        post(session, "decommitment", "500.00", date(2021, 5, 1), project="PRJ-1")
        post(session, "spend", "7000.00", date(2021, 6, 1), project="PRJ-1")  # allocates 1,000 more first
        post(session, "allocation", "1500.00", date(2021, 7, 1), project="PRJ-2")
        post(session, "deallocation", "500.00", date(2021, 7, 15), project="PRJ-2")
        post(session, "transfer", "500.00", date(2021, 8, 1), project="PRJ-2", recipient="Kent County Council")
        post(session, "repayment", "250.00", date(2021, 9, 1))
        post(session, "opening-balance", "3000.00", date(2020, 12, 31), obligation="20/00001/FUL/2",
             original_received_on=date(2019, 5, 1))
        post(session, "receipt", "1200.00", date(2022, 1, 10), obligation="20/00001/FUL/2")
        post(session, "allocation", "800.00", date(2022, 2, 1), obligation="20/00001/FUL/2", project="PRJ-2")
        post(session, "commitment", "800.00", date(2022, 3, 1), obligation="20/00001/FUL/2", project="PRJ-2")
        post(session, "opening-balance", "5000.00", date(2021, 6, 30), obligation="21/00002/FUL/1")
        variations.change_terms(session, OB, basis="receipt", years=15, in_force_from=date(2023, 1, 1),
                                reason="deed of variation", actor=OFFICER)
        income.record_milestone(session, "20/00001/FUL", kind="completion", on=date(2024, 4, 1), actor=OFFICER)


def insert_at_0013(engine: object) -> None:
    """Rows as an 0013 ledger holds them, written straight: an agreement in no division with
    a receipt, a spend and a reversed receipt (amounts in pence)."""
    with engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(text(
            "INSERT INTO agreements (reference, type, authority_code, signed_on, needs_review, status, created_by, "
            "created_at) VALUES ('19/00003/OUT', 'section-106', 'E07000105', '2019-01-01', false, 'signed', 'x', "
            "'2020-01-01 00:00:00')"))
        connection.execute(text(
            'INSERT INTO obligations (reference, agreement_id, purpose, service, amount, commuted_sum, "index", '
            "repayment_years, repayment_basis, needs_review, commitment_stops_clock, created_by, created_at) "
            "SELECT '19/00003/OUT/1', id, 'education', 'send', 900000, false, 'none', 10, 'receipt', false, false, "
            "'x', '2020-01-01 00:00:00' FROM agreements WHERE reference = '19/00003/OUT'"))
        for reference, kind, amount, day, project in (
                ("R-OLD", "receipt", 300000, "2020-02-01", None), ("R-OLD-2", "receipt", 4400, "2020-02-03", None),
                ("S-OLD", "spend", 120000, "2020-03-01", "PRJ-1"), ("S-OLD/auto-allocation", "allocation", 120000,
                                                                      "2020-03-01", "PRJ-1")):
            connection.execute(text(
                "INSERT INTO entries (reference, kind, obligation_id, amount, occurred_on, project_id, created_by, "
                "created_at, reason) SELECT :reference, :kind, o.id, :amount, :day, "
                "(SELECT id FROM projects WHERE reference = :project), 'x', '2020-03-02 00:00:00', 'r' "
                "FROM obligations o WHERE o.reference = '19/00003/OUT/1'"),
                {"reference": reference, "kind": kind, "amount": amount, "day": day, "project": project})
        connection.execute(text(
            "INSERT INTO entries (reference, kind, obligation_id, amount, occurred_on, created_by, created_at, reason, "
            "reverses) SELECT 'R-OLD-2/reversal', kind, obligation_id, amount, occurred_on, 'x', "
            "'2020-03-03 00:00:00', 'keyed twice', id FROM entries WHERE reference = 'R-OLD-2'"))


def test_a_ledger_migrated_from_0013_keeps_positions_that_agree(database_url: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        write_through_the_services(session)
    downgrade(engine, BEFORE)
    assert "kept_obligation_positions" not in inspect(engine).get_table_names()
    insert_at_0013(engine)
    upgrade(engine)
    with Session(engine) as session:
        assert_kept_is_the_replay(session)
        old = session.scalar(select(KeptObligationPosition).join(Obligation).where(
            Obligation.reference == "19/00003/OUT/1"))
        assert (old.received, old.spent, old.held, old.division_code) == (
            Decimal("3000.00"), Decimal("1200.00"), Decimal("1800.00"), None)
        assert session.get(KeptDivisionPosition, kept.NO_DIVISION).secured == Decimal("9000.00")
        assert session.get(KeptDivisionPosition, "ashford-rural").held == Decimal("5000.00")
        expected = kept_rows(session)
    # Down and up again: the tables go, and come back worked out the same.
    downgrade(engine, BEFORE)
    upgrade(engine)
    with Session(engine) as session:
        assert kept_rows(session) == expected
        assert kept.differences(session) == []
    engine.dispose()


def kept_rows(session: Session) -> list[tuple[object, ...]]:
    return [tuple(r) for table in (KeptObligationPosition, KeptDivisionPosition)
            for r in session.execute(select(table.__table__).order_by(*table.__table__.primary_key))]
