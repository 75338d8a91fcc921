"""The Infrastructure Funding Statement's figures for a reported year (SPEC §4, 8.1-8.4): the
section 106 report of planning obligations, the CIL and section 278 money apart, and the
data the figures rest on that is flagged for review.

Totals are SQL aggregates over the entries in force; the detail rows behind them are
gathered separately (movement rows by SQL; balances per obligation and project, and each
receipt's remaining money by rule 8's closed form, from services.positions), so the Checks
compare two independent computations rather than a figure with itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from importers.plan import PLACEHOLDER
from ledger import __version__
from ledger.db import known_moment, read_snapshot
from ledger.db_types import Pence
from ledger.domain.agreement_status import AgreementStatus
from ledger.domain.dates import NoDeadline, Terms, financial_year_bounds, repayment_deadline
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
    CIL_ITEMS,
    ITEMS,
    ROLE_FIGURES,
    S278_ITEMS,
    AllocatedRow,
    AreaTotals,
    Check,
    ClassReport,
    DataQuality,
    FlaggedRow,
    IfsReport,
    Item,
    MovementRow,
    RetainedRow,
    SecuredRow,
    UnknownDeadlineRow,
)
from ledger.domain.money import ZERO
from ledger.domain.rules import last_received_on, received_on
from ledger.domain.vocab import (
    AGREEMENT_CLASS,
    PLANNING_OBLIGATION_TYPES,
    AgreementClass,
    AgreementType,
    EntryKind,
    Purpose,
    RepaymentBasis,
    UnitKind,
)
from ledger.models import Agreement, Entry, Obligation, Project
from ledger.services import variations
from ledger.services.balances import AtRiskRow, at_risk_rows, sort_at_risk
from ledger.services.kind_sql import Effect, kind_is
from ledger.services.ledger_rows import agreements_known_at, in_force_condition
from ledger.services.positions import allocated_by_project, obligation_positions
from ledger.services.reconcile import year_end
from ledger.services.registry import place_names
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
    # The terms in force at the end of ``on`` (SPEC 8.2), where a change has replaced the deed's.
    changed = variations.changed_terms(session, on=on, known_at=known_at)
    last_received = _last_received_on(session, known_at=known_at, on=on, changed=changed)
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
        if obligation_id in changed:
            years, basis = changed[obligation_id].repayment_years, changed[obligation_id].repayment_basis
        if kind in INFLOWS:
            inflow = LedgerEntry(id=0, kind=KIND_RULES[kind].kind, amount=amount, occurred_on=occurred_on,
                                 original_received_on=original_received_on)
            due = repayment_deadline(received_on(inflow), years=years, basis=basis, completion_on=completion_on,
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


def _last_received_on(session: Session, *, known_at: datetime, on: date, changed: dict[int, Terms]) -> dict[int, date]:
    """Each last-payment obligation's last date of receipt on or before ``on``, where it can
    be known (rules.last_received_on), its terms being those in force then (``changed``
    where a change replaced the deed's). Such obligations are few: their inflows are read."""
    basis = RepaymentBasis.LAST_PAYMENT.value
    last_payment = select(Obligation.id).where(or_(
        and_(Obligation.repayment_basis == basis, Obligation.id.not_in(list(changed))),
        Obligation.id.in_([i for i, terms in changed.items() if terms.repayment_basis == basis])))
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


#: The sums each CIL and section 278 figure is (SPEC 8.1): the year's money query is grouped
#: by agreement type, so its columns, named for the s106 figure they give, give each class's.
#: CIL letters follow paragraph 1: (e) is spend only, money passed to other bodies is (i).
CLASS_SUMS: dict[AgreementClass, dict[str, str]] = {
    AgreementClass.CIL: {"cil_b_receipts": "s106_b_money_received", "cil_e_expenditure": "spent_by_authority",
                         "cil_f_allocated_not_spent": "s106_e_allocated_not_spent",
                         "cil_i_passed_to_others": "passed_to_others", "cil_l_retained": "s106_i_money_retained"},
    AgreementClass.S278: {"s278_b_money_received": "s106_b_money_received", "s278_f_money_spent": "s106_f_money_spent",
                          "s278_i_money_retained": "s106_i_money_retained"},
}
CLASS_ITEMS = {AgreementClass.CIL: CIL_ITEMS, AgreementClass.S278: S278_ITEMS}
#: The (a) and (c) figure of each class, where it has one: they come from obligations and receipts, not sums.
SECURED_FIGURE = {AgreementClass.S106: "s106_a_money_secured", AgreementClass.S278: "s278_a_money_secured"}
BEFORE_FIGURE = {AgreementClass.S106: "s106_c_received_before_unallocated",
                 AgreementClass.CIL: "cil_c_received_before_unallocated"}


def _class_of_type(agreement_type: str) -> AgreementClass:
    return AGREEMENT_CLASS[AgreementType(agreement_type)]


@dataclass
class _Rows:
    """One class's detail rows while the report is gathered."""

    secured: list[SecuredRow] = field(default_factory=list)
    received: list[MovementRow] = field(default_factory=list)
    allocated: list[AllocatedRow] = field(default_factory=list)
    spent: list[MovementRow] = field(default_factory=list)
    repaid: list[MovementRow] = field(default_factory=list)
    opening: list[MovementRow] = field(default_factory=list)
    retained: list[RetainedRow] = field(default_factory=list)
    held_at_start: Decimal = ZERO
    received_before_unallocated: Decimal = ZERO
    received_in_year_unallocated: Decimal = ZERO


def ifs_report(
    session: Session,
    *,
    year: int,
    as_known_at: datetime | None = None,
    red_months: int = 12,
    amber_months: int = 24,
) -> IfsReport:
    """The statement for financial year ``year`` as the ledger stood at ``as_known_at``.

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

    # A proposed agreement counts in no figure (SPEC 8.7), nor one signed after the moment.
    signed_in_year = (agreement.signed_on.between(start, end), agreement.created_at <= known,
                      Obligation.created_at <= known, agreement.status == AgreementStatus.SIGNED.value,
                      func.coalesce(agreement.signed_recorded_at, agreement.created_at) <= known)
    with_agreement = (agreement, Obligation.agreement_id == agreement.id)
    planning = agreement.type.in_(PLANNING_OBLIGATION_TYPES)
    replaced = aliased(Obligation)
    # (a) counts a variation's obligation as what it changes (SPEC 8.1): its amount less the replaced one's.
    counted = case((Obligation.replaces_id.is_(None), Obligation.amount),
                   else_=less(func.coalesce(Obligation.amount, literal(ZERO, Pence())),
                              func.coalesce(replaced.amount, literal(ZERO, Pence()))))

    # -- Figures: SQL aggregates, by agreement class ---------------------------------------------
    figures: dict[AgreementClass, dict[str, Decimal | int]] = {c: defaultdict(lambda: ZERO) for c in AgreementClass}
    for agreement_type, secured_money in session.execute(
        select(agreement.type, type_coerce(func.sum(counted), Pence()))
        .join(*with_agreement).outerjoin(replaced, Obligation.replaces_id == replaced.id)
        .where(*signed_in_year).group_by(agreement.type)
    ):
        agreement_class = _class_of_type(agreement_type)
        if agreement_class in SECURED_FIGURE:
            figures[agreement_class][SECURED_FIGURE[agreement_class]] += secured_money or ZERO
    units = dict(
        session.execute(
            select(Obligation.unit_kind, func.sum(Obligation.units))
            .join(*with_agreement).where(*signed_in_year, planning).group_by(Obligation.unit_kind)
        ).all()
    )
    # The year's money by the kinds' IFS roles, (e) and (i) by the kinds' effects (entry_kinds.KINDS).
    only = {"s106_h_borrowing_repaid": (Project.repays_borrowing.is_(True),),
            "s106_h_monitoring_spent": (Obligation.purpose == Purpose.MONITORING_FEES.value,)}
    sums = {name: role_sum(role, in_year, *only.get(name, ())) for role, names in ROLE_FIGURES.items() for name in names}
    by_authority = kinds_in(IfsRole.SPENT_BY_AUTHORITY)
    sums |= {
        "s106_e_allocated_not_spent": effect_sum(lambda r: r.allocated, to_end),
        "s106_i_money_retained": effect_sum(lambda r: r.held, to_end),
        "s106_i_commuted_sums_retained": effect_sum(lambda r: r.held, to_end, Obligation.commuted_sum.is_(True)),
        "spent_by_authority": entry_sum(in_year, kind_is(by_authority)),
        "passed_to_others": entry_sum(in_year, kind_is(kinds_in(IfsRole.SPENT) - by_authority)),
    }
    # Every money figure from one pass over the entries.
    for row in session.execute(
        select(Agreement.type, *(column.label(name) for name, column in sums.items()))
        .select_from(Entry)
        .join(Obligation, Entry.obligation_id == Obligation.id)
        .join(Agreement, Obligation.agreement_id == Agreement.id)
        .outerjoin(Project, Entry.project_id == Project.id)
        .where(in_force)
        .group_by(Agreement.type)
    ):
        money = row._asdict()
        agreement_class = _class_of_type(money.pop("type"))
        names = CLASS_SUMS.get(agreement_class) or {name: name for name in sums}
        for name, column in names.items():
            figures[agreement_class][name] += money[column]
    figures[AgreementClass.S106] |= {
        "s106_d_affordable_housing_units": int(units.get(UnitKind.AFFORDABLE_HOUSING_UNITS.value) or 0),
        "s106_d_school_places": int(units.get(UnitKind.SCHOOL_PLACES.value) or 0),
    }

    # -- Detail rows ---------------------------------------------------------------------------
    shared = Shared()
    rows = {c: _Rows() for c in AgreementClass}
    for r in session.connection().execute(
        select(agreement.reference, agreement.type, agreement.authority_code, agreement.division_code,
               agreement.signed_on, Obligation.reference, Obligation.purpose, Obligation.service,
               Obligation.amount, Obligation.units, Obligation.unit_kind, Obligation.school_category,
               replaced.reference, replaced.amount)
        .join(*with_agreement).outerjoin(replaced, Obligation.replaces_id == replaced.id).where(*signed_in_year)
        .order_by(agreement.signed_on, agreement.reference, Obligation.id)
    ):
        rows[_class_of_type(r[1])].secured.append(SecuredRow(
            agreement_reference=shared(r[0]), agreement_type=shared(r[1]), authority_code=shared(r[2]),
            division_code=shared(r[3]), signed_on=shared(r[4]), obligation_reference=r[5], purpose=shared(r[6]),
            service=shared(r[7]), amount=r[8], units=r[9], unit_kind=shared(r[10]), school_category=shared(r[11]),
            replaces_reference=r[12], replaced_amount=r[13]))
    # Obligations of CIL and section 278 agreements, by reference: few beside the planning obligations.
    class_of = {reference: _class_of_type(agreement_type) for reference, agreement_type in session.connection().execute(
        select(Obligation.reference, Agreement.type).join(Agreement, Obligation.agreement_id == Agreement.id)
        .where(Agreement.type.not_in(PLANNING_OBLIGATION_TYPES)))}

    def rows_of(obligation_reference: str) -> _Rows:
        return rows[class_of.get(obligation_reference, AgreementClass.S106)]

    sheets = {role: kinds_in(role) for role in (IfsRole.RECEIVED, IfsRole.SPENT, IfsRole.REPAID, IfsRole.OPENING)}
    assert set(sheets) == SHEET_ROLES
    movements = _movements(session, shared=shared, known_at=known, on=end,
                           condition=in_force & in_year & kind_is(frozenset().union(*sheets.values())))
    for movement in movements:
        found = rows_of(movement.obligation_reference)
        for listed, kinds in zip((found.received, found.spent, found.repaid, found.opening), sheets.values(),
                                 strict=True):
            if movement.kind in kinds:
                listed.append(movement)

    # Each obligation's money at the start and end of the year, from SQL totals and its receipts.
    for project, name, service, division, obligation, agreement_reference, amount in allocated_by_project(
            session, on=end, known_at=known):
        rows_of(obligation).allocated.append(AllocatedRow(
            project_reference=shared(project), project_name=shared(name), service=shared(service),
            division_code=shared(division), obligation_reference=shared(obligation),
            agreement_reference=shared(agreement_reference), amount=amount))
    at_risk: list[AtRiskRow] = []
    #: s106 money a commitment has stopped the clock of (SPEC 8.7): held, but on no at-risk row.
    not_at_risk = ZERO
    unknown_deadlines: list[UnknownDeadlineRow] = []
    created = (Obligation.created_at <= known,)
    for position in obligation_positions(session, on=end, since=start, known_at=known, where=created):
        info, receipts = position.info, position.receipts
        agreement_class = class_of.get(info.reference, AgreementClass.S106)
        found = rows[agreement_class]
        found.held_at_start += position.held_before
        # An opening balance is money received before the year it is dated in (SPEC 8.3).
        before = sum((p.unallocated for p in receipts if _received_before(p.receipt, start)), ZERO)
        found.received_before_unallocated += before
        found.received_in_year_unallocated += sum(
            (p.unallocated for p in receipts if not _received_before(p.receipt, start)), ZERO)
        dated = [p.deadline for p in receipts if isinstance(p.deadline, date)]
        found.retained.append(RetainedRow(
            agreement_reference=info.agreement_reference, obligation_reference=info.reference,
            authority_code=info.authority_code, division_code=info.division_code,
            purpose=info.purpose, service=info.service, commuted_sum=info.commuted_sum,
            held_at_start=position.held_before, held=position.held, allocated_unspent=position.allocated_unspent,
            unallocated=position.unallocated, received_before_unallocated=before,
            earliest_deadline=min(dated) if dated else None,
        ))
        unknown_deadlines.extend(
            UnknownDeadlineRow(entry_reference=p.receipt.reference or "", kind=p.receipt.kind,
                               occurred_on=p.receipt.occurred_on, obligation_reference=info.reference,
                               agreement_reference=info.agreement_reference, agreement_class=agreement_class,
                               remaining=p.remaining)
            for p in receipts if p.deadline is NoDeadline.UNKNOWN)
        if agreement_class is AgreementClass.S106:
            at_risk.extend(at_risk_rows(info, receipts, as_of=end, red_months=red_months, amber_months=amber_months))
            not_at_risk += sum((p.clock_stopped for p in receipts), ZERO)
    for agreement_class, name in BEFORE_FIGURE.items():
        figures[agreement_class][name] = rows[agreement_class].received_before_unallocated
    for found in rows.values():
        # Sorted here, not by the database: text order would follow the server's collation.
        found.allocated.sort(key=lambda r: (r.project_reference, r.obligation_reference))
        found.retained.sort(key=lambda r: (r.agreement_reference, r.obligation_reference))

    s106 = rows[AgreementClass.S106]
    school_places: dict[str, int] = defaultdict(int)
    for secured_row in s106.secured:
        if secured_row.unit_kind == UnitKind.SCHOOL_PLACES and secured_row.units:
            school_places[secured_row.school_category or "unknown"] += secured_row.units

    places = place_names(session)
    names, division_names = places["authorities"], places["divisions"]
    s106_movements = [*s106.received, *s106.spent, *s106.repaid, *s106.opening]
    areas = {key: _areas(s106.secured, s106_movements, s106.retained, key=key, names=area_names)
             for key, area_names in (("authority_code", names), ("division_code", division_names), ("service", {}))}

    def items_of(agreement_class: AgreementClass, definitions: tuple[tuple[str, str, str], ...]) -> list[Item]:
        return [Item(name=n, label=label, reference=ref, value=figures[agreement_class][n])
                for n, label, ref in definitions]

    classes = {
        c: ClassReport(agreement_class=c, items=items_of(c, CLASS_ITEMS[c]), secured=rows[c].secured,
                       received=rows[c].received, allocated=rows[c].allocated, spent=rows[c].spent,
                       repaid=rows[c].repaid, opening=rows[c].opening, retained=rows[c].retained)
        for c in CLASS_ITEMS
    }
    every_class = [*rows.values()]
    report = IfsReport(
        year=year, start=start, end=end, as_known_at=known, version=__version__,
        items=items_of(AgreementClass.S106, ITEMS), secured=s106.secured, received=s106.received,
        allocated=s106.allocated, spent=s106.spent, repaid=s106.repaid, opening=s106.opening,
        retained=s106.retained, at_risk=list(sort_at_risk(at_risk)), by_authority=areas["authority_code"],
        by_division=areas["division_code"], by_service=areas["service"],
        school_places_by_category=dict(school_places), cil=classes[AgreementClass.CIL],
        s278=classes[AgreementClass.S278],
        data_quality=_data_quality(session, every_class, unknown_deadlines, class_of=class_of, known=known),
    )
    whole = session.execute(
        select(effect_sum(lambda r: r.held, to_end), role_sum(IfsRole.RECEIVED, in_year))
        .select_from(Entry).where(in_force)
    ).one()
    report.checks.extend(_checks(report, s106.held_at_start, s106.received_in_year_unallocated, not_at_risk))
    report.checks.extend(_class_checks(report, rows, held=whole[0], received=whole[1]))
    if report.failed_checks:
        failed = "; ".join(f"{c.name}: expected {c.expected}, got {c.actual}" for c in report.failed_checks)
        raise ReportCheckFailed(f"IFS {year}: reconciliation failed: {failed}")
    # Stated on the Checks sheet, never a check that stops the statement: the finance ledger
    # is the council's other record, and a difference is for officers to clear, not a fault.
    return replace(report, reconciliation=year_end(session, start=start, end=end))


def _received_before(inflow: LedgerEntry, start: date) -> bool:
    """Whether an inflow's money counts as received before the year for (c): an opening
    balance always does, in the year it is dated and after (SPEC 8.3)."""
    return inflow.kind is EntryKind.OPENING_BALANCE or inflow.occurred_on < start


def _data_quality(
    session: Session, every_class: list[_Rows], unknown_deadlines: list[UnknownDeadlineRow], *,
    class_of: dict[str, AgreementClass], known: datetime,
) -> DataQuality:
    """What the figures rest on that is flagged (SPEC 8.4), from the rows already gathered."""
    held: dict[str, Decimal] = defaultdict(lambda: ZERO)
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    project_held: dict[str, Decimal] = defaultdict(lambda: ZERO)
    project_out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for found in every_class:
        for retained in found.retained:
            held[retained.obligation_reference] += retained.held
        for movement in [*found.spent, *found.repaid]:
            out[movement.obligation_reference] += movement.amount
            if movement.project_reference:
                project_out[movement.project_reference] += movement.amount
        for allocated in found.allocated:
            project_held[allocated.project_reference] += allocated.amount
    needs_review, placeholders = [], []
    for reference, agreement_reference, flagged, trigger in session.connection().execute(
        select(Obligation.reference, Agreement.reference, Obligation.needs_review, Obligation.trigger)
        .join(Agreement, Obligation.agreement_id == Agreement.id)
        .where(Obligation.needs_review | Agreement.needs_review, Obligation.created_at <= known)
    ):
        if held[reference] == ZERO and out[reference] == ZERO:
            continue
        placeholder = bool(trigger) and trigger.startswith(PLACEHOLDER)
        reason = trigger if placeholder else "obligation flagged needs-review" if flagged else \
            "agreement flagged needs-review"
        (placeholders if placeholder else needs_review).append(FlaggedRow(
            what="obligation", reference=reference, agreement_reference=agreement_reference,
            agreement_class=class_of.get(reference, AgreementClass.S106), reason=reason, held=held[reference],
            out_in_year=out[reference]))
    for (reference,) in session.connection().execute(
        select(Project.reference).where(Project.needs_review.is_(True), Project.created_at <= known)
    ):
        if project_held[reference] != ZERO or project_out[reference] != ZERO:
            needs_review.append(FlaggedRow(
                what="project", reference=reference, agreement_reference=None, agreement_class=None,
                reason="project flagged needs-review", held=project_held[reference],
                out_in_year=project_out[reference]))
    needs_review.sort(key=lambda r: (r.what, r.reference))
    placeholders.sort(key=lambda r: r.reference)
    opening = sorted((m for found in every_class for m in found.opening), key=lambda m: (m.occurred_on, m.entry_reference))
    unknown_deadlines.sort(key=lambda r: (r.obligation_reference, r.occurred_on, r.entry_reference))
    return DataQuality(needs_review=needs_review, opening=opening, unknown_deadlines=unknown_deadlines,
                       placeholders=placeholders)


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


def _checks(report: IfsReport, held_at_start: Decimal, received_in_year_unallocated: Decimal,
            not_at_risk: Decimal = ZERO) -> list[Check]:
    v = report.value
    # Each movement once, though a kind may be listed on more than one sheet.
    listed = {id(m): m for m in [*report.received, *report.spent, *report.repaid, *report.opening]}.values()
    spent_by_authority = kinds_in(IfsRole.SPENT_BY_AUTHORITY)
    checks = [
        Check(name=f"Retained at start{_signed_totals()} = retained at end",
              expected=v("s106_i_money_retained"),
              actual=held_at_start + sum((signed(KIND_RULES[m.kind].held, m.amount) for m in listed), ZERO)),
        Check(name="Secured sheet total (a variation counting what it changes) = (a)",
              expected=v("s106_a_money_secured"), actual=_total(report.secured, "counted_amount")),
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
        Check(name="At risk sheet remaining money + money committed by its deadline (not at risk) = (i)",
              expected=v("s106_i_money_retained"),
              actual=sum((r.remaining for r in report.at_risk), not_at_risk),  # type: ignore[attr-defined]
              internal_sheet="At risk"),
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


def _class_checks(report: IfsReport, rows: dict[AgreementClass, _Rows], *, held: Decimal,
                  received: Decimal) -> list[Check]:
    """Each class's figures against its rows, and the three classes against the whole ledger."""
    cil, s278 = report.cil.value, report.s278.value
    by_authority = kinds_in(IfsRole.SPENT_BY_AUTHORITY)
    checks = [
        _balance_check("CIL", rows[AgreementClass.CIL], "(l)", cil("cil_l_retained")),
        Check(name="CIL sheet receipts = CIL (b)", expected=cil("cil_b_receipts"), actual=_total(report.cil.received)),
        Check(name="CIL sheet spend = CIL (e)", expected=cil("cil_e_expenditure"),
              actual=_total(m for m in report.cil.spent if m.kind in by_authority)),
        Check(name="CIL sheet money passed to other bodies = CIL (i)", expected=cil("cil_i_passed_to_others"),
              actual=_total(m for m in report.cil.spent if m.kind not in by_authority)),
        Check(name="CIL sheet allocated = CIL (f)", expected=cil("cil_f_allocated_not_spent"),
              actual=_total(report.cil.allocated)),
        Check(name="CIL sheet retained = CIL (l)", expected=cil("cil_l_retained"),
              actual=_total(report.cil.retained, "held")),
        Check(name="CIL sheet received before the year and unallocated = CIL (c)",
              expected=cil("cil_c_received_before_unallocated"),
              actual=_total(report.cil.retained, "received_before_unallocated")),
        Check(name="CIL (c) + unallocated CIL received in the year = CIL (l) - (f)",
              expected=cil("cil_l_retained") - cil("cil_f_allocated_not_spent"),  # type: ignore[operator]
              actual=cil("cil_c_received_before_unallocated")  # type: ignore[operator]
              + rows[AgreementClass.CIL].received_in_year_unallocated),
        _balance_check("Section 278", rows[AgreementClass.S278], "(i)", s278("s278_i_money_retained")),
        Check(name="Section 278 sheet secured (a variation counting what it changes) = section 278 (a)",
              expected=s278("s278_a_money_secured"), actual=_total(report.s278.secured, "counted_amount")),
        Check(name="Section 278 sheet receipts = section 278 (b)", expected=s278("s278_b_money_received"),
              actual=_total(report.s278.received)),
        Check(name="Section 278 sheet spend and transfers = section 278 (f)", expected=s278("s278_f_money_spent"),
              actual=_total(report.s278.spent)),
        Check(name="Section 278 sheet retained = section 278 (i)", expected=s278("s278_i_money_retained"),
              actual=_total(report.s278.retained, "held")),
    ]
    v = report.value
    checks.append(Check(name="s106 (i) + CIL (l) + section 278 (i) = money held in the whole ledger", expected=held,
                        actual=v("s106_i_money_retained") + cil("cil_l_retained")  # type: ignore[operator]
                        + s278("s278_i_money_retained")))
    checks.append(Check(name="s106 (b) + CIL (b) + section 278 (b) = money received in the whole ledger in the year",
                        expected=received, actual=v("s106_b_money_received") + cil("cil_b_receipts")  # type: ignore[operator]
                        + s278("s278_b_money_received")))
    return checks


def _balance_check(label: str, found: _Rows, letter: str, retained: Decimal | int) -> Check:
    """Money held at the start, moved by the year's listed entries, gives the class's retained figure."""
    listed = {id(m): m for m in [*found.received, *found.spent, *found.repaid, *found.opening]}.values()
    return Check(name=f"{label}: retained at start{_signed_totals()} = {label} {letter}", expected=retained,
                 actual=found.held_at_start + sum((signed(KIND_RULES[m.kind].held, m.amount) for m in listed), ZERO))
