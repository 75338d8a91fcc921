"""What a division's developer contributions paid for: the projects its money was spent on,
transferred for or allocated to (wherever the project is), money per agreement and per
service. A division's money is the money of the obligations of agreements in the division
(issue 15: projects are listed by where the money came from, not where they are)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Select,
    bindparam,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from ledger.db import read_snapshot
from ledger.domain.agreement_status import AgreementStatus
from ledger.domain.entry_kinds import KIND_RULES, TOTALS, held_from, signed, with_totals
from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind, service_label
from ledger.models import (
    Agreement,
    Division,
    Entry,
    KeptObligationPosition,
    KeptProjectPosition,
    Obligation,
    Project,
)
from ledger.services import kept
from ledger.services.ledger_rows import in_force_looked_up
from ledger.services.registry import get_one


@with_totals
@dataclass(slots=True, kw_only=True)
class Money:
    """Secured, received, spent, transferred and repaid money of a group of obligations."""

    secured: Decimal = ZERO
    received: Decimal = ZERO
    spent: Decimal = ZERO
    transferred: Decimal = ZERO
    repaid: Decimal = ZERO

    @property
    def held(self) -> Decimal:
        return held_from(lambda name: getattr(self, name))


@dataclass(slots=True, kw_only=True)
class AgreementMoney(Money):
    reference: str
    site_name: str | None
    developer: str | None


@dataclass(slots=True, kw_only=True)
class ServiceMoney(Money):
    service: str


@dataclass(slots=True, kw_only=True)
class ProjectFunded:
    """A project this division's money paid for or is allocated to, and how much of it."""

    reference: str
    name: str
    service: str
    division_code: str | None
    #: The name of the project's division (read with it, for the page).
    division_name: str | None = None
    spent: Decimal = ZERO
    transferred: Decimal = ZERO
    allocated_unspent: Decimal = ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class DivisionReport:
    division: Division
    on: date
    projects: list[ProjectFunded]
    agreements: list[AgreementMoney]
    services: list[ServiceMoney]

    def total(self, name: str) -> Decimal:
        """A money total over the agreements (``spent``, ``held``, ...)."""
        return sum((getattr(a, name) for a in self.agreements), ZERO)


#: The money the kept statements give per agreement or service, in their order.
KEPT_MONEY = ("secured", *TOTALS)


#: The kinds of _kept_money's rows, in its order.
_AGREEMENT, _SERVICE, _PROJECT = range(3)


def _kept_money() -> CompoundSelect:
    """The division's agreements signed by ``on`` and their money as kept, in one round trip
    (each part had been one, and each walked the division's obligations again):

    - an _AGREEMENT row per agreement: (kind, id, reference, site name, developer, None,
      None, *KEPT_MONEY), by reference;
    - a _SERVICE row per service: (kind, None, None, None, service, None, None, *KEPT_MONEY);
    - a _PROJECT row per project the obligations' money was spent on, transferred for or
      allocated to: (kind, id, reference, name, service, division, the division's name,
      spent, transferred, allocated unspent, None, None), by reference.

    The obligations' kept rows are read by the division they carry, with their agreement,
    signing and service (an index-only scan on PostgreSQL), and so are their project rows:
    each obligation had been looked up through its agreement, and its projects' rows through
    it. Read once as a CTE (materialised by SQLite and PostgreSQL alike), by ids and sums
    only: the agreements' names are joined to their few sums at the end. An agreement
    without obligations still has its row."""
    kept_row = KeptObligationPosition
    here = (select(kept_row.agreement_id, kept_row.obligation_id, kept_row.service,
                   *(getattr(kept_row, name) for name in KEPT_MONEY))
            # Signed by ``on`` as their agreements are (the kept rows answer for ``on`` only
            # when none was signed after it).
            .where(kept_row.division_code == bindparam("code"), kept_row.signed_on <= bindparam("on"))
            .cte("here"))
    sums = [func.sum(here.c[name]) for name in KEPT_MONEY]
    per_agreement = (select(here.c.agreement_id, *(total.label(name) for total, name in zip(sums, KEPT_MONEY, strict=True)))
                     .group_by(here.c.agreement_id).subquery("per_agreement"))
    to_project = KeptProjectPosition
    # Summed per project before the projects are joined: joined first, PostgreSQL built a
    # hash of every project of the ledger (2 ms at national size); now it hashes the few sums.
    per_project = (select(to_project.project_id, *(func.sum(getattr(to_project, name)).label(name)
                                                    for name in ("spent", "transferred", "allocated")))
                   .select_from(here.join(to_project, to_project.obligation_id == here.c.obligation_id))
                   .where(to_project.division_code == bindparam("code"))
                   .group_by(to_project.project_id).subquery("per_project"))
    unused = [null()] * (len(KEPT_MONEY) - 3)
    return union_all(
        select(literal(_AGREEMENT), Agreement.id, Agreement.reference, Agreement.site_name, Agreement.developer, null(),
               null(), *(per_agreement.c[name] for name in KEPT_MONEY))
        .outerjoin(per_agreement, per_agreement.c.agreement_id == Agreement.id)
        .where(Agreement.division_code == bindparam("code"), Agreement.signed_on <= bindparam("on")),
        select(literal(_SERVICE), null(), null(), null(), here.c.service, null(), null(), *sums)
        .group_by(here.c.service),
        select(literal(_PROJECT), Project.id, Project.reference, Project.name, Project.service, Project.division_code,
               Division.name, per_project.c.spent, per_project.c.transferred, per_project.c.allocated, *unused)
        .join_from(per_project, Project, per_project.c.project_id == Project.id)
        .outerjoin(Division, Division.code == Project.division_code),
    ).order_by(literal_column("1"), literal_column("3"))


@dataclass(frozen=True, slots=True)
class _ReportStatements:
    """division_report's statements, of the division ``code`` at the end of ``on``."""

    #: The agreements signed by ``on``.
    agreements: Select[Any]
    #: Money secured per agreement and service.
    secured: Select[Any]
    #: Money moved per agreement, service, project and kind of entry (reversed entries left out).
    moved: Select[Any]
    #: The agreements, their money per agreement and per service and what it did for each
    #: project, as kept (_kept_money).
    kept_money: CompoundSelect


@cache
def _report_statements() -> _ReportStatements:
    """Built once: building them took longer than the database took to answer them."""
    here = (Agreement.division_code == bindparam("code"), Agreement.signed_on <= bindparam("on"))
    return _ReportStatements(
        agreements=select(Agreement.id, Agreement.reference, Agreement.site_name, Agreement.developer)
        .where(*here).order_by(Agreement.reference),
        secured=select(Obligation.agreement_id, Obligation.service, func.sum(Obligation.amount))
        .join(Agreement, Obligation.agreement_id == Agreement.id).where(*here)
        .group_by(Obligation.agreement_id, Obligation.service),
        moved=select(Obligation.agreement_id, Obligation.service, Entry.project_id, Entry.kind, func.sum(Entry.amount))
        .join(Obligation, Entry.obligation_id == Obligation.id).join(Agreement, Obligation.agreement_id == Agreement.id)
        .where(*here, Entry.occurred_on <= bindparam("on"), in_force_looked_up())
        .group_by(Obligation.agreement_id, Obligation.service, Entry.project_id, Entry.kind),
        kept_money=_kept_money())


def division_report(session: Session, code: str, *, on: date, division: Division | None = None) -> DivisionReport:
    """The projects a division's contributions paid for, its money per agreement and per
    service, at the end of ``on``, as known now (reversed entries left out). ``division`` is
    the division ``code`` where the caller has read it already."""
    read_snapshot(session)
    if division is None:
        division = get_one(session, Division, "code", code, what="division")
    statements, parameters = _report_statements(), {"code": code, "on": on}
    connection = session.connection()
    services: dict[str, ServiceMoney] = {}

    def service(name: str) -> ServiceMoney:
        return services.setdefault(name, ServiceMoney(service=name))

    if kept.unsettled(session, on) == []:
        # Every obligation's kept positions answer for ``on``: its money and what it did for
        # projects as kept (a few rows, where the entries naming projects were thousands).
        kept_agreements: dict[int, AgreementMoney] = {}
        funded: list[ProjectFunded] = []
        for kind, row_id, reference, name, label, place, place_name, *money in connection.execute(
                statements.kept_money, parameters).all():
            if kind == _PROJECT:
                funded.append(_funded(reference, name, label, place, *money[:3], place_name))
                continue
            group = (service(label) if kind == _SERVICE else
                     kept_agreements.setdefault(row_id, AgreementMoney(reference=reference, site_name=name,
                                                                       developer=label)))
            for total, amount in zip(KEPT_MONEY, money, strict=True):
                setattr(group, total, amount or ZERO)
        return _report(division, on, _with_money(funded), kept_agreements, services)
    agreements = {a.id: AgreementMoney(reference=a.reference, site_name=a.site_name, developer=a.developer)
                  for a in connection.execute(statements.agreements, parameters)}
    projects: dict[int, dict[EntryKind, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for agreement_id, service_name, secured in connection.execute(statements.secured, parameters):
        agreements[agreement_id].secured += secured or ZERO
        service(service_name).secured += secured or ZERO
    for agreement_id, service_name, project_id, kind, amount in connection.execute(statements.moved, parameters):
        rule = KIND_RULES[EntryKind(kind)]
        if rule.total:
            for group in (agreements[agreement_id], service(service_name)):
                setattr(group, rule.total, getattr(group, rule.total) + amount)
        if project_id is not None:
            projects[project_id][rule.kind] += amount
    funded = {project_id: (by_kind[EntryKind.SPEND], by_kind[EntryKind.TRANSFER],
                           sum((signed(KIND_RULES[k].allocated, v) for k, v in by_kind.items()), ZERO))
              for project_id, by_kind in projects.items()}
    return _report(division, on, _with_money(_projects(session, funded)), agreements, services)


#: Per project: (spent, transferred, allocated unspent).
Funded = dict[int, tuple[Decimal, Decimal, Decimal]]


def _report(division: Division, on: date, projects: list[ProjectFunded], agreements: dict[int, AgreementMoney],
            services: dict[str, ServiceMoney]) -> DivisionReport:
    return DivisionReport(division=division, on=on, projects=projects, agreements=list(agreements.values()),
                          services=sorted(services.values(), key=lambda s: service_label(s.service)))


def _with_money(projects: list[ProjectFunded]) -> list[ProjectFunded]:
    # A project whose allocation was all taken back has had nothing from the division.
    return [p for p in projects if p.spent or p.transferred or p.allocated_unspent]


def _projects(session: Session, amounts: Funded) -> list[ProjectFunded]:
    """The projects ``amounts`` names, by reference, with that money."""
    return [_funded(*project[1:5], *amounts[project.id], project[5])
            for project in (session.connection().execute(_projects_named(), {"ids": list(amounts)}) if amounts else ())]


def _funded(reference: str, name: str, service: str, division_code: str | None, spent: Decimal,
            transferred: Decimal, allocated: Decimal, division_name: str | None) -> ProjectFunded:
    """A project (its reference, name, service and division) with that money."""
    return ProjectFunded(reference=reference, name=name, service=service, division_code=division_code,
                         division_name=division_name, spent=spent, transferred=transferred,
                         allocated_unspent=allocated)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposedAgreement:
    """A planning application under negotiation in the division (SPEC 8.7), with what the
    council is asking for: no money has moved under it."""

    reference: str
    site_name: str | None
    developer: str | None
    planning_application: str | None
    recorded_on: date
    obligations: int
    asked: Decimal


def proposed_agreements(session: Session, code: str) -> list[ProposedAgreement]:
    """The division's proposed agreements, newest recorded first, with the money their
    obligations ask for."""
    # Of each of the division's few proposed agreements, by the index of its obligations: a
    # sum grouped over every obligation of the ledger took longer than the rest of the page.
    rows = session.connection().execute(_proposed(), {"code": code})
    return [ProposedAgreement(reference=a.reference, site_name=a.site_name, developer=a.developer,
                              planning_application=a.planning_application, recorded_on=a.created_at.date(),
                              obligations=a.obligations or 0, asked=a.asked or ZERO) for a in rows]


@cache
def _proposed() -> Select[Any]:
    """The proposed agreements of the division ``code``, newest recorded first, with how many
    obligations each has and the money they ask for."""
    of_agreement = Obligation.agreement_id == Agreement.id
    return (select(Agreement.reference, Agreement.site_name, Agreement.developer, Agreement.planning_application,
                   Agreement.created_at,
                   select(func.count()).where(of_agreement).scalar_subquery().label("obligations"),
                   select(func.sum(Obligation.amount)).where(of_agreement).scalar_subquery().label("asked"))
            .where(Agreement.division_code == bindparam("code"), Agreement.status == AgreementStatus.PROPOSED.value)
            .order_by(Agreement.created_at.desc(), Agreement.reference))


@cache
def _projects_named() -> Select[Any]:
    """The projects ``ids``, by reference, with their division's name."""
    return (select(Project.id, Project.reference, Project.name, Project.service, Project.division_code, Division.name)
            .outerjoin(Division, Division.code == Project.division_code)
            .where(Project.id.in_(bindparam("ids", expanding=True))).order_by(Project.reference))
