"""Fast reads of the whole ledger for reports: plain column tuples, never ORM objects, and
entries streamed obligation by obligation so a national ledger is never in memory whole."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import ColumnElement, null, select
from sqlalchemy.orm import Session

from ledger.domain.entries import LedgerEntry
from ledger.domain.vocab import EntryKind
from ledger.models import Agreement, Entry, Obligation, Project

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


def obligation_infos(session: Session, *conditions: ColumnElement[bool]) -> dict[int, ObligationInfo]:
    rows = session.execute(
        select(Obligation.id, Obligation.reference, Agreement.reference, Agreement.authority_code,
               Agreement.division_code, Obligation.purpose, Obligation.service, Obligation.commuted_sum,
               Obligation.repayment_years, Obligation.repayment_basis, Agreement.completion_on)
        .join(Agreement, Obligation.agreement_id == Agreement.id).where(*conditions)
    )
    return {
        r[0]: ObligationInfo(id=r[0], reference=r[1], agreement_reference=r[2], authority_code=r[3],
                             division_code=r[4], purpose=r[5], service=r[6], commuted_sum=r[7],
                             repayment_years=r[8], repayment_basis=r[9], completion_on=r[10])
        for r in rows
    }


def entries_by_obligation(
    session: Session, *, up_to: date | None = None, known_at: datetime | None = None,
    obligation_ids: list[int] | None = None,
) -> Iterator[tuple[int, list[LedgerEntry]]]:
    """Every entry (reversals included), grouped by obligation in id order, as domain records."""
    projects: dict[int, str] = {row[0]: row[1] for row in session.execute(select(Project.id, Project.reference))}
    # When was each entry recorded matters only for an as-known-at report: skip the column otherwise.
    stamp = Entry.created_at if known_at is not None else null()
    query = select(Entry.obligation_id, Entry.id, Entry.kind, Entry.amount, Entry.occurred_on, Entry.reference,
                   Entry.project_id, Entry.reverses, stamp).order_by(Entry.obligation_id, Entry.id)
    if up_to is not None:
        query = query.where(Entry.occurred_on <= up_to)
    if known_at is not None:
        query = query.where(Entry.created_at <= known_at)
    if obligation_ids is not None:
        query = query.where(Entry.obligation_id.in_(obligation_ids))
    # Core rows straight from the connection: no ORM bookkeeping for millions of tuples.
    # The option goes on the statement: Connection.execution_options would change the
    # session's connection for every later statement (PostgreSQL then refuses executemany).
    rows = session.connection().execute(query.execution_options(yield_per=20_000))
    for obligation_id, group in groupby(rows, key=lambda r: r[0]):
        yield obligation_id, [
            LedgerEntry(id=r[1], kind=_KINDS[r[2]], amount=r[3], occurred_on=r[4], reference=r[5],
                        project=projects.get(r[6]) if r[6] is not None else None, reverses=r[7], created_at=r[8])
            for r in group
        ]
