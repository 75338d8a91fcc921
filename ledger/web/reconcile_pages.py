"""Reconciliation pages (issue 19): /reconciliation shows what matched, what is in the
ledger or in finance only, the differences by cost code and obligation, and the balance
assertions; officers confirm, reject or match by hand on a transaction's page, and record
and resolve assertions. Officers and admins; members get 403."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import marshmallow as ma
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger import clock
from ledger.api import schemas
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.reconcile import AssertionScope, ItemRow, Report
from ledger.extensions import download, get_session
from ledger.services import overview, reconcile
from ledger.web import bp
from ledger.web.auth import current_actor, officer_or_admin
from ledger.web.forms import field_errors, typed_amount
from ledger.web.views import day, query_arg
from reports.reconciliation import RULE_WORDS, STATE_WORDS, STATUS_WORDS, reconciliation_workbook, verdict

#: Finance transaction and assertion ids are 32-bit: a bigger number is none, never a database error.
LARGEST_ID = 2**31 - 1
SCOPE_WORDS = {AssertionScope.COST_CODE: "Cost code", AssertionScope.OBLIGATION: "Obligation",
               AssertionScope.SERVICE: "Service"}
WORDS = {"status_words": STATUS_WORDS, "rule_words": RULE_WORDS, "state_words": STATE_WORDS,
         "scope_words": SCOPE_WORDS}


class AssertionForm(schemas.Schema):
    scope = ma.fields.String(required=True, validate=ma.validate.OneOf([s.value for s in AssertionScope]))
    code = schemas.Reference(required=True)
    held_on = schemas.LedgerDate(required=True)
    amount = schemas.Money(required=True)
    reason = schemas.Prose(required=True, min_length=1)


@bp.app_context_processor
def _failing_assertions() -> dict[str, Any]:
    """The dashboard's panel asks for failing assertions only when it is drawn."""
    return {"failing_assertions": lambda: overview.failing_assertions(get_session())}


def _period() -> tuple[date, date | None]:
    return query_arg("as_of", day) or clock.today(), query_arg("since", day)


@bp.get("/reconciliation")
@officer_or_admin
def reconciliation() -> ResponseReturnValue:
    as_of, since = _period()
    report = reconcile.reconciliation_report(get_session(), as_of=as_of, since=since)
    return render_template("reconcile.html", report=report, verdict=verdict(report), errors={}, values={},
                           proposed=[m for m in report.matched if m.status == "proposed"],
                           misposted=[m for m in report.matched if m.misposted], **WORDS)


@bp.get("/reconciliation.xlsx")
@officer_or_admin
def reconciliation_download() -> ResponseReturnValue:
    as_of, since = _period()
    report = reconcile.reconciliation_report(get_session(), as_of=as_of, since=since)
    return download(reconciliation_workbook(report, council=current_app.config["COUNCIL_NAME"]),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    filename=f"reconciliation-{as_of.isoformat()}.xlsx")


def _transaction_id(text: str) -> int:
    # Not werkzeug's int converter, which reads any script's digits.
    number = int(text) if re.fullmatch(r"[0-9]{1,10}", text) else 0
    if not 1 <= number <= LARGEST_ID:
        abort(404)
    return number


def _item(report: Report, transaction_id: int) -> ItemRow | None:
    rows = (*report.matched, *report.finance_only, *report.reversed)
    return next((r for r in rows if r.transaction == transaction_id), None)


@bp.route("/reconciliation/transactions/<transaction_id>", methods=["GET", "POST"])
@officer_or_admin
def reconcile_transaction(transaction_id: str) -> ResponseReturnValue:
    number = _transaction_id(transaction_id)
    s = get_session()
    found = reconcile.get_transaction(s, number)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        action = request.form.get("action", "")
        # Confirming takes the entries the page proposed; matching by hand, those ticked.
        chosen = request.form.getlist("proposed_ids" if action == "confirm" else "entry_ids")
        try:
            entry_ids = [int(i) for i in chosen if re.fullmatch(r"[0-9]{1,10}", i) and int(i) <= LARGEST_ID]
            if len(entry_ids) != len(chosen):
                raise InvalidInput("not an entry", errors={"entry_ids": ["choose entries from the list"]})
            reconcile.decide(s, number, action=action, entry_ids=entry_ids, reason=request.form.get("reason"),
                             actor=current_actor())  # type: ignore[arg-type]
        except LedgerError as refused:
            errors = refused.errors or {"reason": [refused.detail]}
        else:
            flash({"confirm": "Match confirmed.", "reject": "Match rejected: the transaction is in finance only.",
                   "match": "Matched by hand."}.get(action, "Decision recorded."))
            return redirect(url_for("web.reconcile_transaction", transaction_id=number))
    today = max(clock.today(), found.posted_on)
    report = reconcile.reconciliation_report(s, as_of=today, since=found.posted_on - reconcile.TRANSACTION_WINDOW)
    item = _item(report, number)
    same_way = [r for r in report.ledger_only if (r.ledger or Decimal(0)) * found.amount > 0]
    return render_template("reconcile_transaction.html", transaction=found, item=item, candidates=same_way,
                           decisions=reconcile.decisions_of(s, number), errors=errors, form=request.form,
                           **WORDS), 422 if errors else 200


@bp.post("/reconciliation/assertions")
@officer_or_admin
def reconcile_assert() -> ResponseReturnValue:
    values = request.form.to_dict()
    try:
        data = AssertionForm().load({k: v for k, v in values.items() if k != "csrf_token"}
                                    | {"amount": typed_amount(values.get("amount", ""))})
        recorded = reconcile.record_assertion(get_session(), actor=current_actor(), **data)  # type: ignore[arg-type]
    except ma.ValidationError as invalid:
        errors = field_errors(invalid)
    except LedgerError as refused:
        errors = refused.errors or {"code": [refused.detail]}
    else:
        flash(f"Balance recorded: {SCOPE_WORDS[AssertionScope(recorded.scope)].lower()} {recorded.code} at the end "
              f"of {recorded.held_on:%d %B %Y}.")
        return redirect(url_for("web.reconciliation") + "#assertions")
    report = reconcile.reconciliation_report(get_session(), as_of=clock.today())
    return render_template("reconcile.html", report=report, verdict=verdict(report), errors=errors, values=values,
                           proposed=[m for m in report.matched if m.status == "proposed"],
                           misposted=[m for m in report.matched if m.misposted], **WORDS), 422


@bp.post("/reconciliation/assertions/<assertion_id>/resolve")
@officer_or_admin
def reconcile_resolve(assertion_id: str) -> ResponseReturnValue:
    number = _transaction_id(assertion_id)
    try:
        reconcile.resolve_assertion(get_session(), number, note=request.form.get("note"),
                                    actor=current_actor())  # type: ignore[arg-type]
    except LedgerError as refused:
        flash(f"Not resolved: {refused.detail}")
    else:
        flash("Assertion resolved by a note.")
    return redirect(url_for("web.reconciliation") + "#assertions")
