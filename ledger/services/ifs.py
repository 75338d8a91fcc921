"""The Infrastructure Funding Statement's section 106 figures for a reported year (SPEC §4).

Totals are SQL aggregates over the entries in force; the detail rows behind them are
gathered separately (movement rows by SQL, balances and per-receipt positions in one
streaming pass per obligation through the domain rules), so the Checks compare two
independent computations rather than a figure with itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ledger import __version__, clock
from ledger.domain import rules
from ledger.domain.dates import NoDeadline, financial_year_bounds, repayment_deadline
from ledger.domain.errors import LedgerError
from ledger.domain.ifs import (
    ITEMS,
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
from ledger.domain.vocab import EntryKind, Purpose, UnitKind
from ledger.models import Agreement, Authority, Division, Entry, Obligation, Project
from ledger.services.balances import AtRiskRow, at_risk_rows, deadline_rule, in_force_condition, sort_at_risk
from ledger.services.ledger_rows import entries_by_obligation, obligation_infos


class ReportCheckFailed(LedgerError):
    """A reconciliation of the report does not hold: the report is not produced."""

    type = "report-check-failed"
    title = "Report reconciliation failed"
    status = 500


def _movements(session: Session, condition: ColumnElement[bool]) -> list[MovementRow]:
    """Movement rows as plain column tuples (no ORM objects: there are many at national size)."""
    rows = session.execute(
        select(Entry.kind, Entry.reference, Entry.occurred_on, Agreement.reference, Obligation.reference,
               Agreement.authority_code, Agreement.division_code, Obligation.purpose, Obligation.service,
               Project.reference, Project.name, Project.repays_borrowing, Entry.recipient, Entry.amount,
               Entry.interest, Obligation.repayment_years, Obligation.repayment_basis, Agreement.completion_on)
        .join(Obligation, Entry.obligation_id == Obligation.id)
        .join(Agreement, Obligation.agreement_id == Agreement.id)
        .outerjoin(Project, Entry.project_id == Project.id)
        .where(condition)
        .order_by(Entry.occurred_on, Entry.id)
    )
    found = []
    for (kind, reference, occurred_on, agreement, obligation, authority, division, purpose, service, project,
         project_name, repays, recipient, amount, interest, years, basis, completion_on) in rows:
        deadline = None
        if kind == EntryKind.RECEIPT:
            due = repayment_deadline(occurred_on, years=years, basis=basis, completion_on=completion_on)
            deadline = None if isinstance(due, NoDeadline) else due
        found.append(MovementRow(
            kind=kind, entry_reference=reference, occurred_on=occurred_on, agreement_reference=agreement,
            obligation_reference=obligation, authority_code=authority, division_code=division, purpose=purpose,
            service=service, project_reference=project, project_name=project_name, repays_borrowing=bool(repays),
            recipient=recipient, amount=amount, interest=interest, deadline=deadline,
        ))
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
    start, end = financial_year_bounds(year)
    known = as_known_at or clock.now()
    in_force = in_force_condition(known)
    in_year = Entry.occurred_on.between(start, end)
    to_end = Entry.occurred_on <= end

    def entry_sum(*conditions: ColumnElement[bool]) -> Decimal:
        return session.scalar(
            select(func.sum(Entry.amount))
            .join(Obligation, Entry.obligation_id == Obligation.id)
            .outerjoin(Project, Entry.project_id == Project.id)
            .where(in_force, *conditions)
        ) or ZERO

    def kind_is(*kinds: EntryKind) -> ColumnElement[bool]:
        return Entry.kind.in_([k.value for k in kinds])

    signed_in_year = (Agreement.signed_on.between(start, end), Agreement.created_at <= known,
                      Obligation.created_at <= known)

    # -- Figures: SQL aggregates --------------------------------------------------------------
    secured_total = session.scalar(
        select(func.sum(Obligation.amount)).join(Obligation.agreement).where(*signed_in_year)
    ) or ZERO
    units = dict(
        session.execute(
            select(Obligation.unit_kind, func.sum(Obligation.units))
            .join(Obligation.agreement).where(*signed_in_year).group_by(Obligation.unit_kind)
        ).all()
    )
    allocated_to_end = entry_sum(to_end, kind_is(EntryKind.ALLOCATION)) - entry_sum(
        to_end, kind_is(EntryKind.DEALLOCATION, EntryKind.SPEND, EntryKind.TRANSFER))
    held_to_end = entry_sum(to_end, kind_is(EntryKind.RECEIPT)) - entry_sum(
        to_end, kind_is(EntryKind.SPEND, EntryKind.TRANSFER, EntryKind.REPAYMENT))
    commuted_to_end = entry_sum(to_end, Obligation.commuted_sum.is_(True), kind_is(EntryKind.RECEIPT)) - entry_sum(
        to_end, Obligation.commuted_sum.is_(True), kind_is(EntryKind.SPEND, EntryKind.TRANSFER, EntryKind.REPAYMENT))
    figures: dict[str, Decimal | int] = {
        "s106_a_money_secured": secured_total,
        "s106_b_money_received": entry_sum(in_year, kind_is(EntryKind.RECEIPT)),
        "s106_d_affordable_housing_units": int(units.get(UnitKind.AFFORDABLE_HOUSING_UNITS.value) or 0),
        "s106_d_school_places": int(units.get(UnitKind.SCHOOL_PLACES.value) or 0),
        "s106_e_allocated_not_spent": allocated_to_end,
        "s106_f_money_spent": entry_sum(in_year, kind_is(EntryKind.SPEND, EntryKind.TRANSFER)),
        "s106_h_borrowing_repaid": entry_sum(in_year, kind_is(EntryKind.SPEND), Project.repays_borrowing.is_(True)),
        "s106_h_monitoring_spent": entry_sum(
            in_year, kind_is(EntryKind.SPEND), Obligation.purpose == Purpose.MONITORING_FEES.value),
        "s106_i_money_retained": held_to_end,
        "s106_i_commuted_sums_retained": commuted_to_end,
        "s106_money_repaid": entry_sum(in_year, kind_is(EntryKind.REPAYMENT)),
    }

    # -- Detail rows ---------------------------------------------------------------------------
    secured = [
        SecuredRow(agreement_reference=r[0], agreement_type=r[1], authority_code=r[2], division_code=r[3],
                   signed_on=r[4], obligation_reference=r[5], purpose=r[6], service=r[7], amount=r[8], units=r[9],
                   unit_kind=r[10], school_category=r[11])
        for r in session.execute(
            select(Agreement.reference, Agreement.type, Agreement.authority_code, Agreement.division_code,
                   Agreement.signed_on, Obligation.reference, Obligation.purpose, Obligation.service,
                   Obligation.amount, Obligation.units, Obligation.unit_kind, Obligation.school_category)
            .join(Obligation.agreement).where(*signed_in_year)
            .order_by(Agreement.signed_on, Agreement.reference, Obligation.id)
        )
    ]
    movements = _movements(session, in_force & in_year & kind_is(
        EntryKind.RECEIPT, EntryKind.SPEND, EntryKind.TRANSFER, EntryKind.REPAYMENT))
    received = [m for m in movements if m.kind == EntryKind.RECEIPT]
    spent = [m for m in movements if m.kind in (EntryKind.SPEND, EntryKind.TRANSFER)]
    repaid = [m for m in movements if m.kind == EntryKind.REPAYMENT]

    # One pass over every obligation's history up to the year end, through the domain rules.
    infos = obligation_infos(session, Obligation.created_at <= known)
    project_rows = {r.reference: r for r in session.execute(
        select(Project.reference, Project.name, Project.service, Project.division_code))}
    allocated: list[AllocatedRow] = []
    retained: list[RetainedRow] = []
    at_risk: list[AtRiskRow] = []
    received_before_unallocated = ZERO
    received_in_year_unallocated = ZERO
    held_at_start_total = ZERO
    day_before = start - timedelta(days=1)
    for obligation_id, history in entries_by_obligation(session, up_to=end, known_at=as_known_at):
        info = infos.get(obligation_id)
        if info is None:
            continue
        entries = rules.in_force(history)
        at_start = rules.balances_at(entries, day_before)
        at_end = rules.balances_at(entries, end)
        held_at_start_total += at_start.held
        positions = rules.receipt_positions(entries, on=end, deadline_of=deadline_rule(info, info.completion_on))
        before = sum((p.unallocated for p in positions if p.receipt.occurred_on < start), ZERO)
        received_before_unallocated += before
        received_in_year_unallocated += sum((p.unallocated for p in positions if p.receipt.occurred_on >= start), ZERO)
        for project_reference, amount in sorted(at_end.by_project.items()):
            project = project_rows[project_reference]
            allocated.append(AllocatedRow(
                project_reference=project_reference, project_name=project.name, service=project.service,
                division_code=project.division_code, obligation_reference=info.reference,
                agreement_reference=info.agreement_reference, amount=amount,
            ))
        if at_end.held != ZERO or at_start.held != ZERO:
            dated = [p.deadline for p in positions if p.remaining and isinstance(p.deadline, date)]
            retained.append(RetainedRow(
                agreement_reference=info.agreement_reference, obligation_reference=info.reference,
                authority_code=info.authority_code, division_code=info.division_code,
                purpose=info.purpose, service=info.service, commuted_sum=info.commuted_sum,
                held_at_start=at_start.held, held=at_end.held, allocated_unspent=at_end.allocated_unspent,
                unallocated=at_end.unallocated, received_before_unallocated=before,
                earliest_deadline=min(dated) if dated else None,
            ))
        at_risk.extend(at_risk_rows(info, positions, as_of=end, red_months=red_months, amber_months=amber_months))
    figures["s106_c_received_before_unallocated"] = received_before_unallocated
    allocated.sort(key=lambda r: (r.project_reference, r.obligation_reference))
    retained.sort(key=lambda r: (r.agreement_reference, r.obligation_reference))

    school_places: dict[str, int] = defaultdict(int)
    for row in secured:
        if row.unit_kind == UnitKind.SCHOOL_PLACES and row.units:
            school_places[row.school_category or "unknown"] += row.units

    names = {a.code: a.name for a in session.scalars(select(Authority))}
    division_names = {d.code: d.name for d in session.scalars(select(Division))}
    by_authority = _areas(secured, movements, retained, key="authority_code", names=names)
    by_division = _areas(secured, movements, retained, key="division_code", names=division_names)
    by_service = _areas(secured, movements, retained, key="service", names={})

    items = [Item(name=n, label=label, reference=ref, value=figures[n]) for n, label, ref in ITEMS]
    report = IfsReport(
        year=year, start=start, end=end, as_known_at=known, version=__version__, items=items,
        secured=secured, received=received, allocated=allocated, spent=spent, repaid=repaid,
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
        column = {"receipt": "received", "spend": "spent", "transfer": "transferred", "repayment": "repaid"}[m.kind]
        totals[getattr(m, key) or ""][column] += m.amount
    for r in retained:
        totals[getattr(r, key) or ""]["retained"] += r.held
    return [
        AreaTotals(code=code, name=names.get(code, code) if code else "(none recorded)", **values)
        for code, values in sorted(totals.items(), key=lambda kv: (kv[0] == "", kv[0]))
    ]


def _checks(report: IfsReport, held_at_start: Decimal, received_in_year_unallocated: Decimal) -> list[Check]:
    v = report.value
    moved = {kind: _total(m for m in [*report.received, *report.spent, *report.repaid] if m.kind == kind)
             for kind in ("receipt", "spend", "transfer", "repayment")}
    checks = [
        Check(name="Retained at start + received - spent - transferred - repaid = retained at end",
              expected=v("s106_i_money_retained"),
              actual=held_at_start + moved["receipt"] - moved["spend"] - moved["transfer"] - moved["repayment"]),
        Check(name="Secured sheet total = (a)", expected=v("s106_a_money_secured"), actual=_total(report.secured)),
        Check(name="Received sheet total = (b)", expected=v("s106_b_money_received"), actual=_total(report.received)),
        Check(name="Allocated sheet total = (e)", expected=v("s106_e_allocated_not_spent"),
              actual=_total(report.allocated)),
        Check(name="Spent sheet total = (f)", expected=v("s106_f_money_spent"), actual=_total(report.spent)),
        Check(name="Spent sheet, projects repaying borrowing = (h)(ii)", expected=v("s106_h_borrowing_repaid"),
              actual=_total(m for m in report.spent if m.kind == "spend" and m.repays_borrowing)),
        Check(name="Spent sheet, monitoring fees = (h)(iii)", expected=v("s106_h_monitoring_spent"),
              actual=_total(m for m in report.spent if m.kind == "spend" and m.purpose == Purpose.MONITORING_FEES)),
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
    for label, areas in (("authority", report.by_authority), ("division", report.by_division)):
        checks.append(Check(name=f"By {label}: received adds up to (b)", expected=v("s106_b_money_received"),
                            actual=sum((a.received for a in areas), ZERO)))
        checks.append(Check(name=f"By {label}: spent and transferred add up to (f)", expected=v("s106_f_money_spent"),
                            actual=sum((a.spent + a.transferred for a in areas), ZERO)))
        checks.append(Check(name=f"By {label}: retained adds up to (i)", expected=v("s106_i_money_retained"),
                            actual=sum((a.retained for a in areas), ZERO)))
    return checks
