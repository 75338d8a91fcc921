"""Reviews of money at risk (SPEC 8.7): an officer's record of what is being done about an
obligation's money before it must be repaid, who owns it and when it is next looked at.
Reviews are append-only: a new review supersedes the last, and the history stays."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ledger.domain import limits
from ledger.domain.money import ZERO


class ReviewStatus(StrEnum):
    SPEND_PLANNED = "spend-planned"
    VARIATION_SOUGHT = "variation-sought"
    EXTENSION_AGREED = "extension-agreed"
    REPAYMENT_DUE = "repayment-due"
    NO_ACTION = "no-action"


#: Each status as people read it: on the form, the obligation page and the at-risk report.
STATUS_LABELS = {
    ReviewStatus.SPEND_PLANNED: "Spend planned",
    ReviewStatus.VARIATION_SOUGHT: "Deed of variation sought",
    ReviewStatus.EXTENSION_AGREED: "Extension agreed with the developer",
    ReviewStatus.REPAYMENT_DUE: "Repayment due to the developer",
    ReviewStatus.NO_ACTION: "No action needed",
}
#: An address with one @, something either side and a dot in the domain: enough to catch a
#: name typed where an address belongs, without pretending to check deliverability.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewFacts:
    """A review as asked for, before it is stored."""

    status: str
    note: str
    owner_email: str
    next_review_on: date | None


def review_errors(review: ReviewFacts, *, today: date) -> dict[str, list[str]]:
    """Field errors of a review recorded ``today``: a known status, a note saying what is
    being done, an owner to ask, and a next review date no earlier than today."""
    errors: dict[str, list[str]] = {}
    if review.status not in set(ReviewStatus):
        errors["status"] = [f"must be one of {', '.join(ReviewStatus)}"]
    note_problem = limits.text_problem(review.note, max_length=limits.PROSE, multiline=True)
    if not review.note.strip():
        errors["note"] = ["must say what is being done"]
    elif note_problem:
        errors["note"] = [note_problem]
    # Checked as stored: lower case can be longer ("İ" is two characters lower-cased).
    owner_problem = limits.text_problem(owner_email(review.owner_email), max_length=limits.LINE)
    if owner_problem:
        errors["owner_email"] = [owner_problem]
    elif not EMAIL.fullmatch(owner_email(review.owner_email)):
        errors["owner_email"] = ["must be an email address, like name@example.gov.uk"]
    if review.next_review_on is None:
        errors["next_review_on"] = ["required: when the money will next be looked at"]
    elif review.next_review_on < today:
        errors["next_review_on"] = [f"must be today ({today.isoformat()}) or later"]
    return errors


def owner_email(typed: str) -> str:
    """An owner's address as it is stored: trimmed, in lower case."""
    return typed.strip().lower()


def is_due(next_review_on: date | None, *, today: date) -> bool:
    """A review is due on its next review date and every day after it, until the next review."""
    return next_review_on is not None and next_review_on <= today


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewNeed:
    """An obligation with money at risk that needs looking at: never reviewed, or its
    latest review's next review date has come."""

    obligation_reference: str
    agreement_reference: str
    at_risk: Decimal
    next_review_on: date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewsNeeded:
    #: Never reviewed, most money first: all, or the first few when ``unreviewed_count`` is given.
    unreviewed: list[ReviewNeed]
    due: list[ReviewNeed]
    #: How many obligations were never reviewed, and their money, where ``unreviewed`` is the first few.
    unreviewed_count: int | None = None
    unreviewed_total: Decimal | None = None

    @property
    def unreviewed_number(self) -> int:
        return len(self.unreviewed) if self.unreviewed_count is None else self.unreviewed_count

    @property
    def unreviewed_money(self) -> Decimal:
        if self.unreviewed_total is not None:
            return self.unreviewed_total
        return sum((n.at_risk for n in self.unreviewed), ZERO)

    @property
    def due_money(self) -> Decimal:
        return sum((n.at_risk for n in self.due), ZERO)


def reviews_needed(
    at_risk: Iterable[tuple[str, str, Decimal]], latest_next_review: Mapping[str, date | None], *, today: date,
) -> ReviewsNeeded:
    """Split obligations with money at risk, given as (obligation, agreement, money), into
    those never reviewed and those whose review is due (``is_due``), most money first."""
    money: dict[str, Decimal] = {}
    agreements: dict[str, str] = {}
    for obligation, agreement, amount in at_risk:
        money[obligation] = money.get(obligation, ZERO) + amount
        agreements[obligation] = agreement
    unreviewed, due = [], []
    for obligation, amount in money.items():
        need = ReviewNeed(obligation_reference=obligation, agreement_reference=agreements[obligation],
                          at_risk=amount, next_review_on=latest_next_review.get(obligation))
        if obligation not in latest_next_review:
            unreviewed.append(need)
        elif is_due(need.next_review_on, today=today):
            due.append(need)
    return ReviewsNeeded(unreviewed=sorted(unreviewed, key=_most_first), due=sorted(due, key=_most_first))


def _most_first(need: ReviewNeed) -> tuple[Decimal, str]:
    return -need.at_risk, need.obligation_reference
