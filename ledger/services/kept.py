"""Positions kept as the ledger is written (issue 17).

Every write that changes an obligation's money or its deadlines (an entry, a reversal, an
import, a change of terms, a correction of the agreement or obligation) calls ``refresh``
for the obligations it touched, inside its own transaction and after its own locks. Refresh
works each one out again from its entries in force with the domain rules themselves
(rules.balances_at and rules.receipt_positions, the definition) and rewrites:

- ``kept_obligation_positions``: the obligation's totals, held, allocated and committed money;
- ``kept_receipt_positions``: each receipt with money remaining, with its deadline;
- ``kept_project_positions``: what its money did for each project (spent, transferred,
  allocated unspent);
- ``kept_division_positions``: its division's totals, moved by the difference.

The positions are those after every entry, under the terms in force last. They answer for any
date from ``settled_from`` on (the latest entry's date, the latest change of terms, the
signing): a reader asking about an earlier date works those few obligations out from their
entries instead (services.positions). Where a commitment stops the clock (SPEC 8.7) what is
at risk depends on the date asked about, so such obligations are always worked out.

``differences`` compares what is kept with what the rules give now, for `s106 check`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ScalarSelect,
    Select,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from ledger.db import page_bound
from ledger.db_types import Pence
from ledger.domain import rules
from ledger.domain.dates import NoDeadline, Terms, terms_in_force
from ledger.domain.entries import LedgerEntry
from ledger.domain.entry_kinds import COMMITTING
from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind
from ledger.models import (
    Agreement,
    Entry,
    Invoice,
    InvoicePayment,
    KeptDeadlineTotal,
    KeptDivisionPosition,
    KeptInvoiceOutstanding,
    KeptObligationPosition,
    KeptProjectPosition,
    KeptReceiptPosition,
    Obligation,
    RepaymentTerms,
)
from ledger.services import kept_urgent
from ledger.services.ledger_rows import deadline_rule
from ledger.speed.unindexed import Unindexed

#: The positions are those at the end of this date: after every entry.
LAST_DAY = date.max
#: The key of agreements in no division in kept_division_positions.
NO_DIVISION = ""
#: Obligations per statement: well under the bind-parameter limits of SQLite and psycopg.
CHUNK = 1000

_KINDS = {kind.value: kind for kind in EntryKind}


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    """Money totals kept per obligation and per division."""

    secured: Decimal = ZERO
    received: Decimal = ZERO
    spent: Decimal = ZERO
    transferred: Decimal = ZERO
    repaid: Decimal = ZERO
    held: Decimal = ZERO
    allocated: Decimal = ZERO
    committed: Decimal = ZERO

    def plus(self, other: Totals, sign: int = 1) -> Totals:
        return Totals(**{f.name: getattr(self, f.name) + sign * getattr(other, f.name) for f in fields(self)})


MONEY = tuple(f.name for f in fields(Totals))


@dataclass(frozen=True, slots=True, kw_only=True)
class ObligationFacts:
    """What the positions depend on besides the entries."""

    id: int
    agreement_id: int
    service: str
    amount: Decimal | None
    division_code: str | None
    completion_on: date | None
    signed_on: date | None
    commitment_stops_clock: bool
    terms: list[Terms]


@dataclass(frozen=True, slots=True, kw_only=True)
class Kept:
    """One obligation's kept rows, as refresh writes them and check compares them."""

    obligation_id: int
    division_code: str | None
    totals: Totals
    settled_from: date | None
    #: The obligation's agreement, its signing and the obligation's service, as copied into the
    #: kept row for a division's page (none for receipts or projects kept without a row).
    agreement_id: int | None = None
    signed_on: date | None = None
    service: str | None = None
    #: (entry id, deadline, no-deadline reason, remaining, allocated, committed) per receipt with money.
    receipts: tuple[tuple[int, date | None, str | None, Decimal, Decimal, Decimal], ...]
    #: (project id, spent, transferred, allocated unspent) per project with any, by id.
    projects: tuple[tuple[int, Decimal, Decimal, Decimal], ...] = ()


#: A division's kept row after its money: how many receipts have money remaining, and that
#: money with a deadline, with none, and with one not yet known.
SPREAD = ("receipts", "dated", "no_deadline", "unknown_deadline")


@dataclass(frozen=True, slots=True, kw_only=True)
class DivisionSums:
    """A division's kept row: its obligations' totals and its receipts' spread (SPREAD)."""

    totals: Totals = Totals()
    receipts: int = 0
    dated: Decimal = ZERO
    no_deadline: Decimal = ZERO
    unknown_deadline: Decimal = ZERO

    def spread(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SPREAD}


@cache
def _division_sums() -> Select[Any]:
    """Every kept division row: its code, MONEY and SPREAD (read by _division_sums_of)."""
    division = KeptDivisionPosition
    return select(division.division_code, *(getattr(division, name) for name in (*MONEY, *SPREAD)))


def _division_sums_of(row: Sequence[Any]) -> DivisionSums:
    """A row of _division_sums as DivisionSums (its code first)."""
    money = len(MONEY) + 1
    return DivisionSums(totals=Totals(**dict(zip(MONEY, row[1:money], strict=True))),
                        **dict(zip(SPREAD, row[money:], strict=True)))


class Aggregates:
    """Division and deadline sums of some obligations' kept positions, added or taken away."""

    def __init__(self) -> None:
        self.divisions: dict[str, DivisionSums] = defaultdict(DivisionSums)
        #: Per deadline: (money, receipts).
        self.deadlines: dict[date, tuple[Decimal, int]] = defaultdict(lambda: (ZERO, 0))

    def add(self, kept: Kept, sign: int = 1) -> None:
        key = kept.division_code or NO_DIVISION
        sums = self.divisions[key]
        dated, no_deadline, unknown = sums.dated, sums.no_deadline, sums.unknown_deadline
        for _, deadline, reason, remaining, _, _ in kept.receipts:
            if deadline is not None:
                money, count = self.deadlines[deadline]
                self.deadlines[deadline] = (money + sign * remaining, count + sign)
                dated += sign * remaining
            elif reason == NoDeadline.NONE.value:
                no_deadline += sign * remaining
            else:
                unknown += sign * remaining
        self.divisions[key] = DivisionSums(totals=sums.totals.plus(kept.totals, sign),
                                           receipts=sums.receipts + sign * len(kept.receipts), dated=dated,
                                           no_deadline=no_deadline, unknown_deadline=unknown)


def position_of(facts: ObligationFacts, entries: Sequence[LedgerEntry]) -> Kept:
    """An obligation's positions after every entry in force (``entries``), by the rules."""
    terms = terms_in_force(facts.terms, on=LAST_DAY)
    deadline_of = deadline_rule(terms, facts.completion_on, rules.last_received_on(entries, on=LAST_DAY))
    balances = rules.balances_at(entries, LAST_DAY)
    receipts = tuple(
        (p.receipt.id, None if isinstance(p.deadline, NoDeadline) else p.deadline,
         p.deadline.value if isinstance(p.deadline, NoDeadline) else None, p.remaining, p.allocated, p.committed)
        for p in rules.receipt_positions(entries, on=LAST_DAY, deadline_of=deadline_of) if p.remaining != ZERO
    )
    stops_clocks = facts.commitment_stops_clock and any(e.kind in COMMITTING for e in entries)
    changes = [t.in_force_from for t in facts.terms if t.in_force_from is not None]
    settled = [d for d in (max((e.occurred_on for e in entries), default=None), max(changes, default=None),
                           facts.signed_on) if d is not None]
    return Kept(
        obligation_id=facts.id, division_code=facts.division_code, agreement_id=facts.agreement_id,
        signed_on=facts.signed_on, service=facts.service,
        totals=Totals(secured=(facts.amount or ZERO) if facts.signed_on else ZERO, received=balances.received,
                      spent=balances.spent, transferred=balances.transferred, repaid=balances.repaid,
                      held=balances.held, allocated=balances.allocated_unspent, committed=balances.committed_unspent),
        # Where a commitment stops the clock, what is at risk depends on the date asked about.
        settled_from=LAST_DAY if stops_clocks else max(settled, default=None),
        receipts=receipts,
        projects=project_money(entries, balances.by_project),
    )


def project_money(entries: Iterable[LedgerEntry], allocated: Mapping[str, Decimal]
                  ) -> tuple[tuple[int, Decimal, Decimal, Decimal], ...]:
    """(project id, spent, transferred, allocated unspent) of each project these entries (in
    force, projects named by id) spent, transferred or allocated money for, by id;
    ``allocated`` is the rules' allocated-unspent money per project (Balances.by_project)."""
    moved: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for entry in entries:
        if entry.project is not None and entry.kind in (EntryKind.SPEND, EntryKind.TRANSFER):
            moved[entry.project][entry.kind is EntryKind.TRANSFER] += entry.amount
    rows = ((int(p), *moved.get(p, (ZERO, ZERO)), allocated.get(p, ZERO)) for p in set(moved) | set(allocated))
    return tuple(sorted(row for row in rows if any(row[1:])))  # type: ignore[misc]


def refresh(session: Session, obligation_ids: Iterable[int]) -> None:
    """Work out again and rewrite the kept positions of these obligations and their
    divisions. Call it in the writing transaction, after its writes and under its locks."""
    ids = sorted(set(obligation_ids))
    moved = Aggregates()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        facts = _facts(session, chunk)
        histories = dict(_histories(session, chunk))
        _rewrite(session, [position_of(facts[i], histories.get(i, [])) for i in chunk if i in facts], moved)
    # The divisions and deadlines once for all: an import touches thousands of each.
    _move_sums(session, moved)
    kept_urgent.move(session, ids)


def refresh_agreement(session: Session, agreement_id: int) -> None:
    """After a correction of an agreement (its division, completion or signing)."""
    refresh(session, session.scalars(select(Obligation.id).where(Obligation.agreement_id == agreement_id)))


#: The kept positions' tables (the urgent ones are kept_urgent's).
POSITION_TABLES = (KeptReceiptPosition, KeptProjectPosition, KeptObligationPosition, KeptDivisionPosition,
                   KeptDeadlineTotal, KeptInvoiceOutstanding)


def rebuild(session: Session) -> None:
    """Work out every obligation's positions from nothing (a new or migrated database)."""
    # The urgent sums are forgotten: the first read works out its day's from the new positions.
    # Only their day is deleted here: without it, that read writes every urgent table afresh.
    kept_urgent.forget(session)
    for table in POSITION_TABLES:
        session.execute(delete(table))
    _rebuild_invoices(session)
    sums = Aggregates()
    batch: list[Kept] = []
    for kept in computed(session):
        batch.append(kept)
        sums.add(kept)
        if len(batch) == CHUNK * 5:
            _insert(session, batch)
            batch = []
    _insert(session, batch)
    divisions = [{"division_code": code, **asdict(d.totals), **d.spread()} for code, d in sorted(sums.divisions.items())]
    deadlines = [{"deadline": day, "remaining": money, "receipts": count}
                 for day, (money, count) in sorted(sums.deadlines.items()) if count]
    for table, rows in ((KeptDivisionPosition, divisions), (KeptDeadlineTotal, deadlines)):
        if rows:
            session.execute(insert(table), rows)
    # The planner's statistics of the kept tables: without them SQLite scans every invoice
    # to find the few outstanding, and joins the kept receipts in the wrong order.
    for table in POSITION_TABLES:
        session.execute(text(f"ANALYZE {table.__tablename__}"))
    session.flush()


def computed(session: Session) -> Iterator[Kept]:
    """Every obligation's positions as the rules give them now, in id order."""
    ids = list(session.scalars(select(Obligation.id).order_by(Obligation.id)))
    for start in range(0, len(ids), CHUNK * 5):
        chunk = ids[start:start + CHUNK * 5]
        facts = _facts(session, chunk)
        histories = dict(_histories(session, chunk))
        for obligation_id in chunk:
            yield position_of(facts[obligation_id], histories.get(obligation_id, []))


def stored(session: Session, ids: Sequence[int] | None = None, *, projects: bool = True) -> Iterator[Kept]:
    """Every obligation's kept positions (or these obligations'), in id order (an obligation
    without a row: none); without their projects' rows if not ``projects``."""
    receipts: dict[int, list[tuple[int, date | None, str | None, Decimal, Decimal, Decimal]]] = defaultdict(list)
    for row in session.execute(
            select(KeptReceiptPosition.obligation_id, KeptReceiptPosition.entry_id, KeptReceiptPosition.deadline,
                   KeptReceiptPosition.no_deadline, KeptReceiptPosition.remaining, KeptReceiptPosition.allocated,
                   KeptReceiptPosition.committed)
            .where(*(() if ids is None else (KeptReceiptPosition.obligation_id.in_(ids),)))
            .order_by(KeptReceiptPosition.entry_id)):
        receipts[row[0]].append(tuple(row[1:]))  # type: ignore[arg-type]
    by_project: dict[int, list[tuple[int, Decimal, Decimal, Decimal]]] = defaultdict(list)
    for row in () if not projects else session.execute(
            select(KeptProjectPosition.obligation_id, KeptProjectPosition.project_id, KeptProjectPosition.spent,
                   KeptProjectPosition.transferred, KeptProjectPosition.allocated)
            .where(*(() if ids is None else (KeptProjectPosition.obligation_id.in_(ids),)))
            .order_by(KeptProjectPosition.obligation_id, KeptProjectPosition.project_id)):
        by_project[row[0]].append(tuple(row[1:]))  # type: ignore[arg-type]
    columns = [getattr(KeptObligationPosition, name) for name in MONEY]
    for row in session.execute(
            select(KeptObligationPosition.obligation_id, KeptObligationPosition.division_code,
                   KeptObligationPosition.settled_from, KeptObligationPosition.agreement_id,
                   KeptObligationPosition.signed_on, KeptObligationPosition.service, *columns)
            .where(*(() if ids is None else (KeptObligationPosition.obligation_id.in_(ids),)))
            .order_by(KeptObligationPosition.obligation_id)):
        yield Kept(obligation_id=row[0], division_code=row[1], settled_from=row[2], agreement_id=row[3],
                   signed_on=row[4], service=row[5], totals=Totals(**dict(zip(MONEY, row[6:], strict=True))),
                   receipts=tuple(receipts.pop(row[0], [])), projects=tuple(by_project.pop(row[0], [])))
    # Receipts or projects kept for an obligation without a row.
    for obligation_id in sorted(set(receipts) | set(by_project)):
        yield Kept(obligation_id=obligation_id, division_code=None, settled_from=None, totals=Totals(),
                   receipts=tuple(receipts.get(obligation_id, [])),
                   projects=tuple(by_project.get(obligation_id, [])))


def differences(session: Session) -> list[str]:
    """Every way the kept positions differ from what the rules give for the whole ledger,
    in words naming the obligation or division; none when they agree."""
    found: list[str] = []
    references = dict(session.execute(select(Obligation.id, Obligation.reference)).all())
    kept_rows = {k.obligation_id: k for k in stored(session)}
    sums = Aggregates()
    for expected in computed(session):
        sums.add(expected)
        actual = kept_rows.pop(expected.obligation_id, None)
        name = f"obligation {references[expected.obligation_id]}"
        if actual is None:
            # Every obligation has a row, money or none: a division's page lists its agreement
            # and service from it.
            found.append(f"{name}: no kept positions; the rules give {_words(expected)}")
            continue
        found.extend(f"{name}: {problem}" for problem in _compare(expected, actual))
    found.extend(f"obligation id {i}: kept positions for an obligation that does not exist" for i in kept_rows)
    found.extend(f"obligation {references.get(i, i)}: its projects' kept rows are in division {code}; its own "
                 f"kept row is in {own}" for i, code, own in session.execute(_projects_elsewhere()))
    kept_divisions = {row[0]: _division_sums_of(row) for row in session.execute(_division_sums())}
    for code in sorted(set(sums.divisions) | set(kept_divisions)):
        want, have = sums.divisions.get(code, DivisionSums()), kept_divisions.get(code, DivisionSums())
        if want != have:
            found.append(f"division {code or '(none)'}: kept {_division_words(have)}; the rules give "
                         f"{_division_words(want)}")
    kept_deadlines = {row[0]: (row[1], row[2]) for row in session.execute(
        select(KeptDeadlineTotal.deadline, KeptDeadlineTotal.remaining, KeptDeadlineTotal.receipts))}
    wanted = {d: v for d, v in sums.deadlines.items() if v != (ZERO, 0)}
    for deadline in sorted(set(wanted) | set(kept_deadlines)):
        want_money, want_count = wanted.get(deadline, (ZERO, 0))
        have_money, have_count = kept_deadlines.get(deadline, (ZERO, 0))
        if (want_money, want_count) != (have_money, have_count):
            found.append(f"deadline {deadline}: kept {have_money} in {have_count} receipts; the rules give "
                         f"{want_money} in {want_count}")
    found.extend(kept_urgent.differences(session, references))
    found.extend(_invoice_differences(session))
    return found


def _projects_elsewhere() -> Select[Any]:
    """(obligation id, division, its kept row's division) of each kept project row whose
    copied division is not its obligation's."""
    project, own = KeptProjectPosition, KeptObligationPosition
    return (select(project.obligation_id, project.division_code, own.division_code)
            .join(own, own.obligation_id == project.obligation_id)
            .where(project.division_code.is_distinct_from(own.division_code))
            .group_by(project.obligation_id, project.division_code, own.division_code).order_by(project.obligation_id))


def _division_words(sums: DivisionSums) -> str:
    return (f"{_money_words(sums.totals)}; {sums.receipts} receipts with money, {sums.dated} with a deadline, "
            f"{sums.no_deadline} with no deadline, {sums.unknown_deadline} with a deadline not yet known")


def _compare(expected: Kept, actual: Kept) -> list[str]:
    problems = []
    if expected.totals != actual.totals:
        problems.append(f"kept {_money_words(actual.totals)}; the rules give {_money_words(expected.totals)}")
    if expected.division_code != actual.division_code:
        problems.append(f"kept in division {actual.division_code}; its agreement is in {expected.division_code}")
    copied = ("agreement_id", "signed_on", "service")
    if any(getattr(expected, name) != getattr(actual, name) for name in copied):
        problems.append("kept with " + ", ".join(f"{name} {getattr(actual, name)}" for name in copied)
                        + "; the obligation has " + ", ".join(f"{name} {getattr(expected, name)}" for name in copied))
    if expected.settled_from != actual.settled_from:
        problems.append(f"kept as settled from {actual.settled_from}; the rules give {expected.settled_from}")
    if sorted(expected.receipts) != sorted(actual.receipts):
        problems.append(f"kept receipts {_receipt_words(actual.receipts)}; the rules give "
                        f"{_receipt_words(expected.receipts)}")
    if expected.projects != actual.projects:
        problems.append(f"kept projects {_project_words(actual.projects)}; the rules give "
                        f"{_project_words(expected.projects)}")
    return problems


def _money_words(totals: Totals) -> str:
    return ", ".join(f"{name} {getattr(totals, name)}" for name in MONEY if getattr(totals, name) != ZERO) or "nothing"


def _receipt_words(receipts: Iterable[tuple[int, date | None, str | None, Decimal, Decimal, Decimal]]) -> str:
    return "; ".join(f"entry {r[0]} remaining {r[3]} allocated {r[4]} deadline {r[1] or r[2]}"
                     for r in sorted(receipts)) or "none"


def _project_words(projects: Iterable[tuple[int, Decimal, Decimal, Decimal]]) -> str:
    return "; ".join(f"project id {p[0]} spent {p[1]} transferred {p[2]} allocated {p[3]}"
                     for p in projects) or "none"


def _words(kept: Kept) -> str:
    return (f"{_money_words(kept.totals)}, receipts {_receipt_words(kept.receipts)} and projects "
            f"{_project_words(kept.projects)}")


def _facts(session: Session, ids: Sequence[int]) -> dict[int, ObligationFacts]:
    changes: dict[int, list[Terms]] = defaultdict(list)
    for obligation_id, basis, years, starts in session.execute(
            select(RepaymentTerms.obligation_id, RepaymentTerms.repayment_basis, RepaymentTerms.repayment_years,
                   RepaymentTerms.in_force_from)
            .where(RepaymentTerms.obligation_id.in_(ids)).order_by(RepaymentTerms.id)):
        changes[obligation_id].append(Terms(repayment_basis=basis, repayment_years=years, in_force_from=starts))
    return {
        row[0]: ObligationFacts(
            id=row[0], amount=row[1], division_code=row[5], completion_on=row[6], signed_on=row[7],
            commitment_stops_clock=row[4], agreement_id=row[8], service=row[9],
            terms=[Terms(repayment_basis=row[3], repayment_years=row[2]), *changes.get(row[0], [])])
        for row in session.execute(
            select(Obligation.id, Obligation.amount, Obligation.repayment_years, Obligation.repayment_basis,
                   Obligation.commitment_stops_clock, Agreement.division_code, Agreement.completion_on,
                   Agreement.signed_on, Obligation.agreement_id, Obligation.service)
            # From the obligations named to their agreements: without the +, SQLite walks every
            # agreement and looks for its obligations in the list (a second for 5,000 of them).
            .join(Agreement, Unindexed(Obligation.agreement_id) == Agreement.id).where(Obligation.id.in_(ids)))
    }


def _histories(session: Session, ids: Sequence[int]) -> Iterator[tuple[int, list[LedgerEntry]]]:
    """The entries in force of these obligations (rules.in_force: a reversal and the entry it
    reverses both left out), by obligation. Projects are named by id: the totals only need
    to tell them apart."""
    rows = session.connection().execute(
        select(Entry.obligation_id, Entry.id, Entry.kind, Entry.amount, Entry.occurred_on, Entry.reference,
               Entry.project_id, Entry.original_received_on, Entry.reverses)
        .where(Entry.obligation_id.in_(ids)).order_by(Entry.obligation_id, Entry.id))
    current: int | None = None
    entries: list[LedgerEntry] = []
    for r in rows:
        if r[0] != current:
            if current is not None:
                yield current, rules.in_force(entries)
            current, entries = r[0], []
        entries.append(LedgerEntry(id=r[1], kind=_KINDS[r[2]], amount=r[3], occurred_on=r[4],
                                   reference=r[5], project=None if r[6] is None else str(r[6]),
                                   original_received_on=r[7], reverses=r[8]))
    if current is not None:
        yield current, rules.in_force(entries)


def _rewrite(session: Session, positions: list[Kept], moved: Aggregates) -> None:
    """Replace these obligations' kept rows, adding to ``moved`` how their divisions and
    deadlines change."""
    ids = [k.obligation_id for k in positions]
    # The sums moved depend on the totals and receipts alone.
    for old in stored(session, ids, projects=False):
        moved.add(old, -1)
    for kept in positions:
        moved.add(kept)
    session.execute(delete(KeptReceiptPosition).where(KeptReceiptPosition.obligation_id.in_(ids)))
    session.execute(delete(KeptProjectPosition).where(KeptProjectPosition.obligation_id.in_(ids)))
    session.execute(delete(KeptObligationPosition).where(KeptObligationPosition.obligation_id.in_(ids)))
    _insert(session, positions)


def _move_sums(session: Session, moved: Aggregates) -> None:
    """Add these sums to the kept division and deadline rows: the rows there are read, added
    to and written back in a few statements (every writer holds the ledger's commit lock)."""
    connection = session.connection()
    divisions = {code: change for code, change in moved.divisions.items() if change != DivisionSums()}
    division = KeptDivisionPosition
    stored_divisions = {row[0]: _division_sums_of(row) for codes in _slices(sorted(divisions))
                        for row in connection.execute(_division_sums().where(division.division_code.in_(codes)))}
    new_divisions, old_divisions = [], []
    for code, change in sorted(divisions.items()):
        before = stored_divisions.get(code, DivisionSums())
        row = {"key": code, **asdict(before.totals.plus(change.totals)),
               **{name: getattr(before, name) + getattr(change, name) for name in SPREAD}}
        (old_divisions if code in stored_divisions else new_divisions).append(row)
    if old_divisions:
        connection.execute(update(division).where(division.division_code == bindparam("key")).values(
            **{name: bindparam(name) for name in (*MONEY, *SPREAD)}),
            old_divisions)
    if new_divisions:
        connection.execute(insert(division), [{"division_code": r.pop("key"), **r} for r in new_divisions])
    changed = {day: change for day, change in moved.deadlines.items() if change != (ZERO, 0)}
    total = KeptDeadlineTotal
    stored_days = {row[0]: (row[1], row[2]) for days in _slices(sorted(changed)) for row in connection.execute(
        select(total.deadline, total.remaining, total.receipts).where(total.deadline.in_(days)))}
    after = {day: (stored_days.get(day, (ZERO, 0))[0] + money, stored_days.get(day, (ZERO, 0))[1] + count)
             for day, (money, count) in changed.items()}
    kept_days = [{"key": day, "remaining": money, "receipts": count}
                 for day, (money, count) in sorted(after.items()) if day in stored_days and count]
    if kept_days:
        connection.execute(update(total).where(total.deadline == bindparam("key"))
                           .values(remaining=bindparam("remaining"), receipts=bindparam("receipts")), kept_days)
    new_days = [{"deadline": day, "remaining": money, "receipts": count}
                for day, (money, count) in sorted(after.items()) if day not in stored_days and count]
    if new_days:
        connection.execute(insert(total), new_days)
    for days in _slices(sorted(day for day, (_, count) in after.items() if not count and day in stored_days)):
        connection.execute(delete(total).where(total.deadline.in_(days)))


def _slices(keys: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(keys), CHUNK):
        yield keys[start:start + CHUNK]


def _insert(session: Session, positions: list[Kept]) -> None:
    if not positions:
        return
    session.execute(insert(KeptObligationPosition), [
        {"obligation_id": k.obligation_id, "division_code": k.division_code, "settled_from": k.settled_from,
         "agreement_id": k.agreement_id, "signed_on": k.signed_on, "service": k.service, **asdict(k.totals)}
        for k in positions])
    receipts = [
        {"entry_id": r[0], "obligation_id": k.obligation_id, "division_code": k.division_code, "deadline": r[1],
         "no_deadline": r[2], "remaining": r[3], "allocated": r[4], "committed": r[5]}
        for k in positions for r in k.receipts]
    for start in range(0, len(receipts), CHUNK * 5):
        session.execute(insert(KeptReceiptPosition), receipts[start:start + CHUNK * 5])
    projects = [{"obligation_id": k.obligation_id, "division_code": k.division_code, "project_id": p[0],
                 "spent": p[1], "transferred": p[2], "allocated": p[3]} for k in positions for p in k.projects]
    for start in range(0, len(projects), CHUNK * 5):
        session.execute(insert(KeptProjectPosition), projects[start:start + CHUNK * 5])


# -- reading ----------------------------------------------------------------------------------
#: A reader works out at most this many obligations from their entries (those whose kept
#: positions are not settled by the date asked about); beyond, the date is long past and the
#: reader replays the ledger as it did before positions were kept.
MOST_WORKED_OUT = 2_000


def unsettled(session: Session, on: date) -> list[int] | None:
    """The obligations whose kept positions do not answer for the end of ``on`` (an entry,
    a change of terms or a signing after it, or a clock a commitment stops), or None when
    there are too many to work out one by one."""
    # Asked by several readers of one page: once per transaction (one snapshot) and date. The
    # transaction is begun first: keyed by none, an answer would outlive the one it was read in.
    connection = session.connection()
    known = _known_unsettled(session)
    if on not in known:
        ids = list(connection.execute(_unsettled(), {"on": on, "most": MOST_WORKED_OUT + 1}).scalars())
        known[on] = None if len(ids) > MOST_WORKED_OUT else ids
    found = known[on]
    return None if found is None else list(found)


def last_settling() -> ScalarSelect[Any]:
    """The latest date any obligation's kept positions are settled from (None if none
    waits for one): for a statement a page runs anyway, so that most requests learn that
    ``unsettled`` is empty without a round trip of its own (``note_settling``). The largest
    of an index is found at its end whatever the date asked about; a condition on a date
    sent as a parameter was planned once for any date, as a scan of the whole table."""
    return select(func.max(KeptObligationPosition.settled_from)).scalar_subquery()


def note_settling(session: Session, last: date | None, on: date) -> None:
    """Tell ``unsettled`` what ``last_settling``, read in this transaction (after
    ``session.connection()``), says of ``on``: nothing is unsettled if it is not after it.
    An answer ``unsettled`` read itself in the transaction stands."""
    if session.get_transaction() is None:  # keyed by none, it would outlive the read
        return
    if last is None or last <= on:
        _known_unsettled(session).setdefault(on, [])


def _known_unsettled(session: Session) -> dict[date, list[int] | None]:
    """What ``unsettled`` has learnt in the session's transaction, by date: its answers hold
    for one snapshot only."""
    transaction = session.get_transaction()
    known = session.info.get(_UNSETTLED)
    if known is None or known[0] is not transaction:
        known = session.info[_UNSETTLED] = (transaction, {})
    return known[1]


_UNSETTLED = "ledger.kept.unsettled"


@cache
def _unsettled() -> Select[Any]:
    """The obligations whose kept positions are settled only after ``on``, at ``most`` (one
    more than a reader works out, so too many are told from enough). Read by most pages:
    built once, the limit given when it runs (and written into the statement then)."""
    return (select(KeptObligationPosition.obligation_id).where(KeptObligationPosition.settled_from > bindparam("on"))
            .limit(page_bound("most")))


def division_totals(session: Session, *, on: date, codes: Sequence[str] | None = None) -> dict[str, Totals] | None:
    """Each division's totals at the end of ``on`` (key '' for no division), or those of
    ``codes``: the kept sums, with the obligations they do not answer for worked out from
    their entries; None when too many are (a date long past)."""
    ids = unsettled(session, on)
    if ids is None:
        return None
    totals: dict[str, Totals] = defaultdict(Totals)
    for row in session.connection().execute(_division_rows(chosen=codes is not None), {"codes": codes}):
        totals[row[0]] = Totals(**dict(zip(MONEY, row[1:], strict=True)))
    if ids:
        for row in session.execute(select(KeptObligationPosition.division_code,
                                          *(getattr(KeptObligationPosition, n) for n in MONEY))
                                   .where(KeptObligationPosition.obligation_id.in_(ids))):
            key = row[0] or NO_DIVISION
            totals[key] = totals[key].plus(Totals(**dict(zip(MONEY, row[1:], strict=True))), -1)
        for kept in positions_on(session, ids, on=on):
            key = kept.division_code or NO_DIVISION
            totals[key] = totals[key].plus(kept.totals)
    return totals


@cache
def _division_rows(*, chosen: bool) -> Select[Any]:
    """The kept division rows (of the divisions ``codes`` when ``chosen``): built once, as a
    division's page reads its own on every request."""
    rows = select(KeptDivisionPosition.division_code, *(getattr(KeptDivisionPosition, n) for n in MONEY))
    return rows.where(KeptDivisionPosition.division_code.in_(bindparam("codes", expanding=True))) if chosen else rows


def positions_on(session: Session, ids: Sequence[int], *, on: date) -> Iterator[Kept]:
    """These obligations' totals at the end of ``on``, worked out from their entries."""
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        facts = _facts(session, chunk)
        histories = dict(_histories(session, chunk))
        for obligation_id in chunk:
            f = facts[obligation_id]
            entries = [e for e in histories.get(obligation_id, []) if e.occurred_on <= on]
            signed = f.signed_on is not None and f.signed_on <= on
            kept = position_of(replace(f, signed_on=f.signed_on if signed else None), entries)
            yield kept


# -- invoices ---------------------------------------------------------------------------------
def refresh_invoices(session: Session, invoice_ids: Iterable[int]) -> None:
    """Work out again what these invoices' receipts have paid, keeping a row for each one
    not yet fully paid: after an invoice is issued, a receipt matched to it, or a receipt
    that paid it reversed."""
    ids = sorted(set(invoice_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        session.execute(delete(KeptInvoiceOutstanding).where(KeptInvoiceOutstanding.invoice_id.in_(chunk)))
        rows = [{"invoice_id": i, "due_on": due_on, "paid": paid, "outstanding": outstanding}
                for i, due_on, paid, outstanding in session.connection().execute(_outstanding(Invoice.id.in_(chunk)))]
        if rows:
            session.execute(insert(KeptInvoiceOutstanding), rows)


def invoices_paid_by(session: Session, entry_id: int) -> list[int]:
    return list(session.scalars(select(InvoicePayment.invoice_id).where(InvoicePayment.entry_id == entry_id)))


def _outstanding(*where: ColumnElement[bool]) -> Select[Any]:
    """(invoice id, due date, paid, outstanding) of each invoice of ``where`` not fully paid."""
    reversed_ids = select(Entry.reverses).where(Entry.reverses.is_not(None))
    paid = (select(InvoicePayment.invoice_id, func.sum(InvoicePayment.amount).label("paid"))
            .where(InvoicePayment.entry_id.not_in(reversed_ids)).group_by(InvoicePayment.invoice_id).subquery())
    paid_pence = func.coalesce(type_coerce(paid.c.paid, BigInteger), 0)
    amount = type_coerce(Invoice.amount, BigInteger)
    return (select(Invoice.id, Invoice.due_on, type_coerce(paid_pence, Pence()), type_coerce(amount - paid_pence, Pence()))
            .outerjoin(paid, paid.c.invoice_id == Invoice.id)
            .where(*where, amount > paid_pence))


def _rebuild_invoices(session: Session) -> None:
    session.execute(insert(KeptInvoiceOutstanding).from_select(["invoice_id", "due_on", "paid", "outstanding"],
                                                               _outstanding()))


def _invoice_differences(session: Session) -> list[str]:
    want = {row[0]: tuple(row[1:]) for row in session.connection().execute(_outstanding())}
    have = {row[0]: tuple(row[1:]) for row in session.connection().execute(
        select(KeptInvoiceOutstanding.invoice_id, KeptInvoiceOutstanding.due_on, KeptInvoiceOutstanding.paid,
               KeptInvoiceOutstanding.outstanding))}
    references = dict(session.execute(select(Invoice.id, Invoice.reference)
                                      .where(Invoice.id.in_(sorted(set(want) ^ set(have) | {
                                          i for i in want if want[i] != have.get(i)})))).all())
    return [f"invoice {references.get(i, i)}: kept as outstanding {have.get(i)}; its payments give {want.get(i)}"
            for i in sorted(set(want) | set(have)) if want.get(i) != have.get(i)]
