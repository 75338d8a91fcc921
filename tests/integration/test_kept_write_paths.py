"""Issue 17: every write path keeps the positions, on SQLite and PostgreSQL. One write each,
through the services: the kept row it should move moves as the clause says, and
kept.differences finds nothing afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy.orm import Session

from importers.gov_csv import plan_gov_csv
from ledger.domain.errors import RuleViolated
from ledger.models import KeptDivisionPosition, KeptObligationPosition, KeptReceiptPosition, Obligation
from ledger.services import SYSTEM, income, kept, registry, variations
from ledger.services.entries import reverse_entry
from ledger.services.imports import apply_import
from tests.factories import OFFICER, make_agreement, make_ledger, make_obligation, post, write_gov_files

D = Decimal
OB = "20/00001/FUL/1"
DIVISION = "ashford-central"
OTHER = "ashford-rural"
TODAY = datetime(2026, 1, 5, 10, tzinfo=UTC)


@pytest.fixture
def ledger(session: Session) -> Session:
    """The factories' ledger (£100,000 secured in ashford-central, ten years from receipt) and a second division."""
    make_ledger(session)
    registry.create_division(session, {"code": OTHER, "name": "Ashford Rural", "authority_code": "E07000105",
                                       "members": []}, actor=OFFICER)
    return session


def obligation_row(session: Session, reference: str = OB) -> KeptObligationPosition:
    session.rollback()  # read afresh, after the write committed
    return session.scalar(select(KeptObligationPosition).join(Obligation, Obligation.id == KeptObligationPosition.obligation_id)
                          .where(Obligation.reference == reference))


def money(session: Session, reference: str = OB) -> dict[str, Decimal]:
    row = obligation_row(session, reference)
    return {name: getattr(row, name) for name in kept.MONEY if getattr(row, name)}


def division(session: Session, code: str) -> dict[str, Decimal]:
    session.rollback()
    row = session.get(KeptDivisionPosition, code)
    return {} if row is None else {name: getattr(row, name) for name in kept.MONEY if getattr(row, name)}


def receipts(session: Session, reference: str = OB) -> list[tuple[object, ...]]:
    """(receipt amount remaining, allocated, deadline or why none) of each kept receipt."""
    session.rollback()
    return [tuple(r) for r in session.execute(
        select(KeptReceiptPosition.remaining, KeptReceiptPosition.allocated,
               KeptReceiptPosition.deadline, KeptReceiptPosition.no_deadline)
        .join(Obligation, Obligation.id == KeptReceiptPosition.obligation_id)
        .where(Obligation.reference == reference).order_by(KeptReceiptPosition.entry_id))]


def agrees(session: Session) -> bool:
    session.rollback()
    return kept.differences(session) == []


def test_creating_an_obligation_adds_to_its_divisions_secured(ledger: Session) -> None:
    assert division(ledger, DIVISION) == {"secured": D("100000.00")}
    make_obligation(ledger, reference="20/00001/FUL/2", amount=D("2500.00"))
    assert money(ledger, "20/00001/FUL/2") == {"secured": D("2500.00")}
    assert obligation_row(ledger, "20/00001/FUL/2").settled_from == date(2020, 6, 1)  # the signing
    assert division(ledger, DIVISION) == {"secured": D("102500.00")}
    assert agrees(ledger)


def test_recording_a_receipt_keeps_its_money_and_deadline(ledger: Session) -> None:
    with freeze_time(TODAY):
        post(ledger, "receipt", "1000.00", date(2024, 2, 1))
    assert money(ledger) == {"secured": D("100000.00"), "received": D("1000.00"), "held": D("1000.00")}
    assert receipts(ledger) == [(D("1000.00"), D("0.00"), date(2034, 2, 1), None)]
    assert obligation_row(ledger).settled_from == date(2024, 2, 1)
    assert division(ledger, DIVISION) == {"secured": D("100000.00"), "received": D("1000.00"), "held": D("1000.00")}
    assert agrees(ledger)


def test_a_spend_beyond_the_allocation_keeps_its_automatic_allocation_too(ledger: Session) -> None:
    with freeze_time(TODAY):
        post(ledger, "receipt", "1000.00", date(2024, 2, 1))
        post(ledger, "allocation", "100.00", date(2024, 3, 1), project="PRJ-1")
        post(ledger, "spend", "300.00", date(2024, 4, 1), project="PRJ-1")  # allocates the other 200 first
        post(ledger, "allocation", "50.00", date(2024, 4, 2), project="PRJ-2")
    assert money(ledger) == {"secured": D("100000.00"), "received": D("1000.00"), "spent": D("300.00"),
                             "held": D("700.00"), "allocated": D("50.00")}
    assert receipts(ledger) == [(D("700.00"), D("50.00"), date(2034, 2, 1), None)]
    assert division(ledger, DIVISION)["spent"] == D("300.00")
    assert agrees(ledger)


def test_a_reversal_takes_the_receipt_out_of_the_kept_rows(ledger: Session) -> None:
    with freeze_time(TODAY):
        first = post(ledger, "receipt", "1000.00", date(2024, 2, 1))
        post(ledger, "receipt", "400.00", date(2024, 5, 1))
        reverse_entry(ledger, first.id, actor=OFFICER, reason="keyed against the wrong obligation")
    assert money(ledger) == {"secured": D("100000.00"), "received": D("400.00"), "held": D("400.00")}
    assert receipts(ledger) == [(D("400.00"), D("0.00"), date(2034, 5, 1), None)]
    assert division(ledger, DIVISION)["received"] == D("400.00")
    assert agrees(ledger)


def test_an_import_keeps_the_obligations_it_creates_and_writes_to(session: Session, tmp_path: Path) -> None:
    files = write_gov_files(tmp_path / "files", [("T-1", "received", "3000.00", "2021-02-01"),
                                                 ("T-2", "spent", "1000.00", "2021-03-01"),
                                                 ("T-3", "spent", "2500.00", "2021-04-01")])
    assert apply_import(session, plan_gov_csv(files), actor=SYSTEM).committed
    # T-3 needs 500 more than was received: an opening balance of it, with no date of receipt.
    assert money(session, "DA-1/C1") == {"secured": D("5000.00"), "received": D("3500.00"), "spent": D("3500.00")}
    assert receipts(session, "DA-1/C1") == []
    assert division(session, kept.NO_DIVISION) == money(session, "DA-1/C1")
    more = write_gov_files(tmp_path / "more", [("T-4", "received", "800.00", "2021-05-01")])
    assert apply_import(session, plan_gov_csv(more), actor=SYSTEM).committed
    assert money(session, "DA-1/C1")["held"] == D("800.00")
    assert [r[0] for r in receipts(session, "DA-1/C1")] == [D("800.00")]
    assert agrees(session)


def test_a_change_of_terms_moves_the_kept_deadlines(ledger: Session) -> None:
    with freeze_time(TODAY):
        post(ledger, "receipt", "1000.00", date(2020, 2, 1))
        variations.change_terms(ledger, OB, basis="receipt", years=12, in_force_from=date(2025, 1, 1),
                                reason="deed of variation", actor=OFFICER)
    assert receipts(ledger) == [(D("1000.00"), D("0.00"), date(2032, 2, 1), None)]
    assert obligation_row(ledger).settled_from == date(2025, 1, 1)
    with freeze_time(TODAY):
        registry.update_obligation(ledger, OB, {"repayment_basis": "none", "repayment_years": None}, actor=OFFICER,
                                   reason="misread: the deed sets no time limit")
    # The change in force from 2025 still decides the deadline; the deed's own terms before it.
    assert receipts(ledger) == [(D("1000.00"), D("0.00"), date(2032, 2, 1), None)]
    with freeze_time(TODAY):
        variations.change_terms(ledger, OB, basis="unknown", years=None, in_force_from=date(2025, 6, 1),
                                reason="deed lost", actor=OFFICER)
    assert receipts(ledger) == [(D("1000.00"), D("0.00"), None, "unknown-deadline")]
    assert agrees(ledger)


def test_correcting_an_agreements_division_moves_its_money_between_kept_divisions(ledger: Session) -> None:
    with freeze_time(TODAY):
        post(ledger, "receipt", "1000.00", date(2024, 2, 1))
        post(ledger, "spend", "250.00", date(2024, 3, 1), project="PRJ-1")
        registry.update_agreement(ledger, "20/00001/FUL", {"division_code": OTHER}, actor=OFFICER,
                                  reason="the site is in the rural ward")
    moved = {"secured": D("100000.00"), "received": D("1000.00"), "spent": D("250.00"), "held": D("750.00")}
    assert division(ledger, DIVISION) == {}
    assert division(ledger, OTHER) == moved
    assert obligation_row(ledger).division_code == OTHER
    ledger.rollback()
    assert {r.division_code for r in ledger.scalars(select(KeptReceiptPosition))} == {OTHER}
    with freeze_time(TODAY):
        registry.update_agreement(ledger, "20/00001/FUL", {"division_code": None}, actor=OFFICER, reason="no ward")
    assert (division(ledger, OTHER), division(ledger, kept.NO_DIVISION)) == ({}, moved)
    assert agrees(ledger)


def test_a_completion_gives_receipts_counted_from_it_their_deadline(ledger: Session) -> None:
    make_obligation(ledger, reference="20/00001/FUL/2", repayment_basis="completion", repayment_years=5)
    with freeze_time(TODAY):
        post(ledger, "receipt", "600.00", date(2023, 2, 1), obligation="20/00001/FUL/2")
    assert receipts(ledger, "20/00001/FUL/2") == [(D("600.00"), D("0.00"), None, "unknown-deadline")]
    with freeze_time(TODAY):
        income.record_milestone(ledger, "20/00001/FUL", kind="completion", on=date(2024, 7, 1), actor=OFFICER)
    assert receipts(ledger, "20/00001/FUL/2") == [(D("600.00"), D("0.00"), date(2029, 7, 1), None)]
    assert agrees(ledger)


def test_signing_a_proposed_agreement_secures_its_money(ledger: Session) -> None:
    make_agreement(ledger, reference="25/00002/FUL", signed_on=None, status="proposed")
    make_obligation(ledger, agreement="25/00002/FUL", reference="25/00002/FUL/1", amount=D("7000.00"))
    assert money(ledger, "25/00002/FUL/1") == {}
    assert obligation_row(ledger, "25/00002/FUL/1").settled_from is None
    assert division(ledger, DIVISION) == {"secured": D("100000.00")}
    with freeze_time(TODAY):
        registry.update_agreement(ledger, "25/00002/FUL", {"status": "signed", "signed_on": date(2025, 12, 1)},
                                  actor=OFFICER, reason="signed")
    assert money(ledger, "25/00002/FUL/1") == {"secured": D("7000.00")}
    assert obligation_row(ledger, "25/00002/FUL/1").settled_from == date(2025, 12, 1)
    assert division(ledger, DIVISION) == {"secured": D("107000.00")}
    assert agrees(ledger)


def test_a_refused_entry_keeps_nothing(ledger: Session) -> None:
    with freeze_time(TODAY):
        post(ledger, "receipt", "1000.00", date(2024, 2, 1))
        before = (money(ledger), receipts(ledger), division(ledger, DIVISION))
        with pytest.raises(RuleViolated):
            post(ledger, "repayment", "1500.00", date(2024, 3, 1))
    assert (money(ledger), receipts(ledger), division(ledger, DIVISION)) == before
    assert agrees(ledger)
