"""What a division's developer contributions paid for: the projects its money was spent on,
transferred for or allocated to (wherever the project is), money per agreement and per
service. A division's money is the money of the obligations of agreements in the division
(issue 15: projects are listed by where the money came from, not where they are)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.db import read_snapshot
from ledger.domain.agreement_status import AgreementStatus
from ledger.domain.entry_kinds import KIND_RULES, held_from, signed, with_totals
from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind, service_label
from ledger.models import Agreement, Division, Entry, Obligation, Project
from ledger.services.ledger_rows import in_force_condition
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


def division_report(session: Session, code: str, *, on: date) -> DivisionReport:
    """The projects a division's contributions paid for, its money per agreement and per
    service, at the end of ``on``, as known now (reversed entries left out)."""
    read_snapshot(session)
    division = get_one(session, Division, "code", code, what="division")
    here = (Agreement.division_code == code, Agreement.signed_on <= on)
    agreements = {a.id: AgreementMoney(reference=a.reference, site_name=a.site_name, developer=a.developer)
                  for a in session.connection().execute(
                      select(Agreement.id, Agreement.reference, Agreement.site_name, Agreement.developer)
                      .where(*here).order_by(Agreement.reference))}
    services: dict[str, ServiceMoney] = {}

    def service(name: str) -> ServiceMoney:
        return services.setdefault(name, ServiceMoney(service=name))

    for agreement_id, service_name, secured in session.execute(
        select(Obligation.agreement_id, Obligation.service, func.sum(Obligation.amount))
        .join(Agreement, Obligation.agreement_id == Agreement.id).where(*here)
        .group_by(Obligation.agreement_id, Obligation.service)
    ):
        agreements[agreement_id].secured += secured or ZERO
        service(service_name).secured += secured or ZERO

    projects: dict[int, dict[EntryKind, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for agreement_id, service_name, project_id, kind, amount in session.execute(
        select(Obligation.agreement_id, Obligation.service, Entry.project_id, Entry.kind, func.sum(Entry.amount))
        .join(Obligation, Entry.obligation_id == Obligation.id).join(Agreement, Obligation.agreement_id == Agreement.id)
        .where(*here, Entry.occurred_on <= on, in_force_condition(None))
        .group_by(Obligation.agreement_id, Obligation.service, Entry.project_id, Entry.kind)
    ):
        rule = KIND_RULES[EntryKind(kind)]
        if rule.total:
            for group in (agreements[agreement_id], service(service_name)):
                setattr(group, rule.total, getattr(group, rule.total) + amount)
        if project_id is not None:
            projects[project_id][rule.kind] += amount
    return DivisionReport(division=division, on=on, projects=_projects(session, projects),
                          agreements=list(agreements.values()),
                          services=sorted(services.values(), key=lambda s: service_label(s.service)))


def _projects(session: Session, amounts: dict[int, dict[EntryKind, Decimal]]) -> list[ProjectFunded]:
    funded = []
    for project in session.scalars(select(Project).where(Project.id.in_(amounts)).order_by(Project.reference)):
        by_kind = amounts[project.id]
        row = ProjectFunded(
            reference=project.reference, name=project.name, service=project.service,
            division_code=project.division_code, spent=by_kind[EntryKind.SPEND],
            transferred=by_kind[EntryKind.TRANSFER],
            allocated_unspent=sum((signed(KIND_RULES[k].allocated, v) for k, v in by_kind.items()), ZERO))
        # A project whose allocation was all taken back has had nothing from the division.
        if row.spent or row.transferred or row.allocated_unspent:
            funded.append(row)
    return funded


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
    asked = (select(Obligation.agreement_id, func.count().label("n"), func.sum(Obligation.amount).label("money"))
             .group_by(Obligation.agreement_id).subquery())
    rows = session.execute(
        select(Agreement, asked.c.n, asked.c.money).outerjoin(asked, asked.c.agreement_id == Agreement.id)
        .where(Agreement.division_code == code, Agreement.status == AgreementStatus.PROPOSED.value)
        .order_by(Agreement.created_at.desc(), Agreement.reference))
    return [ProposedAgreement(reference=a.reference, site_name=a.site_name, developer=a.developer,
                              planning_application=a.planning_application, recorded_on=a.created_at.date(),
                              obligations=n or 0, asked=money or ZERO) for a, n, money in rows]
