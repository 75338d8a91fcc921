"""The pure rules of reviews (ledger.domain.reviews) and of proposed agreements
(ledger.domain.agreement_status)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.domain.agreement_status import signing_errors, status_errors
from ledger.domain.reviews import ReviewFacts, is_due, review_errors, reviews_needed

TODAY = date(2025, 3, 31)
GOOD = ReviewFacts(status="spend-planned", note="Cabinet in June", owner_email="jo@kent.gov.uk",
                   next_review_on=TODAY)


def test_a_good_review_has_no_errors_and_is_due_on_its_next_review_date() -> None:
    assert review_errors(GOOD, today=TODAY) == {}
    assert not is_due(date(2025, 4, 1), today=TODAY)
    assert is_due(TODAY, today=TODAY) and is_due(date(2025, 1, 1), today=TODAY)


@pytest.mark.parametrize(("change", "field"), [
    ({"status": "done"}, "status"), ({"note": " \n "}, "note"), ({"note": "a\x00b"}, "note"),
    ({"owner_email": "jo"}, "owner_email"), ({"owner_email": "jo@kent"}, "owner_email"),
    ({"owner_email": "x" * 251 + "@a.uk"}, "owner_email"), ({"owner_email": "\u0130" * 200 + "@a.uk"}, "owner_email"),
    ({"next_review_on": None}, "next_review_on"),
    ({"next_review_on": date(2025, 3, 30)}, "next_review_on"),
])
def test_each_bad_field_is_named(change: dict, field: str) -> None:
    facts = ReviewFacts(**{"status": GOOD.status, "note": GOOD.note, "owner_email": GOOD.owner_email,
                           "next_review_on": GOOD.next_review_on} | change)
    assert list(review_errors(facts, today=TODAY)) == [field]


def test_money_at_risk_splits_into_never_reviewed_and_review_due_most_money_first() -> None:
    at_risk = [("OB1", "AG1", Decimal("10.00")), ("OB2", "AG1", Decimal("500.00")), ("OB1", "AG1", Decimal("5.00")),
               ("OB3", "AG2", Decimal("70.00")), ("OB4", "AG2", Decimal("1.00"))]
    needed = reviews_needed(at_risk, {"OB3": date(2025, 3, 31), "OB4": date(2025, 4, 1)}, today=TODAY)
    assert [(n.obligation_reference, n.at_risk) for n in needed.unreviewed] == [("OB2", Decimal("500.00")),
                                                                             ("OB1", Decimal("15.00"))]
    assert [n.obligation_reference for n in needed.due] == ["OB3"]
    assert (needed.unreviewed_money, needed.due_money) == (Decimal("515.00"), Decimal("70.00"))


@pytest.mark.parametrize(("status", "signed_on", "field"), [
    ("signed", date(2024, 1, 1), None), ("proposed", None, None), ("signed", None, "signed_on"),
    ("proposed", date(2024, 1, 1), "signed_on"), ("agreed", None, "status")])
def test_a_signed_agreement_has_a_date_and_a_proposed_one_none(status: str, signed_on: date | None,
                                                                field: str | None) -> None:
    assert list(status_errors(status, signed_on)) == ([field] if field else [])


@pytest.mark.parametrize(("current", "changes", "field"), [
    ("proposed", {"status": "signed", "signed_on": date(2024, 1, 1)}, None),
    ("proposed", {"notes": "still talking"}, None),
    ("signed", {"status": "signed"}, None),
    ("proposed", {"status": "signed"}, "signed_on"),
    ("proposed", {"signed_on": date(2024, 1, 1)}, "signed_on"),
    ("signed", {"status": "proposed"}, "status"),
    ("signed", {"signed_on": date(2024, 1, 1)}, "signed_on"),
])
def test_signing_is_the_one_change_of_status(current: str, changes: dict, field: str | None) -> None:
    assert list(signing_errors(current, changes)) == ([field] if field else [])
