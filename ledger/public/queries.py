"""The public pages' own reads (issue 20): what residents may see, and nothing else.

Every function returns frozen records holding public fields only, never an ORM object, so a
template (or a JSON schema) cannot reach an agreement's notes, an entry's reason, who keyed
it, a repayment deadline or an at-risk band however it is changed. What is public follows
the public edition of the statement (SPEC 8.5): signed agreements only (SPEC 8.7), their
details, what each obligation secured, and the money received, spent, repaid and held.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from ledger.db import read_snapshot
from ledger.db_types import Pence
from ledger.domain.dates import financial_year_bounds, financial_year_label, financial_year_of
from ledger.domain.entry_kinds import (
    ADDS,
    KIND_RULES,
    PUBLISHED,
    TAKES,
    IfsRole,
    held_from,
    kinds_in,
    kinds_where,
    with_totals,
)
from ledger.domain.entry_kinds import signed as signed_by
from ledger.domain.money import ZERO
from ledger.domain.vocab import AGREEMENT_CLASS, AgreementClass, AgreementType, EntryKind, service_label
from ledger.models import Agreement, Authority, Division, Entry, Obligation, Project
from ledger.services.ifs import ifs_report
from ledger.services.kind_sql import kind_is
from ledger.services.ledger_rows import in_force_condition
from ledger.services.registry import Filters
from reports.gov_csv import FILES
from reports.ifs_workbook import Edition, build_ifs_workbook
from reports.workbook import words

#: The classes of money the statement reports apart (SPEC 8.1), as residents read them.
CLASS_LABELS = {
    AgreementClass.S106: "Section 106 planning obligations",
    AgreementClass.CIL: "Community Infrastructure Levy",
    AgreementClass.S278: "Section 278 highway agreements",
}
#: Results a search page shows.
SEARCH_PAGE_SIZE = 25
#: The government format's files, by name (reports.gov_csv).
GOV_FILES = tuple(FILES)
#: Only these schemes become links: a stored ``javascript:`` address must never be one.
LINK_SCHEMES = ("https://", "http://")


def signed() -> ColumnElement[bool]:
    """The one condition that keeps proposed agreements off the public pages (SPEC 8.7:
    a proposed agreement is a negotiation, not a deed). Where the schema predates the
    agreement status column, every agreement has the date it was signed."""
    status = getattr(Agreement, "status", None)
    return status == "signed" if status is not None else Agreement.signed_on.is_not(None)


def _link(address: str | None) -> str | None:
    return address if address and address.strip().lower().startswith(LINK_SCHEMES) else None


# -- records -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    code: str
    name: str


@with_totals
@dataclass(frozen=True, slots=True, kw_only=True)
class Money:
    """Money received, spent, passed to others to spend and repaid to developers, to date."""

    received: Decimal = ZERO
    spent: Decimal = ZERO
    transferred: Decimal = ZERO
    repaid: Decimal = ZERO

    @property
    def held(self) -> Decimal:
        return held_from(lambda name: getattr(self, name))

    @property
    def spent_or_transferred(self) -> Decimal:
        """Spent, as the statement's item (f) counts it: including money passed to others to spend."""
        return self.spent + self.transferred


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassFigures:
    label: str
    received: Decimal
    spent: Decimal
    held: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class YearFigures:
    """A financial year's money by class: received and spent in it, held at its end (or
    today, for the year not yet ended)."""

    year: int
    label: str
    start: date
    end: date
    complete: bool
    classes: list[ClassFigures]


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementRow:
    reference: str
    site_name: str | None
    developer: str | None
    signed_on: date
    authority: Place
    division: Place | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResults:
    rows: list[AgreementRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Choices:
    """What the search form offers: codes with their names."""

    authorities: list[Place]
    divisions: list[Place]
    services: list[Place]
    purposes: list[Place]


@dataclass(frozen=True, slots=True, kw_only=True)
class ObligationRow:
    reference: str
    purpose: str
    service: str
    secured: Decimal | None
    units: int | None
    unit_kind: str | None
    money: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectRow:
    """A project and the money it has had from one source (an agreement, a division)."""

    reference: str
    name: str
    service: str
    spent: Decimal
    allocated_unspent: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementPage:
    reference: str
    type: str
    site_name: str | None
    planning_application: str | None
    planning_application_url: str | None
    document_url: str | None
    signed_on: date
    developer: str | None
    dwellings: int | None
    authority: Place
    division: Place | None
    obligations: list[ObligationRow]
    projects: list[ProjectRow]
    money: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingRow:
    """Money one agreement gave a project."""

    agreement_reference: str
    site_name: str | None
    spent: Decimal
    allocated_unspent: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectPage:
    reference: str
    name: str
    service: str
    division: Place | None
    spent: Decimal
    allocated_unspent: Decimal
    funded_by: list[FundingRow]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceMoney:
    service: str
    secured: Decimal
    money: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class DivisionPage:
    division: Place
    authority: Place
    secured: Decimal
    money: Money
    services: list[ServiceMoney]
    agreements: list[AgreementRow]
    projects: list[ProjectRow]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorityDivisions:
    authority: Place
    divisions: list[Place]


# -- money ---------------------------------------------------------------------------------
def _money_of(sums: Mapping[str, Decimal]) -> Money:
    """Money from sums by entry kind: each kind counts in its balance total (entry_kinds)."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for kind, amount in sums.items():
        total = KIND_RULES[EntryKind(kind)].total
        if total:
            totals[total] += amount
    return Money(**totals)


def _entries_to(today: date) -> tuple[ColumnElement[bool], ...]:
    """Entries in force (reversed ones and reversals left out) dated on or before today."""
    return Entry.occurred_on <= today, in_force_condition(None)


def _sums(session: Session, keys: Iterable[Any], *where: ColumnElement[bool], today: date) -> list[Any]:
    """Money by ``keys`` and entry kind, over signed agreements' entries to today."""
    keys = list(keys)
    return list(session.execute(
        select(*keys, Entry.kind, func.sum(Entry.amount))
        .join(Obligation, Entry.obligation_id == Obligation.id)
        .join(Agreement, Obligation.agreement_id == Agreement.id)
        .where(signed(), *_entries_to(today), *where)
        .group_by(*keys, Entry.kind)
    ))


def _spent_and_allocated(sums: Mapping[str, Decimal]) -> tuple[Decimal, Decimal]:
    """A project's money from sums by kind: spent (passed on included, as item (f)) and
    allocated and not yet spent."""
    spent = sum((sums.get(kind, ZERO) for kind in kinds_in(IfsRole.SPENT)), ZERO)
    allocated = sum((signed_by(KIND_RULES[EntryKind(kind)].allocated, amount) for kind, amount in sums.items()), ZERO)
    return spent, allocated


def _project_rows(session: Session, by_project: Mapping[int, Mapping[str, Decimal]]) -> list[ProjectRow]:
    """Projects that have had money (spent, passed on, or allocated and not yet spent)."""
    found = []
    for project_id, reference, name, service in session.execute(
        select(Project.id, Project.reference, Project.name, Project.service)
        .where(Project.id.in_(list(by_project))).order_by(Project.name, Project.reference)
    ):
        spent, allocated = _spent_and_allocated(by_project[project_id])
        if spent or allocated:
            found.append(ProjectRow(reference=reference, name=name, service=service_label(service), spent=spent,
                                    allocated_unspent=allocated))
    return found


# -- the start page ------------------------------------------------------------------------
def year_figures(session: Session, *, today: date) -> list[YearFigures]:
    """This financial year so far and the last one, by class of agreement (SPEC 8.1), with
    the statement's definitions: received is item (b), spent is (f) (money passed to others
    to spend included), held is (i) at the year's end (today for this year). One pass over
    the entries; a test holds last year's figures equal to the statement's."""
    read_snapshot(session)
    this_year = financial_year_of(today)
    received_kinds, spent_kinds = kind_is(kinds_in(IfsRole.RECEIVED)), kind_is(kinds_in(IfsRole.SPENT))
    adds, takes = kind_is(kinds_where(lambda r: r.held == ADDS)), kind_is(kinds_where(lambda r: r.held == TAKES))
    nothing = literal(ZERO, Pence())

    def total(*conditions: ColumnElement[bool]) -> ColumnElement[Decimal]:
        return func.coalesce(func.sum(case((and_(*conditions), Entry.amount))), nothing)

    years = []
    columns: list[ColumnElement[Decimal]] = []
    for year in (this_year, this_year - 1):
        start, end = financial_year_bounds(year)
        end = min(end, today)
        years.append((year, start, end))
        in_year = Entry.occurred_on.between(start, end)
        columns += [total(in_year, received_kinds), total(in_year, spent_kinds),
                    total(Entry.occurred_on <= end, adds), total(Entry.occurred_on <= end, takes)]
    figures: dict[AgreementClass, list[Decimal]] = {c: [ZERO] * len(columns) for c in AgreementClass}
    for agreement_type, *sums in session.execute(
        select(Agreement.type, *columns)
        .select_from(Entry)
        .join(Obligation, Entry.obligation_id == Obligation.id)
        .join(Agreement, Obligation.agreement_id == Agreement.id)
        .where(signed(), in_force_condition(None))
        .group_by(Agreement.type)
    ):
        agreement_class = AGREEMENT_CLASS[AgreementType(agreement_type)]
        figures[agreement_class] = [a + b for a, b in zip(figures[agreement_class], sums, strict=True)]
    found = []
    for n, (year, start, end) in enumerate(years):
        classes = []
        for agreement_class, label in CLASS_LABELS.items():
            received, spent, added, taken = figures[agreement_class][4 * n:4 * n + 4]
            classes.append(ClassFigures(label=label, received=received, spent=spent, held=added - taken))
        found.append(YearFigures(year=year, label=financial_year_label(year), start=start, end=end,
                                 complete=end == financial_year_bounds(year)[1], classes=classes))
    return found


# -- searching agreements ------------------------------------------------------------------
def _place(code: str | None, name: str | None) -> Place | None:
    return Place(code=code, name=name or code) if code else None


def search_agreements(session: Session, filters: Filters, *, page: int, page_size: int = SEARCH_PAGE_SIZE,
                      ) -> SearchResults:
    """Signed agreements matching ``filters`` (registry.Filters: authority, division,
    purpose, service and text), newest first, one page of them, and how many match."""
    matching = select(Agreement.id).where(signed(), *filters.conditions(Agreement))
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    rows = session.execute(
        select(Agreement.reference, Agreement.site_name, Agreement.developer, Agreement.signed_on,
               Authority.code, Authority.name, Division.code, Division.name)
        .join(Authority, Authority.code == Agreement.authority_code)
        .outerjoin(Division, Division.code == Agreement.division_code)
        .where(signed(), *filters.conditions(Agreement))
        .order_by(Agreement.signed_on.desc(), Agreement.id.desc())
        .offset((page - 1) * page_size).limit(page_size)
    )
    return SearchResults(rows=[_agreement_row(*row) for row in rows], total=total, page=page,
                         pages=max(1, -(-total // page_size)))


def _agreement_row(reference: str, site_name: str | None, developer: str | None, signed_on: date,
                   authority_code: str, authority_name: str, division_code: str | None,
                   division_name: str | None) -> AgreementRow:
    return AgreementRow(reference=reference, site_name=site_name, developer=developer, signed_on=signed_on,
                        authority=Place(code=authority_code, name=authority_name),
                        division=_place(division_code, division_name))


def choices(session: Session) -> Choices:
    """The search form's authorities, divisions, services and purposes, by name."""
    services = session.scalars(select(Obligation.service).distinct())
    purposes = session.scalars(select(Obligation.purpose).distinct())
    return Choices(
        authorities=[Place(code=c, name=n) for c, n in session.execute(
            select(Authority.code, Authority.name).order_by(Authority.name))],
        divisions=[Place(code=c, name=n) for c, n in session.execute(
            select(Division.code, Division.name).order_by(Division.name))],
        services=sorted((Place(code=s, name=service_label(s)) for s in services), key=lambda p: p.name),
        purposes=sorted((Place(code=p, name=words(p) or p) for p in purposes), key=lambda p: p.name),
    )


# -- one agreement, project, division ------------------------------------------------------
def agreement_page(session: Session, reference: str, *, today: date) -> AgreementPage | None:
    """A signed agreement with its obligations, their money to date and the projects it paid
    for; None if there is no such signed agreement."""
    read_snapshot(session)
    found = session.execute(
        select(Agreement.id, Agreement.type, Agreement.site_name, Agreement.planning_application,
               Agreement.document_url, Agreement.signed_on, Agreement.developer, Agreement.dwellings,
               Authority.code, Authority.name, Division.code, Division.name)
        .join(Authority, Authority.code == Agreement.authority_code)
        .outerjoin(Division, Division.code == Agreement.division_code)
        .where(signed(), Agreement.reference == reference)
    ).first()
    if found is None:
        return None
    (agreement_id, agreement_type, site_name, application, document_url, signed_on, developer, dwellings,
     authority_code, authority_name, division_code, division_name) = found
    by_obligation: dict[int, dict[str, Decimal]] = defaultdict(dict)
    by_project: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for obligation_id, project_id, kind, amount in _sums(session, (Entry.obligation_id, Entry.project_id),
                                                          Agreement.id == agreement_id, today=today):
        by_obligation[obligation_id][kind] = by_obligation[obligation_id].get(kind, ZERO) + amount
        if project_id is not None:
            by_project[project_id][kind] += amount
    obligations = [
        ObligationRow(reference=o_reference, purpose=words(purpose) or purpose, service=service_label(service),
                      secured=amount, units=units, unit_kind=words(unit_kind), money=_money_of(by_obligation[o_id]))
        for o_id, o_reference, purpose, service, amount, units, unit_kind in session.execute(
            select(Obligation.id, Obligation.reference, Obligation.purpose, Obligation.service, Obligation.amount,
                   Obligation.units, Obligation.unit_kind)
            .where(Obligation.agreement_id == agreement_id).order_by(Obligation.id))
    ]
    every_kind: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for sums in by_obligation.values():
        for kind, amount in sums.items():
            every_kind[kind] += amount
    return AgreementPage(
        reference=reference, type=words(agreement_type) or agreement_type, site_name=site_name,
        planning_application=application, planning_application_url=_link(application),
        document_url=_link(document_url), signed_on=signed_on, developer=developer, dwellings=dwellings,
        authority=Place(code=authority_code, name=authority_name), division=_place(division_code, division_name),
        obligations=obligations, projects=_project_rows(session, by_project), money=_money_of(every_kind),
    )


def project_page(session: Session, reference: str, *, today: date) -> ProjectPage | None:
    """A project, the money signed agreements gave it to date and which agreements; None if
    there is no such project."""
    read_snapshot(session)
    found = session.execute(
        select(Project.id, Project.name, Project.service, Division.code, Division.name)
        .outerjoin(Division, Division.code == Project.division_code).where(Project.reference == reference)
    ).first()
    if found is None:
        return None
    project_id, name, service, division_code, division_name = found
    by_agreement: dict[tuple[str, str | None], dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for agreement_reference, site_name, kind, amount in _sums(
            session, (Agreement.reference, Agreement.site_name), Entry.project_id == project_id, today=today):
        by_agreement[agreement_reference, site_name][kind] += amount
    funded = []
    for (agreement_reference, site_name), sums in sorted(by_agreement.items()):
        spent, allocated = _spent_and_allocated(sums)
        if spent or allocated:
            funded.append(FundingRow(agreement_reference=agreement_reference, site_name=site_name, spent=spent,
                                     allocated_unspent=allocated))
    return ProjectPage(reference=reference, name=name, service=service_label(service),
                       division=_place(division_code, division_name),
                       spent=sum((f.spent for f in funded), ZERO),
                       allocated_unspent=sum((f.allocated_unspent for f in funded), ZERO), funded_by=funded)


def divisions(session: Session) -> list[AuthorityDivisions]:
    """Every division, by planning authority, both by name."""
    grouped: dict[Place, list[Place]] = {}
    for authority_code, authority_name, code, name in session.execute(
        select(Authority.code, Authority.name, Division.code, Division.name)
        .join(Authority, Authority.code == Division.authority_code).order_by(Authority.name, Division.name)
    ):
        grouped.setdefault(Place(code=authority_code, name=authority_name), []).append(Place(code=code, name=name))
    return [AuthorityDivisions(authority=a, divisions=d) for a, d in grouped.items()]


def division_page(session: Session, code: str, *, today: date) -> DivisionPage | None:
    """A division's signed agreements, their money to date by service, and the projects it
    paid for (wherever they are); None if there is no such division."""
    read_snapshot(session)
    found = session.execute(
        select(Division.name, Authority.code, Authority.name)
        .join(Authority, Authority.code == Division.authority_code).where(Division.code == code)
    ).first()
    if found is None:
        return None
    name, authority_code, authority_name = found
    here = Filters(division=code).conditions(Agreement)
    secured: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for service, amount in session.execute(
        select(Obligation.service, func.sum(Obligation.amount)).join(Agreement, Obligation.agreement_id == Agreement.id)
        .where(signed(), *here).group_by(Obligation.service)
    ):
        secured[service] += amount or ZERO
    by_service: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    by_project: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for service, project_id, kind, amount in _sums(session, (Obligation.service, Entry.project_id), *here, today=today):
        by_service[service][kind] += amount
        if project_id is not None:
            by_project[project_id][kind] += amount
    every_kind: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for sums in by_service.values():
        for kind, amount in sums.items():
            every_kind[kind] += amount
    agreements = [_agreement_row(*row) for row in session.execute(
        select(Agreement.reference, Agreement.site_name, Agreement.developer, Agreement.signed_on,
               Authority.code, Authority.name, Division.code, Division.name)
        .join(Authority, Authority.code == Agreement.authority_code)
        .outerjoin(Division, Division.code == Agreement.division_code)
        .where(signed(), *here).order_by(Agreement.signed_on.desc(), Agreement.id.desc()))]
    services = sorted(set(secured) | set(by_service), key=service_label)
    return DivisionPage(
        division=Place(code=code, name=name), authority=Place(code=authority_code, name=authority_name),
        secured=sum(secured.values(), ZERO), money=_money_of(every_kind),
        services=[ServiceMoney(service=service_label(s), secured=secured.get(s, ZERO),
                               money=_money_of(by_service.get(s, {}))) for s in services],
        agreements=agreements, projects=_project_rows(session, by_project),
    )


# -- downloads -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Downloads:
    """The statements a resident can download: completed financial years with agreements."""

    ifs_years: list[int] = field(default_factory=list)
    gov_files: tuple[str, ...] = GOV_FILES


def downloads(session: Session, *, today: date) -> Downloads:
    first = session.scalar(select(func.min(Agreement.signed_on)).where(signed()))
    last = financial_year_of(today) - 1
    return Downloads(ifs_years=list(range(last, financial_year_of(first) - 1, -1)) if first else [])


def public_statement(session: Session, *, year: int, council: str | None) -> bytes:
    """The statement's public edition for ``year`` (SPEC 8.5), as known now."""
    return build_ifs_workbook(ifs_report(session, year=year), edition=Edition.PUBLIC, council=council)


def _money_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def gov_csv_rows(session: Session) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    """The government format's rows as services.exports writes them, of signed agreements
    only and without the officers' notes on agreements (a contribution's notes are its
    trigger, the deed's words; a transaction's, the body money was passed to)."""
    read_snapshot(session)
    agreements = [
        {"reference": reference, "name": site_name or "", "developer-agreement-type": agreement_type,
         "planning-application": application or "", "document-url": document_url or "", "notes": "",
         "organisation": authority, "entry-date": created_at.date().isoformat(), "start-date": signed_on.isoformat(),
         "end-date": superseded_on.isoformat() if superseded_on else ""}
        for reference, site_name, agreement_type, application, document_url, authority, created_at, signed_on,
        superseded_on in session.execute(
            select(Agreement.reference, Agreement.site_name, Agreement.type, Agreement.planning_application,
                   Agreement.document_url, Agreement.authority_code, Agreement.created_at, Agreement.signed_on,
                   Agreement.superseded_on).where(signed()).order_by(Agreement.id))
    ]
    contributions = [
        {"reference": reference, "name": service, "developer-agreement": agreement, "contribution-purpose": purpose,
         "amount": _money_text(amount), "units": "" if units is None else str(units), "notes": trigger or "",
         "organisation": authority, "entry-date": created_at.date().isoformat(), "start-date": signed_on.isoformat(),
         "end-date": superseded_on.isoformat() if superseded_on else ""}
        for reference, service, agreement, purpose, amount, units, trigger, authority, created_at, signed_on,
        superseded_on in session.execute(
            select(Obligation.reference, Obligation.service, Agreement.reference, Obligation.purpose,
                   Obligation.amount, Obligation.units, Obligation.trigger, Agreement.authority_code,
                   Obligation.created_at, Agreement.signed_on, Agreement.superseded_on)
            .join(Agreement, Obligation.agreement_id == Agreement.id).where(signed()).order_by(Obligation.id))
    ]
    transactions = []
    used: set[str] = set()
    for reference, kind, obligation, amount, recipient, authority, created_at, occurred_on in session.execute(
        select(Entry.reference, Entry.kind, Obligation.reference, Entry.amount, Entry.recipient,
               Agreement.authority_code, Entry.created_at, Entry.occurred_on)
        .join(Obligation, Entry.obligation_id == Obligation.id).join(Agreement, Obligation.agreement_id == Agreement.id)
        .where(signed(), in_force_condition(None), kind_is(PUBLISHED)).order_by(Entry.id)
    ):
        rule = KIND_RULES[EntryKind(kind)]
        # References are unique per kind in the ledger but must be unique per file (as exports does).
        reference = reference if reference not in used else f"{reference}-{rule.kind}"
        used.add(reference)
        transactions.append({
            "reference": reference, "name": rule.kind.value, "developer-agreement-contribution": obligation,
            "contribution-funding-status": rule.status or "", "amount": _money_text(-amount if rule.negated else amount),
            "units": "", "notes": recipient or "", "organisation": authority,
            "entry-date": created_at.date().isoformat(), "start-date": occurred_on.isoformat(), "end-date": ""})
    return agreements, contributions, transactions


def gov_csv_files(session: Session) -> dict[str, str]:
    """The government format's three files (reports.gov_csv's names and columns) as text."""
    files = {}
    for (name, fields), rows in zip(FILES.items(), gov_csv_rows(session), strict=True):
        out = StringIO()
        # As reports.gov_csv writes them: every field quoted, so no line break splits a row.
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
        files[name] = out.getvalue()
    return files
