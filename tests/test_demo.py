"""The demo generator: the database numbers its rows, and the links between them (an entry's
obligation, a reversal's entry, a payment's receipt) survive the numbering; a bigger Scale
(as bench/ builds the national ledger) is a parameter, not a CLI choice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ledger.demo import SCALES, Scale, generate
from ledger.models import Agreement, Authority, Entry, Invoice, InvoicePayment, Obligation, Occupation
from tests.conftest import make_test_app

TODAY = date(2026, 11, 28)


@pytest.fixture
def demo_session(database_url: str) -> Iterator[Session]:
    app = make_test_app(database_url)
    with app.extensions["ledger.sessions"]() as session:
        generate(session, scale="small", seed=106, today=TODAY)
        yield session
    app.extensions["ledger.engine"].dispose()


def test_a_reversal_reverses_the_entry_it_names(demo_session: Session) -> None:
    reversed_entry = aliased(Entry)
    pairs = demo_session.execute(
        select(Entry.reference, Entry.obligation_id, reversed_entry.reference, reversed_entry.obligation_id)
        .join(reversed_entry, Entry.reverses == reversed_entry.id)).all()
    assert pairs, "the small demo has keyed-twice receipts, reversed"
    for reversal, obligation, original, original_obligation in pairs:
        assert reversal == f"{original}/reversal" and obligation == original_obligation


def test_each_payment_is_its_invoices_final_receipt(demo_session: Session) -> None:
    rows = demo_session.execute(
        select(Invoice.reference, Entry.reference, Entry.kind).join(InvoicePayment, InvoicePayment.invoice_id == Invoice.id)
        .join(Entry, Entry.id == InvoicePayment.entry_id)).all()
    assert rows
    for invoice, receipt, kind in rows:
        assert kind == "receipt" and receipt == f"RCT-{invoice.removesuffix('/final/invoice')}-final"


def test_entries_and_occupations_belong_to_their_agreements(demo_session: Session) -> None:
    # An obligation's reference starts with its agreement's, and so do its entries'.
    mismatched = demo_session.scalar(
        select(func.count()).select_from(Entry).join(Obligation, Entry.obligation_id == Obligation.id)
        .where(~Entry.reference.contains(Obligation.reference)))
    assert mismatched == 0
    misplaced = demo_session.scalar(
        select(func.count()).select_from(Obligation).join(Agreement, Obligation.agreement_id == Agreement.id)
        .where(~Obligation.reference.startswith(Agreement.reference)))
    assert misplaced == 0
    occupied = demo_session.execute(
        select(Agreement.dwellings, func.max(Occupation.occupied)).join(Occupation, Occupation.agreement_id == Agreement.id)
        .group_by(Agreement.id, Agreement.dwellings)).all()
    assert occupied and all(most <= dwellings for dwellings, most in occupied)


def test_the_app_numbers_its_next_entry_after_the_demos(demo_session: Session) -> None:
    from tests.factories import post

    highest = demo_session.scalar(select(func.max(Entry.id)))
    obligation = demo_session.scalar(select(Obligation.reference).where(Obligation.amount.is_not(None)).limit(1))
    entry = post(demo_session, "receipt", "10.00", TODAY, obligation=obligation, reference="AFTER-DEMO")
    assert entry.id == highest + 1


def test_a_scale_of_its_own(sqlite_url: str) -> None:
    app = make_test_app(sqlite_url)
    with app.extensions["ledger.sessions"]() as session:
        counts = generate(session, scale=Scale("wider", agreements=40, authorities=20), seed=3, today=TODAY)
        # The county council and twenty planning authorities, Kent's twelve then invented towns.
        assert session.scalar(select(func.count()).select_from(Authority)) == 21
    app.extensions["ledger.engine"].dispose()
    assert counts["agreements"] == 40


def test_the_cli_offers_the_scales_spec_names() -> None:
    assert list(SCALES) == ["small", "county", "national"]
