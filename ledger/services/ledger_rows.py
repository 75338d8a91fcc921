"""Fast reads of the whole ledger for reports: plain column tuples, never ORM objects, and
entries streamed obligation by obligation so a national ledger is never in memory whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from itertools import groupby

from sqlalchemy import ColumnElement, and_, case, exists, func, select, true
from sqlalchemy.orm import Session, aliased

from ledger.domain.dates import Deadline, repayment_deadline
from ledger.domain.entries import LedgerEntry
from ledger.domain.rules import received_on
from ledger.domain.vocab import EntryKind
from ledger.models import Agreement, AgreementHistory, Entry, Obligation, Project
from ledger.speed.unindexed import Unindexed

_KINDS = {kind.value: kind for kind in EntryKind}


@dataclass(frozen=True, slots=True, kw_only=True)
class ObligationInfo:
    """What the report rules need of an obligation and its agreement."""

    id: int
    reference: str
    agreement_reference: str
    authority_code: str
    division_code: str | None
    purpose: str
    service: str
    commuted_sum: bool
    repayment_years: int | None
    repayment_basis: str
    completion_on: date | None


def entries_by_obligation(session: Session, *, obligation_ids: list[int]) -> Iterator[tuple[int, list[LedgerEntry]]]:
    """Every entry of these obligations (reversals included), grouped by obligation in id
    order, as domain records (the import checks its new entries against them)."""
    projects: dict[int, str] = {row[0]: row[1] for row in session.execute(select(Project.id, Project.reference))}
    query = (select(Entry.obligation_id, Entry.id, Entry.kind, Entry.amount, Entry.occurred_on, Entry.reference,
                    Entry.project_id, Entry.reverses, Entry.original_received_on)
             .where(Entry.obligation_id.in_(obligation_ids)).order_by(Entry.obligation_id, Entry.id))
    # Core rows straight from the connection: no ORM bookkeeping for many tuples.
    # The option goes on the statement: Connection.execution_options would change the
    # session's connection for every later statement (PostgreSQL then refuses executemany).
    rows = session.connection().execute(query.execution_options(yield_per=20_000))
    for obligation_id, group in groupby(rows, key=lambda r: r[0]):
        yield obligation_id, [
            LedgerEntry(id=r[1], kind=_KINDS[r[2]], amount=r[3], occurred_on=r[4], reference=r[5],
                        project=projects.get(r[6]) if r[6] is not None else None, reverses=r[7],
                        original_received_on=r[8])
            for r in group
        ]


def deadline_rule(
    obligation: Obligation | ObligationInfo, completion_on: date | None, last_received_on: date | None = None,
) -> Callable[[LedgerEntry], Deadline]:
    """The repayment deadline of each receipt of this obligation (SPEC rule 7, 8.2, 8.3):
    an opening balance counts from its original date of receipt, unknown without one. A
    ``last-payment`` obligation needs ``last_received_on`` (rules.last_received_on at the
    date asked about); without it its deadlines are unknown."""

    def deadline_of(receipt: LedgerEntry) -> Deadline:
        return repayment_deadline(
            received_on(receipt),
            years=obligation.repayment_years,
            basis=obligation.repayment_basis,
            completion_on=completion_on,
            last_received_on=last_received_on,
        )

    return deadline_of


def in_force_condition(as_known_at: datetime | None) -> ColumnElement[bool]:
    """SQL form of rules.in_force for aggregate queries: known at the moment, not a
    reversal, and not reversed by a reversal known at the moment."""
    if as_known_at is None:
        return _in_force_now()
    return _in_force(as_known_at)


@cache
def _in_force_now() -> ColumnElement[bool]:
    """As the ledger stands: the same expression every time (SQL expressions are immutable),
    built once rather than on every page."""
    return _in_force(None)


@cache
def in_force_looked_up() -> ColumnElement[bool]:
    """As the ledger stands, for a query of a few thousand entries (a division's): each
    entry looked up in the index of reversals, where in_force_condition builds the set of
    every reversed id in the ledger first."""
    reversal = aliased(Entry)
    return and_(Unindexed(Entry.reverses).is_(None), ~exists().where(reversal.reverses == Entry.id))


def _in_force(as_known_at: datetime | None) -> ColumnElement[bool]:
    reversal = aliased(Entry)
    # Nearly every entry is known at the moment and is not a reversal: test both while scanning.
    known = Unindexed(Entry.created_at) <= as_known_at if as_known_at else true()
    reversal_known = reversal.created_at <= as_known_at if as_known_at else true()
    return and_(
        known,
        Unindexed(Entry.reverses).is_(None),
        # The reversed ids are few: one set built once, not a look-up per entry.
        Entry.id.not_in(select(reversal.reverses).where(reversal.reverses.is_not(None), reversal_known)),
    )


#: The agreement details an officer may correct; their earlier values are kept in agreement_history.
CORRECTABLE_DETAILS = ("planning_application", "site_name", "division_code", "superseded_on", "commencement_on",
                       "completion_on", "dwellings", "developer", "document_url", "notes")


def agreements_known_at(known_at: datetime | None) -> type[Agreement]:
    """The agreements table, or (for a moment in the past) an alias of it whose correctable
    details are those known at ``known_at``: the values kept by the first correction made
    after that moment, where there is one. Join it in place of Agreement."""
    if known_at is None:
        return Agreement
    later = aliased(AgreementHistory)
    first_correction_after = (
        select(func.min(later.id)).where(later.agreement_id == Agreement.id, later.changed_at > known_at)
        .correlate(Agreement).scalar_subquery()
    )
    kept = aliased(AgreementHistory)
    columns = [
        case((kept.id.is_not(None), getattr(kept, c.key)), else_=c).label(c.key) if c.key in CORRECTABLE_DETAILS else c
        for c in Agreement.__table__.columns
    ]
    known = select(*columns).outerjoin(kept, kept.id == first_correction_after).subquery("agreements_known")
    return aliased(Agreement, known, adapt_on_names=True)  # type: ignore[return-value]
