"""The reads behind the lists the pages and the API show: each a named query, so the views
build no SQL. Collections filter through ``registry.Filters.conditions``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Select,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, joinedload

from ledger.db import page_bound, read_snapshot, written
from ledger.domain.dates import add_months, financial_year_bounds, financial_year_of
from ledger.domain.entry_kinds import KIND_RULES, signed
from ledger.domain.money import ZERO
from ledger.domain.vocab import Band, EntryKind, service_label
from ledger.models import (
    Agreement,
    Authority,
    Division,
    Entry,
    IndexValue,
    Instalment,
    Invoice,
    KeptReceiptPosition,
    KeptUrgentAgreement,
    Obligation,
    Project,
)
from ledger.services import balances, kept, kept_urgent, overview, registry
from ledger.services.income import IncomeDueRow, income_due
from ledger.services.ledger_rows import in_force_condition
from ledger.services.registry import Filters, agreements_query, page, projects_query

#: Entries a project page lists (its count is of them all).
PROJECT_ENTRIES_SHOWN = 200


# -- agreements ----------------------------------------------------------------------------
#: The agreements list's columns it sorts by: authorities and divisions by name.
AGREEMENT_SORTS: dict[str, Any] = {
    "reference": Agreement.reference, "site": Agreement.site_name, "authority": Authority.name,
    "division": Division.name, "signed": Agreement.signed_on, "type": Agreement.type,
}


def agreement_list(
    session: Session, filters: Filters, *, offset: int | None = None, limit: int | None = None,
    urgent_on: date | None = None, sort: str = "signed", descending: bool = True,
    red_months: int = 12, amber_months: int = 24,
) -> tuple[list[Agreement], int]:
    """One page (or, with no ``limit``, all) of the agreements matching ``filters``, sorted
    by a column of AGREEMENT_SORTS (blanks last either way, then by id), and how many match.
    With ``urgent_on``, only agreements holding money overdue or due within the red or
    amber band on that day."""
    column = AGREEMENT_SORTS[sort]
    query = (agreements_query(filters).order_by(None)
             .join(Authority, Authority.code == Agreement.authority_code)
             .outerjoin(Division, Division.code == Agreement.division_code)
             .order_by((column.desc() if descending else column.asc()).nulls_last(),
                       Agreement.id.desc() if descending else Agreement.id))
    ready = urgent_on is not None and overview.kept_urgent_for(session, today=urgent_on, amber_months=amber_months)
    if urgent_on is not None and ready and kept.unsettled(session, urgent_on) == []:
        # The day's urgent money is kept per obligation: each agreement of the page is looked up
        # in its index, and with no other filter the count is the one kept with the day.
        urgent = KeptUrgentAgreement
        if limit is not None and filters == Filters():
            total = kept_urgent.agreement_count(session)
            if (sort, descending) == ("signed", True):
                # Newest first by the kept agreements' own index: the agreements' own walks past
                # every newer agreement holding no urgent money (25,000 at national size).
                newest = _newest_urgent_agreements()
                return list(session.scalars(newest, {"offset": offset or 0, "limit": limit})), total or 0
            query = query.join(urgent, urgent.agreement_id == Agreement.id)
            return list(session.scalars(query.offset(offset or 0).limit(limit))), total or 0
        query = query.where(select(urgent.agreement_id).where(urgent.agreement_id == Agreement.id).exists())
    elif urgent_on is not None and kept.unsettled(session, urgent_on) == []:
        receipt = KeptReceiptPosition
        query = query.where(Agreement.id.in_(
            select(Obligation.agreement_id).join(receipt, receipt.obligation_id == Obligation.id)
            .where(receipt.deadline <= add_months(urgent_on, amber_months))))
    elif urgent_on is not None:
        urgent = {row.agreement_reference for row in balances.at_risk(
            session, as_of=urgent_on, filters=filters, red_months=red_months, amber_months=amber_months)
                  if row.band in overview.URGENT}
        query = query.where(Agreement.reference.in_(urgent))
    if limit is None:
        found = list(session.scalars(query))
        return found, len(found)
    return page(session, query, offset=offset or 0, limit=limit)


@cache
def _newest_urgent_agreements() -> Select[Any]:
    """A page (``offset``, ``limit``) of the agreements kept urgent for the day in the list's
    own order: signed newest first, those with no signing date last, then newest added first.
    The page is chosen from the kept rows alone, so no database starts from the agreements;
    its bounds are written into the statement when it runs (db.page_bound)."""
    columns = (KeptUrgentAgreement.dated, KeptUrgentAgreement.signed_on, KeptUrgentAgreement.agreement_id)
    chosen = (select(*columns).order_by(*(column.desc() for column in columns))
              .offset(page_bound("offset")).limit(page_bound("limit"))
              .subquery())
    return (select(Agreement).join(chosen, chosen.c.agreement_id == Agreement.id)
            .order_by(*(column.desc() for column in chosen.c)))


# -- money at risk -------------------------------------------------------------------------
BAND_ORDER = {band: rank for rank, band in enumerate(Band)}
#: The at-risk list's columns it sorts by, each as a key on a row and the place names.
AT_RISK_SORTS: dict[str, Callable[[balances.AtRiskRow, dict[str, dict[str, str]]], Any]] = {
    "agreement": lambda r, _: (r.agreement_reference, r.obligation_reference),
    "authority": lambda r, names: names["authorities"].get(r.authority_code, r.authority_code),
    "division": lambda r, names: names["divisions"].get(r.division_code or "", r.division_code or ""),
    "service": lambda r, _: service_label(r.service),
    "receipt": lambda r, _: r.receipt_reference,
    "received": lambda r, _: r.received_on,
    "deadline": lambda r, _: r.deadline or date.max,
    "remaining": lambda r, _: r.remaining,
    "unallocated": lambda r, _: r.unallocated,
    "band": lambda r, _: BAND_ORDER[Band(r.band)],
}


def at_risk_list(
    session: Session, filters: Filters, *, as_of: date, band: str | None = None, sort: str = "deadline",
    descending: bool = False, red_months: int = 12, amber_months: int = 24,
) -> list[balances.AtRiskRow]:
    """Every receipt with money remaining on ``as_of`` that matches ``filters`` and ``band``,
    sorted by a column of AT_RISK_SORTS (ties in the report's own order: deadline, agreement,
    receipt)."""
    rows = balances.at_risk(session, as_of=as_of, filters=filters, red_months=red_months, amber_months=amber_months)
    if band:
        rows = [row for row in rows if row.band == band]
    names = registry.place_names(session)
    key = AT_RISK_SORTS[sort]
    return sorted(rows, key=lambda row: key(row, names), reverse=descending)


#: More divisions than this and a list's division filter offers only the chosen planning
#: authority's: a national ledger has 1,500, too many to choose from or to send every page.
LONG_LIST = 200


@dataclass(frozen=True, slots=True)
class AgreementChoices:
    """What the agreements page's filters offer."""

    authorities: list[Place]
    divisions: list[DivisionPlace]
    services: list[str]
    #: Financial years agreements were signed in, latest first.
    years: list[int]
    #: Whether ``divisions`` are only the chosen authority's (and the chosen division).
    divisions_narrowed: bool = False
    #: The names of the divisions asked for by ``naming``, by code, where ``divisions`` are
    #: only some (narrowed): the divisions a page's rows name.
    named_divisions: dict[str, str] = field(default_factory=dict)


def agreement_choices(session: Session, *, authority: str | None = None, division: str | None = None,
                      narrow: bool = True, services: bool = True, years: bool = True,
                      naming: Iterable[str | None] = ()) -> AgreementChoices:
    """The filters' choices. With more than LONG_LIST divisions (and ``narrow``), the
    divisions are those of ``authority`` only, and ``division`` if one is chosen; then the
    names of the divisions ``naming`` (a page's rows) come in the same statement. The
    services and years are read only when asked for (empty otherwise): a list without
    those filters saves their statements."""
    authorities: list[Place] = []
    divisions: list[DivisionPlace] = []
    found_services: list[str] = []
    named: dict[str, str] = {}
    narrowed = False
    named_codes = sorted({code for code in naming if code}) if narrow else []
    # All at once (.all(): one fetchall): iterated, psycopg fetched the 300 rows one by one.
    for kind, code, name, authority_code in session.connection().execute(
            _choices(narrow=narrow, services=services, naming=bool(named_codes)),
            {"authority": authority, "division": division, "most": LONG_LIST, "named": named_codes}).all():
        if kind == _AUTHORITY:
            authorities.append(Place(code, name))
        elif kind == _DIVISION:
            divisions.append(DivisionPlace(code, name, authority_code))
        elif kind == _SERVICE:
            found_services.append(code)
        elif kind == _NAMED:
            named[code] = name
        else:
            narrowed = True
    return AgreementChoices(
        authorities=authorities, divisions=divisions, services=sorted(found_services),
        # An agreement proposed and not yet signed has no year to offer.
        years=_years_signed(session) if years else [],
        divisions_narrowed=narrowed, named_divisions=named,
    )


class Place(NamedTuple):
    """A planning authority a filter offers."""

    code: str
    name: str


class DivisionPlace(NamedTuple):
    """A division a filter offers."""

    code: str
    name: str
    authority_code: str


#: The kinds of _choices' rows, in its order.
_AUTHORITY, _DIVISION, _SERVICE, _NARROWED, _NAMED = range(5)


@cache
def _choices(*, narrow: bool, services: bool, naming: bool = False) -> CompoundSelect:
    """agreement_choices' rows, in one statement (each had been a round trip): (kind, code,
    name, authority code) of each planning authority and division by name, and each service;
    and a _NARROWED row when there are more divisions than ``most`` (LONG_LIST) and those
    listed are the authority's and the division's (bound as ``authority`` and ``division``);
    then, with ``naming``, a _NAMED row for each division ``named`` (a page's rows name it, and
    it may not be listed: a round trip of its own had cost the list pages a millisecond)."""
    # More than ``most``: a division after the first ``most`` is there. Reads most + 1 rows,
    # where counting them read all 1,500 of a national ledger, once for each part asking.
    too_many = select(Division.id).offset(bindparam("most", type_=Integer)).limit(written(1)).exists()
    divisions = select(literal(_DIVISION), Division.code, Division.name, Division.authority_code)
    if narrow:
        divisions = divisions.where(or_(~too_many, Division.authority_code == bindparam("authority"),
                                        Division.code == bindparam("division")))
    parts = [select(literal(_AUTHORITY), Authority.code, Authority.name, null()), divisions]
    if services:
        found = _loose_index_scan(Obligation.service).subquery()
        parts.append(select(literal(_SERVICE), found.c.value, null(), null()))
    if narrow:
        parts.append(select(literal(_NARROWED), null(), null(), null()).where(too_many))
    if narrow and naming:
        parts.append(select(literal(_NAMED), Division.code, Division.name, null())
                     .where(too_many, Division.code.in_(bindparam("named", expanding=True))))
    return union_all(*parts).order_by(literal_column("1"), literal_column("3"))


@cache
def _loose_index_scan(column: Any) -> Select[Any]:
    """The distinct values of an indexed column, each found by one seek of its index after the
    one before (a loose index scan: a few services among half a million obligations): a
    recursive query, the least value, then the least greater than the one before."""
    table = column.class_.__table__
    ordered = table.c[column.key]
    found = (select(ordered.label("value")).order_by(ordered).limit(written(1)).subquery().select()
             .cte("found", recursive=True))
    following = (select(ordered).where(ordered > found.c.value).order_by(ordered).limit(written(1))
                 .correlate(found).scalar_subquery())
    found = found.union_all(select(following).where(found.c.value.is_not(None)))
    return select(found.c.value).where(found.c.value.is_not(None))


def _years_signed(session: Session) -> list[int]:
    """Financial years agreements were signed in, latest first: one look at the index a year,
    all in one statement after the first and last dates."""
    connection = session.connection()
    first, last = connection.execute(_first_and_last_signed()).one()
    if first is None:
        return []
    years = list(range(financial_year_of(last), financial_year_of(first) - 1, -1))
    signed = connection.execute(_any_signed_in(years[0], years[-1])).one()
    return [year for year, any_signed in zip(years, signed, strict=True) if any_signed]


@cache
def _first_and_last_signed() -> Select[Any]:
    # Apart: SQLite reads a min or a max from the index only when it is a query's one aggregate.
    return select(select(func.min(Agreement.signed_on)).scalar_subquery(),
                  select(func.max(Agreement.signed_on)).scalar_subquery())


@cache
def _any_signed_in(last_year: int, first_year: int) -> Select[Any]:
    """Whether any agreement was signed in each financial year, latest first: built once a
    span of years (a column a year)."""
    return select(*(exists().where(Agreement.signed_on.between(*financial_year_bounds(year)))
                    for year in range(last_year, first_year - 1, -1)))


def agreements(session: Session, filters: Filters) -> list[Agreement]:
    """Every agreement matching ``filters``, newest first."""
    return list(session.scalars(agreements_query(filters)))


def instalments_and_invoices(session: Session, agreement: Agreement) -> list[tuple[Instalment, Invoice | None]]:
    """The agreement's instalments in the order they were added, each with its invoice if issued."""
    rows = session.execute(
        select(Instalment, Invoice).outerjoin(Invoice, Invoice.instalment_id == Instalment.id)
        .where(Instalment.obligation_id.in_([o.id for o in agreement.obligations])).order_by(Instalment.id))
    return [(instalment, invoice) for instalment, invoice in rows]


def instalments_of(session: Session, obligation: Obligation) -> list[Instalment]:
    return list(session.scalars(
        select(Instalment).where(Instalment.obligation_id == obligation.id).order_by(Instalment.id)))


# -- entries -------------------------------------------------------------------------------
def entries_query(filters: Filters, *, kind: str | None = None, obligation: str | None = None,
                  project: str | None = None) -> Select[tuple[Entry]]:
    """Entries matching ``filters`` (on their obligation and its agreement), a kind, an
    obligation reference and a project reference, oldest first."""
    query = (select(Entry).join(Obligation, Entry.obligation_id == Obligation.id)
             .join(Agreement, Obligation.agreement_id == Agreement.id)
             .where(*filters.conditions(Obligation)).order_by(Entry.id))
    if kind:
        query = query.where(Entry.kind == kind)
    if obligation:
        query = query.where(Obligation.reference == obligation)
    if project:
        query = query.where(Entry.project_id.in_(select(Project.id).where(Project.reference == project)))
    return query


def obligation_entries(session: Session, obligation: Obligation) -> list[Entry]:
    """Every entry of the obligation, reversed ones included, by business date, with their
    projects (the page names each: loaded one by one, a statement a project)."""
    return list(session.scalars(_obligation_entries(), {"obligation_id": obligation.id}))


@cache
def _obligation_entries() -> Select[Any]:
    return (select(Entry).options(joinedload(Entry.project)).where(Entry.obligation_id == bindparam("obligation_id"))
            .order_by(Entry.occurred_on, Entry.id))


def project_entries(session: Session, project: Project) -> tuple[list[Entry], int]:
    """The project's latest entries (at most PROJECT_ENTRIES_SHOWN) and how many it has."""
    of_project = Entry.project_id == project.id
    shown = session.scalars(
        select(Entry).where(of_project).order_by(Entry.occurred_on.desc()).limit(PROJECT_ENTRIES_SHOWN))
    return list(shown), session.scalar(select(func.count()).select_from(Entry).where(of_project)) or 0


def projects(session: Session, filters: Filters | None = None) -> list[Project]:
    """Every project matching ``filters``, by reference."""
    return list(session.scalars(projects_query(filters or Filters())))


def project_services(session: Session) -> list[str]:
    """The services projects are recorded under."""
    return list(session.scalars(select(Project.service).distinct()))


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectRow:
    """A project with the money spent on it, transferred for it and allocated to it and not
    yet spent, at the end of a day, as known now (reversed entries left out)."""

    reference: str
    name: str
    service: str
    division_code: str | None
    repays_borrowing: bool
    spent: Decimal
    transferred: Decimal
    allocated_unspent: Decimal


#: The projects list's columns it sorts by, each as a key on a row and the place names.
PROJECT_SORTS: dict[str, Callable[[ProjectRow, dict[str, dict[str, str]]], Any]] = {
    "reference": lambda r, _: r.reference,
    "name": lambda r, _: r.name.casefold(),
    "service": lambda r, _: service_label(r.service),
    "division": lambda r, names: names["divisions"].get(r.division_code or "", r.division_code or "\uffff"),
    "spent": lambda r, _: r.spent,
    "transferred": lambda r, _: r.transferred,
    "allocated": lambda r, _: r.allocated_unspent,
}


def project_list(
    session: Session, filters: Filters, *, on: date, search: str | None = None, sort: str = "reference",
    descending: bool = False,
) -> list[ProjectRow]:
    """Every project matching ``filters`` (division, service, authority) and ``search`` (in
    its reference or name), with its money at the end of ``on``, sorted by a column of
    PROJECT_SORTS (ties by reference)."""
    read_snapshot(session)
    query = select(Project).where(*filters.conditions(Project))
    if search:
        like = f"%{search}%"
        query = query.where(or_(Project.reference.ilike(like), Project.name.ilike(like)))
    found = list(session.scalars(query.order_by(Project.reference)))
    amounts: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for project_id, kind, amount in session.execute(
        select(Entry.project_id, Entry.kind, func.sum(Entry.amount))
        .where(Entry.project_id.is_not(None), Entry.occurred_on <= on, in_force_condition(None))
        .group_by(Entry.project_id, Entry.kind)
    ):
        amounts[project_id][kind] += amount
    rows = []
    for project in found:
        by_kind = amounts.get(project.id, {})
        rows.append(ProjectRow(
            reference=project.reference, name=project.name, service=project.service,
            division_code=project.division_code, repays_borrowing=project.repays_borrowing,
            spent=by_kind.get(EntryKind.SPEND, ZERO), transferred=by_kind.get(EntryKind.TRANSFER, ZERO),
            allocated_unspent=sum((signed(KIND_RULES[EntryKind(k)].allocated, v) for k, v in by_kind.items()), ZERO)))
    names = registry.place_names(session)
    key = PROJECT_SORTS[sort]
    return sorted(rows, key=lambda row: key(row, names), reverse=descending)


# -- income due ----------------------------------------------------------------------------
#: The income-due list's columns it sorts by, each as a key on a row.
INCOME_DUE_SORTS: dict[str, Callable[[IncomeDueRow], Any]] = {
    "since": lambda r: r.due_on,
    "developer": lambda r: (r.developer or "").casefold(),
    "obligation": lambda r: r.obligation_reference,
    "trigger": lambda r: r.trigger,
    "due": lambda r: r.amount if r.amount is not None else ZERO,
    "paid": lambda r: r.paid,
    "outstanding": lambda r: r.outstanding if r.outstanding is not None else ZERO,
    "days": lambda r: r.days_outstanding,
}


def income_due_list(
    session: Session, *, today: date, authority: str | None = None, division: str | None = None,
    overdue_only: bool = False, sort: str = "since", descending: bool = False,
) -> list[IncomeDueRow]:
    """The sums developers owe on ``today`` (income.income_due), of an authority's and a
    division's agreements, only the overdue ones if asked, sorted by a column of
    INCOME_DUE_SORTS (ties in the report's own order, oldest due first)."""
    rows = [row for row in income_due(session, today=today)
            if (not authority or row.authority_code == authority) and (not division or row.division_code == division)
            and (row.overdue or not overdue_only)]
    return sorted(rows, key=INCOME_DUE_SORTS[sort], reverse=descending)


# -- index values and invoices -------------------------------------------------------------
def index_values_query(*, index: str | None = None, newest_first: bool = False) -> Select[tuple[IndexValue]]:
    """Index values by series, then period and publication (oldest first, or newest)."""
    order: tuple[Any, ...] = (IndexValue.period, IndexValue.published_on)
    if newest_first:
        order = tuple(column.desc() for column in order)
    query = select(IndexValue).order_by(IndexValue.index, *order)
    return query.where(IndexValue.index == index) if index else query


def index_values(session: Session) -> list[IndexValue]:
    """Every index value, each series newest first."""
    return list(session.scalars(index_values_query(newest_first=True)))


def invoices_query() -> Select[tuple[Invoice]]:
    """Invoices, newest first."""
    return select(Invoice).order_by(Invoice.id.desc())
