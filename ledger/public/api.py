"""The public pages' figures as JSON at stable addresses under /public/api (issue 20 item 5),
in the OpenAPI description, open to anyone: no token, the same records as the pages."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, abort
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from werkzeug.exceptions import HTTPException

from ledger import clock, errors
from ledger.api import schemas
from ledger.api.common import Blueprint
from ledger.extensions import get_session
from ledger.public import PREFIX, queries, serving
from ledger.services.registry import Filters

blp = Blueprint("public-api", __name__, url_prefix=f"{PREFIX}/api",
                description="Public figures for residents, open to anyone (LEDGER_PUBLIC_PAGES=on): signed "
                            "agreements only, no at-risk bands or repayment dates")
serving.attach(blp)
#: No token: these operations are open, whatever the document's default security says.
OPEN = {"security": []}


@blp.errorhandler(HTTPException)
def _problem(error: HTTPException) -> Response:
    """Problem details for every refusal here, whatever the client accepts: the site's
    own negotiation (errors.wants_html) would answer a browser here with a page."""
    data = getattr(error, "data", None) or {}
    found = [row for location, messages in (data.get("messages") or {}).items()
             for row in errors.field_errors(messages, location)]
    detail = data.get("message") or error.description
    if found and error.code == 422:
        detail = "; ".join(f"{row['field']}: {row['detail']}" for row in found)
    return errors.problem(error.code or 500, title=error.name, detail=detail, errors=found,
                          type_slug="validation-error" if error.code == 422 else None, headers=data.get("headers"))


class PublicPlace(schemas.Schema):
    code = ma.fields.String()
    name = ma.fields.String()


class PublicMoney(schemas.Schema):
    received = schemas.Money()
    spent = schemas.Money(metadata={"description": "spent by the council itself"})
    transferred = schemas.Money(metadata={"description": "passed to another body to spend"})
    repaid = schemas.Money(metadata={"description": "returned to the developer"})
    held = schemas.Money()


class PublicClassFigures(schemas.Schema):
    label = ma.fields.String()
    received = schemas.Money()
    spent = schemas.Money(metadata={"description": "including money passed to others to spend (item (f))"})
    held = schemas.Money()


class PublicYearFigures(schemas.Schema):
    year = ma.fields.Integer(metadata={"description": "the financial year, by the calendar year it starts in"})
    label = ma.fields.String()
    start = ma.fields.Date()
    end = ma.fields.Date(metadata={"description": "the year's last day, or today for the year not yet ended"})
    complete = ma.fields.Boolean()
    classes = ma.fields.List(ma.fields.Nested(PublicClassFigures))


class PublicAgreementRow(schemas.Schema):
    reference = ma.fields.String()
    site_name = ma.fields.String(allow_none=True)
    developer = ma.fields.String(allow_none=True)
    signed_on = ma.fields.Date()
    authority = ma.fields.Nested(PublicPlace)
    division = ma.fields.Nested(PublicPlace, allow_none=True)


class PublicProjectRow(schemas.Schema):
    reference = ma.fields.String()
    name = ma.fields.String()
    service = ma.fields.String()
    spent = schemas.Money()
    allocated_unspent = schemas.Money()


class PublicObligationRow(schemas.Schema):
    reference = ma.fields.String()
    purpose = ma.fields.String()
    service = ma.fields.String()
    secured = schemas.Money(allow_none=True)
    units = ma.fields.Integer(allow_none=True)
    unit_kind = ma.fields.String(allow_none=True)
    money = ma.fields.Nested(PublicMoney)


class PublicAgreement(schemas.Schema):
    reference = ma.fields.String()
    type = ma.fields.String()
    site_name = ma.fields.String(allow_none=True)
    planning_application = ma.fields.String(allow_none=True)
    planning_application_url = ma.fields.String(allow_none=True)
    document_url = ma.fields.String(allow_none=True)
    signed_on = ma.fields.Date()
    developer = ma.fields.String(allow_none=True)
    dwellings = ma.fields.Integer(allow_none=True)
    authority = ma.fields.Nested(PublicPlace)
    division = ma.fields.Nested(PublicPlace, allow_none=True)
    obligations = ma.fields.List(ma.fields.Nested(PublicObligationRow))
    projects = ma.fields.List(ma.fields.Nested(PublicProjectRow))
    money = ma.fields.Nested(PublicMoney)


class PublicFundingRow(schemas.Schema):
    agreement_reference = ma.fields.String()
    site_name = ma.fields.String(allow_none=True)
    spent = schemas.Money()
    allocated_unspent = schemas.Money()


class PublicProject(schemas.Schema):
    reference = ma.fields.String()
    name = ma.fields.String()
    service = ma.fields.String()
    division = ma.fields.Nested(PublicPlace, allow_none=True)
    spent = schemas.Money()
    allocated_unspent = schemas.Money()
    funded_by = ma.fields.List(ma.fields.Nested(PublicFundingRow))


class PublicServiceMoney(schemas.Schema):
    service = ma.fields.String()
    secured = schemas.Money()
    money = ma.fields.Nested(PublicMoney)


class PublicDivision(schemas.Schema):
    division = ma.fields.Nested(PublicPlace)
    authority = ma.fields.Nested(PublicPlace)
    secured = schemas.Money()
    money = ma.fields.Nested(PublicMoney)
    services = ma.fields.List(ma.fields.Nested(PublicServiceMoney))
    agreements = ma.fields.List(ma.fields.Nested(PublicAgreementRow))
    projects = ma.fields.List(ma.fields.Nested(PublicProjectRow))


class PublicAuthorityDivisions(schemas.Schema):
    authority = ma.fields.Nested(PublicPlace)
    divisions = ma.fields.List(ma.fields.Nested(PublicPlace))


class PublicSearch(schemas.Filters):
    q = schemas.Text(max_length=200, metadata={"description": "text in the reference, site, application or developer"})


@blp.route("/figures")
class Figures(MethodView):
    @blp.doc(**OPEN)
    @blp.response(200, PublicYearFigures(many=True))
    def get(self) -> list[queries.YearFigures]:
        """This financial year so far and the last, by class: received, spent and held"""
        return queries.year_figures(get_session(), today=clock.today())


@blp.route("/agreements")
class Agreements(MethodView):
    @blp.doc(**OPEN)
    @blp.arguments(PublicSearch, location="query")
    @blp.response(200, PublicAgreementRow(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[queries.AgreementRow]:
        """Signed agreements, newest first, filtered by authority, division, purpose, service and text"""
        filters = Filters(**{k: args.get(k) for k in ("authority", "division", "purpose", "service")},
                          search=args.get("q"))
        found = queries.search_agreements(get_session(), filters, page=pagination_parameters.page,
                                          page_size=pagination_parameters.page_size)
        pagination_parameters.item_count = found.total
        return found.rows


@blp.route("/agreements/<path:reference>")
class AgreementByReference(MethodView):
    @blp.doc(**OPEN)
    @blp.response(200, PublicAgreement)
    def get(self, reference: str) -> queries.AgreementPage:
        """A signed agreement: its details, obligations, money to date and the projects it paid for"""
        return _found(queries.agreement_page(get_session(), reference, today=clock.today()), "agreement", reference)


@blp.route("/projects/<path:reference>")
class ProjectByReference(MethodView):
    @blp.doc(**OPEN)
    @blp.response(200, PublicProject)
    def get(self, reference: str) -> queries.ProjectPage:
        """A project: money spent on it and allocated to it, and the agreements it came from"""
        return _found(queries.project_page(get_session(), reference, today=clock.today()), "project", reference)


@blp.route("/divisions")
class Divisions(MethodView):
    @blp.doc(**OPEN)
    @blp.response(200, PublicAuthorityDivisions(many=True))
    def get(self) -> list[queries.AuthorityDivisions]:
        """Every electoral division, by planning authority"""
        return queries.divisions(get_session())


@blp.route("/divisions/<code>")
class DivisionByCode(MethodView):
    @blp.doc(**OPEN)
    @blp.response(200, PublicDivision)
    def get(self, code: str) -> queries.DivisionPage:
        """A division: its agreements' money to date by service, and the projects it paid for"""
        return _found(queries.division_page(get_session(), code, today=clock.today()), "division", code)


def _found(record: Any, what: str, key: str) -> Any:
    if record is None:
        abort(404, description=f"no {what} {key!r}")
    return record
