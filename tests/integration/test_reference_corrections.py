"""Corrections of reference data and the standing of invoices and receipts (issue 15 item 3),
on both engines: obligations and projects corrected with a reason and audited before and
after, an agreement's history read back as changes, and what an invoice still has
outstanding and a receipt not yet matched."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.domain.errors import InvalidInput, NotFound
from ledger.models import Agreement, AuditEvent, Entry, IncomeDue, InvoicePayment, Obligation, Project
from ledger.services import balances, income, registry
from ledger.services.entries import reverse_entry
from tests.factories import OFFICER, make_agreement, make_ledger, make_obligation, post

D = Decimal


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_an_obligation_s_terms_are_corrected_with_a_reason_and_its_deadlines_move(session: Session) -> None:
    make_ledger(session)
    post(session, "receipt", "1000.00", date(2021, 5, 1))
    changed = registry.update_obligation(session, "20/00001/FUL/1", {"repayment_basis": "completion",
                                                                     "repayment_years": 5, "purpose": "highways"},
                                         actor=OFFICER, reason="Clause 7 read from the deed")
    assert (changed.repayment_basis, changed.repayment_years, changed.purpose) == ("completion", 5, "highways")
    [event] = _events(session, "update-obligation")
    assert event.reason == "Clause 7 read from the deed" and event.actor == OFFICER.email
    assert event.before["repayment_basis"] == "receipt" and event.after["repayment_basis"] == "completion"  # type: ignore[index]
    [position] = balances.obligation_balance(session, "20/00001/FUL/1", on=date(2022, 1, 1)).receipts
    assert balances.deadline_date(position.deadline) is None  # counts from a completion not yet reported
    with freeze_time("2024-01-10"):
        income.record_milestone(session, "20/00001/FUL", kind="completion", on=date(2023, 9, 30), actor=OFFICER)
    [position] = balances.obligation_balance(session, "20/00001/FUL/1", on=date(2024, 1, 1)).receipts
    assert balances.deadline_date(position.deadline) == date(2028, 9, 30)


@pytest.mark.parametrize(("changes", "reason", "field"), [
    ({"repayment_basis": "none"}, "no clause", "repayment_years"),  # years 10 stay: they do not go with none
    ({"repayment_years": 31}, "typo", "repayment_years"),
    ({"repayment_basis": "sometimes", "repayment_years": None}, "typo", "repayment_basis"),
    ({"amount": D("1.00")}, "the deed says so", "amount"),
    ({"purpose": "education"}, "  ", "reason"),
], ids=["years-with-none", "years-over-30", "no-such-basis", "amount-is-not-corrected-here", "blank-reason"])
def test_a_refused_obligation_correction_names_the_field_and_changes_nothing(
    session: Session, changes: dict[str, object], reason: str, field: str,
) -> None:
    make_ledger(session)
    with pytest.raises(InvalidInput) as refused:
        registry.update_obligation(session, "20/00001/FUL/1", changes, actor=OFFICER, reason=reason)
    assert field in refused.value.errors
    session.expire_all()
    obligation = session.scalars(select(Obligation)).one()
    assert (obligation.repayment_basis, obligation.repayment_years, obligation.amount) == ("receipt", 10, D("100000.00"))
    assert _events(session, "update-obligation") == []


def test_a_project_is_corrected_with_a_reason_and_a_division_that_exists(session: Session) -> None:
    make_ledger(session)
    with pytest.raises(InvalidInput) as refused:
        registry.update_project(session, "PRJ-1", {"division_code": "atlantis"}, actor=OFFICER, reason="moved")
    assert "division_code" in refused.value.errors
    with pytest.raises(NotFound):
        registry.update_project(session, "PRJ-404", {"name": "x"}, actor=OFFICER, reason="typo")
    changed = registry.update_project(session, "PRJ-1", {"name": "Two classrooms", "repays_borrowing": True,
                                                         "division_code": None}, actor=OFFICER, reason="Cabinet paper")
    assert (changed.name, changed.repays_borrowing, changed.division_code) == ("Two classrooms", True, None)
    [event] = _events(session, "update-project")
    assert event.before["name"] == "Project PRJ-1" and event.after["name"] == "Two classrooms"  # type: ignore[index]
    assert event.reason == "Cabinet paper"
    assert session.scalar(select(func.count()).select_from(Project).where(Project.name == "Two classrooms")) == 1


def test_an_agreement_s_history_reads_as_each_change_before_and_after(session: Session) -> None:
    make_ledger(session)
    registry.update_agreement(session, "20/00001/FUL", {"site_name": "Old Mill"}, actor=OFFICER, reason="from deed")
    registry.update_agreement(session, "20/00001/FUL", {"site_name": "Old Mill Lane", "dwellings": 120},
                              actor=OFFICER, reason="address corrected")
    with freeze_time("2024-01-10"):
        income.record_milestone(session, "20/00001/FUL", kind="completion", on=date(2023, 9, 30), actor=OFFICER)
    agreement = registry.get_one(session, Agreement, "reference", "20/00001/FUL", what="agreement")
    first, second, third = registry.agreement_changes(session, agreement)
    assert (first.reason, first.changes) == ("from deed", [("site_name", None, "Old Mill")])
    assert (second.reason, second.changes) == ("address corrected", [("site_name", "Old Mill", "Old Mill Lane"),
                                                                     ("dwellings", None, 120)])
    assert (third.reason, third.changes) == ("completion recorded", [("completion_on", None, date(2023, 9, 30))])
    assert first.changed_by == OFFICER.email and first.changed_at <= second.changed_at


def test_signing_a_proposed_agreement_is_in_its_history(session: Session) -> None:
    make_ledger(session)
    make_agreement(session, reference="P/1", signed_on=None, status="proposed")
    registry.update_agreement(session, "P/1", {"status": "signed", "signed_on": date(2025, 3, 3)}, actor=OFFICER,
                              reason="Sealed at committee")
    agreement = registry.get_one(session, Agreement, "reference", "P/1", what="agreement")
    [signing] = registry.agreement_changes(session, agreement)
    assert (signing.reason, signing.changes) == ("Sealed at committee", [("signed_on", None, date(2025, 3, 3))])


@pytest.fixture
def invoiced(session: Session) -> Session:
    """An obligation of £100,000 whose first half is invoiced on commencement, and three
    receipts: £30,000 and £40,000 in June 2024, and £5,000 (reversed later) in July."""
    make_ledger(session)
    make_obligation(session, reference="OB-2", amount=D("8000.00"))
    income.add_instalment(session, "20/00001/FUL/1", {"reference": "I-1", "share": D("0.5"),
                                                      "trigger_event": "commencement"}, actor=OFFICER)
    with freeze_time("2024-06-01"):
        income.record_milestone(session, "20/00001/FUL", kind="commencement", on=date(2024, 5, 1), actor=OFFICER)
    for reference, amount, on in (("R-1", "30000.00", date(2024, 6, 3)), ("R-2", "40000.00", date(2024, 6, 20)),
                                  ("R-3", "5000.00", date(2024, 7, 1))):
        post(session, "receipt", amount, on, reference=reference)
    post(session, "receipt", "8000.00", date(2024, 6, 3), obligation="OB-2", reference="R-OTHER")
    return session


def _receipt(session: Session, reference: str) -> int:
    return session.scalars(select(Entry.id).where(Entry.kind == "receipt", Entry.reference == reference)).one()


def test_an_invoice_shows_what_is_paid_and_outstanding_and_a_receipt_what_is_unmatched(invoiced: Session) -> None:
    s = invoiced
    obligation_id = registry.get_one(s, Obligation, "reference", "20/00001/FUL/1", what="obligation").id
    [open_invoice] = income.open_invoices(s, obligation_id)
    assert (open_invoice.invoice.reference, open_invoice.paid, open_invoice.outstanding) == (
        "I-1/invoice", D("0.00"), D("50000.00"))
    assert [r.entry.reference for r in income.unmatched_receipts(s, obligation_id)] == ["R-1", "R-2", "R-3"]

    income.match_payment(s, "I-1/invoice", entry_id=_receipt(s, "R-1"), amount=D("30000.00"), actor=OFFICER)
    income.match_payment(s, "I-1/invoice", entry_id=_receipt(s, "R-3"), amount=D("5000.00"), actor=OFFICER)
    income.match_payment(s, "I-1/invoice", entry_id=_receipt(s, "R-2"), amount=D("10000.00"), actor=OFFICER)
    standing = income.invoice_standing(s, "I-1/invoice")
    assert (standing.paid, standing.outstanding) == (D("45000.00"), D("5000.00"))
    assert [(p.receipt_reference, p.amount) for p in standing.payments] == [
        ("R-1", D("30000.00")), ("R-3", D("5000.00")), ("R-2", D("10000.00"))]
    second = income.receipt_standing(s, s.get(Entry, _receipt(s, "R-2")))  # type: ignore[arg-type]
    assert (second.matched, second.unmatched, second.reversed_by) == (D("10000.00"), D("30000.00"), None)
    assert [r.entry.reference for r in income.unmatched_receipts(s, obligation_id)] == ["R-2"]

    # A reversed receipt's payment no longer counts, as the income-due list reads it.
    reversal = reverse_entry(s, _receipt(s, "R-3"), actor=OFFICER, reason="bounced")
    standing = income.invoice_standing(s, "I-1/invoice")
    assert (standing.paid, standing.outstanding) == (D("40000.00"), D("10000.00"))
    assert [p.receipt_reversed for p in standing.payments] == [False, True, False]
    [due] = [r for r in income.income_due(s, today=date(2024, 8, 1)) if r.reference == "I-1/invoice"]
    assert due.outstanding == standing.outstanding
    third = income.receipt_standing(s, s.get(Entry, _receipt(s, "R-3")))  # type: ignore[arg-type]
    assert (third.reversed_by, third.unmatched) == (reversal.id, D("0.00"))
    assert income.receipt_standing(s, reversal).unmatched == D("0.00")  # a reversal pays nothing
    assert s.scalar(select(func.count()).select_from(InvoicePayment)) == 3


def test_imported_income_due_names_its_obligation_and_an_invoice_does_not(invoiced: Session) -> None:
    s = invoiced
    obligation = registry.get_one(s, Obligation, "reference", "OB-2", what="obligation")
    s.add(IncomeDue(reference="SEC-1", obligation_id=obligation.id, amount=D("100.00"), due_on=date(2024, 1, 1),
                    source="gov-csv", created_by=OFFICER.email, created_at=obligation.created_at))
    s.commit()
    assert income.imported_due_obligation(s, "SEC-1") == "OB-2"
    assert income.imported_due_obligation(s, "I-1/invoice") is None
    with pytest.raises(NotFound):
        income.invoice_standing(s, "SEC-1")
