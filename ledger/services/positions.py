"""Where the money is, for reports over the whole ledger: each obligation's totals from one
SQL aggregation, and each receipt's remaining and allocated money from those totals by the
closed form of rule 8 (rules.remaining_in_received_order). That form holds while rule 8
consumes an obligation's receipts in received order, which only an opening balance can
upset (its deadline counts from its original date of receipt, or is unknown): the few
obligations where it does have their history replayed (rules.receipt_positions). The rest
are never replayed entry by entry, so a national at-risk report or IFS reads totals and
receipts only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ColumnElement, Select, case, cast, func, null, select, type_coerce
from sqlalchemy.orm import Session

from ledger.db_types import Pence
from ledger.domain import rules
from ledger.domain.entries import LedgerEntry
from ledger.domain.entry_kinds import COMMITTING, INFLOWS, KIND_RULES, OUTFLOWS
from ledger.domain.money import ZERO, from_pence
from ledger.domain.rules import ReceiptPosition
from ledger.domain.vocab import EntryKind, RepaymentBasis
from ledger.models import Agreement, Entry, Obligation, Project
from ledger.services import variations
from ledger.services.kind_sql import effect_whens, kind_is, moving, signed_amount
from ledger.services.ledger_rows import ObligationInfo, agreements_known_at, deadline_rule, in_force_condition
from ledger.speed.shared import Shared


@dataclass(frozen=True, slots=True, kw_only=True)
class ObligationPosition:
    """An obligation's money at the end of a date, and of the day before ``since``."""

    info: ObligationInfo
    held: Decimal
    held_before: Decimal
    allocated_unspent: Decimal
    #: Receipts with money remaining, in consumption (received) order, with their deadlines.
    receipts: list[ReceiptPosition]

    @property
    def unallocated(self) -> Decimal:
        return self.held - self.allocated_unspent


def obligation_positions(
    session: Session, *, on: date, since: date | None = None, known_at: datetime | None = None,
    where: tuple[ColumnElement[bool], ...] = (),
) -> Iterator[ObligationPosition]:
    """Every obligation holding money at the end of ``on`` (or the day before ``since``),
    in id order, with its agreement's details as known at ``known_at``. ``where`` narrows
    the obligations (conditions on Obligation and Agreement)."""
    agreement = agreements_known_at(known_at)
    in_force = (Entry.occurred_on <= on, in_force_condition(known_at))
    chosen = (entries_of_obligations(session, *where),) if where else ()
    totals = _totals(since).where(*in_force, *chosen).group_by(Entry.obligation_id).subquery()
    held, held_before = totals.c.held, totals.c.held_before
    obligations = session.connection().execute(
        select(totals, Obligation.reference, agreement.reference, agreement.authority_code, agreement.division_code,
               Obligation.purpose, Obligation.service, Obligation.commuted_sum, Obligation.repayment_years,
               Obligation.repayment_basis, agreement.completion_on)
        .join(Obligation, Obligation.id == totals.c.obligation_id)
        .join(agreement, Obligation.agreement_id == agreement.id)
        .where((held != ZERO) | (held_before != ZERO))
        .order_by(totals.c.obligation_id)
    )
    replayable = _histories_with_opening_balances(session, (*in_force, *chosen))
    # Terms changed from a date (SPEC 8.2) and commitments that stop the clock (SPEC 8.7): few.
    terms = variations.changed_terms(session, on=on, known_at=known_at)
    committing = _histories_stopping_clocks(session, (*in_force, *chosen))
    # Amounts as stored pence: only the receipts of obligations holding money become Decimal.
    receipts = session.connection().execute(
        select(Entry.obligation_id, Entry.id, Entry.reference, Entry.occurred_on, type_coerce(Entry.amount, BigInteger),
               Entry.kind, Entry.original_received_on)
        .where(kind_is(INFLOWS), *in_force, *chosen)
        .order_by(Entry.obligation_id, Entry.occurred_on, Entry.id)
        .execution_options(yield_per=20_000)
    )
    try:
        shared = Shared()
        # Both streams are in obligation id order: walk them side by side.
        stream = iter(receipts)
        pending = next(stream, None)
        for (obligation_id, held, outflow, allocated, held_before, reference, agreement, authority, division, purpose,
             service, commuted, years, basis, completion_on) in obligations:
            info = ObligationInfo(id=obligation_id, reference=reference, agreement_reference=shared(agreement),
                                  authority_code=shared(authority), division_code=shared(division),
                                  purpose=shared(purpose), service=shared(service), commuted_sum=commuted,
                                  repayment_years=years, repayment_basis=shared(basis), completion_on=completion_on)
            if obligation_id in terms:
                info = replace(info, repayment_years=terms[obligation_id].repayment_years,
                               repayment_basis=terms[obligation_id].repayment_basis)
            while pending is not None and pending[0] < obligation_id:  # an obligation holding nothing
                pending = next(stream, None)
            rows = []
            while pending is not None and pending[0] == obligation_id:
                rows.append(pending)
                pending = next(stream, None)
            positions = _remaining(info, rows, outflow=outflow or ZERO, allocated=allocated or ZERO, shared=shared,
                                   on=on, history=replayable.get(obligation_id))
            if obligation_id in committing:
                history = committing[obligation_id]
                positions = rules.stop_clocks(history, positions, on=on, deadline_of=deadline_rule(
                    info, info.completion_on, rules.last_received_on(history, on=on)))
            yield ObligationPosition(
                info=info, held=held or ZERO, held_before=held_before or ZERO, allocated_unspent=allocated or ZERO,
                receipts=positions,
            )
    finally:
        # The receipts may outlast the obligations: a PostgreSQL server cursor must be closed.
        receipts.close()


#: Up to this many chosen obligations are named in the query, more are chosen by a subquery.
NAMED_OBLIGATIONS = 2_000


def entries_of_obligations(session: Session, *where: ColumnElement[bool]) -> ColumnElement[bool]:
    """Entries of the obligations that meet ``where`` (conditions on Obligation and Agreement).
    A division's few hundred obligations are named: PostgreSQL then probes the index for
    them, where a subquery made it scan every entry."""
    chosen = select(Obligation.id).join(Agreement, Obligation.agreement_id == Agreement.id).where(*where)
    ids = session.connection().execute(chosen.limit(NAMED_OBLIGATIONS + 1)).scalars().all()
    return Entry.obligation_id.in_(ids if len(ids) <= NAMED_OBLIGATIONS else chosen)


def _totals(since: date | None) -> Select:  # type: ignore[type-arg]
    """Per obligation: held, outflows, allocated-unspent money, and held before ``since``."""
    held = signed_amount(lambda rule: rule.held)
    outflow = case((kind_is(OUTFLOWS), Entry.amount))
    # U: each kind's effect on the allocated money of the project it names.
    allocated = case((Entry.project_id.is_(None), None), *effect_whens(lambda rule: rule.allocated))
    before = func.sum(case((Entry.occurred_on < since, held))) if since else cast(null(), Pence())
    return select(Entry.obligation_id, func.sum(held).label("held"), func.sum(outflow).label("outflow"),
                  func.sum(allocated).label("allocated"), before.label("held_before"))


def _histories_with_opening_balances(
    session: Session, in_force: tuple[ColumnElement[bool], ...],
) -> dict[int, list[LedgerEntry]]:
    """The entries in force of each obligation with an opening balance, by obligation: the
    only ones whose receipts rule 8 may not consume in received order. Few, so read whole."""
    ids = select(Entry.obligation_id).where(Entry.kind == EntryKind.OPENING_BALANCE.value, *in_force)
    return _histories(session, ids, in_force)


def _histories_stopping_clocks(
    session: Session, in_force: tuple[ColumnElement[bool], ...],
) -> dict[int, list[LedgerEntry]]:
    """The entries in force of each obligation whose clause a commitment satisfies and that
    has commitments: their committed money is followed date by date (rules.stop_clocks)."""
    ids = (select(Entry.obligation_id).join(Obligation, Entry.obligation_id == Obligation.id)
           .where(Obligation.commitment_stops_clock.is_(True), kind_is(COMMITTING), *in_force))
    return _histories(session, ids, in_force)


def _histories(
    session: Session, ids: Select, in_force: tuple[ColumnElement[bool], ...],  # type: ignore[type-arg]
) -> dict[int, list[LedgerEntry]]:
    rows = session.connection().execute(
        select(Entry.obligation_id, Entry.id, Entry.kind, Entry.amount, Entry.occurred_on, Entry.reference,
               Project.reference, Entry.original_received_on)
        .outerjoin(Project, Entry.project_id == Project.id)
        .where(Entry.obligation_id.in_(ids), *in_force)
        .order_by(Entry.obligation_id, Entry.id)
    )
    histories: dict[int, list[LedgerEntry]] = {}
    for r in rows:
        histories.setdefault(r[0], []).append(LedgerEntry(
            id=r[1], kind=KIND_RULES[r[2]].kind, amount=r[3], occurred_on=r[4], reference=r[5], project=r[6],
            original_received_on=r[7]))
    return histories


def _remaining(  # type: ignore[type-arg]
    info: ObligationInfo, rows: list, *, outflow: Decimal, allocated: Decimal, shared: Shared, on: date,
    history: list[LedgerEntry] | None,
) -> list[ReceiptPosition]:
    """The receipts with money remaining, by the closed form of rule 8, or, for an obligation
    with an opening balance (``history``) whose receipts are not consumed in received order,
    by replaying its history."""
    if history is not None:
        return _remaining_with_opening_balances(info, rows, outflow=outflow, allocated=allocated, on=on,
                                                history=history)
    # Receipts only: the rows' last date is the last date of receipt.
    last = rows[-1][3] if rows and info.repayment_basis == RepaymentBasis.LAST_PAYMENT else None
    deadline_of = deadline_rule(info, info.completion_on, last)
    positions = []
    amounts = [from_pence(r[4]) for r in rows]
    for row, amount, (remaining, allocated_part) in zip(
        rows, amounts, rules.remaining_in_received_order(amounts, outflow=outflow, allocated_unspent=allocated),
        strict=True,
    ):
        if remaining == ZERO:
            continue
        receipt = LedgerEntry(id=row[1], kind=KIND_RULES[row[5]].kind, amount=amount, occurred_on=shared(row[3]),
                              reference=row[2], original_received_on=row[6])
        positions.append(ReceiptPosition(receipt=receipt, deadline=shared(deadline_of(receipt)), remaining=remaining,
                                         allocated=allocated_part))
    return positions


def _remaining_with_opening_balances(  # type: ignore[type-arg]
    info: ObligationInfo, rows: list, *, outflow: Decimal, allocated: Decimal, on: date, history: list[LedgerEntry],
) -> list[ReceiptPosition]:
    deadline_of = deadline_rule(info, info.completion_on, rules.last_received_on(history, on=on))
    receipts = [LedgerEntry(id=r[1], kind=KIND_RULES[r[5]].kind, amount=from_pence(r[4]), occurred_on=r[3],
                            reference=r[2], original_received_on=r[6]) for r in rows]
    deadlines = [deadline_of(r) for r in receipts]
    if rules.consumed_in_received_order(receipts, deadlines):
        closed = rules.remaining_in_received_order([r.amount for r in receipts], outflow=outflow,
                                                   allocated_unspent=allocated)
        positions = [ReceiptPosition(receipt=r, deadline=d, remaining=remaining, allocated=part)
                     for r, d, (remaining, part) in zip(receipts, deadlines, closed, strict=True)]
    else:
        positions = rules.receipt_positions(history, on=on, deadline_of=deadline_of)
    return [p for p in positions if p.remaining != ZERO]


def allocated_by_project(
    session: Session, *, on: date, known_at: datetime | None = None,
) -> list[tuple[str, str, str, str | None, str, str, Decimal]]:
    """Money allocated and unspent at the end of ``on`` per project and obligation:
    (project reference, name, service, division, obligation reference, agreement reference, amount)."""
    amount = func.sum(signed_amount(lambda rule: rule.allocated))
    # Sum by ids first, then name them: grouping by the text columns would sort every entry.
    totals = (
        select(Entry.project_id, Entry.obligation_id, amount.label("amount"))
        .where(Entry.project_id.is_not(None), Entry.occurred_on <= on, in_force_condition(known_at),
               kind_is(moving(lambda rule: rule.allocated)))
        .group_by(Entry.project_id, Entry.obligation_id)
        .having(amount != ZERO)
        .subquery()
    )
    return [tuple(r) for r in session.connection().execute(  # type: ignore[misc]
        select(Project.reference, Project.name, Project.service, Project.division_code, Obligation.reference,
               Agreement.reference, totals.c.amount)
        .join(Project, totals.c.project_id == Project.id)
        .join(Obligation, totals.c.obligation_id == Obligation.id)
        .join(Agreement, Obligation.agreement_id == Agreement.id)
        .order_by(Project.reference, Obligation.reference)
    )]
