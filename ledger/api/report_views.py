"""Report downloads: the IFS workbook and the at-risk report."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app
from flask.views import MethodView

from ledger import __version__, clock
from ledger.api import schemas
from ledger.api.common import Blueprint, filters
from ledger.domain.dates import financial_year_label
from ledger.extensions import band_thresholds, download, get_session
from ledger.services import balances, registry
from ledger.services.ifs import ifs_report
from ledger.services.reviews import latest_reviews
from reports.at_risk import at_risk_csv, at_risk_workbook
from reports.ifs_workbook import build_ifs_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
reports = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Report downloads")


class IfsQuery(schemas.Schema):
    year = schemas.Whole(required=True, minimum=2000, maximum=2100,
                         metadata={"description": "reported year: 2023 means 2023/24"})
    as_known_at = schemas.Moment()
    edition = ma.fields.String(load_default="internal", validate=ma.validate.OneOf(["public", "internal"]),
                               metadata={"description": "public: what the council publishes (no money at risk, "
                                                        "no repayment deadlines); internal: everything"})


class AtRiskDownloadQuery(schemas.Filters):
    as_of = schemas.LedgerDate()
    format = ma.fields.String(load_default="xlsx", validate=ma.validate.OneOf(["xlsx", "csv"]))


@reports.route("/ifs")
class IfsWorkbook(MethodView):
    @reports.arguments(IfsQuery, location="query")
    @reports.response(200, content_type=XLSX, description="The IFS workbook")
    def get(self, args: dict[str, Any]) -> Response:
        """The Infrastructure Funding Statement workbook for a reported year"""
        report = ifs_report(get_session(), year=args["year"], as_known_at=args.get("as_known_at"), **band_thresholds())
        label = financial_year_label(args["year"]).replace("/", "-")
        workbook = build_ifs_workbook(report, edition=args["edition"], council=current_app.config["COUNCIL_NAME"])
        suffix = "-public" if args["edition"] == "public" else ""
        return download(workbook, mimetype=XLSX, filename=f"ifs-{label}{suffix}.xlsx")


@reports.route("/at-risk")
class AtRiskDownload(MethodView):
    @reports.arguments(AtRiskDownloadQuery, location="query")
    @reports.response(200, content_type=XLSX, description="The at-risk workbook, or CSV with format=csv")
    def get(self, args: dict[str, Any]) -> Response:
        """The at-risk report as a workbook or CSV"""
        day = args.get("as_of") or clock.today()
        rows = balances.at_risk(get_session(), as_of=day, filters=filters(args), **band_thresholds())
        reviewed = latest_reviews(get_session(), {r.obligation_reference for r in rows})
        if args["format"] == "csv":
            # The CSV's columns are SPEC section 6's exactly; the officers' pages add the reviews.
            return download(at_risk_csv(rows), mimetype="text/csv", filename=f"at-risk-{day.isoformat()}.csv")
        workbook = at_risk_workbook(rows, as_of=day, version=__version__, council=current_app.config["COUNCIL_NAME"],
                                    reviews=reviewed, **registry.place_names(get_session()))
        return download(workbook, mimetype=XLSX,
                        filename=f"at-risk-{day.isoformat()}.xlsx")
