"""Money overdue, red or amber, kept for one day (issue 17).

Which receipts are urgent depends on the day: a deadline comes within the amber band as the
days pass, with no write. The kept receipt positions (services.kept) have the deadlines; this
module keeps their sums per obligation and per division for one day and one amber band
(kept_urgent_state). The first read of a new day writes them afresh, from the kept receipts
in one INSERT ... SELECT, under the ledger's commit lock (``ensure``); every write in between
moves them for the obligations it touched (``move``, from kept._rewrite), in its own
transaction.

As with the kept positions, the sums are those of the kept receipts: a reader leaves out the
obligations kept.unsettled names and works those out from their entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from ledger.db import lock_ledger, write_transaction
from ledger.domain.dates import add_months
from ledger.domain.money import ZERO
from ledger.models import (
    Agreement,
    KeptReceiptPosition,
    KeptUrgentAgreement,
    KeptUrgentDivision,
    KeptUrgentObligation,
    KeptUrgentState,
    Obligation,
)

STATE = 1
NO_DIVISION = ""


def state(session: Session) -> tuple[date, int] | None:
    row = session.connection().execute(_state()).first()
    return None if row is None else (row[0], row[1])


@cache
def _state() -> Select[Any]:
    """The kept day, its amber months and how many agreements hold urgent money on it: read
    by every page showing money at risk, so built once."""
    return (select(KeptUrgentState.as_of, KeptUrgentState.amber_months, KeptUrgentState.agreements)
            .where(KeptUrgentState.id == STATE))


@cache
def _state_and_settled() -> Select[Any]:
    """The kept day as ``_state``, and the last date a kept obligation is settled from
    (kept.last_settling): each page that reads the day asks next whether any is unsettled
    on it, so the answer comes with the day, a round trip less."""
    from ledger.services.kept import last_settling  # kept imports this module (to move the sums)

    return _state().add_columns(last_settling())


def agreement_count(session: Session) -> int:
    """How many agreements hold urgent money on the kept day: read with the day by ``ensure``
    in this transaction, or from the kept state."""
    ensured = session.info.get(_ENSURED)
    if ensured is not None and ensured[0] == session.get_transaction() and ensured[3] is not None:
        return int(ensured[3])
    row = session.connection().execute(_state()).first()
    return int(row[2] or 0) if row is not None else 0


def ensure(session: Session, *, today: date, amber_months: int) -> bool:
    """Make the kept urgent sums those of ``today``; True when they are. Written in a
    transaction of its own; the caller's session then starts afresh, to read them. False
    (the caller works the sums out itself) when the caller has unsaved changes."""
    # Asked by several readers of one page: once per transaction and day; the day's count
    # of agreements is read with it (``agreement_count``). The transaction is begun first:
    # keyed by none, an answer would outlive the one it was read in.
    connection = session.connection()
    checked = (session.get_transaction(), today, amber_months)
    if session.info.get(_ENSURED, ())[:3] == checked:
        return True
    found = connection.execute(_state_and_settled()).first()
    if found is not None and (found[0], found[1]) == (today, amber_months):
        session.info[_ENSURED] = (*checked, found[2])
        from ledger.services.kept import note_settling  # kept imports this module

        note_settling(session, found[3], today)
        return True
    if session.new or session.dirty or session.deleted:
        return False
    session.rollback()
    with Session(bind=session.get_bind()) as writer, write_transaction(writer):
        # The ledger's commit lock: one worker writes the day's sums, the others wait and find
        # them written, and no write moves them meanwhile.
        lock_ledger(writer)
        if state(writer) != (today, amber_months):
            rebuild(writer, today=today, amber_months=amber_months)
    return True


_ENSURED = "ledger.kept_urgent.ensured"

#: A kept urgent row's columns, in the order _urgent_rows gives them.
URGENT_COLUMNS = ("obligation_id", "agreement_id", "division_code", "money", "earliest_deadline")


def _urgent_rows(today: date, amber_months: int, *where: ColumnElement[bool]) -> Select[Any]:
    """Each obligation's money overdue, red or amber on ``today`` (deadline within
    ``amber_months``) from its kept receipts, as the rows of kept_urgent_obligations."""
    receipt = KeptReceiptPosition
    return (select(receipt.obligation_id, Obligation.agreement_id, receipt.division_code, func.sum(receipt.remaining),
                   func.min(receipt.deadline))
            .join(Obligation, Obligation.id == receipt.obligation_id)
            .where(*where, receipt.deadline <= add_months(today, amber_months))
            .group_by(receipt.obligation_id, Obligation.agreement_id, receipt.division_code))


#: A kept urgent agreement's columns, in the order _agreement_rows gives them.
AGREEMENT_COLUMNS = ("agreement_id", "dated", "signed_on")


def _agreement_rows(*where: ColumnElement[bool]) -> Select[Any]:
    """The agreements of the kept urgent obligations, with their signing dates."""
    urgent = KeptUrgentObligation
    return (select(Agreement.id, Agreement.signed_on.is_not(None), Agreement.signed_on)
            .where(*where, select(urgent.obligation_id).where(urgent.agreement_id == Agreement.id).exists()))


def forget(session: Session) -> None:
    """No day's urgent sums are kept: the next read of any day writes them afresh (``ensure``),
    and writes meanwhile move none (``move``)."""
    session.execute(delete(KeptUrgentState))


#: The tables the day's urgent sums are written to, with their statistics.
URGENT_TABLES = (KeptUrgentObligation, KeptUrgentAgreement, KeptUrgentDivision)


def rebuild(session: Session, *, today: date, amber_months: int) -> None:
    """The urgent sums of ``today``, from the kept receipts, by the database."""
    urgent = KeptUrgentObligation
    for table in (KeptUrgentAgreement, KeptUrgentObligation, KeptUrgentDivision, KeptUrgentState):
        session.execute(delete(table))
    session.execute(insert(urgent).from_select(list(URGENT_COLUMNS), _urgent_rows(today, amber_months)))
    session.execute(insert(KeptUrgentAgreement).from_select(list(AGREEMENT_COLUMNS), _agreement_rows()))
    session.execute(insert(KeptUrgentDivision).from_select(
        ["division_code", "money", "obligations"],
        # No division is a code of its own: NULL, and '' in the divisions' key.
        select(func.coalesce(urgent.division_code, NO_DIVISION), func.sum(urgent.money), func.count())
        .group_by(urgent.division_code)))
    session.execute(insert(KeptUrgentState).values(
        id=STATE, as_of=today, amber_months=amber_months,
        agreements=select(func.count()).select_from(KeptUrgentAgreement).scalar_subquery()))
    if session.get_bind().dialect.name == "postgresql":
        # Statistics of the day's rows, in the same transaction: PostgreSQL's own would be
        # those of yesterday's rows or of empty tables until autovacuum comes round, and
        # planned on them the dashboard's largest sums read every obligation kept, not ten.
        session.execute(text(f"ANALYZE {', '.join(t.__tablename__ for t in URGENT_TABLES)}"))


def move(session: Session, obligation_ids: Iterable[int]) -> None:
    """After the kept receipts of these obligations were rewritten: their urgent sums for the
    kept day, and their divisions' (nothing to do before the first day is kept)."""
    found = state(session)
    ids = sorted(set(obligation_ids))
    if found is None or not ids:
        return
    today, amber_months = found
    receipt, urgent, connection = KeptReceiptPosition, KeptUrgentObligation, session.connection()
    moved: dict[str, tuple[Decimal, int]] = defaultdict(lambda: (ZERO, 0))
    agreements: set[int] = set()
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        for agreement_id, division, money in connection.execute(
                select(urgent.agreement_id, urgent.division_code, urgent.money).where(urgent.obligation_id.in_(chunk))):
            agreements.add(agreement_id)
            total, count = moved[division or NO_DIVISION]
            moved[division or NO_DIVISION] = (total - money, count - 1)
        connection.execute(delete(urgent).where(urgent.obligation_id.in_(chunk)))
        rows = connection.execute(_urgent_rows(today, amber_months, receipt.obligation_id.in_(chunk))).all()
        if rows:
            connection.execute(insert(urgent), [dict(zip(URGENT_COLUMNS, r, strict=True)) for r in rows])
        for r in rows:
            agreements.add(r[1])
            total, count = moved[r[2] or NO_DIVISION]
            moved[r[2] or NO_DIVISION] = (total + r[3], count + 1)
    moved_agreements = _move_agreements(connection, sorted(agreements))
    if moved_agreements:
        connection.execute(update(KeptUrgentState).where(KeptUrgentState.id == STATE)
                           .values(agreements=KeptUrgentState.agreements + moved_agreements))
    # Divisions in code order, as kept moves its division rows.
    for code, (money, count) in sorted(moved.items()):
        if (money, count) == (ZERO, 0):
            continue
        division = KeptUrgentDivision
        if connection.execute(update(division).where(division.division_code == code).values(
                money=division.money + money, obligations=division.obligations + count)).rowcount == 0:
            connection.execute(insert(division).values(division_code=code, money=money, obligations=count))


def _move_agreements(connection: Connection, agreement_ids: list[int]) -> int:
    """The kept urgent agreements among these, after their obligations' rows moved: each
    written afresh, so a corrected signing date is copied too. How many more are kept."""
    table, more = KeptUrgentAgreement, 0
    for start in range(0, len(agreement_ids), 1000):
        chunk = agreement_ids[start:start + 1000]
        more -= connection.execute(delete(table).where(table.agreement_id.in_(chunk))).rowcount
        # Counted as returned: through psycopg an INSERT ... SELECT of no rows counted -1.
        more += len(connection.execute(insert(table).from_select(
            list(AGREEMENT_COLUMNS), _agreement_rows(Agreement.id.in_(chunk))).returning(table.agreement_id)).all())
    return more


def differences(session: Session, references: dict[int, str]) -> list[str]:
    """How the kept urgent sums differ from the kept receipts' for the kept day, in words."""
    found = state(session)
    if found is None:
        return []
    today, amber_months = found
    urgent, connection = KeptUrgentObligation, session.connection()
    want = {r[0]: tuple(r[1:]) for r in connection.execute(_urgent_rows(today, amber_months))}
    have = {r[0]: tuple(r[1:]) for r in connection.execute(
        select(*(getattr(urgent, name) for name in URGENT_COLUMNS)))}
    problems = [f"obligation {references.get(i, i)}: kept urgent on {today} {have.get(i)}; its kept receipts give "
                f"{want.get(i)}" for i in sorted(set(want) | set(have)) if want.get(i) != have.get(i)]
    # The agreements as the obligations kept urgent give them, with their signing dates now.
    want_agreements = {r[0]: tuple(r[1:]) for r in connection.execute(_agreement_rows())}
    have_agreements = {r[0]: tuple(r[1:]) for r in connection.execute(
        select(*(getattr(KeptUrgentAgreement, name) for name in AGREEMENT_COLUMNS)))}
    differing = sorted(i for i in set(want_agreements) | set(have_agreements)
                       if want_agreements.get(i) != have_agreements.get(i))
    agreement_references = dict(connection.execute(
        select(Agreement.id, Agreement.reference).where(Agreement.id.in_(differing))).all()) if differing else {}
    problems.extend(
        f"agreement {agreement_references.get(i, i)}: kept urgent on {today} as {have_agreements.get(i)}; its "
        f"urgent obligations and signing date give {want_agreements.get(i)}" for i in differing)
    counted = agreement_count(session)
    if counted != len(have_agreements):
        problems.append(f"agreements kept urgent on {today}: counted {counted}; {len(have_agreements)} are kept")
    divisions: dict[str, tuple[Decimal, int]] = defaultdict(lambda: (ZERO, 0))
    for _, division, money, _ in want.values():
        total, count = divisions[division or NO_DIVISION]
        divisions[division or NO_DIVISION] = (total + money, count + 1)
    kept_divisions = {r[0]: (r[1], r[2]) for r in connection.execute(
        select(KeptUrgentDivision.division_code, KeptUrgentDivision.money, KeptUrgentDivision.obligations))}
    problems.extend(
        f"division {code or '(none)'}: kept urgent on {today} {kept_divisions.get(code, (ZERO, 0))}; its "
        f"obligations give {divisions.get(code, (ZERO, 0))}"
        for code in sorted(set(divisions) | set(kept_divisions))
        if divisions.get(code, (ZERO, 0)) != kept_divisions.get(code, (ZERO, 0)))
    return problems
