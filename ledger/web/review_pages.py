"""Reviews of money at risk in the web (issue 16): the review form, reached from an
obligation's page and from the at-risk list; the history and latest reviews the obligation
page, the at-risk list and the dashboard show; a division's proposed agreements; and the
emails a user chooses on their account page. Everything through ledger.services."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger import clock
from ledger.api.review_views import ReviewIn
from ledger.domain.errors import LedgerError
from ledger.domain.reviews import STATUS_LABELS, ReviewsNeeded, is_due
from ledger.extensions import band_thresholds, get_session
from ledger.models import Obligation, Review
from ledger.services import notify, registry, reviews
from ledger.services.division_report import ProposedAgreement, proposed_agreements
from ledger.web import bp
from ledger.web.auth import current_actor, officer_or_admin, requires
from ledger.web.forms import field_errors, form_values, joined_date

#: Each field as the form names it, and what to say when it is left empty (GOV.UK style).
LABELS = {"status": "What is being done", "note": "Note", "owner_email": "Owner's email address",
          "next_review_on": "Date of the next review"}
MISSING = {"status": "Select what is being done about the money",
           "note": "Enter a note saying what is being done",
           "owner_email": "Enter the email address of the person who owns this, like name@example.gov.uk",
           "next_review_on": "Enter the date of the next review"}


def _left_empty(values: dict[str, str], field: str) -> bool:
    if field == "next_review_on":
        return joined_date(values, field) is None
    return not values.get(field, "").strip()


def _in_words(errors: dict[str, list[str]], values: dict[str, str]) -> dict[str, list[str]]:
    """Messages that name the field in words, and say what to do when it was left empty."""
    found = {}
    for field, messages in errors.items():
        if field in MISSING and _left_empty(values, field):
            found[field] = [MISSING[field]]
        elif field == "next_review_on" and "Not a valid date." in messages:
            found[field] = ["Date of the next review must be a real date, like 30 6 2025"]
        else:
            found[field] = [f"{LABELS.get(field, field)} {m[0].lower()}{m[1:]}" for m in messages]
    return found


@bp.route("/obligations/<path:reference>/reviews/new", methods=["GET", "POST"])
@officer_or_admin
def record_review(reference: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Obligation, "reference", reference, what="obligation")
    from_at_risk = request.args.get("from") == "at-risk"
    actor = current_actor()
    assert actor is not None
    values: dict[str, str] = request.form.to_dict() if request.method == "POST" else {"owner_email": actor.email}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = ReviewIn().load(form_values(values, dates=("next_review_on",),
                                               keep_blank=("status", "note", "owner_email", "next_review_on")))
            reviews.record_review(s, reference, data, actor=actor)
        except ma.ValidationError as invalid:
            errors = _in_words(field_errors(invalid), values)
        except LedgerError as refused:
            errors = _in_words(refused.errors or {"note": [refused.detail]}, values)
        else:
            flash(f"Review of obligation {reference} saved.", "success")
            return redirect(url_for("web.at_risk") if from_at_risk else url_for("web.obligation", reference=reference))
    back = url_for("web.at_risk") if from_at_risk else url_for("web.obligation", reference=reference)
    return render_template("reviews/review_form.html", obligation=found, values=values, errors=errors, back=back,
                           statuses=STATUS_LABELS, history=reviews.list_reviews(s, reference, limit=1)[0],
                           today=clock.today()), 422 if errors else 200


@bp.post("/account/notifications")
@requires()
def notification_choices() -> ResponseReturnValue:
    actor = current_actor()
    assert actor is not None
    try:
        receiving = notify.set_preferences(get_session(), actor.email, request.form.getlist("kinds"), actor=actor)
    except LedgerError as refused:
        flash(f"Not saved: {refused.detail}")
    else:
        flash("Your email choices are saved: " + (f"you will receive {len(receiving)} kind"
                                                   f"{'' if len(receiving) == 1 else 's'} of email."
                                                   if receiving else "you will receive no emails."), "success")
    return redirect(url_for("web.account") + "#notifications")


# -- what the shared pages show, asked for by their templates --------------------------------
def _history(obligation_id: int) -> list[Review]:
    return reviews.reviews_of(get_session(), obligation_id)


def _needed() -> ReviewsNeeded:
    return reviews.needing_review(get_session(), today=clock.today(), **band_thresholds())


def _choices() -> list[tuple[str, str, bool]]:
    actor = current_actor()
    return [] if actor is None else list(notify.choices(get_session(), actor.email))


def _proposed(division_code: str) -> list[ProposedAgreement]:
    return proposed_agreements(get_session(), division_code)


def _due(review: Review, today: date | None = None) -> bool:
    return is_due(review.next_review_on, today=today or clock.today())


@bp.app_context_processor
def _review_helpers() -> dict[str, Any]:
    return {"reviews_of": _history, "reviews_needed": _needed,
            "review_labels": STATUS_LABELS, "review_due": _due, "notification_choices": _choices,
            "proposed_agreements_of": _proposed}
