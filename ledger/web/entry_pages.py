"""Recording and reversing ledger entries in the web: the forms over services.entries."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger import clock
from ledger.api import schemas
from ledger.domain.entry_kinds import KIND_RULES
from ledger.domain.errors import LedgerError
from ledger.domain.vocab import EntryKind
from ledger.extensions import get_session
from ledger.models import Obligation
from ledger.services import entries as entry_service
from ledger.services import listing, registry, users
from ledger.web import bp
from ledger.web.auth import current_actor, officer_or_admin
from ledger.web.forms import field_errors, form_values
from ledger.web.views import KIND_LABELS

#: Fields the record form asks for with a GOV.UK date input.
DATE_INPUTS = ("original_received_on",)
AMOUNTS = ("amount", "interest")


class EntryForm(schemas.EntryIn):
    """The API's entry schema, reading an HTML form (ledger.web.forms.form_values)."""


@bp.route("/obligations/<path:reference>/record/<kind>", methods=["GET", "POST"])
@officer_or_admin
def record(reference: str, kind: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Obligation, "reference", reference, what="obligation")
    if kind not in set(EntryKind):
        abort(404)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = (request.form.to_dict() if request.method == "POST"
                              else {"occurred_on": clock.today().isoformat()})
    if request.method == "POST":
        try:
            data = EntryForm().load(form_values(values, amounts=AMOUNTS, dates=DATE_INPUTS,
                                                keep_blank=("amount", "reason"))
                                    | {"kind": kind, "obligation_reference": reference})
            entry, _created = entry_service.record_entry(
                s, entry_service.EntryRequest(**data | {"kind": EntryKind(kind)}), actor=current_actor())  # type: ignore[arg-type]
        except ma.ValidationError as invalid:
            errors = field_errors(invalid)
        except LedgerError as refused:
            errors = refused.errors or {"amount": [refused.detail]}
        else:
            flash(f"{KIND_LABELS[EntryKind(kind)].split(' ', 1)[1].capitalize()}: {entry.reference} saved.")
            return redirect(url_for("web.obligation", reference=reference))
    rule = KIND_RULES[EntryKind(kind)]
    projects = listing.projects(s) if rule.project else []
    return render_template("record.html", obligation=found, kind=EntryKind(kind), rule=rule, values=values,
                           errors=errors, projects=projects), 422 if errors else 200


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
    reason = request.form.get("reason", "")
    if request.method == "POST":
        try:
            entry_service.reverse_entry(s, number, actor=current_actor(), reason=reason)  # type: ignore[arg-type]
        except LedgerError as refused:
            # Every refusal of a reversal concerns the entry as a whole: show it by the reason.
            errors = {"reason": [refused.detail]}
        else:
            flash(f"Entry {entry.reference} reversed.")
            return redirect(url_for("web.obligation", reference=entry.obligation.reference))
    return render_template("reverse.html", entry=entry, reason=reason, errors=errors), 422 if errors else 200
