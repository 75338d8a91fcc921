"""What the web pages show at a glance: the officer dashboard and the division list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import ScalarSelect, Select, bindparam, extract, func, select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.db import page_bound, read_snapshot, written
from ledger.domain.dates import NoDeadline, add_months
from ledger.domain.entry_kinds import KIND_RULES, TOTALS, held_from, with_totals
from ledger.domain.money import ZERO
from ledger.domain.reconcile import AssertionRow
from ledger.domain.rules import band_for
from ledger.domain.vocab import Band
from ledger.models import (
    Agreement,
    BalanceAssertion,
    Division,
    Entry,
    KeptDeadlineTotal,
    KeptDivisionPosition,
    KeptReceiptPosition,
    KeptUrgentDivision,
    KeptUrgentObligation,
    Obligation,
)
from ledger.services import kept, kept_urgent
from ledger.services.balances import AtRiskRow, at_risk, at_risk_rows, dated_bands, in_force_condition
from ledger.services.positions import obligation_positions

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
    #: The money overdue, red and amber.
    bands: dict[Band, Decimal]
    months: list[tuple[date, Decimal]]
    largest: list[ObligationAtRisk]
    recent: list[RecentEntry]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecentEntry:
    occurred_on: date
    kind: str
    reverses: int | None
    obligation_reference: str
    reference: str
    amount: Decimal
    created_by: str


@cache
def _recent_entries(count: int) -> Select[Any]:
    """The ``count`` latest entries with their obligations' references. The latest are
    chosen first, by their index: joined at once, PostgreSQL hashed every entry. The count is
    written into the statement: with a LIMIT parameter PostgreSQL planned it afresh each time."""
    latest = (select(Entry.id).order_by(Entry.created_at.desc(), Entry.id.desc())
              .limit(written(count)).subquery())
    return (select(Entry.occurred_on, Entry.kind, Entry.reverses, Obligation.reference, Entry.reference,
                   Entry.amount, Entry.created_by)
            .join(latest, latest.c.id == Entry.id).join(Obligation, Obligation.id == Entry.obligation_id)
            .order_by(Entry.created_at.desc(), Entry.id.desc()))


def dashboard(session: Session, *, today: date, red_months: int = 12, amber_months: int = 24) -> Dashboard:
    """Money at risk by band, what falls due month by month over 24 months, the largest
    obligations at risk and the latest entries."""
    urgent_ready = kept_urgent_for(session, today=today, amber_months=amber_months)
    read_snapshot(session)
    first = today.replace(day=1)
    months = [add_months(first, n) for n in range(24)]
    recent = [RecentEntry(occurred_on=row[0], kind=row[1], reverses=row[2], obligation_reference=row[3],
                          reference=row[4], amount=row[5], created_by=row[6])
              for row in session.connection().execute(_recent_entries(10))]
    kept_sums = _kept_sums(session, today=today, until=add_months(first, 24), red_months=red_months,
                           amber_months=amber_months, largest=10, urgent_ready=urgent_ready)
    if kept_sums is None:  # never at today, but a ledger could be migrating: the replay answers
        rows = at_risk(session, as_of=today, red_months=red_months, amber_months=amber_months)
        return Dashboard(today=today, bands=_bands(rows), months=_months(rows, today=today, months=months),
                         largest=largest_at_risk(rows, limit=10), recent=recent)
    bands, by_month, urgent = kept_sums
    return Dashboard(
        today=today, bands=bands, months=[(m, by_month[m]) for m in months],
        largest=sorted(urgent, key=lambda o: o.remaining, reverse=True)[:10], recent=recent)


def kept_urgent_for(session: Session, *, today: date, amber_months: int) -> bool:
    """Whether the day's urgent money kept per obligation and division can be read: only for
    the clock's today (another day would write them afresh for every request)."""
    return today == clock.today() and kept_urgent.ensure(session, today=today, amber_months=amber_months)


def worked_out_rows(
    session: Session, ids: list[int], *, today: date, red_months: int, amber_months: int,
) -> list[AtRiskRow]:
    """The at-risk rows of obligations the kept positions do not answer for, from their entries."""
    return [row for position in obligation_positions(session, on=today, where=(Obligation.id.in_(ids),))
            for row in at_risk_rows(position.info, position.receipts, as_of=today, red_months=red_months,
                                    amber_months=amber_months)]


def _bands(rows: list[AtRiskRow]) -> dict[Band, Decimal]:
    """The money of ``rows`` overdue, red and amber (the bands the dashboard shows)."""
    bands = dict.fromkeys(URGENT, ZERO)
    for row in rows:
        if row.band in bands:
            bands[row.band] += row.remaining
    return bands


def _months(rows: list[AtRiskRow], *, today: date, months: list[date]) -> list[tuple[date, Decimal]]:
    by_month: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        if row.deadline and today <= row.deadline < add_months(months[0], len(months)):
            by_month[row.deadline.replace(day=1)] += row.remaining
    return [(m, by_month[m]) for m in months]


def urgent_money(
    session: Session, *, today: date, red_months: int = 12, amber_months: int = 24,
) -> list[tuple[str, str, Decimal]]:
    """(obligation, agreement, money overdue, red or amber) of every obligation with some: one
    sum by the database over the kept receipt positions where they answer for ``today``."""
    worked_out = kept.unsettled(session, today)
    if worked_out is None or worked_out:
        return [(o.obligation_reference, o.agreement_reference, o.remaining)
                for o in urgent_obligations(session, today=today, red_months=red_months, amber_months=amber_months)]
    receipt = KeptReceiptPosition
    per_obligation = (select(receipt.obligation_id, func.sum(receipt.remaining).label("money"))
                      .where(receipt.deadline <= add_months(today, amber_months)).group_by(receipt.obligation_id)
                      .subquery())
    return [tuple(row) for row in session.connection().execute(  # type: ignore[misc]
        select(Obligation.reference, Agreement.reference, per_obligation.c.money)
        .join(Obligation, Obligation.id == per_obligation.c.obligation_id)
        .join(Agreement, Agreement.id == Obligation.agreement_id))]


def urgent_obligations(
    session: Session, *, today: date, red_months: int = 12, amber_months: int = 24,
) -> list[ObligationAtRisk]:
    """Every obligation with money overdue, red or amber, most money first."""
    kept_sums = _kept_sums(session, today=today, until=today, red_months=red_months, amber_months=amber_months,
                           largest=None, urgent_ready=False)
    if kept_sums is None:
        return largest_at_risk(at_risk(session, as_of=today, red_months=red_months, amber_months=amber_months),
                               limit=None)
    return sorted(kept_sums[2], key=lambda o: o.remaining, reverse=True)


@cache
def _band_money() -> tuple[ScalarSelect[Any], ...]:
    """The money kept per deadline overdue, red and amber on ``today`` (rules.band_for), a
    subquery a band. Each band is a range of the deadline's key, so no row is looked at twice
    (a CASE per band made the database weigh every date against every band); green and the
    money with no deadline, which the dashboard does not show, are not summed at all."""
    ranges = dated_bands(KeptDeadlineTotal.deadline, today=bindparam("today"), red=bindparam("red"),
                         amber=bindparam("amber"))
    return tuple(select(func.sum(KeptDeadlineTotal.remaining)).where(ranges[band]).correlate(None).scalar_subquery()
                 for band in URGENT)


@cache
def _band_sums() -> Select[Any]:
    """The money by band (_band_money) as one row."""
    return select(*_band_money())


@cache
def _months_due() -> Select[Any]:
    """The money kept per deadline date from ``today`` to before ``until``, summed by year
    and month of deadline: a row a month, each with the money by band (_band_money) after
    it, so the dashboard reads both in one round trip. Each band is summed once (it does not
    depend on the row); with no money due in those months there are no rows to carry it."""
    day = KeptDeadlineTotal.deadline
    year, month = extract("year", day), extract("month", day)
    return (select(year, month, func.sum(KeptDeadlineTotal.remaining), *_band_money())
            .where(day >= bindparam("today"), day < bindparam("until")).group_by(year, month))


@cache
def _urgent_per_obligation(*, kept_for_the_day: bool, leave_out: bool, largest: int | None) -> Select[Any]:
    """Each obligation's urgent money and earliest deadline, with its names: the ``largest``
    by money (or all). From the day's sums kept per obligation, by their index on money,
    when ``kept_for_the_day``; else summed from the kept receipts due by ``amber``. Less the
    obligations ``worked_out`` when ``leave_out``. A statement built once per shape."""
    if kept_for_the_day:
        table = KeptUrgentObligation
        obligation_id, money, earliest = table.obligation_id, table.money, table.earliest_deadline
        chosen = select(obligation_id, money.label("money"), earliest.label("earliest"))
    else:
        receipt = KeptReceiptPosition
        obligation_id, money = receipt.obligation_id, func.sum(receipt.remaining)
        chosen = (select(obligation_id, money.label("money"), func.min(receipt.deadline).label("earliest"))
                  .where(receipt.deadline <= bindparam("amber")).group_by(obligation_id))
    if leave_out:
        chosen = chosen.where(obligation_id.not_in(bindparam("worked_out", expanding=True)))
    # The count written into the statement, so PostgreSQL plans it once (db.page_bound says why).
    per_obligation = (chosen.order_by(money.desc(), obligation_id)
                      .limit(None if largest is None else written(largest)).subquery())
    return (select(Obligation.reference, Agreement.reference, Agreement.division_code, Obligation.service,
                   per_obligation.c.earliest, per_obligation.c.money)
            .join(Obligation, Obligation.id == per_obligation.c.obligation_id)
            .join(Agreement, Agreement.id == Obligation.agreement_id))


def _kept_sums(
    session: Session, *, today: date, until: date, red_months: int, amber_months: int, largest: int | None,
    urgent_ready: bool,
) -> tuple[dict[Band, Decimal], dict[date, Decimal], list[ObligationAtRisk]] | None:
    """From the kept receipt positions, summed by the database: money by band, money by
    month of deadline from ``today`` to ``until``, and each obligation's urgent money (of
    the ``largest`` obligations only, if given). The few obligations the kept positions do
    not answer for are worked out (services.kept)."""
    connection = session.connection()
    worked_out = kept.unsettled(session, today)
    if worked_out is None:
        return None
    receipt = KeptReceiptPosition
    # Bands from the money kept per deadline date (a few thousand dates) and months from the
    # dates up to ``until``, each a range of the deadline's key, from statements built once:
    # the bands come with the months, or alone if there are no months (or none asked for).
    dates = {"today": today, "red": add_months(today, red_months), "amber": add_months(today, amber_months),
             "until": until}
    months = connection.execute(_months_due(), dates).all() if until > today else []
    sums = months[0][3:] if months else connection.execute(_band_sums(), dates).one()
    bands = {band: money or ZERO for band, money in zip(URGENT, sums, strict=True)}
    by_month: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for year, month, money, *_ in months:
        by_month[date(int(year), int(month), 1)] += money
    # Less what is kept of the obligations worked out below.
    for deadline, no_deadline, money in connection.execute(
            select(receipt.deadline, receipt.no_deadline, receipt.remaining)
            .where(receipt.obligation_id.in_(worked_out))) if worked_out else ():
        band = band_for(deadline or NoDeadline(no_deadline), as_of=today, red_months=red_months,
                        amber_months=amber_months)
        if band in bands:
            bands[band] -= money
        if deadline and today <= deadline < until:
            by_month[deadline.replace(day=1)] -= money
    urgent = [
        ObligationAtRisk(obligation_reference=obligation, agreement_reference=agreement, division_code=division,
                         service=service, earliest_deadline=earliest, remaining=money,
                         band=band_for(earliest, as_of=today, red_months=red_months, amber_months=amber_months))
        for obligation, agreement, division, service, earliest, money in connection.execute(
            _urgent_per_obligation(kept_for_the_day=urgent_ready, leave_out=bool(worked_out), largest=largest),
            {"amber": add_months(today, amber_months), "worked_out": worked_out})
    ]
    if worked_out:
        rows = worked_out_rows(session, worked_out, today=today, red_months=red_months, amber_months=amber_months)
        for name, money in _bands(rows).items():
            bands[name] += money
        for row in rows:
            if row.deadline and today <= row.deadline < until:
                by_month[row.deadline.replace(day=1)] += row.remaining
        urgent.extend(largest_at_risk(rows, limit=None))
    return bands, by_month, urgent


def largest_at_risk(rows: list[AtRiskRow], *, limit: int | None) -> list[ObligationAtRisk]:
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


def division_count(session: Session) -> int:
    return session.connection().execute(_division_count()).scalar() or 0


@cache
def _division_count() -> Select[Any]:
    return select(func.count()).select_from(Division)


#: The money of a division's row, in the order _kept_divisions gives it.
DIVISION_MONEY = ("secured", *TOTALS)


@cache
def _kept_divisions(*, paged: bool) -> Select[Any]:
    """The divisions by name (from ``offset``, ``limit`` of them when ``paged``), each with
    its kept totals (DIVISION_MONEY) and the day's urgent money kept. The page's bounds are
    written into the statement when it runs: as parameters, PostgreSQL planned it each time."""
    totals, urgent = KeptDivisionPosition, KeptUrgentDivision
    listed = (select(Division.code, Division.name, Division.authority_code, Division.members,
                     *(getattr(totals, name) for name in DIVISION_MONEY), urgent.money)
              .outerjoin(totals, totals.division_code == Division.code)
              .outerjoin(urgent, urgent.division_code == Division.code)
              .order_by(Division.name, Division.code))
    return (listed.offset(page_bound("offset")).limit(page_bound("limit"))
            if paged else listed)


def division_totals(
    session: Session, *, on: date, red_months: int = 12, amber_months: int = 24, offset: int = 0,
    limit: int | None = None,
) -> list[DivisionTotals]:
    """Every division (or a page of them, by name) with its money: the kept division totals
    (services.kept) and the day's urgent money, or (at a date long past) SQL sums and one
    at-risk pass."""
    urgent_ready = kept_urgent_for(session, today=on, amber_months=amber_months)
    read_snapshot(session)
    if urgent_ready and kept.unsettled(session, on) == []:
        # Every obligation kept answers for ``on``: each division of the page with its kept
        # totals and the day's urgent money, in one statement.
        return [DivisionTotals(code=code, name=name, authority_code=authority, members=list(members or []),
                               **{name: money or ZERO for name, money in zip(DIVISION_MONEY, money, strict=True)},
                               at_risk=at_risk or ZERO)
                for code, name, authority, members, *money, at_risk in session.connection().execute(
                    _kept_divisions(paged=limit is not None), {"offset": offset, "limit": limit}).all()]
    listed = session.connection().execute(
        select(Division.code, Division.name, Division.authority_code, Division.members)
        .order_by(Division.name, Division.code).offset(offset).limit(limit)).all()
    risk: dict[str | None, Decimal] = defaultdict(lambda: ZERO)
    totals = kept.division_totals(session, on=on, codes=None if limit is None else [d.code for d in listed])
    worked_out = kept.unsettled(session, on) if urgent_ready else None
    if totals is not None and worked_out is not None:
        connection = session.connection()
        risk.update(connection.execute(select(KeptUrgentDivision.division_code, KeptUrgentDivision.money)
                                       .where(KeptUrgentDivision.division_code.in_([d.code for d in listed]))).all())
        if worked_out:
            for division, money in connection.execute(
                    select(KeptUrgentObligation.division_code, KeptUrgentObligation.money)
                    .where(KeptUrgentObligation.obligation_id.in_(worked_out))):
                risk[division or kept.NO_DIVISION] -= money
            rows = worked_out_rows(session, worked_out, today=on, red_months=red_months, amber_months=amber_months)
            for obligation in largest_at_risk(rows, limit=None):
                risk[obligation.division_code or kept.NO_DIVISION] += obligation.remaining
    elif totals is not None:
        for obligation in urgent_obligations(session, today=on, red_months=red_months, amber_months=amber_months):
            risk[obligation.division_code] += obligation.remaining
    if totals is not None:
        return [
            DivisionTotals(
                code=d.code, name=d.name, authority_code=d.authority_code, members=list(d.members or []),
                **{name: getattr(totals.get(d.code) or kept.Totals(), name) for name in ("secured", *TOTALS)},
                at_risk=risk[d.code],
            )
            for d in listed
        ]
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
        for d in listed
    ]


def failing_assertions(session: Session) -> list[AssertionRow]:
    """Balance assertions the ledger does not agree with and no note has resolved (issue 19):
    the dashboard shows them until an entry makes them hold or a note resolves them."""
    from ledger.services.reconcile import assertion_rows  # it imports this module's neighbours

    # Most ledgers have none: one look at the index, and no more, for every dashboard.
    if session.connection().execute(_any_assertion()).first() is None:
        return []
    return assertion_rows(session, failing_only=True)


@cache
def _any_assertion() -> Select[Any]:
    return select(BalanceAssertion.id).limit(1)
