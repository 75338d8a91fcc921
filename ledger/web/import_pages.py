"""Import history pages (issue 14): past imports with their summary, every issue page by
page, and the report of every issue to download. Officers and admins; members get 403."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from ledger.extensions import download, get_session
from ledger.services import import_runs
from ledger.web import bp
from ledger.web.auth import officer_or_admin
from ledger.web.views import PAGE_SIZE, _page, query_arg
from reports.workbook import csv_text

FORMAT_NAMES = {"gov-csv": "Government CSV files", "tracker": "Spreadsheet tracker"}
SEVERITY_NAMES = {"warning": "Warning", "rejected": "Rejected"}
#: Run ids are 32-bit: a bigger number in the path is no run, never a database error.
LARGEST_ID = 2**31 - 1


def severity(text: str) -> str:
    if text not in SEVERITY_NAMES:
        raise ValueError("choose warning or rejected")
    return text


def _pages(total: int) -> int:
    return max((total - 1) // PAGE_SIZE + 1, 1)


@bp.get("/imports")
@officer_or_admin
def imports() -> ResponseReturnValue:
    page = _page()
    runs, total = import_runs.list_runs(get_session(), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_template("imports.html", runs=runs, total=total, page=page, pages=_pages(total),
                           format_names=FORMAT_NAMES)


@bp.get(f"/imports/<int(max={LARGEST_ID}):run_id>")
@officer_or_admin
def import_run(run_id: int) -> ResponseReturnValue:
    s = get_session()
    run = import_runs.get_run(s, run_id)
    chosen, page = query_arg("severity", severity), _page()
    issues, total = import_runs.issues_of(s, run_id, severity=chosen, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_template("import_run.html", run=run, issues=issues, total=total, page=page, pages=_pages(total),
                           chosen=chosen, format_names=FORMAT_NAMES, severity_names=SEVERITY_NAMES)


@bp.get(f"/imports/<int(max={LARGEST_ID}):run_id>/report.csv")
@officer_or_admin
def import_report(run_id: int) -> ResponseReturnValue:
    s = get_session()
    run = import_runs.get_run(s, run_id)
    issues, _ = import_runs.issues_of(s, run.id)
    return download(csv_text(issues, import_runs.REPORT_FIELDS), mimetype="text/csv",
                    filename=f"import-{run.id}-report.csv")
