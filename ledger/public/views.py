"""The public pages under /public: each view reads one function of ledger.public.queries
and renders its records. Nothing here signs anyone in or needs a session (serving)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from ledger import clock, errors
from ledger.domain.dates import financial_year_label
from ledger.extensions import download, get_session
from ledger.public import PREFIX, queries, serving
from ledger.services.registry import Filters

bp = Blueprint("public", __name__, url_prefix=PREFIX)
serving.attach(bp)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What the search form's fields may hold: codes are String(64) columns; text is a search.
FIELD_LENGTHS = {"authority": 64, "division": 64, "service": 64, "purpose": 64, "q": 200}
MAX_PAGE = 1_000_000


def query_value(name: str) -> str | None:
    """A search field's value; blank is none. Too long or holding control characters is a
    400 naming the field."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if len(text) > FIELD_LENGTHS[name] or not text.isprintable():
        abort(400, description=f"{name}: at most {FIELD_LENGTHS[name]} printable characters.")
    return text


def page_number() -> int:
    text = request.args.get("page", "").strip() or "1"
    if not re.fullmatch(r"[0-9]{1,7}", text) or not 1 <= int(text) <= MAX_PAGE:
        abort(400, description=f"page: a whole number from 1 to {MAX_PAGE:,}.")
    return int(text)


def council() -> str | None:
    return current_app.config.get("COUNCIL_NAME") or None


@bp.get("")
def start() -> ResponseReturnValue:
    session = get_session()
    return render_template("public/start.html", years=queries.year_figures(session, today=clock.today()),
                           choices=queries.choices(session))


@bp.get("/")
def start_with_slash() -> ResponseReturnValue:
    return redirect(url_for("public.start"), code=308)


@bp.get("/agreements")
def agreements() -> ResponseReturnValue:
    session = get_session()
    asked = {name: query_value(name) for name in FIELD_LENGTHS}
    filters = Filters(authority=asked["authority"], division=asked["division"], service=asked["service"],
                      purpose=asked["purpose"], search=asked["q"])
    results = queries.search_agreements(session, filters, page=page_number())
    return render_template("public/agreements.html", results=results, asked=asked, choices=queries.choices(session),
                           args={name: value for name, value in asked.items() if value})


@bp.get("/agreements/<path:reference>")
def agreement(reference: str) -> ResponseReturnValue:
    found = queries.agreement_page(get_session(), reference, today=clock.today())
    if found is None:
        abort(404, description=f"There is no signed agreement {reference}.")
    return render_template("public/agreement.html", agreement=found)


@bp.get("/projects/<path:reference>")
def project(reference: str) -> ResponseReturnValue:
    found = queries.project_page(get_session(), reference, today=clock.today())
    if found is None:
        abort(404, description=f"There is no project {reference}.")
    return render_template("public/project.html", project=found)


@bp.get("/divisions")
def divisions() -> ResponseReturnValue:
    return render_template("public/divisions.html", authorities=queries.divisions(get_session()))


@bp.get("/divisions/<code>")
def division(code: str) -> ResponseReturnValue:
    found = queries.division_page(get_session(), code, today=clock.today())
    if found is None:
        abort(404, description=f"There is no division {code}.")
    return render_template("public/division.html", page=found)


@bp.get("/data")
def data() -> ResponseReturnValue:
    return render_template("public/data.html", downloads=queries.downloads(get_session(), today=clock.today()))


@bp.get("/data/ifs-<int:year>.xlsx")
def statement(year: int) -> ResponseReturnValue:
    session = get_session()
    if year not in queries.downloads(session, today=clock.today()).ifs_years:
        abort(404, description=f"There is no published statement for {year}.")
    label = financial_year_label(year).replace("/", "-")
    return download(queries.public_statement(session, year=year, council=council()), mimetype=XLSX,
                    filename=f"infrastructure-funding-statement-{label}.xlsx")


@bp.get("/data/<name>")
def gov_file(name: str) -> ResponseReturnValue:
    if name not in queries.GOV_FILES:
        abort(404, description=f"There is no file {name}.")
    return download(queries.gov_csv_files(get_session())[name], mimetype="text/csv", filename=name)


@bp.get("/accessibility")
def accessibility() -> ResponseReturnValue:
    return render_template("public/accessibility.html")


@bp.get("/<path:anything>")
def not_found(anything: str) -> ResponseReturnValue:
    """Any other public address: the public pages' own 'not found'."""
    abort(404)


@bp.errorhandler(HTTPException)
def public_error(error: HTTPException) -> Response:
    """Errors on the public pages in their own layout (no officer header or sign-in link)."""
    status = error.code or 500
    headers = (getattr(error, "data", None) or {}).get("headers") or {}
    if not errors.wants_html():
        return errors.handle_http_exception(error)
    body = render_template("public/error.html", title=error.name, detail=error.description, status=status)
    return Response(body, status=status, headers=headers, mimetype="text/html")
