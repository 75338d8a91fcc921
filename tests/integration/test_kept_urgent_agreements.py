"""Issue 17: the agreements holding urgent money are kept for the day with their signing dates,
on SQLite and PostgreSQL. The agreements list with money at risk pages them newest first;
a receipt and its reversal move them; and kept.differences names a kept row that is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.services import kept, kept_urgent, listing
from ledger.services.entries import reverse_entry
from ledger.services.registry import Filters
from tests.conftest import _reset_postgres, make_test_app
from tests.factories import OFFICER, make_agreement, make_ledger, make_obligation, post

NOW = datetime(2026, 1, 5, 10, tzinfo=UTC)
TODAY = NOW.date()
#: Agreement: (signed on, the day its one obligation's receipt came). Ten years from receipt,
#: with the amber band 24 months: received before 5 January 2018 is urgent today.
AGREEMENTS = {"15/00001/FUL": (date(2015, 3, 1), date(2016, 1, 4)),
              "16/00002/FUL": (date(2016, 3, 1), date(2017, 1, 4)),
              "16/00003/FUL": (date(2016, 3, 1), date(2017, 6, 1)),
              "17/00004/FUL": (date(2017, 3, 1), date(2024, 2, 1))}


@pytest.fixture
def ledger(session: Session) -> dict[str, int]:
    """The agreements above with a receipt each: the receipts' entry ids by agreement."""
    make_ledger(session)
    receipts = {}
    with freeze_time(NOW):
        for reference, (signed_on, received_on) in AGREEMENTS.items():
            make_agreement(session, reference=reference, signed_on=signed_on)
            make_obligation(session, agreement=reference, reference=f"{reference}/1")
            receipts[reference] = post(session, "receipt", "1000.00", received_on, obligation=f"{reference}/1").id
    return receipts


def urgent_page(session: Session, **page: int) -> tuple[list[str], int]:
    session.rollback()
    with freeze_time(NOW):
        found, total = listing.agreement_list(session, Filters(), urgent_on=TODAY, limit=page.get("limit", 50),
                                              offset=page.get("offset", 0))
    return [agreement.reference for agreement in found], total


def test_newest_first_with_ties_newest_added_first_and_paged(session: Session, ledger: dict[str, int]) -> None:
    assert urgent_page(session) == (["16/00003/FUL", "16/00002/FUL", "15/00001/FUL"], 3)
    assert urgent_page(session, offset=1, limit=1) == (["16/00002/FUL"], 3)
    assert urgent_page(session, offset=3, limit=1) == ([], 3)
    session.rollback()
    assert kept.differences(session) == []


def test_a_reversal_takes_its_agreement_off_and_a_receipt_puts_one_on(session: Session,
                                                                    ledger: dict[str, int]) -> None:
    urgent_page(session)  # the day's urgent money is kept from here
    with freeze_time(NOW):
        reverse_entry(session, ledger["16/00002/FUL"], actor=OFFICER, reason="keyed against the wrong obligation")
        post(session, "receipt", "50.00", date(2017, 4, 3), obligation="17/00004/FUL/1")
    assert urgent_page(session) == (["17/00004/FUL", "16/00003/FUL", "15/00001/FUL"], 3)
    session.rollback()
    assert kept.differences(session) == []


def test_a_wrong_signing_date_kept_is_named(session: Session, ledger: dict[str, int]) -> None:
    urgent_page(session)
    session.rollback()
    session.execute(text("UPDATE kept_urgent_agreements SET signed_on = :day WHERE agreement_id = "
                         "(SELECT id FROM agreements WHERE reference = '15/00001/FUL')"), {"day": date(2000, 1, 1)})
    problems = kept.differences(session)
    assert len(problems) == 1, problems
    assert problems[0].startswith("agreement 15/00001/FUL: kept urgent on 2026-01-05 as (True, datetime.date(2000")
    # Forgotten and kept afresh, it agrees again.
    kept_urgent.forget(session)
    session.commit()
    assert urgent_page(session)[1] == 3
    session.rollback()
    assert kept.differences(session) == []


def test_the_count_kept_moves_with_writes_and_a_wrong_one_is_named(session: Session, ledger: dict[str, int]) -> None:
    assert urgent_page(session)[1] == 3
    with freeze_time(NOW):
        post(session, "receipt", "50.00", date(2017, 4, 3), obligation="17/00004/FUL/1")  # one more
        reverse_entry(session, ledger["16/00002/FUL"], actor=OFFICER, reason="keyed against the wrong obligation")
        reverse_entry(session, ledger["15/00001/FUL"], actor=OFFICER, reason="keyed against the wrong obligation")
    assert urgent_page(session)[1] == 2
    session.rollback()
    assert kept.differences(session) == []
    session.execute(text("UPDATE kept_urgent_state SET agreements = 7"))
    assert kept.differences(session) == ["agreements kept urgent on 2026-01-05: counted 7; 2 are kept"]


@pytest.fixture
def postgres_session(postgres_url: str) -> Iterator[Session]:
    _reset_postgres(postgres_url)
    app = make_test_app(postgres_url)
    with app.extensions["ledger.sessions"]() as session:
        yield session
    app.extensions["ledger.engine"].dispose()


@pytest.mark.postgres
def test_postgresql_knows_the_days_urgent_rows_as_soon_as_they_are_written(postgres_session: Session) -> None:
    """The day's rows are written in one transaction; its planner statistics too, or it would
    read every obligation kept for the dashboard's ten largest until autovacuum came."""
    session = postgres_session
    make_ledger(session)
    with freeze_time(NOW):
        for number in range(1, 31):
            make_agreement(session, reference=f"15/{number:05}/FUL", signed_on=date(2015, 3, 1))
            make_obligation(session, agreement=f"15/{number:05}/FUL", reference=f"15/{number:05}/FUL/1")
            post(session, "receipt", "1000.00", date(2016, 1, 4), obligation=f"15/{number:05}/FUL/1")
        session.commit()
        session.execute(text("ANALYZE kept_urgent_obligations, kept_urgent_agreements, kept_urgent_divisions"))
        session.commit()  # analysed empty, as a new ledger's tables are
        assert kept_urgent.ensure(session, today=TODAY, amber_months=24)
    session.rollback()
    counted = session.execute(text(
        "SELECT relname, reltuples FROM pg_class WHERE relname IN "
        "('kept_urgent_obligations', 'kept_urgent_agreements', 'kept_urgent_divisions') ORDER BY relname")).all()
    assert counted == [("kept_urgent_agreements", 30), ("kept_urgent_divisions", 1), ("kept_urgent_obligations", 30)]
