"""The pages. Each view reads through the services, or calls one service to write."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlparse

import marshmallow as ma
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.urls import iri_to_uri

from ledger import __version__, clock
from ledger.api import schemas
from ledger.domain.dates import financial_year_of
from ledger.domain.entry_kinds import KINDS
from ledger.domain.errors import LedgerError
from ledger.domain.rules import band_for
from ledger.domain.vocab import BAND_LABELS, Band, Index, Role, service_label
from ledger.extensions import band_thresholds, download, get_session
from ledger.models import Agreement, Project
from ledger.services import balances, income, listing, overview, registry, users
from ledger.services.ifs import ifs_report
from ledger.services.reviews import latest_reviews
from ledger.web import bp, charts, layout
from ledger.web.auth import (
    csrf,
    current_actor,
    known_device,
    remember_device,
    requires,
    start_session,
)
from ledger.web.forms import DATE_PARTS, date_boxes, field_errors, form_values, joined_date
from reports.at_risk import at_risk_csv, at_risk_workbook
from reports.ifs_workbook import Edition, build_ifs_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND_LABELS = {rule.kind: rule.label for rule in KINDS}
PAGE_SIZE = 50
#: A county has a hundred divisions or fewer: one page; a national ledger has many.
DIVISIONS_PAGE = 100
#: Dates a page accepts in its query string (the API's schemas take the same range).
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)
MAX_QUERY_TEXT = 200
MAX_PAGE = 1_000_000
T = TypeVar("T")


@bp.before_request
def _check_request() -> None:
    # A control character has no business in a path, and PostgreSQL refuses NUL in text:
    # answer 400 here rather than a 500 from the database.
    if not request.path.isprintable() or any("\x00" in value for value in request.form.values()):
        abort(400, description="The address or the form holds characters no page reads.")
    if request.method == "POST":
        csrf.protect()


# -- query strings -------------------------------------------------------------------------
def query_arg(name: str, parse: Callable[[str], T]) -> T | None:
    """A query-string value read by ``parse``; None when absent or blank. Anything else
    unreadable (control characters, too long, out of range) is a 400 page naming it."""
    text = request.args.get(name, "")
    if not text:
        return None
    if len(text) > MAX_QUERY_TEXT or not text.isprintable():
        abort(400, description=f"{name}: not a value this page can read.")
    try:
        return parse(text)
    except ValueError as error:
        abort(400, description=f"{name}: {error}")


def text_value(text: str) -> str:
    return text.strip()


def page_number(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,7}", text) or not 1 <= int(text) <= MAX_PAGE:
        raise ValueError(f"a page number from 1 to {MAX_PAGE:,}")
    return int(text)


def day(text: str) -> date:
    """An ISO date (YYYY-MM-DD) from 1900 to 2199."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError("a date as YYYY-MM-DD")
    value = date.fromisoformat(text)
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"a date from {EARLIEST} to {LATEST}")
    return value


def year(text: str) -> int:
    """A financial year by the calendar year it starts in, 1900 to 2198."""
    if not re.fullmatch(r"[0-9]{4}", text) or not EARLIEST.year <= int(text) < LATEST.year:
        raise ValueError(f"a year from {EARLIEST.year} to {LATEST.year - 1}")
    return int(text)


def date_boxes_arg(name: str, label: str, errors: dict[str, list[str]]) -> date | None:
    """A date a page is asked for in its query string: the GOV.UK date input's boxes
    (``{name}-day``, ``-month``, ``-year``), or the ISO ``name`` links and bookmarks use.
    A date the boxes do not make is an error under ``name`` in GOV.UK words; None then, and
    when no date is given."""
    parts = {part: query_arg(f"{name}-{part}", text_value) or "" for part in DATE_PARTS}
    if not any(parts.values()):
        return query_arg(name, day)
    missing = [part for part in DATE_PARTS if not parts[part]]
    if missing:
        errors[name] = [f"{label} must include a {' and a '.join(missing)}"]
        return None
    try:
        return day(joined_date({f"{name}-{part}": value for part, value in parts.items()}, name) or "")
    except ValueError:
        errors[name] = [f"{label} must be a real date between {EARLIEST.year} and {LATEST.year}, like 31 3 2025"]
        return None


def date_box_values(args: Mapping[str, str], *names: str) -> dict[str, str]:
    """The query string as a date input shows it: an ISO date in ``name`` fills its boxes."""
    values = dict(args)
    for name in names:
        iso = args.get(name, "")
        if iso and not any(args.get(f"{name}-{part}") for part in DATE_PARTS):
            try:
                given = date.fromisoformat(iso)
            except ValueError:
                continue
            values |= {f"{name}-{part}": value for part, value in date_boxes(given).items()}
    return values


@bp.app_context_processor
def _layout() -> dict[str, Any]:
    actor = current_actor()
    section = layout.nav_section(request.path, my_division=actor.division_code if actor else None)
    return {"band_labels": BAND_LABELS, "kind_labels": KIND_LABELS, "version": __version__, "Role": Role,
            "nav_section": section, "role_names": layout.ROLE_NAMES}


# -- signing in ----------------------------------------------------------------------------
def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host (`//evil`, `/\\evil`, which browsers
    read as `//evil`), and nothing that could end a header line."""
    if (not target or len(target) > 2000 or not target.startswith("/") or target.startswith(("//", "/\\"))
            or not target.isprintable() or "\\" in target):
        return None
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc:
        return None
    return iri_to_uri(target)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    errors: dict[str, list[str]] = {}
    status, headers = 200, {}
    email, password = request.form.get("email", ""), request.form.get("password", "")
    if request.method == "POST":
        # A blank field is no attempt: it is named, and counts against nobody's sign-ins.
        if not email.strip():
            errors["email"] = ["Enter your email address"]
        if not password:
            errors["password"] = ["Enter your password"]
        if errors:
            return render_template("login.html", errors=errors, email=email), 422
        try:
            actor = users.sign_in(get_session(), email, password, client=request.remote_addr,
                                  known_device=known_device(email))
        except users.SignInThrottled as throttled:
            errors["email"] = [str(throttled).rstrip(".")]
            status, headers = 429, {"Retry-After": str(throttled.retry_after)}
        except users.SignInRefused as refused:
            errors["email"] = [str(refused).rstrip(".")]
            status = 401
        else:
            start_session(actor)
            response = redirect(_safe_next(request.args.get("next")) or url_for("web.home"))
            remember_device(response, actor.email)
            return response
    return render_template("login.html", errors=errors, email=email), status, headers


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    actor = current_actor()
    if actor is not None:
        # Ends this session and every other copy of it, wherever the cookie went.
        users.sign_out(get_session(), actor.email, client=request.remote_addr)
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("web.login"))


@bp.get("/")
@requires()
def home() -> ResponseReturnValue:
    actor = current_actor()
    assert actor is not None
    if actor.role == Role.MEMBER:
        if actor.division_code:
            return redirect(url_for("web.division", code=actor.division_code))
        return redirect(url_for("web.divisions"))
    return redirect(url_for("web.dashboard"))


# -- dashboard -----------------------------------------------------------------------------
@bp.get("/dashboard")
@requires()
def dashboard() -> ResponseReturnValue:
    today = clock.today()
    data = overview.dashboard(get_session(), today=today, **band_thresholds())
    band_chart = charts.horizontal_bars(
        [charts.Bar(BAND_LABELS[b], data.bands[b], f"bar band-{b}") for b in (Band.OVERDUE, Band.RED, Band.AMBER)],
        title="Money at risk of repayment by band")
    months_chart = charts.column_bars(
        [charts.Bar(f"{m:%b %y}", v, "bar") for m, v in data.months],
        title="Money whose repayment deadline falls in each of the next 24 months")
    due = income.income_due_summary(get_session(), today=today)
    return render_template("dashboard.html", data=data, band_chart=band_chart, months_chart=months_chart,
                           divisions=registry.division_names(get_session(), (o.division_code for o in data.largest)),
                           service_label=service_label,
                           urgent=sum((data.bands[b] for b in overview.URGENT), Decimal(0)),
                           due=due.first, due_total=due.outstanding, overdue_total=due.overdue, due_count=due.count)


# -- agreements and obligations ------------------------------------------------------------
@bp.get("/agreements/<path:reference>")
@requires()
def agreement(reference: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Agreement, "reference", reference, what="agreement")
    today = clock.today()
    held = {o.reference: balances.obligation_balance(s, o.reference, on=today).balances for o in found.obligations}
    return render_template("agreement.html", agreement=found, held=held, today=today,
                           instalments=listing.instalments_and_invoices(s, found),
                           milestones=income.milestones_of(s, found))


@bp.get("/obligations/<path:reference>")
@requires()
def obligation(reference: str) -> ResponseReturnValue:
    s = get_session()
    errors: dict[str, list[str]] = {}
    on = date_boxes_arg("on", "The date of the balance", errors) or clock.today()
    result = balances.obligation_balance(s, reference, on=on)
    entries = listing.obligation_entries(s, result.obligation)
    reversed_ids = {e.reverses for e in entries if e.reverses}
    bands = {p.receipt.id: band_for(p.deadline, as_of=on, **band_thresholds()) for p in result.receipts}
    values = date_box_values(request.args, "on") if errors else \
        {f"on-{part}": value for part, value in date_boxes(on).items()}
    return render_template("obligation.html", result=result, obligation=result.obligation, entries=entries,
                           reversed_ids=reversed_ids, bands=bands, on=on, errors=errors, values=values,
                           deadline_date=balances.deadline_date,
                           place_names=registry.names_of_places(s, [result.obligation.agreement.authority_code],
                                                                [result.obligation.agreement.division_code]),
                           service_label=service_label), 400 if errors else 200


def _page() -> int:
    return query_arg("page", page_number) or 1


# -- divisions -----------------------------------------------------------------------------
@bp.get("/divisions")
@requires()
def divisions() -> ResponseReturnValue:
    page = _page()
    total = overview.division_count(get_session())
    rows = overview.division_totals(get_session(), on=clock.today(), offset=(page - 1) * DIVISIONS_PAGE,
                                    limit=DIVISIONS_PAGE, **band_thresholds())
    return render_template("divisions.html", rows=rows, page=page, pages=max((total - 1) // DIVISIONS_PAGE + 1, 1),
                           total=total, args=request.args)


# -- reports and audit ---------------------------------------------------------------------
@bp.get("/reports")
@requires()
def reports() -> ResponseReturnValue:
    """The reports to download. The at-risk workbook's form comes back here to have its date
    checked, so a date that is no date is shown beside its boxes, not on a page of its own."""
    this_year = financial_year_of(clock.today())
    errors: dict[str, list[str]] = {}
    if request.args.get("report") == "at-risk":
        as_of = date_boxes_arg("as_of", "The date of the money at risk", errors)
        if not errors:
            return redirect(url_for("web.at_risk_download", fmt="xlsx", as_of=(as_of or clock.today()).isoformat()))
    values = date_box_values(request.args, "as_of") if errors else \
        {f"as_of-{part}": value for part, value in date_boxes(clock.today()).items()}
    return render_template("reports.html", years=list(range(this_year - 1, 2009, -1)), today=clock.today(),
                           errors=errors, values=values), 400 if errors else 200


@bp.get("/reports/ifs.xlsx")
@requires()
def ifs_download() -> ResponseReturnValue:
    reported = query_arg("year", year)
    if reported is None:
        abort(400, description="year: the reported year is needed.")
    edition = request.args.get("edition", Edition.INTERNAL.value)
    if edition not in set(Edition):
        abort(400, description="edition: choose public or internal.")
    report = ifs_report(get_session(), year=reported, **band_thresholds())
    workbook = build_ifs_workbook(report, edition=edition, council=current_app.config["COUNCIL_NAME"])
    suffix = "-public" if edition == Edition.PUBLIC else ""
    return download(workbook, mimetype=XLSX, filename=f"ifs-{reported}-{(reported + 1) % 100:02d}{suffix}.xlsx")


@bp.get("/reports/at-risk.<fmt>")
@requires()
def at_risk_download(fmt: str) -> ResponseReturnValue:
    as_of = query_arg("as_of", day) or clock.today()
    rows = balances.at_risk(get_session(), as_of=as_of, **band_thresholds())
    reviewed = latest_reviews(get_session(), {r.obligation_reference for r in rows})
    if fmt == "csv":
        return download(at_risk_csv(rows, reviewed), mimetype="text/csv", filename=f"at-risk-{as_of.isoformat()}.csv")
    if fmt == "xlsx":
        workbook = at_risk_workbook(rows, as_of=as_of, version=__version__, council=current_app.config["COUNCIL_NAME"],
                                    reviews=reviewed, **registry.place_names(get_session()))
        return download(workbook, mimetype=XLSX, filename=f"at-risk-{as_of}.xlsx")
    abort(404)


@bp.get("/reports/income-due.<fmt>")
@requires()
def income_due_download(fmt: str) -> ResponseReturnValue:
    from reports.income_due import income_due_csv, income_due_workbook

    today = query_arg("as_of", day) or clock.today()
    rows = income.income_due(get_session(), today=today)
    if fmt == "csv":
        return download(income_due_csv(rows), mimetype="text/csv", filename=f"income-due-{today}.csv")
    if fmt == "xlsx":
        return download(income_due_workbook(rows, as_of=today, version=__version__), mimetype=XLSX, filename=f"income-due-{today}.xlsx")
    abort(404)


@bp.route("/index-values", methods=["GET", "POST"])
@requires()
def index_values() -> ResponseReturnValue:
    s = get_session()
    errors: dict[str, list[str]] = {}
    values = request.form.to_dict() if request.method == "POST" else {}
    if request.method == "POST":
        actor = current_actor()
        if actor is None or actor.role not in (Role.OFFICER, Role.ADMIN):
            abort(403)
        try:
            data = IndexValueForm().load(form_values(values, dates=INDEX_VALUE_DATES))
            income.add_index_values(s, [data], actor=actor)
        except ma.ValidationError as invalid:
            errors = index_value_errors(field_errors(invalid))
        except LedgerError as refused:
            errors = index_value_errors(refused.errors or {"value": [refused.detail]})
        else:
            flash(f"{layout.index_label(data['index'])} for {data['period']:%B %Y} recorded.", "success")
            return redirect(url_for("web.index_values"))
    rows = listing.index_values(s)
    page = _page()
    return render_template("index_values.html", rows=rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], page=page,
                           pages=max((len(rows) - 1) // PAGE_SIZE + 1, 1), args=request.args, errors=errors,
                           values=values, indices=[i for i in Index if i != Index.NONE]), 422 if errors else 200


INDEX_VALUE_DATES = ("period", "published_on")
#: The index value form's fields as its labels name them, and what each must be.
INDEX_VALUE_FIELDS = {
    "index": ("Index", "Choose an index from the list"),
    "period": ("Period", "Enter the first day of the period the value is for, like 1 4 2025"),
    "value": ("Value", "Enter the value as published, like 412.5, with up to 4 decimal places"),
    "published_on": ("Date published", "Enter the date the value was published, like 15 5 2025"),
}


def index_value_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The schema's and the service's refusals of an index value in GOV.UK words, by field:
    each names its field and what it must be."""
    worded: dict[str, list[str]] = {}
    for field, messages in errors.items():
        label, wanted = INDEX_VALUE_FIELDS.get(field, ("Value", INDEX_VALUE_FIELDS["value"][1]))
        for message in messages:
            if message == "already recorded with another value":
                text = ("This index, period and date published already has another value: "
                        "record a revision with a later date published")
            elif message == "must be positive":
                text = f"{label} must be more than 0"
            else:
                text = wanted
            worded.setdefault(field if field in INDEX_VALUE_FIELDS else "value", []).append(text)
    return {field: list(dict.fromkeys(texts)) for field, texts in worded.items()}


class IndexValueForm(schemas.IndexValueSchema):
    @ma.pre_load
    def _form(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data = dict(data)
        data["provisional"] = data.get("provisional") == "yes"
        return data


@bp.get("/accessibility")
def accessibility() -> ResponseReturnValue:
    """The accessibility statement: for everyone, signed in or not."""
    return render_template("accessibility.html", contact=current_app.config.get("ACCESSIBILITY_CONTACT"))


@bp.get("/projects/<path:reference>")
@requires()
def project(reference: str) -> ResponseReturnValue:
    s = get_session()
    found = registry.get_one(s, Project, "reference", reference, what="project")
    spent, count = listing.project_entries(s, found)
    return render_template("project.html", project=found, entries=spent, count=count)


# Pages in modules of their own share this module's helpers, so they are registered after them.
from ledger.web import (  # noqa: E402, F401
    admin_pages,
    division_pages,
    entry_pages,
    import_pages,
    list_pages,
    reconcile_pages,
    reference_pages,
    review_pages,
)
