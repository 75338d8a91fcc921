"""A county division's page for its councillors (issue 15): its money, the projects its
contributions paid for wherever they are, money per agreement and per service, and the
same as a workbook and a CSV for a report to residents. Every signed-in role reads it."""

from __future__ import annotations

from decimal import Decimal

from flask import render_template
from flask.typing import ResponseReturnValue

from ledger import __version__, clock
from ledger.domain.vocab import BAND_LABELS, service_label
from ledger.extensions import band_thresholds, download, get_session
from ledger.services import balances, overview, registry
from ledger.services.division_report import division_report
from ledger.web import bp, charts
from ledger.web.auth import requires
from ledger.web.views import XLSX
from reports.division import division_csv, division_workbook


@bp.get("/divisions/<code>")
@requires()
def division(code: str) -> ResponseReturnValue:
    s = get_session()
    today = clock.today()
    summary = balances.division_summary(s, code, on=today, with_projects=False, **band_thresholds())
    report = division_report(s, code, on=today, division=summary.division)
    money_chart = charts.horizontal_bars([
        charts.Bar("Secured", summary.secured, "bar secured"), charts.Bar("Received", summary.received, "bar received"),
        charts.Bar("Spent", summary.spent, "bar spent"), charts.Bar("Transferred", summary.transferred, "bar spent"),
        charts.Bar("Repaid", summary.repaid, "bar repaid"), charts.Bar("Held", summary.held, "bar held"),
    ], title=f"Developer contributions in {summary.division.name}")
    risk_chart = charts.horizontal_bars(
        [charts.Bar(BAND_LABELS[b], summary.at_risk[b], f"bar band-{b}") for b in overview.URGENT],
        title=f"Money at risk in {summary.division.name}")
    return render_template("division.html", summary=summary, report=report, money_chart=money_chart,
                           risk_chart=risk_chart, service_label=service_label,
                           urgent=sum((summary.at_risk[b] for b in overview.URGENT), Decimal(0)))


@bp.get("/divisions/<code>.<any(xlsx, csv):fmt>")
@requires()
def division_download(code: str, fmt: str) -> ResponseReturnValue:
    s = get_session()
    report = division_report(s, code, on=clock.today())
    divisions = registry.place_names(s)["divisions"]
    name = f"division-{code}-{report.on.isoformat()}.{fmt}"
    if fmt == "csv":
        return download(division_csv(report, divisions=divisions), mimetype="text/csv", filename=name)
    return download(division_workbook(report, divisions=divisions, version=__version__), mimetype=XLSX,
                    filename=name)
