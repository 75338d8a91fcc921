"""Deeds of variation that change repayment terms from a date (SPEC 8.1, 8.2) on SQLite and
PostgreSQL: the terms in force on the date asked about set every deadline, so a receipt's
deadline and band move on the day an extension comes into force (and not before), a
statement as known before the change keeps the old deadline, the IFS follows, the history
is append-only, and the agreement page shows the chain of variations."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger import clock
from ledger.domain.errors import InvalidInput, NotFound
from ledger.domain.vocab import Band
from ledger.models import RepaymentTerms
from ledger.services import SYSTEM, users, variations
from ledger.services.balances import at_risk, obligation_balance
from ledger.services.ifs import ifs_report
from ledger.services.positions import obligation_positions
from tests.factories import OFFICER, make_agreement, make_obligation, make_places, make_project, post

D = Decimal
AG, DV = "19/00001/FUL", "23/00009/DOV"
OB, OB2 = "19/00001/FUL/1", "19/00001/FUL/2"
RECORDED = datetime(2023, 10, 2, 9, tzinfo=UTC)


def build(session: Session) -> None:
    """An agreement of 2019 whose obligations are repayable five years from receipt, £1,000
    received on 1 June 2019 (deadline 1 June 2024), and a deed of variation entered into on
    1 September 2023 that replaces one obligation."""
    with freeze_time(datetime(2019, 7, 1, tzinfo=UTC)):
        make_places(session)
        make_agreement(session, reference=AG, signed_on=date(2019, 1, 15))
        make_obligation(session, agreement=AG, reference=OB, repayment_years=5)
        make_obligation(session, agreement=AG, reference=OB2, repayment_years=5, amount=D("2000.00"))
        make_project(session, reference="PRJ-1")
        post(session, "receipt", "1000.00", date(2019, 6, 1), obligation=OB, reference="R-1")
    with freeze_time(datetime(2023, 9, 5, tzinfo=UTC)):
        make_agreement(session, reference=DV, signed_on=date(2023, 9, 1), type="deed-of-variation", varies=AG)
        make_obligation(session, agreement=DV, reference=f"{DV}/1", amount=D("2500.00"), replaces=OB2)


@pytest.fixture
def ledger(session: Session) -> Session:
    build(session)
    return session


def extend(session: Session) -> RepaymentTerms:
    """The deed gives OB ten years from each receipt, from the day it was entered into."""
    with freeze_time(RECORDED):
        return variations.change_terms(session, OB, basis="receipt", years=10, in_force_from=None, variation=DV,
                                       reason="deed of variation 23/00009/DOV clause 4", actor=OFFICER)


def deadline_and_band(session: Session, **known: datetime) -> tuple[date | None, Band]:
    [row] = [r for r in at_risk(session, as_of=clock.today(), **known) if r.obligation_reference == OB]
    return row.deadline, row.band


@pytest.mark.parametrize(("today", "expected"), [
    ("2023-08-31", (date(2024, 6, 1), Band.RED)),
    ("2023-09-01", (date(2029, 6, 1), Band.GREEN)),
    ("2024-07-01", (date(2029, 6, 1), Band.GREEN)),
    ("2028-07-01", (date(2029, 6, 1), Band.RED)),
], ids=["the-day-before-it-is-in-force", "the-day-it-comes-into-force", "past-the-old-deadline", "near-the-new"])
def test_terms_changed_from_a_date_move_a_receipts_deadline_and_band(ledger: Session, today: str,
                                                                      expected: tuple[date, Band]) -> None:
    extend(ledger)
    with freeze_time(today):
        assert deadline_and_band(ledger) == expected
        [receipt] = obligation_balance(ledger, OB, on=clock.today()).receipts
    assert receipt.deadline == expected[0]


def test_without_the_change_the_money_is_past_its_repayment_date(ledger: Session) -> None:
    with freeze_time("2024-07-01"):
        assert deadline_and_band(ledger) == (date(2024, 6, 1), Band.OVERDUE)


def test_a_statement_as_known_before_the_change_was_recorded_keeps_the_old_deadline(ledger: Session) -> None:
    extend(ledger)
    with freeze_time("2024-07-01"):
        assert deadline_and_band(ledger, as_known_at=datetime(2023, 10, 1, tzinfo=UTC)) == (
            date(2024, 6, 1), Band.OVERDUE)
        assert deadline_and_band(ledger, as_known_at=RECORDED) == (date(2029, 6, 1), Band.GREEN)


def test_the_terms_history_is_kept_with_who_when_and_why(ledger: Session) -> None:
    extend(ledger)
    with freeze_time(datetime(2024, 2, 1, tzinfo=UTC)):
        variations.change_terms(ledger, OB, basis="receipt", years=8, in_force_from=date(2023, 9, 1), variation=None,
                                reason="clause 4 reads eight years, not ten", actor=OFFICER)
    history = variations.terms_records(ledger, OB)
    assert [(h.in_force_from, h.repayment_basis, h.repayment_years, h.variation) for h in history] == [
        (None, "receipt", 5, None), (date(2023, 9, 1), "receipt", 10, DV), (date(2023, 9, 1), "receipt", 8, None)]
    assert (history[1].created_by, history[1].created_at, history[1].reason) == (
        OFFICER.email, RECORDED, "deed of variation 23/00009/DOV clause 4")
    # Two changes from one date: the one recorded last is in force.
    with freeze_time("2024-07-01"):
        assert deadline_and_band(ledger) == (date(2027, 6, 1), Band.GREEN)


def test_the_history_cannot_be_rewritten(ledger: Session) -> None:
    extend(ledger)
    ledger.commit()
    for statement in ("UPDATE repayment_terms SET repayment_years = 30", "DELETE FROM repayment_terms"):
        with pytest.raises(DBAPIError):
            ledger.execute(text(statement))
        ledger.rollback()
    assert ledger.scalar(select(func.count()).select_from(RepaymentTerms)) == 1


def test_a_variation_changes_the_terms_of_every_obligation_of_the_agreement_it_varies(ledger: Session) -> None:
    with freeze_time(RECORDED):
        changed = variations.vary_terms(ledger, DV, basis="completion", years=3, reason="clause 4", actor=OFFICER)
    assert sorted((row.obligation.reference, row.in_force_from) for row in changed) == [
        (OB, date(2023, 9, 1)), (OB2, date(2023, 9, 1))]
    assert variations.terms_on(ledger, changed[0].obligation, on=date(2023, 9, 1)).repayment_basis == "completion"
    with freeze_time("2024-07-01"):  # completion not yet reported: the deadline is not known
        assert deadline_and_band(ledger) == (None, Band.UNKNOWN_DEADLINE)


REFUSALS = [
    ("a-deed-that-is-no-variation", lambda s: variations.vary_terms(s, AG, basis="none", years=None, reason="x",
                                                                     actor=OFFICER), "reference"),
    ("an-obligation-of-another-agreement", lambda s: variations.vary_terms(
        s, DV, basis="none", years=None, reason="x", actor=OFFICER, obligations=[OB, f"{DV}/1"]), "obligations"),
    ("years-missing", lambda s: variations.change_terms(s, OB, basis="receipt", years=None,
                                                        in_force_from=date(2024, 1, 1), reason="x", actor=OFFICER),
     "repayment_years"),
    ("years-with-no-time-limit", lambda s: variations.change_terms(
        s, OB, basis="none", years=4, in_force_from=date(2024, 1, 1), reason="x", actor=OFFICER), "repayment_years"),
    ("no-date-and-no-deed", lambda s: variations.change_terms(s, OB, basis="none", years=None, in_force_from=None,
                                                              reason="x", actor=OFFICER), "in_force_from"),
    ("a-deed-varying-another-agreement", lambda s: variations.change_terms(
        s, f"{DV}/1", basis="none", years=None, in_force_from=None, variation=DV, reason="x", actor=OFFICER),
     "variation"),
    ("no-such-deed", lambda s: variations.change_terms(s, OB, basis="none", years=None, in_force_from=None,
                                                       variation="NOPE", reason="x", actor=OFFICER), "variation"),
    ("no-reason", lambda s: variations.change_terms(s, OB, basis="none", years=None, in_force_from=date(2024, 1, 1),
                                                    reason=" ", actor=OFFICER), "reason"),
]


@pytest.mark.parametrize(("case", "change", "field"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_change_names_the_field_and_writes_nothing(ledger: Session, case: str, change: object,
                                                            field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        change(ledger)  # type: ignore[operator]
    assert field in refused.value.errors
    ledger.rollback()
    assert ledger.scalar(select(func.count()).select_from(RepaymentTerms)) == 0


def test_cil_terms_stay_none(ledger: Session) -> None:
    with freeze_time(RECORDED):
        make_agreement(ledger, reference="CIL-1", type="community-infrastructure-levy")
        make_obligation(ledger, agreement="CIL-1", reference="CIL-1/1", purpose="community-infrastructure-levy",
                        repayment_basis="none", repayment_years=None)
    with pytest.raises(InvalidInput) as refused:
        variations.change_terms(ledger, "CIL-1/1", basis="receipt", years=5, in_force_from=date(2024, 1, 1),
                                reason="x", actor=OFFICER)
    assert "never repaid" in refused.value.errors["repayment_basis"][0]
    with pytest.raises(NotFound):
        variations.change_terms(ledger, "NOPE", basis="none", years=None, in_force_from=date(2024, 1, 1), reason="x",
                                actor=OFFICER)


def test_the_statement_follows_the_terms_in_force_at_the_years_end(ledger: Session) -> None:
    """2023/24 ends on 31 March 2024: the extension (in force from 1 September 2023) sets
    the Retained sheet's earliest deadline and the At risk sheet's band; 2022/23 ends before
    it, with the deed's five years."""
    extend(ledger)
    with freeze_time("2024-06-01"):
        later, earlier = ifs_report(ledger, year=2023), ifs_report(ledger, year=2022)
    [retained] = [r for r in later.retained if r.obligation_reference == OB]
    [row] = [r for r in later.at_risk if r.obligation_reference == OB]
    assert (retained.earliest_deadline, row.deadline, row.band) == (date(2029, 6, 1), date(2029, 6, 1), Band.GREEN)
    [row] = [r for r in earlier.at_risk if r.obligation_reference == OB]
    assert (row.deadline, row.band) == (date(2024, 6, 1), Band.AMBER)


def test_a_change_to_last_payment_terms_dates_the_statements_receipts_from_the_last_payment(ledger: Session) -> None:
    with freeze_time(RECORDED):
        variations.change_terms(ledger, OB, basis="last-payment", years=2, in_force_from=date(2023, 4, 1),
                                reason="clause 4", actor=OFFICER)
        post(ledger, "receipt", "500.00", date(2023, 6, 1), obligation=OB, reference="R-2")
    with freeze_time("2024-06-01"):
        report = ifs_report(ledger, year=2023)
    [received] = [m for m in report.received if m.entry_reference == "R-2"]
    assert received.deadline == date(2025, 6, 1)
    assert {r.receipt_reference: r.deadline for r in report.at_risk if r.obligation_reference == OB} == {
        "R-1": date(2025, 6, 1), "R-2": date(2025, 6, 1)}


def test_the_reports_positions_follow_the_terms_as_the_balance_does(ledger: Session) -> None:
    extend(ledger)
    for on in (date(2023, 8, 31), date(2023, 9, 1), date(2030, 1, 1)):
        walked = [(p.receipt.id, p.deadline, p.remaining) for p in obligation_balance(ledger, OB, on=on).receipts]
        [position] = [p for p in obligation_positions(ledger, on=on) if p.info.reference == OB]
        assert [(p.receipt.id, p.deadline, p.remaining) for p in position.receipts] == walked, on


# -- the agreement page -------------------------------------------------------------------------------
@pytest.fixture
def officer(app: Flask) -> FlaskClient:
    with app.extensions["ledger.sessions"]() as session:
        build(session)
        extend(session)
        users.add_user(session, email="officer@kent.gov.uk", role="officer", password="correct horse", actor=SYSTEM)
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token
    assert client.post("/login", data={"email": "officer@kent.gov.uk", "password": "correct horse",
                                       "csrf_token": token.group(1)}).status_code == 302
    return client


def words(html: str) -> str:
    """The page's text as read: tags gone, spaces as one, none before a comma or full stop."""
    return re.sub(r" ([.,;])", r"\1", " ".join(re.sub(r"<[^>]+>", " ", html).split()))


def test_the_agreement_page_shows_the_chain_of_variations(officer: FlaskClient) -> None:
    varied = officer.get(f"/agreements/{AG}")
    assert varied.status_code == 200
    page = words(varied.get_data(as_text=True))
    assert f"Varied by agreement {DV}, entered into 1 September 2023." in page
    assert f"Obligation {OB2} is replaced by {DV}/1 of agreement {DV}" in page
    assert f"{OB} The deed 5 years from each receipt" in page
    assert f"{OB} 1 September 2023 10 years from each receipt Agreement {DV} deed of variation" in page
    deed = words(officer.get(f"/agreements/{DV}").get_data(as_text=True))
    assert f"This deed varies agreement {AG}." in deed
    assert f"Obligation {DV}/1 (£2,500.00) replaces {OB2} (£2,000.00)." in deed
    assert f"From 1 September 2023, obligation {OB} is repayable 10 years from each receipt." in deed


def test_an_agreement_without_variations_shows_none(app: Flask) -> None:
    with app.extensions["ledger.sessions"]() as session:
        build(session)
        users.add_user(session, email="member@kent.gov.uk", role="member", password="correct horse", actor=SYSTEM)
        make_agreement(session, reference="PLAIN")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token
    client.post("/login", data={"email": "member@kent.gov.uk", "password": "correct horse",
                                "csrf_token": token.group(1)})
    page = client.get("/agreements/PLAIN").get_data(as_text=True)
    assert 'id="variations"' not in page
    assert 'id="variations"' in client.get(f"/agreements/{AG}").get_data(as_text=True)


def test_the_record_form_asks_a_commitment_for_its_project(officer: FlaskClient) -> None:
    for kind in ("commitment", "decommitment"):
        page = officer.get(f"/obligations/{OB}/record/{kind}").get_data(as_text=True)
        assert '<select id="project_reference" name="project_reference"' in page
        assert "PRJ-1" in page
