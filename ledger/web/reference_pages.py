"""Reference data in the web (issue 15 item 3): agreements, obligations, projects and
instalments added and corrected, site milestones recorded, and receipts matched to the
invoices they pay, from either side.

Each form is one call to a service in ledger.services, which checks it again, writes it in
one transaction and audits it; a correction asks why and the service keeps the reason. The
pages only read what a person typed (ledger.web.forms) and put each refusal into words that
name the field and its limit (``worded``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger import clock
from ledger.api import schemas
from ledger.domain.agreement_status import AgreementStatus
from ledger.domain.dates import MAX_REPAYMENT_YEARS
from ledger.domain.errors import Conflict, LedgerError
from ledger.domain.money import format_money
from ledger.domain.vocab import (
    SERVICES,
    AgreementType,
    Index,
    Purpose,
    RepaymentBasis,
    SchoolCategory,
    UnitKind,
    service_label,
)
from ledger.extensions import get_session
from ledger.models import Agreement, Authority, Instalment, Obligation, Project
from ledger.services import Actor, balances, income, listing, registry, users
from ledger.services import entries as entry_service
from ledger.services.income import INSTALMENT_REFERENCE_MAX_LENGTH
from ledger.web import bp, layout, long_date
from ledger.web.auth import current_actor, kept_form, officer_or_admin, requires
from ledger.web.forms import DATE_PARTS, date_boxes, field_errors, form_values

Errors = dict[str, list[str]]

# -- words, not codes ----------------------------------------------------------------------
#: What a repayment deadline counts from (SPEC 8.2), and what that means for the money.
BASES = {
    RepaymentBasis.RECEIPT: ("Years from each payment received", "Each payment has its own deadline."),
    RepaymentBasis.COMPLETION: ("Years from completion of the development",
                                "The deadline is not known until completion is recorded."),
    RepaymentBasis.LAST_PAYMENT: ("Years from the last payment received", "Every payment shares one deadline."),
    RepaymentBasis.NONE: ("No time limit", "The deed has no repayment clause, or it is CIL."),
    RepaymentBasis.UNKNOWN: ("Not yet known", "The terms have not been read from the deed yet."),
}
MILESTONE_WORDS = {
    "commencement": ("Commencement", "Work started on site."),
    "occupation": ("Occupations", "How many dwellings are occupied so far, counting all earlier ones."),
    "completion": ("Completion", "The development is complete. Repayment deadlines that count from "
                                 "completion start from this date."),
}
TRIGGERS = {
    "commencement": ("When the development commences", "The date commencement is recorded."),
    "occupation": ("When a number of dwellings are occupied", "Give the number of dwellings below."),
    "date": ("On a date", "A date the deed fixes: give it below."),
    "manual": ("When an officer records it met", "Give the date it was met below."),
}
UNIT_KINDS = {UnitKind.AFFORDABLE_HOUSING_UNITS: "Affordable homes", UnitKind.SCHOOL_PLACES: "School places",
              UnitKind.OTHER: "Other units"}
SCHOOL_CATEGORIES = {SchoolCategory.PRIMARY: "Primary", SchoolCategory.SECONDARY: "Secondary",
                     SchoolCategory.SEND: "Special educational needs", SchoolCategory.POST_16: "Post-16",
                     SchoolCategory.EARLY_YEARS: "Early years"}
#: The details of an agreement its history shows, as the page names them.
DETAILS = {"signed_on": "Entered into", "planning_application": "Planning application", "site_name": "Site",
           "division_code": "Division",
           "superseded_on": "Superseded", "commencement_on": "Commenced", "completion_on": "Completed",
           "dwellings": "Dwellings", "developer": "Developer", "document_url": "Signed deed",
           "notes": "Notes"}


def terms_words(basis: str, years: int | None) -> str:
    """An obligation's repayment terms in words: "10 years from each payment received"."""
    if basis in (RepaymentBasis.NONE, RepaymentBasis.UNKNOWN) or years is None:
        return BASES[RepaymentBasis(basis)][0] if basis in set(RepaymentBasis) else basis
    return f"{years} years from " + BASES[RepaymentBasis(basis)][0].removeprefix("Years from ")


def trigger_words(instalment: Any) -> str:
    """What an instalment falls due on, in words."""
    if instalment.trigger_event == "occupation":
        return f"When {instalment.trigger_dwellings} dwellings are occupied"
    if instalment.trigger_event in ("date", "manual") and instalment.trigger_on:
        return ("On " if instalment.trigger_event == "date" else "Recorded met on ") + long_date(instalment.trigger_on)
    return TRIGGERS[instalment.trigger_event][0] if instalment.trigger_event in TRIGGERS else instalment.trigger_event


def detail_value(name: str, value: Any) -> str:
    """An agreement's detail as its history shows it: names, not codes; dates in words."""
    if value is None or value == "":
        return "not recorded"
    if isinstance(value, date):
        return long_date(value)
    if name == "division_code":
        return registry.place_names(get_session())["divisions"].get(value, value)
    return str(value)


@bp.app_context_processor
def _words() -> dict[str, Any]:
    return {"words": SimpleNamespace(
        terms=terms_words, trigger=trigger_words, unit_kind=lambda code: UNIT_KINDS.get(code, code),
        detail=lambda name: DETAILS.get(name, name), detail_value=detail_value,
        milestones=[(code, *words) for code, words in MILESTONE_WORDS.items()],
        places=lambda: registry.place_names(get_session()),
        history=lambda agreement: registry.agreement_changes(get_session(), agreement))}


# -- refusals in words ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Field:
    """A form field as a person reads it: its label, what to say when it is left blank, and
    (where the general words would mislead) what to say of any other problem with it."""

    label: str
    missing: str
    choice: bool = False
    exists: str | None = None
    unknown: str | None = None
    invalid: str | None = None


#: What marshmallow and the services say of a field left blank.
BLANK = {"Missing data for required field.", "Field may not be null.", "Shorter than minimum length 1.",
         "must not be empty", "required"}
EARLIEST, LATEST = "1 January 1900", "31 December 2199"


def _worded(field: Field, message: str) -> str:
    label = field.label
    if message in BLANK or message.startswith("required with repayment"):
        return field.missing
    if field.invalid:
        return field.invalid
    if message == "already exists":
        return field.exists or f"{label} is already used"
    if field.choice:  # a list offers only what may be chosen: anything else was not on it
        return f"{field.missing} from the list"
    if message == "does not exist":
        return field.unknown or f"There is no {label.lower()} with this reference"
    if found := re.fullmatch(r"Longer than maximum length (\d+)\.", message):
        return f"{label} must be {int(found[1]):,} characters or fewer"
    if found := re.fullmatch(r"Must be greater than or equal to (\d+) and less than or equal to (\d+)\.", message):
        return f"{label} must be a whole number from {int(found[1]):,} to {int(found[2]):,}"
    if found := re.fullmatch(r"must be from (\d+) to (\d+)", message):
        return f"{label} must be a whole number from {found[1]} to {found[2]}"
    if message == "Not a valid integer.":
        return f"{label} must be a whole number, like 12"
    if message == "Not a valid date.":
        return f"{label} must be a real date, like 31 3 2024"
    if message == schemas.LedgerDate.default_error_messages["range"]:
        return f"{label} must be between {EARLIEST} and {LATEST}"
    if message == "Not a valid URL.":
        return f"{label} must be a web address, like https://planning.example.gov.uk/deed.pdf"
    if "control character" in message or "lone surrogate" in message:
        return f"{label} must not contain control characters"
    if "pounds and pence" in message or "decimal places" in message or "negative" in message or "number" in message:
        return f"{label} must be an amount in pounds and pence, like £1,250.00"
    if message.startswith("a proposed agreement has not been signed"):
        return f"Leave {label.lower()} blank for a proposed agreement: it has not been signed yet"
    if message.startswith("must be empty with basis"):
        return f"Leave {label.lower()} blank when there is no time limit or the terms are not yet known"
    return f"{label}: {message}"


def worded(errors: Mapping[str, Iterable[str]], fields: Mapping[str, Field]) -> Errors:
    """Refusals by field in GOV.UK words, in the order the form asks. A refusal of something
    the form has no field for is shown by its first field."""
    first = next(iter(fields))
    found: Errors = {}
    for name, messages in errors.items():
        target = name if name in fields else first
        for message in messages:
            text = _worded(fields[target], message)
            if text not in found.get(target, []):
                found.setdefault(target, []).append(text)
    return {name: found[name] for name in fields if name in found}


def _refused(refused: LedgerError, fields: Mapping[str, Field]) -> Errors:
    return worded(refused.errors or {next(iter(fields)): [refused.detail]}, fields)


REASON = Field("Reason for the change", "Enter why you are making this change")


def _read(schema: ma.Schema, fields: Mapping[str, Field], *, amounts: Iterable[str] = (),
          dates: Iterable[str] = (), flags: Iterable[str] = (), blank_is_none: Iterable[str] = (),
          adjust: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], Errors]:
    """The posted form as ``schema`` loads it, or the refusal in words. A field the page
    does not have is a forged form: 400. ``flags`` are checkboxes (posted only when ticked);
    ``blank_is_none`` are fields a blank clears rather than leaves out."""
    dates, flags = tuple(dates), tuple(flags)
    allowed = {"csrf_token", *fields, *(f"{name}-{part}" for name in dates for part in DATE_PARTS)}
    if set(request.form) - allowed:
        abort(400, description="The form holds fields this page does not have.")
    values = form_values(request.form, amounts=amounts, dates=dates)
    values.update({name: name in request.form for name in flags})
    values.update({name: None for name in blank_is_none if name not in values})
    values.update(adjust or {})
    try:
        # The schema reads its own fields; the others (a match form's choice) are the view's.
        return schema.load({k: v for k, v in values.items() if k in schema.load_fields}), {}
    except ma.ValidationError as invalid:
        return {}, worded(field_errors(invalid), fields)


def _actor() -> Actor:
    actor = current_actor()
    assert actor is not None  # the views here require a signed-in user
    return actor


def _changed(data: Mapping[str, Any], row: Any) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name != "reason" and getattr(row, name) != value}


def _values(shown: Mapping[str, Any]) -> dict[str, Any]:
    """What a form shows: what was posted; on a first look, what was typed before the
    session ended (kept once by ledger.web.auth), or else ``shown``."""
    if request.method == "POST":
        return request.form.to_dict()
    kept = kept_form(request.path)
    return dict(shown if kept is None else kept)


def _shown(row: Any, names: Iterable[str], *, dates: Iterable[str] = ()) -> dict[str, Any]:
    """A record's values as its form shows them: dates in their three boxes, None blank."""
    values = {name: "" if getattr(row, name) is None else getattr(row, name) for name in names}
    for name in dates:
        values |= {f"{name}-{part}": text for part, text in date_boxes(getattr(row, name)).items()}
    return values


def _services(session: Any, current: str | None = None) -> list[tuple[str, str]]:
    """The council's services, any others projects use (the list is extendable) and the
    record's own, named."""
    in_use = {p.service for p in listing.projects(session)} | ({current} if current else set())
    return [(code, service_label(code)) for code in (*SERVICES, *sorted(in_use - set(SERVICES)))]


def _places() -> dict[str, list[tuple[str, str]]]:
    """Planning authorities and divisions as a list offers them: code and name, by name."""
    authorities, divisions = registry.places_by_name(get_session())
    return {"authorities": _named(authorities), "divisions": _named(divisions)}


def _named(places: Iterable[Any]) -> list[tuple[str, str]]:
    return [(place.code, place.name) for place in places]


def _render(template: str, errors: Errors, **context: Any) -> ResponseReturnValue:
    return render_template(template, errors=errors, **context), 422 if errors else 200


def _saved_before(model: type[Any], data: Mapping[str, Any], refused: LedgerError) -> Any | None:
    """What a second press of Save asked for again: a refusal because the reference exists,
    where the record was made by the same person with the same details. The page then shows
    what the first press saved, as it would have; it was written once."""
    if not isinstance(refused, Conflict) or refused.errors.get("reference") != ["already exists"]:
        return None
    row = registry.get_one(get_session(), model, "reference", data["reference"], what="record")
    columns = model.__table__.columns.keys()
    same = all(getattr(row, name) == value for name, value in data.items() if name in columns)
    return row if same and row.created_by == _actor().email else None


# -- agreements ----------------------------------------------------------------------------
AGREEMENT_FIELDS = {
    "reference": Field("Reference", "Enter the agreement's reference",
                       exists="There is already an agreement with this reference"),
    "type": Field("Type of agreement", "Choose the type of agreement", choice=True),
    "authority_code": Field("Planning authority", "Choose the planning authority that sealed it", choice=True),
    "status": Field("Signed or proposed", "Choose whether it is signed or proposed", choice=True),
    "signed_on": Field("Date entered into", "Enter the date the agreement was entered into"),
    "site_name": Field("Site or address", "Enter the site or its address"),
    "planning_application": Field("Planning application", "Enter the planning application's reference"),
    "developer": Field("Developer", "Enter the developer"),
    "division_code": Field("Division", "Choose the division the site is in", choice=True),
    "dwellings": Field("Dwellings", "Enter how many dwellings the development has"),
    "varies": Field("Agreement it varies", "Enter the reference of the agreement it varies",
                    unknown="There is no agreement with this reference"),
    "document_url": Field("Link to the signed deed", "Enter a link to the signed deed"),
    "notes": Field("Notes", "Enter a note"),
}
AGREEMENT_EDITABLE = ("site_name", "planning_application", "developer", "division_code", "dwellings",
                      "superseded_on", "document_url", "notes")
AGREEMENT_EDIT_FIELDS = {name: AGREEMENT_FIELDS.get(name) or Field("Date superseded", "Enter the date superseded")
                         for name in AGREEMENT_EDITABLE} | {
    "signed_on": Field("Date it was signed", "Enter the date it was signed"), "reason": REASON}
#: An agreement is signed (SPEC 8.7) or proposed: under negotiation, with no date entered into yet.
STATUSES = [("signed", "Signed", "Give the date it was entered into."),
            ("proposed", "Proposed", "Under negotiation: it takes no money and counts in no statement figure "
                                     "until it is signed.")]


def _agreement_choices() -> dict[str, Any]:
    return {"types": layout.AGREEMENT_TYPE_LABELS} | _places()


@bp.route("/agreements/new", methods=["GET", "POST"])
@officer_or_admin
def new_agreement() -> ResponseReturnValue:
    errors: Errors = {}
    values = _values({"type": AgreementType.SECTION_106, "status": AgreementStatus.SIGNED.value})
    if request.method == "POST":
        data, errors = _read(schemas.Agreement(), AGREEMENT_FIELDS, dates=("signed_on",))
        if not errors:
            try:
                made = registry.create_agreement(get_session(), data, actor=_actor())
            except LedgerError as refused:
                made = _saved_before(Agreement, data, refused)
                errors = {} if made else _refused(refused, AGREEMENT_FIELDS)
            if made:
                flash(f"Agreement {made.reference} added.", "success")
                return redirect(url_for("web.agreement", reference=made.reference))
    return _render("agreement_form.html", errors, values=values, statuses=STATUSES, **_agreement_choices())


@bp.route("/agreements/<path:reference>/edit", methods=["GET", "POST"])
@officer_or_admin
def edit_agreement(reference: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Agreement, "reference", reference, what="agreement")
    errors: Errors = {}
    values = _values(_shown(found, AGREEMENT_EDITABLE, dates=("superseded_on",)))
    if request.method == "POST":
        signing = found.status == AgreementStatus.PROPOSED
        data, errors = _read(schemas.AgreementChanges(), AGREEMENT_EDIT_FIELDS,
                             dates=("superseded_on", *(("signed_on",) if signing else ())),
                             blank_is_none=AGREEMENT_EDITABLE)
        changes = _changed(data, found)
        if data.get("signed_on"):  # a proposed agreement signed: the one change of its status
            changes["status"] = AgreementStatus.SIGNED.value
        if not errors and not changes:
            errors = {"site_name": ["Change at least one detail: these are the details already recorded"]}
        if not errors:
            try:
                registry.update_agreement(s, reference, changes, actor=_actor(), reason=data["reason"])
            except LedgerError as refused:
                errors = _refused(refused, AGREEMENT_EDIT_FIELDS)
            else:
                flash(f"Agreement {reference} changed. The history below shows what changed and why.", "success")
                return redirect(url_for("web.agreement", reference=reference, _anchor="history"))
    return _render("agreement_edit.html", errors, agreement=found, values=values, **_agreement_choices())


def agreement_context(agreement: Agreement) -> dict[str, Any]:
    """What the agreement page shows: its obligations' money today, instalments and
    invoices, and site milestones."""
    s = get_session()
    today = clock.today()
    held = {o.reference: balances.obligation_balance(s, o.reference, on=today).balances for o in agreement.obligations}
    return {"agreement": agreement, "held": held, "today": today,
            "instalments": listing.instalments_and_invoices(s, agreement), "milestones": income.milestones_of(s, agreement)}


# -- site milestones -----------------------------------------------------------------------
MILESTONE_FIELDS = {
    "kind": Field("Milestone", "Choose which milestone was reached", choice=True),
    "on": Field("Date", "Enter the date it was reached"),
    "occupied": Field("Dwellings occupied so far", "Enter how many dwellings are occupied so far"),
}


def _milestone_refusal(refused: LedgerError) -> Errors:
    reported = re.match(r"occupied: (\d+) dwellings were already reported", refused.detail)
    if reported:  # occupations are cumulative: fewer than reported before is a typing slip
        return {"occupied": [f"Dwellings occupied so far must be {int(reported[1]):,} or more: that many were "
                             "already reported occupied by that date"]}
    return _refused(refused, MILESTONE_FIELDS)


@bp.get("/agreements/<path:reference>/milestones")
@requires()
def milestones(reference: str) -> ResponseReturnValue:
    """The milestone form's own address, where signing in again after a session ended lands:
    the agreement's page, its form filled in with what was typed."""
    found = registry.get_one(get_session(), Agreement, "reference", reference, what="agreement")
    kept = kept_form(request.path)
    if kept is None:
        return redirect(url_for("web.agreement", reference=reference, _anchor="milestones"))
    return render_template("agreement.html", milestone_values=kept, **agreement_context(found))


@bp.post("/agreements/<path:reference>/milestones")
@officer_or_admin
def milestone(reference: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Agreement, "reference", reference, what="agreement")
    data, errors = _read(schemas.MilestoneSchema(), MILESTONE_FIELDS, dates=("on",))
    if not errors:
        try:
            invoices = income.record_milestone(s, reference, kind=data["kind"], on=data["on"],
                                               occupied=data.get("occupied"), actor=_actor())
        except LedgerError as refused:
            errors = _milestone_refusal(refused)
        else:
            issued = f" {len(invoices)} invoice{'' if len(invoices) == 1 else 's'} issued." if invoices else ""
            flash(f"{MILESTONE_WORDS[data['kind']][0]} on {data['on'].day} {data['on']:%B %Y} recorded.{issued}",
                  "success")
            return redirect(url_for("web.agreement", reference=reference, _anchor="milestones"))
    return render_template("agreement.html", errors=errors, milestone_values=request.form.to_dict(),
                           **agreement_context(found)), 422


# -- obligations ---------------------------------------------------------------------------
OBLIGATION_FIELDS = {
    "reference": Field("Reference", "Enter the obligation's reference",
                       exists="There is already an obligation with this reference"),
    "purpose": Field("Purpose", "Choose the purpose", choice=True),
    "service": Field("Service", "Choose the council service", choice=True),
    "amount": Field("Amount secured", "Enter the amount secured"),
    "trigger": Field("When it is paid", "Enter when it is paid"),
    "repayment_basis": Field("Repayment deadline", "Choose what the repayment deadline counts from", choice=True),
    "repayment_years": Field("Number of years", "Enter how many years the council has to spend the money"),
    "index": Field("Index", "Choose the index", choice=True),
    "index_base_date": Field("Index base date", "Enter the index base date"),
    "units": Field("Units", "Enter the number of units"),
    "unit_kind": Field("Kind of units", "Choose the kind of units", choice=True),
    "school_category": Field("School places for", "Choose the kind of school", choice=True),
    "commuted_sum": Field("Commuted sum", "Say whether it is a commuted sum"),
    "replaces": Field("Obligation it replaces", "Choose the obligation it replaces", choice=True),
}
OBLIGATION_EDITABLE = ("purpose", "service", "trigger", "repayment_basis", "repayment_years")
OBLIGATION_EDIT_FIELDS = {name: OBLIGATION_FIELDS[name] for name in OBLIGATION_EDITABLE} | {"reason": REASON}


def _obligation_choices(agreement: Agreement, obligation: Obligation | None = None) -> dict[str, Any]:
    s = get_session()
    varied = (registry.get_one(s, Agreement, "reference", agreement.varies, what="agreement").obligations
              if agreement.type == AgreementType.DEED_OF_VARIATION and agreement.varies else [])
    return {"purposes": sorted(((p.value, layout.purpose_label(p)) for p in Purpose), key=lambda o: o[1]),
            "services": _services(s, obligation.service if obligation else None), "bases": [(code.value, *words) for code, words in BASES.items()],
            "indices": list(layout.INDEX_LABELS.items()), "unit_kinds": list(UNIT_KINDS.items()),
            "school_categories": list(SCHOOL_CATEGORIES.items()),
            "replaceable": [(o.reference, f"{o.reference}: {layout.purpose_label(o.purpose)}, "
                                          f"{format_money(o.amount) if o.amount is not None else 'no sum'}")
                            for o in varied],
            "max_years": MAX_REPAYMENT_YEARS}


def _default_terms(agreement: Agreement) -> dict[str, Any]:
    """The terms a new obligation of this agreement takes unless the deed says otherwise."""
    if agreement.type == AgreementType.COMMUNITY_INFRASTRUCTURE_LEVY:
        return {"repayment_basis": RepaymentBasis.NONE.value, "repayment_years": ""}
    authority = registry.get_one(get_session(), Authority, "code", agreement.authority_code, what="authority")
    return {"repayment_basis": authority.default_repayment_basis,
            "repayment_years": authority.default_repayment_years or ""}


@bp.route("/agreements/<path:reference>/obligations/new", methods=["GET", "POST"])
@officer_or_admin
def new_obligation(reference: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Agreement, "reference", reference, what="agreement")
    errors: Errors = {}
    values = _values({"reference": f"{reference}/{len(found.obligations) + 1}", "index": Index.NONE.value}
                     | _default_terms(found))
    if request.method == "POST":
        data, errors = _read(schemas.Obligation(), OBLIGATION_FIELDS, amounts=("amount",),
                             dates=("index_base_date",), flags=("commuted_sum",))
        if not errors:
            try:
                made = registry.create_obligation(s, reference, data, actor=_actor())
            except LedgerError as refused:
                made = _saved_before(Obligation, data, refused)
                errors = {} if made else _refused(refused, OBLIGATION_FIELDS)
            if made:
                flash(f"Obligation {made.reference} added to agreement {reference}.", "success")
                return redirect(url_for("web.agreement", reference=reference, _anchor="obligations"))
    return _render("obligation_form.html", errors, agreement=found, values=values, **_obligation_choices(found))


@bp.route("/obligations/<path:reference>/edit", methods=["GET", "POST"])
@officer_or_admin
def edit_obligation(reference: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Obligation, "reference", reference, what="obligation")
    errors: Errors = {}
    values = _values(_shown(found, OBLIGATION_EDITABLE))
    if request.method == "POST":
        data, errors = _read(schemas.ObligationChanges(), OBLIGATION_EDIT_FIELDS,
                             blank_is_none=("trigger", "repayment_years"))
        changes = _changed(data, found)
        if not errors and not changes:
            errors = {"purpose": ["Change at least one detail: these are the details already recorded"]}
        if not errors:
            try:
                registry.update_obligation(s, reference, changes, actor=_actor(), reason=data["reason"])
            except LedgerError as refused:
                errors = _refused(refused, OBLIGATION_EDIT_FIELDS)
            else:
                flash(f"Obligation {reference} changed.", "success")
                return redirect(url_for("web.obligation", reference=reference))
    return _render("obligation_edit.html", errors, obligation=found, values=values,
                   **_obligation_choices(found.agreement, found))


# -- instalments ---------------------------------------------------------------------------
INSTALMENT_FIELDS = {
    "reference": Field("Reference", "Enter the instalment's reference",
                       exists="There is already an instalment with this reference"),
    "share": Field("Percentage of the obligation", "Enter a percentage or a fixed sum",
                   invalid="Percentage must be a number more than 0 and no more than 100, like 50"),
    "fixed_sum": Field("Fixed sum", "Enter a fixed sum or a percentage"),
    "trigger_event": Field("When it falls due", "Choose when it falls due", choice=True),
    "trigger_dwellings": Field("Dwellings occupied", "Enter how many dwellings must be occupied"),
    "trigger_on": Field("Date", "Enter the date it falls due"),
    "index": Field("Index", "Choose the index", choice=True),
    "base_date": Field("Index base date", "Enter the index base date: an indexed instalment needs one"),
    "floor": Field("Floor", "Say whether it has a floor"),
}


def _share(text: str) -> str:
    """A percentage as typed ("50", "12.5%") as the share the schema reads ("0.5"); anything
    else is left for the schema to refuse under the field's name."""
    try:
        return format(Decimal(text.removesuffix("%").strip()) / 100, "f")
    except InvalidOperation:
        return text


def _instalment_refusal(refused: LedgerError) -> Errors:
    if refused.errors.get("share") == ["give either share or fixed_sum"]:
        return {"share": ["Enter either a percentage of the obligation or a fixed sum, not both"]}
    if refused.errors.get("share") == ["obligation has no amount"]:
        return {"share": ["This obligation secured no sum of money: enter a fixed sum instead of a percentage"]}
    return _refused(refused, INSTALMENT_FIELDS)


@bp.route("/obligations/<path:reference>/instalments/new", methods=["GET", "POST"])
@officer_or_admin
def new_instalment(reference: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Obligation, "reference", reference, what="obligation")
    errors: Errors = {}
    values = _values({"reference": f"{reference}/{len(listing.instalments_of(s, found)) + 1}"})
    if request.method == "POST":
        share = request.form.get("share", "").strip()
        data, errors = _read(schemas.InstalmentSchema(), INSTALMENT_FIELDS, amounts=("fixed_sum",),
                             dates=("trigger_on", "base_date"), flags=("floor",),
                             adjust={"share": _share(share)} if share else None)
        if not errors:
            try:
                made = income.add_instalment(s, reference, data, actor=_actor())
            except LedgerError as refused:
                made = _saved_before(Instalment, data, refused)
                errors = {} if made else _instalment_refusal(refused)
            if made:
                flash(f"Instalment {made.reference} added. It is invoiced when its trigger is met.", "success")
                return redirect(url_for("web.agreement", reference=found.agreement.reference, _anchor="instalments"))
    return _render("instalment_form.html", errors, obligation=found, values=values,
                   triggers=[(code, *words) for code, words in TRIGGERS.items()],
                   indices=list(layout.INDEX_LABELS.items()), max_reference=INSTALMENT_REFERENCE_MAX_LENGTH)


# -- projects ------------------------------------------------------------------------------
PROJECT_FIELDS = {
    "reference": Field("Reference", "Enter the project's reference",
                       exists="There is already a project with this reference"),
    "name": Field("Name", "Enter the project's name"),
    "service": Field("Service", "Choose the council service", choice=True),
    "division_code": Field("Division", "Choose the division", choice=True),
    "repays_borrowing": Field("Repays borrowing", "Say whether it repays borrowing"),
}
PROJECT_EDITABLE = ("name", "service", "division_code", "repays_borrowing")
PROJECT_EDIT_FIELDS = {name: PROJECT_FIELDS[name] for name in PROJECT_EDITABLE} | {"reason": REASON}


def _project_choices(project: Project | None = None) -> dict[str, Any]:
    return {"services": _services(get_session(), project.service if project else None),
            "divisions": _places()["divisions"]}


@bp.route("/projects/new", methods=["GET", "POST"])
@officer_or_admin
def new_project() -> ResponseReturnValue:
    errors: Errors = {}
    values = _values({})
    if request.method == "POST":
        data, errors = _read(schemas.Project(), PROJECT_FIELDS, flags=("repays_borrowing",))
        if not errors:
            try:
                made = registry.create_project(get_session(), data, actor=_actor())
            except LedgerError as refused:
                made = _saved_before(Project, data, refused)
                errors = {} if made else _refused(refused, PROJECT_FIELDS)
            if made:
                flash(f"Project {made.reference} added.", "success")
                return redirect(url_for("web.project", reference=made.reference))
    return _render("project_form.html", errors, project=None, values=values, **_project_choices())


@bp.route("/projects/<path:reference>/edit", methods=["GET", "POST"])
@officer_or_admin
def edit_project(reference: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Project, "reference", reference, what="project")
    errors: Errors = {}
    values = _values(_shown(found, PROJECT_EDITABLE))
    if request.method == "POST":
        data, errors = _read(schemas.ProjectChanges(), PROJECT_EDIT_FIELDS,
                             flags=("repays_borrowing",), blank_is_none=("name", "service", "division_code"))
        changes = _changed(data, found)
        if not errors and not changes:
            errors = {"name": ["Change at least one detail: these are the details already recorded"]}
        if not errors:
            try:
                registry.update_project(s, reference, changes, actor=_actor(), reason=data["reason"])
            except LedgerError as refused:
                errors = _refused(refused, PROJECT_EDIT_FIELDS)
            else:
                flash(f"Project {reference} changed.", "success")
                return redirect(url_for("web.project", reference=reference))
    return _render("project_form.html", errors, project=found, values=values, **_project_choices(found))


# -- receipts and invoices -----------------------------------------------------------------
def _entry_id(text: str) -> int:
    # Not werkzeug's int converter, which reads any script's digits; past a 32-bit id
    # PostgreSQL would refuse the number with an error, not a miss.
    number = int(text) if re.fullmatch(r"[0-9]{1,10}", text) else 0
    if not 1 <= number <= users.MAX_ID:
        abort(404)
    return number


MATCH_AMOUNT = Field("Amount", "Enter how much of the receipt pays the invoice")


def _read_match(choice: str, label: str) -> tuple[Decimal | None, Errors]:
    """The amount of a match form, and its choice (an invoice or a receipt) by field name."""
    data, errors = _read(schemas.PaymentIn(only=("amount",)), {choice: Field(label, f"Choose {label}"),
                                                               "amount": MATCH_AMOUNT}, amounts=("amount",))
    return data.get("amount"), errors


def _match_refusal(refused: LedgerError, *, choice: str, invoice: str, receipt: int) -> Errors:
    """A refused match in words; an amount over either limit names the limit."""
    s = get_session()
    earlier = [p for p in income.receipt_standing(s, entry_service.get_entry(s, receipt)).payments
               if p.invoice_reference == invoice]
    if earlier:  # whatever else the service found first, this is what stands in the way
        return {choice: [f"This receipt is already matched to this invoice, for {format_money(earlier[0].amount)}: "
                         "a receipt pays an invoice once, so choose another"]}
    found: Errors = {}
    for name, messages in (refused.errors or {"amount": [refused.detail]}).items():
        for message in messages:
            if message == "more than is outstanding":
                limit = income.invoice_standing(s, invoice).outstanding
                text = f"Amount must be {format_money(limit)} or less: that is what the invoice still has outstanding"
            elif message == "more than the receipt has left":
                limit = income.receipt_standing(s, entry_service.get_entry(s, receipt)).unmatched
                text = (f"Amount must be {format_money(limit)} or less: that is what the receipt has not yet "
                        "matched to an invoice")
            elif message == "must be greater than zero":
                text = "Amount must be more than £0.00"
            elif message == "reversed":
                text = "That receipt has been reversed: choose another"
            elif name == "entry_id":
                text = "Choose a receipt of this obligation from the list"
            else:
                text = f"Amount: {message}"
            found.setdefault(choice if name == "entry_id" else "amount", []).append(text)
    return found


def _matched_before(invoice: str, entry_id: int, amount: Decimal) -> bool:
    """Whether a refused match is a second press of the button: this receipt is already
    matched to this invoice, by this person, for this amount (a receipt pays an invoice
    once, so whatever the refusal, what was asked for is done)."""
    standing = income.receipt_standing(get_session(), entry_service.get_entry(get_session(), entry_id))
    return any(p.invoice_reference == invoice and p.amount == amount and p.created_by == _actor().email
               for p in standing.payments)


def _entry_page(number: int, errors: Errors, values: Mapping[str, Any]) -> ResponseReturnValue:
    s = get_session()
    standing = income.receipt_standing(s, entry_service.get_entry(s, number))
    return _render("entry.html", errors, standing=standing, entry=standing.entry, values=values,
                   invoices=income.open_invoices(s, standing.entry.obligation_id) if standing.unmatched else [])


@bp.get("/entries/<entry_id>")
@requires()
def entry(entry_id: str) -> ResponseReturnValue:
    return _entry_page(_entry_id(entry_id), {}, _values({}))


@bp.post("/entries/<entry_id>")
@officer_or_admin
def match_receipt(entry_id: str) -> ResponseReturnValue:
    """Match this receipt to one of its obligation's invoices with money outstanding."""
    s = get_session()
    number = _entry_id(entry_id)
    found = entry_service.get_entry(s, number)
    amount, errors = _read_match("invoice", "an invoice")
    invoice = request.form.get("invoice", "")
    offered = {i.invoice.reference for i in income.open_invoices(s, found.obligation_id)}
    # An invoice it already pays is no longer offered, but a second press of the button names it.
    paid = {p.invoice_reference for p in income.receipt_standing(s, found).payments}
    if invoice not in offered | paid:
        errors = {"invoice": ["Choose the invoice it pays" + (" from the list" if invoice else "")]} | errors
    if not errors and amount is not None:
        try:
            income.match_payment(s, invoice, entry_id=number, amount=amount, actor=_actor())
        except LedgerError as refused:
            if not _matched_before(invoice, number, amount):
                errors = _match_refusal(refused, choice="invoice", invoice=invoice, receipt=number)
        if not errors:
            left = income.invoice_standing(s, invoice).outstanding
            flash(f"{format_money(amount)} of this receipt matched to invoice {invoice}, which now has "
                  f"{format_money(left)} outstanding.", "success")
            return redirect(url_for("web.entry", entry_id=number))
    return _entry_page(number, errors, request.form.to_dict())


def _invoice_page(reference: str, errors: Errors, values: Mapping[str, Any]) -> ResponseReturnValue:
    s = get_session()
    standing = income.invoice_standing(s, reference)
    obligation = standing.invoice.instalment.obligation
    return _render("invoice.html", errors, standing=standing, obligation=obligation, values=values,
                   receipts=income.unmatched_receipts(s, obligation.id) if standing.outstanding > 0 else [])


@bp.get("/invoices/<path:reference>")
@requires()
def invoice(reference: str) -> ResponseReturnValue:
    imported = income.imported_due_obligation(get_session(), reference)
    if imported is not None:
        # Income due imported as "secured" has no invoice: its obligation's page says what is known.
        return redirect(url_for("web.obligation", reference=imported))
    return _invoice_page(reference, {}, _values({}))


@bp.post("/invoices/<path:reference>")
@officer_or_admin
def match_invoice(reference: str) -> ResponseReturnValue:
    """Match one of the obligation's receipts with money not yet matched to this invoice."""
    s = get_session()
    standing = income.invoice_standing(s, reference)
    amount, errors = _read_match("receipt", "a receipt")
    chosen = request.form.get("receipt", "")
    offered = {str(r.entry.id) for r in income.unmatched_receipts(s, standing.invoice.instalment.obligation_id)}
    # A receipt that already pays it is no longer offered, but a second press of the button names it.
    if chosen not in offered | {str(p.entry_id) for p in standing.payments}:
        errors = {"receipt": ["Choose the receipt that pays it" + (" from the list" if chosen else "")]} | errors
    if not errors and amount is not None:
        try:
            income.match_payment(s, reference, entry_id=int(chosen), amount=amount, actor=_actor())
        except LedgerError as refused:
            if not _matched_before(reference, int(chosen), amount):
                errors = _match_refusal(refused, choice="receipt", invoice=reference, receipt=int(chosen))
        if not errors:
            left = income.invoice_standing(s, reference).outstanding
            flash(f"{format_money(amount)} of the receipt matched to this invoice, which now has "
                  f"{format_money(left)} outstanding.", "success")
            return redirect(url_for("web.invoice", reference=reference))
    return _invoice_page(reference, errors, request.form.to_dict())
