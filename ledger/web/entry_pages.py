"""Recording and reversing ledger entries in the web: the forms over services.entries.

Recording takes three steps, as GOV.UK services do: the form (with the obligation's money
beside it), a "check your answers" page that has run every rule of the write without
writing, and Save. Each form carries a one-time key from the moment it is shown: with no
finance reference typed, the key is the entry's reference, so a second Save (a double
click, the back button) finds the entry already recorded and records nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

import marshmallow as ma
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger import clock
from ledger.api import schemas
from ledger.domain.entry_kinds import KIND_RULES
from ledger.domain.errors import LedgerError, RuleViolated
from ledger.domain.vocab import EntryKind
from ledger.extensions import get_session
from ledger.models import Obligation
from ledger.services import entries as entry_service
from ledger.services import listing, registry, users
from ledger.web import bp
from ledger.web.auth import current_actor, kept_form, officer_or_admin
from ledger.web.forms import DATE_PARTS, date_boxes, field_errors, form_values

#: Fields the record form asks for with a GOV.UK date input.
DATE_INPUTS = ("occurred_on", "original_received_on")
AMOUNTS = ("amount", "interest")
#: The form's fields in the order it shows them: the error summary lists them so.
FIELDS = ("amount", "occurred_on", "original_received_on", "project_reference", "recipient", "interest",
          "reference", "reason")
#: How a message names each field.
FIELD_NAMES = {"amount": "Amount", "occurred_on": "Date", "original_received_on": "Original date of receipt",
               "project_reference": "Project", "recipient": "Recipient", "interest": "Interest",
               "reference": "Finance system reference", "reason": "Reason or note"}
#: What a person is asked for when a field they must fill in is empty.
MISSING = {"amount": "Enter the amount", "occurred_on": "Enter the date",
           "project_reference": "Select a project", "recipient": "Enter who the money was transferred to",
           "reason": "Enter a reason or note", "interest": "Enter the interest"}
#: The schema's and the service's words for an empty field.
SAYS_MISSING = ("Missing data for required field.", "Field may not be null.", "must not be empty",
                "Shorter than minimum length 1.")
AMOUNT_FORMAT = "{name} must be pounds and pence, like £1,250.00"
#: Other messages in the words of the GOV.UK Design System, by field and what the rules say.
WORDING = {
    ("amount", "must be greater than zero"): "Amount must be £0.01 or more",
    ("interest", "cannot exceed the amount"): "Interest must be no more than the amount",
    ("project_reference", "does not exist"): "Select a project from the list",
    ("reference", "already used for a different entry"):
        "This finance system reference is already used for a different entry: check it, or leave it blank",
    ("reference", "recorded and reversed: use a new reference"):
        "An entry with this finance system reference was reversed: give the corrected entry a new reference",
}
#: marshmallow's words for text too long, or (between 1 and N) too long or empty.
TOO_LONG = re.compile(r"(?:Longer than maximum length|Length must be between 1 and) (\d+)\.")
#: The one-time key a form carries: "web-" and 32 hex digits, well within an entry reference.
KEY = re.compile(r"web-[0-9a-f]{32}")
#: Form fields that are not the entry's: its key and which button was pressed.
CONTROLS = ("key", "confirm", "change")


class EntryForm(schemas.EntryIn):
    """The API's entry schema, reading an HTML form (ledger.web.forms.form_values)."""


def new_key() -> str:
    return f"web-{uuid.uuid4().hex}"


def gov_uk_message(field: str, message: str, typed: str | None = None) -> str:
    """A message of the schema or the service in GOV.UK words, naming the field; ``typed``
    is what the field held, if anything."""
    name = FIELD_NAMES.get(field, field.replace("_", " ").capitalize())
    too_long = TOO_LONG.fullmatch(message)
    if (message in SAYS_MISSING or message.endswith(("must name a project", "must name its recipient"))
            or (too_long and not (typed or "").strip())):
        return MISSING.get(field, f"Enter the {name.lower()}")
    if (field, message) in WORDING:
        return WORDING[field, message]
    if field in AMOUNTS and not message.startswith("must be greater"):
        return AMOUNT_FORMAT.format(name=name)
    if message == "Not a valid date.":
        return f"{name} must be a real date"
    if too_long:
        return f"{name} must be {int(too_long.group(1)):,} characters or fewer"
    if message[:1].islower():
        return f"{name} {message}"
    return message


def _in_words(errors: Mapping[str, list[str]], values: Mapping[str, str]) -> dict[str, list[str]]:
    """Errors by field in GOV.UK words, in the order the form shows the fields."""
    order = {name: n for n, name in enumerate(FIELDS)}
    return {field: [gov_uk_message(field, m, values.get(field)) for m in messages]
            for field, messages in sorted(errors.items(), key=lambda item: order.get(item[0], len(order)))}


def _refusal(refused: LedgerError, values: Mapping[str, str]) -> dict[str, list[str]]:
    """A service's refusal as errors by field. An amount beyond what the rules allow says
    the most it could be (RuleViolated.limit); other refusals name their fields."""
    if isinstance(refused, RuleViolated) and refused.limit is not None:
        return {refused.limit.field: [refused.limit.message]}
    if isinstance(refused, RuleViolated):
        return {v.field: [v.message[:1].upper() + v.message[1:]] for v in refused.violations}
    return _in_words(refused.errors or {"amount": [refused.detail]}, values)


def _date_box_errors(values: Mapping[str, str]) -> dict[str, list[str]]:
    """A date input with some boxes filled and others not: say which is missing (GOV.UK)."""
    errors = {}
    for name in DATE_INPUTS:
        blank = [part for part in DATE_PARTS if not values.get(f"{name}-{part}", "").strip()]
        if blank and len(blank) < len(DATE_PARTS):
            errors[name] = [f"{FIELD_NAMES[name]} must include a {' and a '.join(blank)}"]
    return errors


def _entry_request(obligation: Obligation, kind: EntryKind, values: Mapping[str, str]) -> entry_service.EntryRequest:
    """The form's values as the service's request; the form's key is the reference when
    the officer typed none. Raises ValidationError by field."""
    box_errors = _date_box_errors(values)
    fields = {k: v for k, v in values.items() if k not in CONTROLS}
    try:
        data = EntryForm().load(form_values(fields, amounts=AMOUNTS, dates=DATE_INPUTS, keep_blank=("amount", "reason"))
                                | {"kind": kind.value, "obligation_reference": obligation.reference})
    except ma.ValidationError as invalid:
        raise ma.ValidationError(field_errors(invalid) | box_errors) from None
    if box_errors:
        raise ma.ValidationError(box_errors)
    data["reference"] = data.get("reference") or values["key"]
    return entry_service.EntryRequest(**data | {"kind": kind})


def _posted_values() -> dict[str, str]:
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if not KEY.fullmatch(values.get("key", "")):
        values["key"] = new_key()
    return values


def _first_values() -> dict[str, str]:
    """A new form: its one-time key, and the date of today in its boxes."""
    return {"key": new_key()} | {f"occurred_on-{part}": text for part, text in date_boxes(clock.today()).items()}


def _entry_name(kind: EntryKind) -> str:
    return kind.value.replace("-", " ")


def _already_recorded(obligation: Obligation, kind: EntryKind, reference: str) -> ResponseReturnValue:
    flash(f"This {_entry_name(kind)} was already recorded: {reference}")
    return redirect(url_for("web.obligation", reference=obligation.reference))


@bp.route("/obligations/<path:reference>/record/<kind>", methods=["GET", "POST"])
@officer_or_admin
def record(reference: str, kind: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Obligation, "reference", reference, what="obligation")
    if kind not in set(EntryKind):
        abort(404)
    entry_kind = EntryKind(kind)
    if request.method == "GET":
        kept = kept_form(request.path)
        values = _first_values() | {k: v for k, v in (kept or {}).items() if k not in ("confirm", "change")}
        return _form(found, entry_kind, values, {})
    values = _posted_values()
    if "change" in request.form:
        return _form(found, entry_kind, values, {}, focus=request.form["change"])
    try:
        entry_request = _entry_request(found, entry_kind, values)
        if "confirm" not in request.form:
            plan = entry_service.check_entry(s, entry_request)
            if plan.existing is not None:
                return _already_recorded(found, entry_kind, plan.existing.reference)
            return _check(found, entry_kind, values, entry_request, plan)
        entry, created = entry_service.record_entry(s, entry_request, actor=current_actor())  # type: ignore[arg-type]
    except ma.ValidationError as invalid:
        return _form(found, entry_kind, values, _in_words(field_errors(invalid), values))
    except LedgerError as refused:
        return _form(found, entry_kind, values, _refusal(refused, values))
    if not created:
        return _already_recorded(found, entry_kind, entry.reference)
    flash(f"{_entry_name(entry_kind).capitalize()} {entry.reference} saved.", "success")
    return redirect(url_for("web.obligation", reference=found.reference))


def _money(obligation: Obligation) -> entry_service.ObligationMoney:
    return entry_service.obligation_money(get_session(), obligation, on=clock.today())


def _form(obligation: Obligation, kind: EntryKind, values: Mapping[str, str], errors: dict[str, list[str]],
          *, focus: str | None = None) -> ResponseReturnValue:
    rule = KIND_RULES[kind]
    projects = listing.projects(get_session()) if rule.project else []
    return render_template("record.html", obligation=obligation, kind=kind, rule=rule, values=values,
                           errors=errors, projects=projects, money=_money(obligation),
                           focus=focus if focus in FIELDS else None), 422 if errors else 200


def _check(obligation: Obligation, kind: EntryKind, values: Mapping[str, str],
           entry_request: entry_service.EntryRequest, plan: entry_service.EntryPlan) -> ResponseReturnValue:
    # Save carries what was typed, as typed, so Change shows it again unaltered.
    hidden = [(k, v) for k, v in values.items() if k not in ("confirm", "change")]
    return render_template("record_check.html", obligation=obligation, kind=kind, rule=KIND_RULES[kind],
                           hidden=hidden, entry=entry_request, plan=plan,
                           typed_reference=(values.get("reference") or "").strip(), money=_money(obligation),
                           errors={})


@bp.route("/entries/<entry_id>/reverse", methods=["GET", "POST"])
@officer_or_admin
def reverse(entry_id: str) -> ResponseReturnValue:
    # Not werkzeug's int converter, which reads any script's digits ("١٢" is 12). Past a
    # 32-bit id PostgreSQL would refuse the number with an error, not a miss.
    number = int(entry_id) if re.fullmatch(r"[0-9]{1,10}", entry_id) else 0
    if not 1 <= number <= users.MAX_ID:
        abort(404)
    s = get_session()
    entry = entry_service.get_entry(s, number)
    errors: dict[str, list[str]] = {}
    kept = kept_form(request.path) if request.method == "GET" else None
    reason = (kept or request.form).get("reason", "")
    if request.method == "POST":
        try:
            entry_service.reverse_entry(s, number, actor=current_actor(), reason=reason)  # type: ignore[arg-type]
        except LedgerError as refused:
            # Every refusal of a reversal concerns the entry as a whole: show it by the reason.
            errors = {"reason": [_reversal_refusal(refused)]}
        else:
            flash(f"Entry {entry.reference} reversed.", "success")
            return redirect(url_for("web.obligation", reference=entry.obligation.reference))
    return render_template("reverse.html", entry=entry, reason=reason, errors=errors), 422 if errors else 200


def _reversal_refusal(refused: LedgerError) -> str:
    if "reason" in refused.errors:
        return "Enter why the entry is being reversed"
    if isinstance(refused, RuleViolated):
        first = refused.violations[0]
        return f"The entry cannot be reversed: {first.message}. Reverse or correct what depends on it first"
    return refused.detail[:1].upper() + refused.detail[1:]

