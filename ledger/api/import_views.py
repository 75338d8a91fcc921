"""Import history (issue 14): past imports, each with its summary and its issues. Officers
and admins only: the issues quote whatever the councils' files held."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api import schemas
from ledger.api.common import Blueprint, actor
from ledger.domain.vocab import Role
from ledger.errors import problem
from ledger.extensions import get_session, request_action
from ledger.models import ImportIssueRecord, ImportRun
from ledger.services import import_runs
from ledger.services.audit import record_refusal

imports = Blueprint("imports", __name__, url_prefix="/api/v1/imports",
                    description="Past imports with their summary, warnings and rejected rows (officers and admins)")
BLUEPRINTS = (imports,)
READERS = frozenset({Role.OFFICER, Role.ADMIN})


@imports.before_request
def _officers_only() -> ResponseReturnValue | None:
    """After authentication (the app's own before_request): members read the ledger, not this."""
    caller = actor()
    if caller.role in READERS:
        return None
    reason = f"the {caller.role} role cannot {request_action()}"
    record_refusal(get_session(), actor=caller.email, action=request_action(), reason=reason,
                   client=request.remote_addr, target_reference=request.path)
    return problem(403, title="Forbidden", detail=reason, type_slug="forbidden")


def stored_money(description: str | None = None) -> ma.fields.String:
    """Money the run stored as a decimal string (pounds and pence)."""
    metadata = {"pattern": r"^[0-9]{1,13}(\.[0-9]{1,2})?$", "example": "1234.50"}
    return ma.fields.String(metadata=metadata | ({"description": description} if description else {}))


class SummaryLine(schemas.Schema):
    file = ma.fields.String()
    status = ma.fields.String(metadata={"description": "the row's status as the file gave it"})
    rows = ma.fields.Integer()
    source = stored_money("money in the source's rows")
    imported_rows = ma.fields.Integer()
    imported = stored_money()
    unchanged_rows = ma.fields.Integer(metadata={"description": "rows already in the ledger"})
    unchanged = stored_money()
    rejected_rows = ma.fields.Integer()
    rejected = stored_money()


class Run(schemas.Schema):
    id = ma.fields.Integer()
    at = ma.fields.DateTime()
    actor = ma.fields.String(metadata={"description": "who ran the import"})
    format = ma.fields.String(metadata={"enum": list(import_runs.FORMATS)})
    source = ma.fields.String(metadata={"description": "the directory or workbook imported"})
    committed = ma.fields.Boolean()
    created = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                             metadata={"description": "records created, by kind"})
    warnings = ma.fields.Integer()
    rejections = ma.fields.Integer(metadata={"description": "rows rejected"})
    opening_balances = ma.fields.Integer(metadata={"description": "opening balances created (SPEC 8.3)"})
    opening_balance_money = schemas.Money()
    source_money = schemas.Money(metadata={"description": "money moved in the source (every status but agreements "
                                                          "and secured contributions)"})
    imported_money = schemas.Money()
    unchanged_money = schemas.Money(metadata={"description": "money moved already in the ledger"})
    rejected_money = schemas.Money()


class RunWithSummary(Run):
    summary = ma.fields.List(ma.fields.Nested(SummaryLine), metadata={"description": "per file and status"})


class Issue(schemas.Schema):
    severity = ma.fields.String(metadata={"enum": ["warning", "rejected"]})
    kind = ma.fields.String(allow_none=True)
    file = ma.fields.String()
    line = ma.fields.Integer()
    reference = ma.fields.String()
    status = ma.fields.String()
    amount = schemas.Money(allow_none=True, metadata={"pattern": r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$",
                                                      "description": "pounds, as the row held (a sign kept)"})
    field = ma.fields.String()
    reason = ma.fields.String()


class IssueQuery(schemas.Schema):
    severity = ma.fields.String(validate=ma.validate.OneOf(["warning", "rejected"]))


@imports.route("")
class Imports(MethodView):
    @imports.response(200, Run(many=True))
    @imports.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[ImportRun]:
        """Past imports, newest first"""
        runs, pagination_parameters.item_count = import_runs.list_runs(
            get_session(), offset=pagination_parameters.first_item, limit=pagination_parameters.page_size)
        return runs


@imports.route("/<int(max=2147483647):run_id>")
class ImportRunView(MethodView):
    @imports.response(200, RunWithSummary)
    def get(self, run_id: int) -> ImportRun:
        """One import with its summary per file and status"""
        return import_runs.get_run(get_session(), run_id)


@imports.route("/<int(max=2147483647):run_id>/issues")
class ImportIssues(MethodView):
    @imports.arguments(IssueQuery, location="query")
    @imports.response(200, Issue(many=True))
    @imports.paginate()
    def get(self, args: dict[str, Any], run_id: int, pagination_parameters: PaginationParameters,
            ) -> list[ImportIssueRecord]:
        """One import's warnings and rejected rows, in file and line order"""
        s = get_session()
        import_runs.get_run(s, run_id)
        issues, pagination_parameters.item_count = import_runs.issues_of(
            s, run_id, severity=args.get("severity"), offset=pagination_parameters.first_item,
            limit=pagination_parameters.page_size)
        return issues
