"""What the web pages show at a glance: the officer dashboard and the division list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.db import read_snapshot
from ledger.domain.dates import add_months
from ledger.domain.entry_kinds import KIND_RULES, TOTALS, held_from, with_totals
from ledger.domain.money import ZERO
from ledger.domain.reconcile import AssertionRow
from ledger.domain.vocab import Band
from ledger.models import Agreement, Division, Entry, Obligation
from ledger.services.balances import AtRiskRow, at_risk, in_force_condition

URGENT = (Band.OVERDUE, Band.RED, Band.AMBER)


@dataclass(frozen=True, slots=True, kw_only=True)
class ObligationAtRisk:
    obligation_reference: str
    agreement_reference: str
    division_code: str | None
    service: str
    earliest_deadline: date | None
    band: Band
    remaining: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Dashboard:
    today: date
    bands: dict[Band, Decimal]
    months: list[tuple[date, Decimal]]
    largest: list[ObligationAtRisk]
    recent: list[Entry]


def dashboard(session: Session, *, today: date, red_months: int = 12, amber_months: int = 24) -> Dashboard:
    """Money at risk by band, what falls due month by month over 24 months, the largest
    obligations at risk and the latest entries."""
    read_snapshot(session)
    rows = at_risk(session, as_of=today, red_months=red_months, amber_months=amber_months)
    bands = dict.fromkeys(Band, ZERO)
    for row in rows:
        bands[row.band] += row.remaining
    first = today.replace(day=1)
    months = [add_months(first, n) for n in range(24)]
    by_month: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        if row.deadline and today <= row.deadline < add_months(first, 24):
            by_month[row.deadline.replace(day=1)] += row.remaining
    return Dashboard(
        today=today,
        bands=bands,
        months=[(m, by_month[m]) for m in months],
        largest=largest_at_risk(rows, limit=10),
        recent=list(session.scalars(select(Entry).order_by(Entry.created_at.desc(), Entry.id.desc()).limit(10))),
    )


def largest_at_risk(rows: list[AtRiskRow], *, limit: int) -> list[ObligationAtRisk]:
    """Obligations with the most money overdue, red or amber, most first."""
    grouped: dict[str, list[AtRiskRow]] = defaultdict(list)
    for row in rows:
        if row.band in URGENT:
            grouped[row.obligation_reference].append(row)
    found = []
    for reference, group in grouped.items():
        worst = min(group, key=lambda r: URGENT.index(r.band))
        found.append(ObligationAtRisk(
            obligation_reference=reference, agreement_reference=worst.agreement_reference,
            division_code=worst.division_code, service=worst.service,
            earliest_deadline=min(r.deadline for r in group if r.deadline), band=worst.band,
            remaining=sum((r.remaining for r in group), ZERO),
        ))
    return sorted(found, key=lambda o: o.remaining, reverse=True)[:limit]


@with_totals
@dataclass(frozen=True, slots=True, kw_only=True)
class DivisionTotals:
    code: str
    name: str
    authority_code: str
    members: list[str]
    secured: Decimal
    received: Decimal
    spent: Decimal
    transferred: Decimal
    repaid: Decimal
    at_risk: Decimal

    @property
    def held(self) -> Decimal:
        return held_from(lambda name: getattr(self, name))


def division_totals(session: Session, *, on: date, red_months: int = 12, amber_months: int = 24) -> list[DivisionTotals]:
    """Every division with its money: SQL sums per division, one at-risk pass for all."""
    read_snapshot(session)
    secured = dict(session.execute(
        select(Agreement.division_code, func.sum(Obligation.amount)).join(Obligation.agreement)
        .where(Agreement.signed_on <= on).group_by(Agreement.division_code)).all())
    moved: dict[str | None, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(TOTALS, ZERO))
    for division, kind, total in session.execute(
            select(Agreement.division_code, Entry.kind, func.sum(Entry.amount))
            .join(Obligation, Entry.obligation_id == Obligation.id)
            .join(Agreement, Obligation.agreement_id == Agreement.id)
            .where(Entry.occurred_on <= on, in_force_condition(None))
            .group_by(Agreement.division_code, Entry.kind)):
        counted_in = KIND_RULES[kind].total
        if counted_in:
            moved[division][counted_in] += total
    risk: dict[str | None, Decimal] = defaultdict(lambda: ZERO)
    for row in at_risk(session, as_of=on, red_months=red_months, amber_months=amber_months):
        if row.band in URGENT:
            risk[row.division_code] += row.remaining
    return [
        DivisionTotals(
            code=d.code, name=d.name, authority_code=d.authority_code, members=list(d.members or []),
            secured=secured.get(d.code) or ZERO,
            **moved[d.code],
            at_risk=risk[d.code],
        )
        for d in session.scalars(select(Division).order_by(Division.name))
    ]


def failing_assertions(session: Session) -> list[AssertionRow]:
    """Balance assertions the ledger does not agree with and no note has resolved (issue 19):
    the dashboard shows them until an entry makes them hold or a note resolves them."""
    from ledger.services.reconcile import assertion_rows  # it imports this module's neighbours

    return assertion_rows(session, failing_only=True)
