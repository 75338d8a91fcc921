"""Lists people can use (issue 15 item 4): agreements, money at risk, projects, income due
and the audit log, each filtered, sorted by its columns and paged, all but the audit log
downloadable as CSV of exactly what the filters chose."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from ledger import clock
from ledger.domain.vocab import BAND_LABELS, Band, Purpose, Role, service_label
from ledger.extensions import band_thresholds, download, get_session
from ledger.models import Agreement
from ledger.services import audit, balances, income, listing, registry
from ledger.services.reviews import latest_reviews
from ledger.web import bp
from ledger.web.auth import requires
from ledger.web.views import (
    PAGE_SIZE,
    _page,
    date_box_values,
    date_boxes_arg,
    day,
    query_arg,
    text_value,
    year,
)
from reports.at_risk import at_risk_csv
from reports.workbook import csv_text


def choice(*allowed: str) -> Callable[[str], str]:
    """A query-string parser taking one of ``allowed``."""
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"choose one of {', '.join(allowed)}")
        return text
    return parse


def sorting(columns: Mapping[str, Any], *, default: str, default_descending: bool) -> tuple[str, bool]:
    """The ``sort`` column and ``order`` of the query string: a column chosen without an
    order sorts ascending."""
    sort = query_arg("sort", choice(*columns))
    order = query_arg("order", choice("asc", "desc"))
    if sort is None:
        return default, default_descending if order is None else order == "desc"
    return sort, order == "desc"


def _pages(total: int) -> int:
    return max((total - 1) // PAGE_SIZE + 1, 1)


@bp.app_template_filter("uk_time")
def uk_time(moment: datetime) -> str:
    """A moment as the UK's clocks showed it, with the zone (GMT or BST): 15 July 2025, 14:00:00 BST."""
    local = moment.astimezone(audit.UK)
    return f"{local.day} {local:%B %Y, %H:%M:%S %Z}"


def _choices(*, services: bool = True, years: bool = True,
             naming: Iterable[str | None] = ()) -> listing.AgreementChoices:
    """The filters' choices, for the authority and division asked for (and the services and
    years, where the list filters by them; and the names of the divisions ``naming``, a
    page's rows, where the choices are only some)."""
    return listing.agreement_choices(get_session(), authority=query_arg("authority", text_value),
                                     division=query_arg("division", text_value), services=services, years=years,
                                     naming=naming)


def _names_by_code(choices: listing.AgreementChoices | None = None) -> dict[str, dict[str, str]]:
    """The names of the authorities and divisions by code: from the filters' choices where a
    page has read them already (with the divisions its rows name, asked for by ``naming``)."""
    if choices is not None:
        divisions = {code: name for code, name, _ in choices.divisions} | choices.named_divisions
        return {"authorities_by_code": dict(choices.authorities), "divisions_by_code": divisions}
    names = registry.place_names(get_session())
    return {"authorities_by_code": names["authorities"], "divisions_by_code": names["divisions"]}


# -- agreements ----------------------------------------------------------------------------
def _agreement_filters() -> registry.Filters:
    """The agreements page's query string as filters."""
    return registry.Filters(**{name: query_arg(name, text_value) or None
                               for name in ("authority", "division", "purpose", "service")},
                            search=query_arg("q", text_value), signed_in_year=query_arg("year", year))


def _agreements(*, paged: bool) -> tuple[list[Any], int, int, str, bool]:
    sort, descending = sorting(listing.AGREEMENT_SORTS, default="signed", default_descending=True)
    page = _page()
    urgent_on = clock.today() if query_arg("at_risk", text_value) else None
    rows, total = listing.agreement_list(
        get_session(), _agreement_filters(), offset=(page - 1) * PAGE_SIZE if paged else None,
        limit=PAGE_SIZE if paged else None, urgent_on=urgent_on, sort=sort, descending=descending,
        **band_thresholds())
    return rows, total, page, sort, descending


@bp.get("/agreements")
@requires()
def agreements() -> ResponseReturnValue:
    rows, total, page, sort, descending = _agreements(paged=True)
    choices = _choices(naming=(a.division_code for a in rows))
    return render_template(
        "agreements.html", agreements=rows, total=total, page=page, pages=_pages(total), sort=sort,
        descending=descending, authorities=choices.authorities, divisions=choices.divisions,
        divisions_narrowed=choices.divisions_narrowed,
        purposes=[str(p) for p in Purpose], services=choices.services, years=choices.years, args=request.args,
        service_label=service_label, **_names_by_code(choices))


AGREEMENT_FIELDS = ("reference", "type", "site_name", "planning_application", "developer", "authority_code",
                    "authority", "division_code", "division", "signed_on", "commencement_on", "completion_on",
                    "dwellings", "needs_review")


@bp.get("/agreements.csv")
@requires()
def agreements_csv() -> ResponseReturnValue:
    rows, *_ = _agreements(paged=False)
    names = registry.place_names(get_session())
    named = [SimpleNamespace(**{column.key: getattr(a, column.key) for column in Agreement.__table__.columns},
                             authority=names["authorities"].get(a.authority_code, a.authority_code),
                             division=names["divisions"].get(a.division_code or "", a.division_code))
             for a in rows]
    return download(csv_text(named, AGREEMENT_FIELDS), mimetype="text/csv",
                    filename=f"agreements-{clock.today().isoformat()}.csv")


# -- money at risk -------------------------------------------------------------------------
def _at_risk_filters() -> registry.Filters:
    return registry.Filters(**{name: query_arg(name, text_value) or None for name in ("authority", "division", "service")})


def _at_risk() -> tuple[list[Any], str, bool]:
    filters = _at_risk_filters()
    sort, descending = sorting(listing.AT_RISK_SORTS, default="deadline", default_descending=False)
    rows = listing.at_risk_list(get_session(), filters, as_of=clock.today(), band=query_arg("band", choice(*Band)),
                                sort=sort, descending=descending, **band_thresholds())
    return rows, sort, descending


@bp.get("/at-risk")
@requires()
def at_risk() -> ResponseReturnValue:
    s = get_session()
    page = _page()
    sort, descending = sorting(listing.AT_RISK_SORTS, default="deadline", default_descending=False)
    found = balances.at_risk_page(
        s, as_of=clock.today(), filters=_at_risk_filters(), band=query_arg("band", choice(*Band)),
        offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, **band_thresholds(),
    ) if (sort, descending) == ("deadline", False) else None
    if found is None:  # another order: the whole list, sorted here
        rows, sort, descending = _at_risk()
        found = balances.AtRiskPage(rows=rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], total=len(rows),
                                    remaining=sum((r.remaining for r in rows), Decimal(0)))
    choices = _choices(years=False, naming=(r.division_code for r in found.rows))
    # Each row's latest review: asked for only of the obligations the rows say have one.
    shown = {r.obligation_reference for r in found.rows}
    asked = shown if found.reviewed is None else shown & found.reviewed
    return render_template(
        "at_risk.html", rows=found.rows, total=found.total, latest=latest_reviews(s, asked) if asked else {},
        remaining=found.remaining, page=page, pages=_pages(found.total),
        sort=sort, descending=descending, today=clock.today(), args=request.args,
        authorities=choices.authorities, divisions=choices.divisions,
        divisions_narrowed=choices.divisions_narrowed, services=choices.services,
        bands=list(Band), band_labels=BAND_LABELS, service_label=service_label,
        **_names_by_code(choices))


@bp.get("/at-risk.csv")
@requires()
def at_risk_download_filtered() -> ResponseReturnValue:
    rows, _, _ = _at_risk()
    return download(at_risk_csv(rows, latest_reviews(get_session(), {r.obligation_reference for r in rows})),
                    mimetype="text/csv", filename=f"at-risk-{clock.today().isoformat()}.csv")


# -- audit log -----------------------------------------------------------------------------
#: The pages of records the log names, by the table it names them with.
RECORD_PAGES = {"agreements": ("web.agreement", "reference"), "obligations": ("web.obligation", "reference"),
                "projects": ("web.project", "reference"), "divisions": ("web.division", "code")}


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[tuple[str, Any, Any]]:
    """Each field an event changed, with its value before and after (None where absent)."""
    before, after = before or {}, after or {}
    fields = list(before) + [field for field in after if field not in before]
    return [(field, before.get(field), after.get(field)) for field in fields if before.get(field) != after.get(field)]


@bp.get("/audit")
@requires(Role.ADMIN)
def audit_log() -> ResponseReturnValue:
    s = get_session()
    errors: dict[str, list[str]] = {}
    since, until = date_boxes_arg("from", "Date from", errors), date_boxes_arg("to", "Date to", errors)
    if since and until and since > until:
        errors["to"] = ["Date to must be the same as or after date from"]
    filters = audit.EventFilters(actor=query_arg("user", text_value), target_type=query_arg("type", text_value),
                                 target_reference=query_arg("record", text_value),
                                 since=None if errors else since, until=None if errors else until)
    page = _page()
    rows, total = audit.list_events(s, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, filters=filters)
    return render_template("audit.html", rows=rows, total=total, page=page, pages=_pages(total), args=request.args,
                           values=date_box_values(request.args, "from", "to"), errors=errors,
                           target_types=audit.target_types(s), record_pages=RECORD_PAGES,
                           changes=changes), 400 if errors else 200


# -- projects ------------------------------------------------------------------------------
def _projects() -> tuple[list[listing.ProjectRow], str, bool]:
    filters = registry.Filters(division=query_arg("division", text_value) or None,
                               service=query_arg("service", text_value) or None)
    sort, descending = sorting(listing.PROJECT_SORTS, default="reference", default_descending=False)
    rows = listing.project_list(get_session(), filters, on=clock.today(), search=query_arg("q", text_value) or None,
                                sort=sort, descending=descending)
    return rows, sort, descending


@bp.get("/projects")
@requires()
def projects() -> ResponseReturnValue:
    s = get_session()
    rows, sort, descending = _projects()
    page = _page()
    # No authority to choose first; the services are the projects' own.
    choices = listing.agreement_choices(s, narrow=False, services=False, years=False)
    return render_template(
        "projects.html", rows=rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], total=len(rows), page=page,
        pages=_pages(len(rows)), sort=sort, descending=descending, args=request.args, today=clock.today(),
        divisions=choices.divisions, services=sorted(listing.project_services(s), key=service_label),
        service_label=service_label, spent=sum((r.spent for r in rows), Decimal(0)),
        allocated=sum((r.allocated_unspent for r in rows), Decimal(0)), **_names_by_code())


PROJECT_FIELDS = ("reference", "name", "service", "service_code", "division", "division_code", "repays_borrowing",
                  "spent", "transferred", "allocated_unspent")


@bp.get("/projects.csv")
@requires()
def projects_csv() -> ResponseReturnValue:
    rows, _, _ = _projects()
    divisions = registry.place_names(get_session())["divisions"]
    named = [SimpleNamespace(**{field: getattr(r, field) for field in PROJECT_FIELDS if hasattr(r, field)}
                             | {"service": service_label(r.service), "service_code": r.service,
                                "division": divisions.get(r.division_code or "", r.division_code)}) for r in rows]
    return download(csv_text(named, PROJECT_FIELDS), mimetype="text/csv",
                    filename=f"projects-{clock.today().isoformat()}.csv")


# -- income due ----------------------------------------------------------------------------
#: The query's filters of the income due list.
INCOME_DUE_FILTERS = ("authority", "division", "overdue")


def _income_due() -> tuple[list[Any], date, str, bool]:
    today = query_arg("as_of", day) or clock.today()
    sort, descending = sorting(listing.INCOME_DUE_SORTS, default="since", default_descending=False)
    rows = listing.income_due_list(get_session(), today=today, authority=query_arg("authority", text_value),
                                   division=query_arg("division", text_value),
                                   overdue_only=bool(query_arg("overdue", text_value)), sort=sort,
                                   descending=descending)
    return rows, today, sort, descending


@bp.get("/income-due")
@requires()
def income_due() -> ResponseReturnValue:
    s = get_session()
    page = _page()
    sort, descending = sorting(listing.INCOME_DUE_SORTS, default="since", default_descending=False)
    if (sort, descending) == ("since", False) and not any(request.args.get(name) for name in INCOME_DUE_FILTERS):
        # The whole list in its own order: the sums up to this page's last, and the count
        # and money of all summed by the database.
        today = query_arg("as_of", day) or clock.today()
        summary = income.income_due_summary(s, today=today, first=page * PAGE_SIZE)
        rows, count = summary.first[(page - 1) * PAGE_SIZE:], summary.count
        total, overdue_total = summary.outstanding, summary.overdue
    else:
        every, today, sort, descending = _income_due()
        rows, count = every[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], len(every)
        total = sum((r.outstanding or Decimal(0) for r in every), Decimal(0))
        overdue_total = sum((r.outstanding or Decimal(0) for r in every if r.overdue), Decimal(0))
    choices = _choices(services=False, years=False, naming=(r.division_code for r in rows))
    return render_template(
        "income_due.html", rows=rows, count=count, today=today, page=page, pages=_pages(count), sort=sort,
        descending=descending, args=request.args, authorities=choices.authorities, divisions=choices.divisions,
        divisions_narrowed=choices.divisions_narrowed,
        total=total, overdue_total=overdue_total, **_names_by_code(choices))


INCOME_DUE_FIELDS = ("agreement_reference", "obligation_reference", "developer", "authority", "authority_code",
                     "division", "division_code", "reference", "trigger", "due_on", "amount", "paid", "outstanding",
                     "days_outstanding", "overdue", "how_worked_out")


@bp.get("/income-due.csv")
@requires()
def income_due_csv() -> ResponseReturnValue:
    rows, today, _, _ = _income_due()
    names = registry.place_names(get_session())
    named = [SimpleNamespace(**{field: getattr(r, field) for field in INCOME_DUE_FIELDS if hasattr(r, field)},
                             authority=names["authorities"].get(r.authority_code, r.authority_code),
                             division=names["divisions"].get(r.division_code or "", r.division_code)) for r in rows]
    return download(csv_text(named, INCOME_DUE_FIELDS), mimetype="text/csv", filename=f"income-due-{today}.csv")
