"""Index values, instalments, site milestones, invoices, payments and income due."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger import clock
from ledger.api import schemas
from ledger.api.common import Blueprint, actor, paged
from ledger.extensions import get_session
from ledger.models import IndexValue, Instalment, Invoice, InvoicePayment, Obligation
from ledger.services import income, listing, registry

PREFIX = "/api/v1"
index_values = Blueprint("index-values", __name__, url_prefix=f"{PREFIX}/index-values",
                         description="Index series entered by users (BCIS, ROADCON, RPI, CPI, PUBSEC)")
instalments = Blueprint("instalments", __name__, url_prefix=f"{PREFIX}/obligations",
                        description="Instalments of an obligation and their triggers")
milestones = Blueprint("milestones", __name__, url_prefix=f"{PREFIX}/agreements", description="Site milestones")
invoices = Blueprint("invoices", __name__, url_prefix=f"{PREFIX}/invoices", description="Invoices and payments")
due = Blueprint("income-due", __name__, url_prefix=f"{PREFIX}/income-due", description="Income due from developers")

BLUEPRINTS = (index_values, instalments, milestones, invoices, due)


@index_values.route("")
class IndexValues(MethodView):
    @index_values.arguments(schemas.IndexQuery, location="query")
    @index_values.response(200, schemas.IndexValueSchema(many=True))
    @index_values.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[IndexValue]:
        """Index values, by series, period and publication"""
        return paged(listing.index_values_query(index=args.get("index")), pagination_parameters)

    @index_values.arguments(schemas.IndexValueSchema)
    @index_values.response(201, schemas.IndexValueSchema)
    def post(self, data: dict[str, Any]) -> IndexValue:
        """Record a published index value (a revision is a new value with a later publication date)"""
        return income.add_index_values(get_session(), [data], actor=actor())[0]


@instalments.route("/<path:reference>/instalments")
class Instalments(MethodView):
    @instalments.response(200, schemas.InstalmentSchema(many=True))
    def get(self, reference: str) -> list[Instalment]:
        """An obligation's instalments"""
        s = get_session()
        obligation = registry.get_one(s, Obligation, "reference", reference, what="obligation")
        return listing.instalments_of(s, obligation)

    @instalments.arguments(schemas.InstalmentSchema)
    @instalments.response(201, schemas.InstalmentSchema)
    def post(self, data: dict[str, Any], reference: str) -> Instalment:
        """Add an instalment: a share or a fixed sum, a trigger, optional indexation with a floor"""
        return income.add_instalment(get_session(), reference, data, actor=actor())


@milestones.route("/<path:reference>/milestones")
class Milestones(MethodView):
    @milestones.arguments(schemas.MilestoneSchema)
    @milestones.response(201, schemas.InvoiceSchema(many=True), description="the invoices the milestone triggered")
    def post(self, data: dict[str, Any], reference: str) -> list[Invoice]:
        """Record commencement, occupations (cumulative) or completion; issues what falls due"""
        return income.record_milestone(get_session(), reference, kind=data["kind"], on=data["on"],
                                       occupied=data.get("occupied"), actor=actor())


@invoices.route("")
class Invoices(MethodView):
    @invoices.response(200, schemas.InvoiceSchema(many=True))
    @invoices.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[Invoice]:
        """Invoices issued, newest first"""
        return paged(listing.invoices_query(), pagination_parameters)


@invoices.route("/issue")
class IssueInvoices(MethodView):
    @invoices.arguments(schemas.IssueRequest)
    @invoices.response(200, schemas.IssueResult)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Issue an invoice for every instalment whose trigger is met (idempotent)"""
        issued, waiting = income.issue_invoices(get_session(), today=data.get("on") or clock.today(), actor=actor())
        return {"issued": issued, "waiting": waiting}


@invoices.route("/<path:reference>/payments")
class InvoicePayments(MethodView):
    @invoices.arguments(schemas.PaymentIn)
    @invoices.response(201, schemas.PaymentOut)
    def post(self, data: dict[str, Any], reference: str) -> InvoicePayment:
        """Match part or all of a receipt to this invoice"""
        return income.match_payment(get_session(), reference, entry_id=data["entry_id"], amount=data["amount"],
                                    actor=actor())


@due.route("")
class IncomeDue(MethodView):
    @due.arguments(schemas.IncomeDueQuery, location="query")
    @due.response(200, schemas.IncomeDueItem(many=True))
    @due.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
        """Money due from developers and not yet received, oldest first, with days outstanding"""
        # The sums up to this page's last, oldest first, and how many there are in all.
        start, size = pagination_parameters.first_item, pagination_parameters.page_size
        summary = income.income_due_summary(get_session(), today=args.get("as_of") or clock.today(),
                                            first=start + size)
        pagination_parameters.item_count = summary.count
        return summary.first[start:start + size]
