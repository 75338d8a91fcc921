"""The Infrastructure Funding Statement's section 106 figures for a reported year (SPEC §4).

Totals are SQL aggregates over the entries in force; the detail rows behind them are
gathered separately (movement rows by SQL; balances per obligation and project, and each
receipt's remaining money by rule 8's closed form, from services.positions), so the Checks
compare two independent computations rather than a figure with itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby

from sqlalchemy import ColumnElement, and_, case, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from ledger import __version__
from ledger.db import known_moment, read_snapshot
from ledger.db_types import Pence
from ledger.domain.dates import NoDeadline, financial_year_bounds, repayment_deadline
from ledger.domain.entries import LedgerEntry
from ledger.domain.entry_kinds import (
    ADDS,
    INFLOWS,
    KIND_RULES,
    KINDS,
    SHEET_ROLES,
    TAKES,
    TOTALS,
    IfsRole,
    kinds_in,
    kinds_where,
    signed,
)
from ledger.domain.errors import LedgerError
from ledger.domain.ifs import (
    ITEMS,
    ROLE_FIGURES,
    AllocatedRow,
    AreaTotals,
    Check,
    IfsReport,
    Item,
    MovementRow,
    RetainedRow,
    SecuredRow,
)
from ledger.domain.money import ZERO
from ledger.domain.rules import last_received_on
from ledger.domain.vocab import EntryKind, Purpose, RepaymentBasis, UnitKind
from ledger.models import Authority, Division, Entry, Obligation, Project
from ledger.services.balances import AtRiskRow, at_risk_rows, sort_at_risk
from ledger.services.kind_sql import Effect, kind_is
from ledger.services.ledger_rows import agreements_known_at, in_force_condition
from ledger.services.positions import allocated_by_project, obligation_positions
from ledger.speed.shared import Shared


class ReportCheckFailed(LedgerError):
    """A reconciliation of the report does not hold: the report is not produced."""

    type = "report-check-failed"
    title = "Report reconciliation failed"
    status = 500


def _movements(
    session: Session, condition: ColumnElement[bool], shared: Shared, known_at: datetime, on: date,
) -> list[MovementRow]:
    """Movement rows as plain column tuples (no ORM objects: there are many at national size).
    Receipts' deadlines are as at the end of ``on``."""
    agreement = agreements_known_at(known_at)  # its details as known then
    last_received = _last_received_on(session, known_at=known_at, on=on)
    rows = session.connection().execute(
        select(Entry.kind, Entry.reference, Entry.occurred_on, agreement.reference, Obligation.reference,
               agreement.authority_code, agreement.division_code, Obligation.purpose, Obligation.service,
               Project.reference, Project.name, Project.repays_borrowing, Entry.recipient, Entry.amount,
               Entry.interest, Obligation.repayment_years, Obligation.repayment_basis, agreement.completion_on,
               Entry.original_received_on, Entry.obligation_id)
        .join(Obligation, Entry.obligation_id == Obligation.id)
        .join(agreement, Obligation.agreement_id == agreement.id)
        .outerjoin(Project, Entry.project_id == Project.id)
        .where(condition)
        .order_by(Entry.occurred_on, Entry.id)
    )
    found = []
    for (kind, reference, occurred_on, agreement, obligation, authority, division, purpose, service, project,
         project_name, repays, recipient, amount, interest, years, basis, completion_on, original_received_on,
         obligation_id) in rows:
        deadline = None
        if kind in INFLOWS:
            received = original_received_on if kind == EntryKind.OPENING_BALANCE else occurred_on
            due = repayment_deadline(received, years=years, basis=basis, completion_on=completion_on,
                                     last_received_on=last_received.get(obligation_id))
            deadline = None if isinstance(due, NoDeadline) else due
        found.append(MovementRow(
            kind=shared(kind), entry_reference=reference, occurred_on=shared(occurred_on),
            agreement_reference=shared(agreement), obligation_reference=shared(obligation),
            authority_code=shared(authority), division_code=shared(division), purpose=shared(purpose),
            service=shared(service), project_reference=shared(project), project_name=shared(project_name),
            repays_borrowing=bool(repays), recipient=shared(recipient), amount=amount, interest=interest,
            deadline=shared(deadline),
        ))
    return found


def _last_received_on(session: Session, *, known_at: datetime, on: date) -> dict[int, date]:
    """Each last-payment obligation's last date of receipt on or before ``on``, where it can
    be known (rules.last_received_on). Such obligations are few: their inflows are read."""
    last_payment = select(Obligation.id).where(Obligation.repayment_basis == RepaymentBasis.LAST_PAYMENT.value)
    rows = session.connection().execute(
        select(Entry.obligation_id, Entry.id, Entry.kind, Entry.amount, Entry.occurred_on, Entry.original_received_on)
        .where(Entry.obligation_id.in_(last_payment), kind_is(INFLOWS), Entry.occurred_on <= on,
               in_force_condition(known_at))
        .order_by(Entry.obligation_id)
    )
    found = {}
    for obligation_id, inflows in groupby(rows, key=lambda r: r[0]):
        latest = last_received_on(
            [LedgerEntry(id=r[1], kind=KIND_RULES[r[2]].kind, amount=r[3], occurred_on=r[4], original_received_on=r[5])
             for r in inflows], on=on)
        if latest is not None:
            found[obligation_id] = latest
    return found


def _total(rows: Iterable[MovementRow | RetainedRow | AllocatedRow | SecuredRow], attribute: str = "amount") -> Decimal:
    return sum((getattr(r, attribute) or ZERO for r in rows), ZERO)


def ifs_report(
    session: Session,
    *,
    year: int,
    as_known_at: datetime | None = None,
    red_months: int = 12,
    amber_months: int = 24,
) -> IfsReport:
    """The section 106 report for financial year ``year`` as the ledger stood at ``as_known_at``.

    Raises ReportCheckFailed if any reconciliation does not hold.
    """
    # A statement "as known now" is the statement as known at a moment every write stamped
    # before has committed: so it can be reproduced exactly later (db.known_moment).
    known = as_known_at or known_moment(session)
    read_snapshot(session)
    start, end = financial_year_bounds(year)
    in_force = in_force_condition(known)
    agreement = agreements_known_at(known)
    in_year = Entry.occurred_on.between(start, end)
    to_end = Entry.occurred_on <= end

    def entry_sum(*conditions: ColumnElement[bool]) -> ColumnElement[Decimal]:
        """The money of the entries in force that meet the conditions (a column of one query)."""
        return func.coalesce(func.sum(case((and_(*conditions), Entry.amount))), literal(ZERO, Pence()))

    def less(total: ColumnElement[Decimal], taken: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
        # SQL subtraction of two sums would come back as bare pence: keep the money type.
        return type_coerce(total - taken, Pence())

    def role_sum(role: IfsRole, *conditions: ColumnElement[bool]) -> ColumnElement[Decimal]:
        """The money of the kinds whose IFS role is ``role`` (entry_kinds.KINDS)."""
        return entry_sum(*conditions, kind_is(kinds_in(role)))

    def effect_sum(effect: Effect, *conditions: ColumnElement[bool]) -> ColumnElement[Decimal]:
        """A balance from the kinds that change it: what they add less what they take."""
        return less(entry_sum(*conditions, kind_is(kinds_where(lambda r: effect(r) == ADDS))),
                    entry_sum(*conditions, kind_is(kinds_where(lambda r: effect(r) == TAKES))))

    signed_in_year = (agreement.signed_on.between(start, end), agreement.created_at <= known,
                      Obligation.created_at <= known)
    with_agreement = (agreement, Obligation.agreement_id == agreement.id)

    # -- Figures: SQL aggregates --------------------------------------------------------------
    secured_total = session.scalar(
        select(func.sum(Obligation.amount)).join(*with_agreement).where(*signed_in_year)
    ) or ZERO
    units = dict(
        session.execute(
            select(Obligation.unit_kind, func.sum(Obligation.units))
            .join(*with_agreement).where(*signed_in_year).group_by(Obligation.unit_kind)
        ).all()
    )
    # The year's money by the kinds' IFS roles, (e) and (i) by the kinds' effects (entry_kinds.KINDS).
    only = {"s106_h_borrowing_repaid": (Project.repays_borrowing.is_(True),),
            "s106_h_monitoring_spent": (Obligation.purpose == Purpose.MONITORING_FEES.value,)}
    sums = {name: role_sum(role, in_year, *only.get(name, ())) for role, names in ROLE_FIGURES.items() for name in names}
    sums |= {
        "s106_e_allocated_not_spent": effect_sum(lambda r: r.allocated, to_end),
        "s106_i_money_retained": effect_sum(lambda r: r.held, to_end),
        "s106_i_commuted_sums_retained": effect_sum(lambda r: r.held, to_end, Obligation.commuted_sum.is_(True)),
    }
    # Every money figure from one pass over the entries.
    money = session.execute(
        select(*(column.label(name) for name, column in sums.items()))
        .select_from(Entry)
        .join(Obligation, Entry.obligation_id == Obligation.id)
        .outerjoin(Project, Entry.project_id == Project.id)
        .where(in_force)
    ).one()._asdict()
    figures: dict[str, Decimal | int] = {
        **money,
        "s106_a_money_secured": secured_total,
        "s106_d_affordable_housing_units": int(units.get(UnitKind.AFFORDABLE_HOUSING_UNITS.value) or 0),
        "s106_d_school_places": int(units.get(UnitKind.SCHOOL_PLACES.value) or 0),
    }

    # -- Detail rows ---------------------------------------------------------------------------
    shared = Shared()
    secured = [
        SecuredRow(agreement_reference=shared(r[0]), agreement_type=shared(r[1]), authority_code=shared(r[2]),
                   division_code=shared(r[3]), signed_on=shared(r[4]), obligation_reference=r[5],
                   purpose=shared(r[6]), service=shared(r[7]), amount=r[8], units=r[9], unit_kind=shared(r[10]),
                   school_category=shared(r[11]))
        for r in session.connection().execute(
            select(agreement.reference, agreement.type, agreement.authority_code, agreement.division_code,
                   agreement.signed_on, Obligation.reference, Obligation.purpose, Obligation.service,
                   Obligation.amount, Obligation.units, Obligation.unit_kind, Obligation.school_category)
            .join(*with_agreement).where(*signed_in_year)
            .order_by(agreement.signed_on, agreement.reference, Obligation.id)
        )
    ]
    sheets = {role: kinds_in(role) for role in (IfsRole.RECEIVED, IfsRole.SPENT, IfsRole.REPAID, IfsRole.OPENING)}
    assert set(sheets) == SHEET_ROLES
    movements = _movements(session, shared=shared, known_at=known, on=end,
                           condition=in_force & in_year & kind_is(frozenset().union(*sheets.values())))
    received, spent, repaid, opening = ([m for m in movements if m.kind in kinds] for kinds in sheets.values())

    # Each obligation's money at the start and end of the year, from SQL totals and its receipts.
    allocated = [
        AllocatedRow(project_reference=shared(project), project_name=shared(name), service=shared(service),
                     division_code=shared(division), obligation_reference=shared(obligation),
                     agreement_reference=shared(agreement), amount=amount)
        for project, name, service, division, obligation, agreement, amount
        in allocated_by_project(session, on=end, known_at=known)
    ]
    # Sorted here, not by the database: text order would follow the server's collation.
    allocated.sort(key=lambda r: (r.project_reference, r.obligation_reference))
    retained: list[RetainedRow] = []
    at_risk: list[AtRiskRow] = []
    received_before_unallocated = ZERO
    received_in_year_unallocated = ZERO
    held_at_start_total = ZERO
    created = (Obligation.created_at <= known,)
    for position in obligation_positions(session, on=end, since=start, known_at=known, where=created):
        info, receipts = position.info, position.receipts
        held_at_start_total += position.held_before
        before = sum((p.unallocated for p in receipts if p.receipt.occurred_on < start), ZERO)
        received_before_unallocated += before
        received_in_year_unallocated += sum((p.unallocated for p in receipts if p.receipt.occurred_on >= start), ZERO)
        dated = [p.deadline for p in receipts if isinstance(p.deadline, date)]
        retained.append(RetainedRow(
            agreement_reference=info.agreement_reference, obligation_reference=info.reference,
            authority_code=info.authority_code, division_code=info.division_code,
            purpose=info.purpose, service=info.service, commuted_sum=info.commuted_sum,
            held_at_start=position.held_before, held=position.held, allocated_unspent=position.allocated_unspent,
            unallocated=position.unallocated, received_before_unallocated=before,
            earliest_deadline=min(dated) if dated else None,
        ))
        at_risk.extend(at_risk_rows(info, receipts, as_of=end, red_months=red_months, amber_months=amber_months))
    figures["s106_c_received_before_unallocated"] = received_before_unallocated
    retained.sort(key=lambda r: (r.agreement_reference, r.obligation_reference))

    school_places: dict[str, int] = defaultdict(int)
    for row in secured:
        if row.unit_kind == UnitKind.SCHOOL_PLACES and row.units:
            school_places[row.school_category or "unknown"] += row.units

    names = dict(session.connection().execute(select(Authority.code, Authority.name)).all())
    division_names = dict(session.connection().execute(select(Division.code, Division.name)).all())
    by_authority = _areas(secured, movements, retained, key="authority_code", names=names)
    by_division = _areas(secured, movements, retained, key="division_code", names=division_names)
    by_service = _areas(secured, movements, retained, key="service", names={})

    items = [Item(name=n, label=label, reference=ref, value=figures[n]) for n, label, ref in ITEMS]
    report = IfsReport(
        year=year, start=start, end=end, as_known_at=known, version=__version__, items=items,
        secured=secured, received=received, allocated=allocated, spent=spent, repaid=repaid, opening=opening,
        retained=retained, at_risk=list(sort_at_risk(at_risk)), by_authority=by_authority,
        by_division=by_division, by_service=by_service, school_places_by_category=dict(school_places),
    )
    report.checks.extend(_checks(report, held_at_start_total, received_in_year_unallocated))
    if report.failed_checks:
        failed = "; ".join(f"{c.name}: expected {c.expected}, got {c.actual}" for c in report.failed_checks)
        raise ReportCheckFailed(f"IFS {year}: reconciliation failed: {failed}")
    return report


def _areas(
    secured: list[SecuredRow], movements: list[MovementRow], retained: list[RetainedRow], *, key: str,
    names: dict[str, str],
) -> list[AreaTotals]:
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for s in secured:
        totals[getattr(s, key) or ""]["secured"] += s.amount or ZERO
    for m in movements:
        if IfsRole.OPENING in KIND_RULES[m.kind].ifs:  # held, but not received in the year
            continue
        totals[getattr(m, key) or ""][KIND_RULES[m.kind].total] += m.amount  # type: ignore[index]
    for r in retained:
        totals[getattr(r, key) or ""]["retained"] += r.held
    return [
        AreaTotals(code=code, name=names.get(code, code) if code else "(none recorded)", **values)
        for code, values in sorted(totals.items(), key=lambda kv: (kv[0] == "", kv[0]))
    ]


def _checks(report: IfsReport, held_at_start: Decimal, received_in_year_unallocated: Decimal) -> list[Check]:
    v = report.value
    # Each movement once, though a kind may be listed on more than one sheet.
    listed = {id(m): m for m in [*report.received, *report.spent, *report.repaid, *report.opening]}.values()
    spent_by_authority = kinds_in(IfsRole.SPENT_BY_AUTHORITY)
    checks = [
        Check(name=f"Retained at start{_signed_totals()} = retained at end",
              expected=v("s106_i_money_retained"),
              actual=held_at_start + sum((signed(KIND_RULES[m.kind].held, m.amount) for m in listed), ZERO)),
        Check(name="Secured sheet total = (a)", expected=v("s106_a_money_secured"), actual=_total(report.secured)),
        Check(name="Received sheet total = (b)", expected=v("s106_b_money_received"), actual=_total(report.received)),
        Check(name="Allocated sheet total = (e)", expected=v("s106_e_allocated_not_spent"),
              actual=_total(report.allocated)),
        Check(name="Spent sheet total = (f)", expected=v("s106_f_money_spent"), actual=_total(report.spent)),
        Check(name="Spent sheet, projects repaying borrowing = (h)(ii)", expected=v("s106_h_borrowing_repaid"),
              actual=_total(m for m in report.spent if m.kind in spent_by_authority and m.repays_borrowing)),
        Check(name="Spent sheet, monitoring fees = (h)(iii)", expected=v("s106_h_monitoring_spent"),
              actual=_total(m for m in report.spent if m.kind in spent_by_authority and m.purpose == Purpose.MONITORING_FEES)),
        Check(name="Retained sheet total = (i)", expected=v("s106_i_money_retained"),
              actual=_total(report.retained, "held")),
        Check(name="Retained sheet, commuted sums = (i) commuted sums", expected=v("s106_i_commuted_sums_retained"),
              actual=_total((r for r in report.retained if r.commuted_sum), "held")),
        Check(name="Retained sheet, received before the year and unallocated = (c)",
              expected=v("s106_c_received_before_unallocated"),
              actual=_total(report.retained, "received_before_unallocated")),
        Check(name="(c) + unallocated money received in the year = (i) - (e)",
              expected=v("s106_i_money_retained") - v("s106_e_allocated_not_spent"),  # type: ignore[operator]
              actual=v("s106_c_received_before_unallocated") + received_in_year_unallocated),  # type: ignore[operator]
        Check(name="At risk sheet remaining money = (i)", expected=v("s106_i_money_retained"),
              actual=sum((r.remaining for r in report.at_risk), ZERO)),  # type: ignore[attr-defined]
        Check(name="Repaid in the year = repayments listed", expected=v("s106_money_repaid"),
              actual=_total(report.repaid)),
        Check(name="Non-monetary sheet affordable housing units = (d)(i)", expected=v("s106_d_affordable_housing_units"),
              actual=sum(r.units or 0 for r in report.secured if r.unit_kind == UnitKind.AFFORDABLE_HOUSING_UNITS)),
        Check(name="Non-monetary sheet school places by category = (d)(ii)", expected=v("s106_d_school_places"),
              actual=sum(report.school_places_by_category.values())),
    ]
    received_in, spent_in = _totals_of(IfsRole.RECEIVED), _totals_of(IfsRole.SPENT)
    for label, areas in (("authority", report.by_authority), ("division", report.by_division)):
        checks.append(Check(name=f"By {label}: {' and '.join(received_in)} adds up to (b)",
                            expected=v("s106_b_money_received"),
                            actual=sum((getattr(a, t) for a in areas for t in received_in), ZERO)))
        checks.append(Check(name=f"By {label}: {' and '.join(spent_in)} add up to (f)", expected=v("s106_f_money_spent"),
                            actual=sum((getattr(a, t) for a in areas for t in spent_in), ZERO)))
        checks.append(Check(name=f"By {label}: retained adds up to (i)", expected=v("s106_i_money_retained"),
                            actual=sum((a.retained for a in areas), ZERO)))
    return checks


def _signed_totals() -> str:
    """`` + received - spent - transferred - repaid``: the balance totals with their signs."""
    return "".join(f" {'+' if effect == ADDS else '-'} {name}" for name, effect in TOTALS.items())


def _totals_of(role: IfsRole) -> list[str]:
    """The balance totals (area columns) the kinds of ``role`` are counted in, in table order."""
    kinds = kinds_in(role)
    return list(dict.fromkeys(rule.total for rule in KINDS if rule.kind in kinds and rule.total))
