"""At-risk rows and division summaries, with freezegun at the band boundaries."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy.orm import Session

from ledger.domain.vocab import Band
from ledger.services import balances, registry
from ledger.services.entries import reverse_entry
from ledger.services.registry import Filters
from tests.factories import OFFICER, make_agreement, make_ledger, make_obligation, post

D = Decimal


@pytest.fixture
def ledger(session: Session) -> Session:
    make_ledger(session)
    return session


def test_at_risk_rows_carry_the_spec_columns_and_band(ledger: Session) -> None:
    post(ledger, "receipt", "1000.00", date(2015, 4, 1), reference="R-OLD")
    post(ledger, "allocation", "250.00", date(2016, 1, 1), project="PRJ-1")
    [row] = balances.at_risk(ledger, as_of=date(2025, 3, 31))
    assert row.receipt_reference == "R-OLD"
    assert row.deadline == date(2025, 4, 1)
    assert (row.remaining, row.allocated, row.unallocated) == (D("1000.00"), D("250.00"), D("750.00"))
    assert row.band is Band.RED
    assert (row.authority_code, row.division_code, row.purpose, row.service) == (
        "E07000105", "ashford-central", "education", "education-primary")
    [overdue] = balances.at_risk(ledger, as_of=date(2025, 4, 2))
    assert overdue.band is Band.OVERDUE


@pytest.mark.parametrize(
    ("today", "band"),
    [("2029-06-01", Band.OVERDUE), ("2029-05-31", Band.RED), ("2028-05-31", Band.RED),
     ("2028-05-30", Band.AMBER), ("2027-05-31", Band.AMBER), ("2027-05-30", Band.GREEN)],
    ids=["day-after-deadline", "deadline-day", "exactly-twelve-months", "twelve-months-and-a-day",
         "exactly-twenty-four-months", "beyond-twenty-four-months"],
)
def test_band_as_of_today_around_the_deadline(ledger: Session, today: str, band: Band) -> None:
    post(ledger, "receipt", "10.00", date(2019, 5, 31))  # deadline 31 May 2029
    with freeze_time(today):
        from ledger import clock

        [row] = balances.at_risk(ledger, as_of=clock.today())
    assert row.band is band


def test_spent_money_is_not_at_risk_and_filters_apply(ledger: Session) -> None:
    post(ledger, "receipt", "100.00", date(2016, 1, 1))
    post(ledger, "spend", "100.00", date(2017, 1, 1), project="PRJ-1")
    assert balances.at_risk(ledger, as_of=date(2025, 1, 1)) == []
    post(ledger, "receipt", "50.00", date(2018, 1, 1))
    assert len(balances.at_risk(ledger, as_of=date(2025, 1, 1), filters=Filters(service="education-primary"))) == 1
    assert balances.at_risk(ledger, as_of=date(2025, 1, 1), filters=Filters(service="highways")) == []
    assert balances.at_risk(ledger, as_of=date(2025, 1, 1), filters=Filters(division="elsewhere")) == []


def test_completion_basis_deadline_follows_the_recorded_completion(ledger: Session) -> None:
    make_obligation(ledger, reference="20/00001/FUL/2", repayment_basis="completion")
    post(ledger, "receipt", "10.00", date(2020, 1, 1), obligation="20/00001/FUL/2")
    [row] = balances.at_risk(ledger, as_of=date(2025, 1, 1))
    assert (row.band, row.deadline) == (Band.UNKNOWN_DEADLINE, None)
    registry.update_agreement(ledger, "20/00001/FUL", {"completion_on": date(2022, 3, 1)}, actor=OFFICER,
                              reason="completion reported by district")
    [row] = balances.at_risk(ledger, as_of=date(2025, 1, 1))
    assert (row.band, row.deadline) == (Band.GREEN, date(2032, 3, 1))


def test_division_summary_totals(ledger: Session) -> None:
    make_agreement(ledger, reference="OTHER/1", division_code=None)
    make_obligation(ledger, agreement="OTHER/1", reference="OTHER/1/1", amount=D("5.00"))
    post(ledger, "receipt", "5.00", date(2020, 1, 1), obligation="OTHER/1/1")
    post(ledger, "receipt", "1000.00", date(2015, 1, 1))
    post(ledger, "spend", "100.00", date(2016, 1, 1), project="PRJ-1")
    post(ledger, "transfer", "50.00", date(2016, 2, 1), project="PRJ-1", recipient="Trust")
    post(ledger, "repayment", "25.00", date(2025, 1, 2))
    mistake = post(ledger, "receipt", "999.00", date(2016, 1, 1))
    reverse_entry(ledger, mistake.id, actor=OFFICER, reason="wrong obligation")
    summary = balances.division_summary(ledger, "ashford-central", on=date(2025, 1, 31))
    assert summary.agreements == 1
    assert summary.secured == D("100000.00")
    assert (summary.received, summary.spent, summary.transferred, summary.repaid) == (
        D("1000.00"), D("100.00"), D("50.00"), D("25.00"))
    assert summary.held == D("825.00")
    assert summary.at_risk[Band.OVERDUE] == D("825.00")
    assert [p.reference for p in summary.projects] == []


def test_division_summary_as_known_at(ledger: Session) -> None:
    with freeze_time("2024-01-10"):
        receipt = post(ledger, "receipt", "100.00", date(2024, 1, 1))
    with freeze_time("2024-02-10"):
        reverse_entry(ledger, receipt.id, actor=OFFICER, reason="bounced")
    known = datetime(2024, 2, 1, tzinfo=UTC)
    assert balances.division_summary(ledger, "ashford-central", on=date(2024, 3, 1), as_known_at=known).received == D("100.00")
    assert balances.division_summary(ledger, "ashford-central", on=date(2024, 3, 1)).received == D("0")
