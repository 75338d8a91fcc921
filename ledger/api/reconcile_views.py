"""Reconciliation with the finance ledger (issue 19): the differences as of a date, officers'
decisions on finance transactions, and balance assertions. Officers and admins only: the
finance ledger's rows are not for members."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger import clock
from ledger.api import schemas
from ledger.api.common import Blueprint, actor
from ledger.domain.errors import NotFound
from ledger.domain.reconcile import Action, AssertionRow, AssertionScope, ItemRow, Report, Status
from ledger.domain.vocab import Role
from ledger.errors import problem
from ledger.extensions import get_session, request_action
from ledger.models import AssertionResolution, ReconciliationDecision
from ledger.services import reconcile
from ledger.services.audit import record_refusal
from reports.reconciliation import verdict

reconciliation = Blueprint("reconciliation", __name__, url_prefix="/api/v1/reconciliation",
                           description="The ledger against the finance ledger: differences, decisions on matches and "
                                       "balance assertions (officers and admins)")
BLUEPRINTS = (reconciliation,)
READERS = frozenset({Role.OFFICER, Role.ADMIN})


@reconciliation.before_request
def _officers_only() -> ResponseReturnValue | None:
    caller = actor()
    if caller.role in READERS:
        return None
    reason = f"the {caller.role} role cannot {request_action()}"
    record_refusal(get_session(), actor=caller.email, action=request_action(), reason=reason,
                   client=request.remote_addr, target_reference=request.path)
    return problem(403, title="Forbidden", detail=reason, type_slug="forbidden")


class SignedMoney(ma.fields.String):
    """Pounds as a string with two decimals, negative for money out of the section 106 pot."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"pattern": r"^-?[0-9]{1,13}\.[0-9]{2}$", "example": "-12.50"}, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{value:.2f}"


class ReconciliationQuery(schemas.Schema):
    as_of = schemas.LedgerDate(metadata={"description": "default today"})
    since = schemas.LedgerDate(metadata={"description": "default the first finance transaction"})


class ReconciliationItem(schemas.Schema):
    status = ma.fields.String(metadata={"enum": ["matched", "proposed", "reversed-in-finance", "finance-only",
                                                 "ledger-only"]})
    rule = ma.fields.String(allow_none=True)
    misposted = ma.fields.Boolean(metadata={"description": "matched to entries whose money belongs on another code"})
    transaction = ma.fields.Integer(allow_none=True, metadata={"description": "the finance transaction's id here"})
    transaction_id = ma.fields.String(allow_none=True, metadata={"description": "the finance system's own id"})
    posted_on = ma.fields.Date(allow_none=True)
    cost_code = ma.fields.String(allow_none=True)
    reference = ma.fields.String(allow_none=True)
    description = ma.fields.String(allow_none=True)
    finance = SignedMoney(allow_none=True)
    entries = ma.fields.List(ma.fields.Integer())
    entry_references = ma.fields.String()
    obligations = ma.fields.String()
    occurred_on = ma.fields.Date(allow_none=True)
    ledger = SignedMoney(allow_none=True)
    decided_by = ma.fields.String(allow_none=True)
    decision_reason = ma.fields.String(allow_none=True)


class ReconciliationDifference(schemas.Schema):
    key = ma.fields.String()
    finance = SignedMoney()
    ledger = SignedMoney()
    difference = SignedMoney()


class BalanceAssertionOut(schemas.Schema):
    id = ma.fields.Integer()
    scope = ma.fields.String()
    code = ma.fields.String()
    held_on = ma.fields.Date()
    asserted = SignedMoney()
    ledger = SignedMoney()
    difference = SignedMoney()
    state = ma.fields.String(metadata={"enum": ["holds", "fails", "resolved-by-note"]})
    recorded_by = ma.fields.String()
    reason = ma.fields.String()
    notes = ma.fields.List(ma.fields.String())


class ReconciliationSummaryLine(schemas.Schema):
    line = ma.fields.String()
    count = ma.fields.Integer(allow_none=True)
    money = SignedMoney(allow_none=True)


class ReconciliationOut(schemas.Schema):
    as_of = ma.fields.Date()
    since = ma.fields.Date()
    imported = ma.fields.Boolean(metadata={"description": "whether any finance transaction is in the period"})
    verdict = ma.fields.String()
    summary = ma.fields.List(ma.fields.Nested(ReconciliationSummaryLine))
    finance_only = ma.fields.List(ma.fields.Nested(ReconciliationItem))
    ledger_only = ma.fields.List(ma.fields.Nested(ReconciliationItem))
    misposted = ma.fields.List(ma.fields.Nested(ReconciliationItem))
    proposed = ma.fields.Integer(metadata={"description": "matches awaiting confirmation (listed by /items)"})
    by_cost_code = ma.fields.List(ma.fields.Nested(ReconciliationDifference))
    by_obligation = ma.fields.List(ma.fields.Nested(ReconciliationDifference))
    assertions = ma.fields.List(ma.fields.Nested(BalanceAssertionOut))


class ReconciliationDecisionIn(schemas.Schema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf([a.value for a in Action]))
    entry_ids = ma.fields.List(schemas.Whole(minimum=1), load_default=list, validate=ma.validate.Length(max=50),
                               metadata={"description": "the ledger entries it matches (confirm, match)"})
    reason = schemas.Prose(required=True, min_length=1)


class ReconciliationDecisionOut(schemas.Schema):
    id = ma.fields.Integer()
    transaction_id = ma.fields.Integer()
    action = ma.fields.String()
    entry_ids = ma.fields.List(ma.fields.Integer())
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()
    reason = ma.fields.String()


class FinanceTransactionOut(schemas.Schema):
    item = ma.fields.Nested(ReconciliationItem, metadata={"description": "where it stands today, with its match"})
    in_scope = ma.fields.Boolean()
    decisions = ma.fields.List(ma.fields.Nested(ReconciliationDecisionOut), metadata={"description": "every decision, oldest first"})


class BalanceAssertionIn(schemas.Schema):
    scope = ma.fields.String(required=True, validate=ma.validate.OneOf([s.value for s in AssertionScope]))
    code = schemas.Reference(required=True)
    held_on = schemas.LedgerDate(required=True)
    amount = schemas.Money(required=True)
    reason = schemas.Prose(required=True, min_length=1)


class AssertionResolutionIn(schemas.Schema):
    note = schemas.Prose(required=True, min_length=1)


class AssertionResolutionOut(schemas.Schema):
    id = ma.fields.Integer()
    assertion_id = ma.fields.Integer()
    note = ma.fields.String()
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()


def _report(args: dict[str, Any]) -> Report:
    return reconcile.reconciliation_report(get_session(), as_of=args.get("as_of") or clock.today(),
                                           since=args.get("since"))


@reconciliation.route("")
class Reconciliation(MethodView):
    @reconciliation.arguments(ReconciliationQuery, location="query")
    @reconciliation.response(200, ReconciliationOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The differences to clear, the matches proposed and the balance assertions, as of a date"""
        report = _report(args)
        return {"as_of": report.as_of, "since": report.since, "imported": report.imported, "verdict": verdict(report),
                "summary": [{"line": line, "count": count, "money": money} for line, count, money in report.summary],
                "finance_only": report.finance_only, "ledger_only": report.ledger_only,
                "misposted": [m for m in report.matched if m.misposted],
                "proposed": sum(1 for m in report.matched if m.status == "proposed"),
                "by_cost_code": report.by_cost_code, "by_obligation": report.by_obligation,
                "assertions": report.assertions}


class ReconciliationItemsQuery(ReconciliationQuery):
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in Status]))


@reconciliation.route("/items")
class Items(MethodView):
    @reconciliation.arguments(ReconciliationItemsQuery, location="query")
    @reconciliation.response(200, ReconciliationItem(many=True))
    @reconciliation.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[ItemRow]:
        """Every line of the reconciliation as of a date (matches, reversals, finance only, ledger only)"""
        report = _report(args)
        rows = [*report.matched, *report.reversed, *report.finance_only, *report.ledger_only]
        if args.get("status"):
            rows = [r for r in rows if r.status == args["status"]]
        pagination_parameters.item_count = len(rows)
        first = pagination_parameters.first_item
        return rows[first:first + pagination_parameters.page_size]


def item_of(report: Report, transaction_id: int) -> ItemRow | None:
    """A transaction's line in a reconciliation, if it is in its period."""
    rows = (*report.matched, *report.finance_only, *report.reversed)
    return next((r for r in rows if r.transaction == transaction_id), None)


@reconciliation.route("/transactions/<int(max=2147483647):transaction_id>")
class Transaction(MethodView):
    @reconciliation.response(200, FinanceTransactionOut)
    def get(self, transaction_id: int) -> dict[str, Any]:
        """A finance transaction: where it stands today and every decision on it"""
        s = get_session()
        found = reconcile.get_transaction(s, transaction_id)
        report = reconcile.reconciliation_report(s, as_of=max(clock.today(), found.posted_on),
                                                 since=found.posted_on - reconcile.TRANSACTION_WINDOW)
        return {"item": item_of(report, transaction_id), "in_scope": found.in_scope,
                "decisions": reconcile.decisions_of(s, transaction_id)}


@reconciliation.route("/transactions/<int(max=2147483647):transaction_id>/decisions")
class Decisions(MethodView):
    @reconciliation.arguments(ReconciliationDecisionIn)
    @reconciliation.response(201, ReconciliationDecisionOut)
    def post(self, data: dict[str, Any], transaction_id: int) -> ReconciliationDecision:
        """Confirm the match proposed, reject it, or match the transaction by hand to ledger entries"""
        return reconcile.decide(get_session(), transaction_id, action=data["action"], entry_ids=data["entry_ids"],
                                reason=data["reason"], actor=actor())


@reconciliation.route("/assertions")
class Assertions(MethodView):
    @reconciliation.arguments(ReconciliationQuery, location="query")
    @reconciliation.response(200, BalanceAssertionOut(many=True))
    def get(self, args: dict[str, Any]) -> list[AssertionRow]:
        """Balance assertions dated up to the date, each checked against the ledger, newest first"""
        return _report(args).assertions

    @reconciliation.arguments(BalanceAssertionIn)
    @reconciliation.response(201, BalanceAssertionOut)
    def post(self, data: dict[str, Any]) -> AssertionRow:
        """Record a balance the finance system shows at the end of a day, and check it"""
        s = get_session()
        recorded = reconcile.record_assertion(s, actor=actor(), **data)
        return assertion_row(s, recorded.id)


def assertion_row(session: Any, assertion_id: int) -> AssertionRow:
    found = next((a for a in reconcile.assertion_rows(session) if a.id == assertion_id), None)
    if found is None:
        raise NotFound(f"no balance assertion {assertion_id}")
    return found


@reconciliation.route("/assertions/<int(max=2147483647):assertion_id>/resolutions")
class Resolutions(MethodView):
    @reconciliation.arguments(AssertionResolutionIn)
    @reconciliation.response(201, AssertionResolutionOut)
    def post(self, data: dict[str, Any], assertion_id: int) -> AssertionResolution:
        """Resolve a failing assertion with a note saying why the figures differ"""
        return reconcile.resolve_assertion(get_session(), assertion_id, note=data["note"], actor=actor())

