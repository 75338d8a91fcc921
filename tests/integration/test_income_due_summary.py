"""The income due summary (dashboard, income-due page, API): the oldest sums of invoices and
imported sums due together, and the count and money of all, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy.orm import Session

from ledger.models import IncomeDue
from ledger.services import income
from tests.factories import OFFICER, make_agreement, make_ledger, make_obligation

TODAY = date(2025, 8, 1)


@pytest.fixture
def due(session: Session) -> Session:
    """Three invoices (commenced 1 May, 20 July and 20 July 2025) and three imported sums
    due (1 May, 20 July and, after today, 1 September 2025)."""
    with freeze_time(datetime(2025, 7, 25, 12, tzinfo=UTC)):
        make_ledger(session)
        for n, commenced in enumerate((date(2025, 5, 1), date(2025, 7, 20), date(2025, 7, 20)), start=2):
            agreement = f"21/{n:05}/OUT"
            make_agreement(session, reference=agreement, developer=f"Homes {n} Ltd")
            make_obligation(session, agreement=agreement, reference=f"{agreement}/1")
            income.add_instalment(session, f"{agreement}/1", {
                "reference": f"{agreement}/1/A", "fixed_sum": Decimal(f"{n}00.00"), "trigger_event": "commencement"},
                actor=OFFICER)
            income.record_milestone(session, agreement, kind="commencement", on=commenced, actor=OFFICER)
        obligation = make_obligation(session, reference="20/00001/FUL/2")
        for reference, on, amount in (("IMP-1", date(2025, 5, 1), "10.00"), ("IMP-2", date(2025, 7, 20), "20.00"),
                                      ("IMP-3", date(2025, 9, 1), "30.00")):
            session.add(IncomeDue(reference=reference, obligation_id=obligation.id, amount=Decimal(amount),
                                  due_on=on, source="secured.csv", created_by=OFFICER.email,
                                  created_at=datetime(2025, 7, 25, 12, tzinfo=UTC)))
        session.commit()
    return session


def test_the_oldest_of_both_kinds_with_the_count_and_money_of_all(due: Session) -> None:
    every = income.income_due(due, today=TODAY)
    # Oldest first, a date's sums by reference, the two kinds interleaved; none due after today.
    assert [(r.due_on, r.trigger) for r in every] == [
        (date(2025, 5, 1), "commencement"), (date(2025, 5, 1), "secured (imported)"),
        (date(2025, 7, 20), "commencement"), (date(2025, 7, 20), "commencement"),
        (date(2025, 7, 20), "secured (imported)")]
    for first in (1, 2, 3, 4, 5, 8):
        summary = income.income_due_summary(due, today=TODAY, first=first)
        assert summary.first == every[:first], first
        assert summary.count == 5
        assert summary.outstanding == sum((r.outstanding for r in every), Decimal(0))
        assert summary.overdue == sum((r.outstanding for r in every if r.overdue), Decimal(0))


def test_a_ledger_with_no_imported_sums_due_lists_its_invoices(due: Session) -> None:
    due.query(IncomeDue).delete()
    due.commit()
    summary = income.income_due_summary(due, today=TODAY, first=2)
    assert summary.count == 3 and [r.trigger for r in summary.first] == ["commencement", "commencement"]
    assert summary.first == income.income_due(due, today=TODAY)[:2]
