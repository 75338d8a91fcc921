"""The service layer on real SQLite and PostgreSQL databases."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger.domain.errors import Conflict, InvalidInput, NotFound, RuleViolated
from ledger.domain.vocab import EntryKind
from ledger.models import AuditEvent, Entry
from ledger.services import balances
from ledger.services.entries import AUTO_ALLOCATION_REASON, EntryRequest, record_entry, reverse_entry
from tests.factories import OFFICER, make_ledger, post

D = Decimal


@pytest.fixture
def ledger(session: Session) -> Session:
    make_ledger(session)
    return session


def entry_count(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Entry)) or 0


def test_receipt_is_recorded_with_who_when_and_why(ledger: Session) -> None:
    with freeze_time("2024-05-02 10:00:00"):
        entry = post(ledger, "receipt", "5000.00", date(2024, 5, 1), reference="FIN-1", reason="remittance 123")
    assert entry.amount == D("5000.00")
    assert entry.created_by == OFFICER.email
    assert entry.created_at == datetime(2024, 5, 2, 10, tzinfo=UTC)
    assert entry.reason == "remittance 123"
    event = ledger.scalars(select(AuditEvent).where(AuditEvent.action == "record-receipt")).one()
    assert event.actor == OFFICER.email
    assert event.after is not None and event.after["amount"] == "5000.00"


def test_repeating_an_identical_entry_returns_it_and_writes_nothing(ledger: Session) -> None:
    first = post(ledger, "receipt", "5000.00", date(2024, 5, 1), reference="FIN-1")
    before = entry_count(ledger)
    request = EntryRequest(kind=EntryKind.RECEIPT, obligation_reference="20/00001/FUL/1", amount=D("5000.00"),
                           occurred_on=date(2024, 5, 1), reference="FIN-1", reason="again")
    again, created = record_entry(ledger, request, actor=OFFICER)
    assert (again.id, created) == (first.id, False)
    assert entry_count(ledger) == before


def test_same_reference_with_different_content_is_a_conflict(ledger: Session) -> None:
    post(ledger, "receipt", "5000.00", date(2024, 5, 1), reference="FIN-1")
    with pytest.raises(Conflict):
        post(ledger, "receipt", "5000.01", date(2024, 5, 1), reference="FIN-1")
    # The same reference is free for another kind: references are unique per kind.
    post(ledger, "repayment", "10.00", date(2024, 5, 2), reference="FIN-1")


def test_spend_beyond_project_allocation_allocates_the_difference(ledger: Session) -> None:
    post(ledger, "receipt", "1000.00", date(2024, 5, 1))
    post(ledger, "allocation", "100.00", date(2024, 5, 2), project="PRJ-1")
    spend = post(ledger, "spend", "300.00", date(2024, 6, 1), project="PRJ-1", reference="INV-9")
    auto = ledger.scalars(select(Entry).where(Entry.reason == AUTO_ALLOCATION_REASON)).one()
    assert (auto.kind, auto.amount, auto.occurred_on, auto.reference) == (
        "allocation", D("200.00"), date(2024, 6, 1), "INV-9/auto-allocation")
    b = balances.obligation_balance(ledger, "20/00001/FUL/1", on=date(2024, 6, 1)).balances
    assert (b.held, b.allocated_unspent, b.unallocated) == (D("700.00"), D("0.00"), D("700.00"))
    assert spend.kind == "spend"


def test_spend_beyond_unallocated_money_is_refused_and_writes_nothing(ledger: Session) -> None:
    post(ledger, "receipt", "1000.00", date(2024, 5, 1))
    post(ledger, "allocation", "900.00", date(2024, 5, 2), project="PRJ-2")
    before = entry_count(ledger)
    with pytest.raises(RuleViolated) as refused:
        post(ledger, "spend", "200.00", date(2024, 6, 1), project="PRJ-1")
    assert refused.value.violations[0].invariant == "allocated-within-held"
    assert entry_count(ledger) == before


def test_transfer_names_its_recipient_and_auto_allocates(ledger: Session) -> None:
    post(ledger, "receipt", "1000.00", date(2024, 5, 1))
    post(ledger, "transfer", "400.00", date(2024, 6, 1), project="PRJ-1", recipient="Kent Academies Trust")
    b = balances.obligation_balance(ledger, "20/00001/FUL/1", on=date(2024, 6, 1)).balances
    assert (b.transferred, b.held, b.allocated_unspent) == (D("400.00"), D("600.00"), D("0.00"))
    with pytest.raises(InvalidInput) as missing:
        post(ledger, "transfer", "1.00", date(2024, 6, 1), project="PRJ-1")
    assert "recipient" in missing.value.errors


def test_repayment_draws_on_unallocated_money_only(ledger: Session) -> None:
    post(ledger, "receipt", "1000.00", date(2014, 5, 1))
    post(ledger, "allocation", "800.00", date(2015, 5, 2), project="PRJ-1")
    with pytest.raises(RuleViolated) as refused:
        post(ledger, "repayment", "300.00", date(2024, 5, 1))
    assert refused.value.violations[0].invariant == "allocated-within-held"
    post(ledger, "repayment", "200.00", date(2024, 5, 1), interest=D("12.34"))
    post(ledger, "deallocation", "100.00", date(2024, 5, 2), project="PRJ-1")
    post(ledger, "repayment", "100.00", date(2024, 5, 3))
    b = balances.obligation_balance(ledger, "20/00001/FUL/1", on=date(2024, 5, 3)).balances
    assert (b.repaid, b.held, b.unallocated) == (D("300.00"), D("700.00"), D("0.00"))


def test_backdated_spend_that_breaks_an_earlier_date_is_refused(ledger: Session) -> None:
    post(ledger, "receipt", "100.00", date(2024, 5, 1))
    with pytest.raises(RuleViolated) as refused:
        post(ledger, "spend", "50.00", date(2024, 4, 30), project="PRJ-1")
    assert refused.value.violations[0].on == date(2024, 4, 30)


def test_reversal_cancels_an_entry_once(ledger: Session) -> None:
    receipt = post(ledger, "receipt", "100.00", date(2024, 5, 1))
    reversal = reverse_entry(ledger, receipt.id, actor=OFFICER, reason="keyed twice")
    assert (reversal.kind, reversal.amount, reversal.occurred_on, reversal.reverses) == (
        "receipt", D("100.00"), date(2024, 5, 1), receipt.id)
    assert balances.obligation_balance(ledger, "20/00001/FUL/1", on=date(2025, 1, 1)).balances.held == D("0.00")
    with pytest.raises(Conflict, match="already been reversed"):
        reverse_entry(ledger, receipt.id, actor=OFFICER, reason="again")
    with pytest.raises(Conflict, match="cannot itself"):
        reverse_entry(ledger, reversal.id, actor=OFFICER, reason="undo")


def test_reversal_that_would_break_an_earlier_date_is_refused(ledger: Session) -> None:
    first = post(ledger, "receipt", "100.00", date(2024, 5, 1))
    post(ledger, "spend", "80.00", date(2024, 5, 10), project="PRJ-1")
    post(ledger, "receipt", "100.00", date(2024, 6, 1))
    # Without the first receipt, the spend on 10 May would have had no money to spend.
    with pytest.raises(RuleViolated) as refused:
        reverse_entry(ledger, first.id, actor=OFFICER, reason="wrong obligation")
    assert refused.value.violations[0].on == date(2024, 5, 10)


def test_unknown_obligation_or_project_is_invalid_input_naming_the_field(ledger: Session) -> None:
    with pytest.raises(InvalidInput) as unknown_obligation:
        post(ledger, "receipt", "1.00", date(2024, 5, 1), obligation="NOPE")
    assert "obligation_reference" in unknown_obligation.value.errors
    with pytest.raises(InvalidInput) as unknown_project:
        post(ledger, "allocation", "1.00", date(2024, 5, 1), project="NOPE")
    assert "project_reference" in unknown_project.value.errors
    with pytest.raises(NotFound):
        reverse_entry(ledger, 999, actor=OFFICER, reason="x")


def test_database_refuses_to_update_or_delete_entries(ledger: Session) -> None:
    receipt = post(ledger, "receipt", "100.00", date(2024, 5, 1))
    ledger.rollback()
    for statement in (f"UPDATE entries SET amount = 1 WHERE id = {receipt.id}",
                      f"DELETE FROM entries WHERE id = {receipt.id}",
                      "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            ledger.execute(text(statement))
        ledger.rollback()
    assert ledger.get(Entry, receipt.id).amount == D("100.00")  # type: ignore[union-attr]


def test_sums_of_money_come_back_as_exact_decimals(ledger: Session) -> None:
    post(ledger, "receipt", "0.10", date(2024, 5, 1))
    post(ledger, "receipt", "0.20", date(2024, 5, 1))
    total = ledger.scalar(select(func.sum(Entry.amount)))
    assert total == D("0.30")
    assert isinstance(total, Decimal)


def test_balance_as_known_at_reproduces_the_ledger_before_a_correction(ledger: Session) -> None:
    with freeze_time("2024-05-02 09:00:00"):
        receipt = post(ledger, "receipt", "100.00", date(2024, 5, 1))
    with freeze_time("2024-07-01 09:00:00"):
        reverse_entry(ledger, receipt.id, actor=OFFICER, reason="wrong amount")
        post(ledger, "receipt", "110.00", date(2024, 5, 1))
    then = datetime(2024, 6, 30, tzinfo=UTC)
    assert balances.obligation_balance(ledger, "20/00001/FUL/1", on=date(2024, 5, 31),
                                       as_known_at=then).balances.held == D("100.00")
    assert balances.obligation_balance(ledger, "20/00001/FUL/1", on=date(2024, 5, 31)).balances.held == D("110.00")
