"""The money rules of the ledger (SPEC §3 rules 2-9 and 12) as pure functions.

Every function takes the entries of one obligation. "In force" entries are the ones the
balances count: known at the chosen moment, with reversed entries and their reversals
both left out. Checks return violations rather than raising, as beancount's validations do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby, pairwise

from ledger.domain.commitments import (
    COMMITTED_WITHIN_ALLOCATED,
    RELEASED_WITHIN_COMMITTED,
    ProjectCommitments,
    attribute,
    counts_in_commitments,
)
from ledger.domain.dates import Deadline, NoDeadline, add_months
from ledger.domain.entries import LedgerEntry
from ledger.domain.entry_kinds import (
    INFLOWS,
    KIND_RULES,
    NONE,
    OUTFLOWS,
    TOTALS,
    held_from,
    signed,
    with_totals,
)
from ledger.domain.errors import RuleViolation
from ledger.domain.money import ZERO, format_money
from ledger.domain.vocab import Band, EntryKind
from ledger.domain.wording import written_date

HELD_NOT_NEGATIVE = "held-not-negative"
PROJECT_ALLOCATION_NOT_NEGATIVE = "project-allocation-not-negative"
ALLOCATED_WITHIN_HELD = "allocated-within-held"
_INVARIANT_ORDER = (HELD_NOT_NEGATIVE, PROJECT_ALLOCATION_NOT_NEGATIVE, ALLOCATED_WITHIN_HELD,
                    RELEASED_WITHIN_COMMITTED, COMMITTED_WITHIN_ALLOCATED)


def in_force(
    entries: Iterable[LedgerEntry], *, as_known_at: datetime | None = None
) -> list[LedgerEntry]:
    """Entries the balances count, as the ledger stood at ``as_known_at`` (SPEC rules 2, 12).

    Entries created after the moment are ignored, so a reversal made later does not
    cancel its original in a report of the earlier moment. A reversal and the entry it
    reverses cancel each other, so both are left out.
    """
    known = [
        e
        for e in entries
        if as_known_at is None or e.created_at is None or e.created_at <= as_known_at
    ]
    cancelled = {e.reverses for e in known if e.reverses is not None}
    return [e for e in known if e.reverses is None and e.id not in cancelled]


@with_totals
@dataclass(frozen=True, slots=True, kw_only=True)
class Balances:
    """An obligation's money at the end of a date (SPEC rule 4). The totals are those of
    entry_kinds.TOTALS: each kind's row says which one its amount is counted in."""

    received: Decimal = ZERO
    spent: Decimal = ZERO
    transferred: Decimal = ZERO
    repaid: Decimal = ZERO
    by_project: Mapping[str, Decimal] = field(default_factory=dict)
    #: Committed-unspent money C_p of each project with some (SPEC 8.7), part of its U_p.
    committed: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def held(self) -> Decimal:
        """H = R - S - T - P."""
        return held_from(lambda name: getattr(self, name))

    @property
    def allocated_unspent(self) -> Decimal:
        """U = sum over projects of allocated - deallocated - spent - transferred."""
        return sum(self.by_project.values(), ZERO)

    @property
    def unallocated(self) -> Decimal:
        """H - U."""
        return self.held - self.allocated_unspent

    @property
    def committed_unspent(self) -> Decimal:
        """C = sum over projects of committed-unspent money."""
        return sum(self.committed.values(), ZERO)


class RunningTotals:
    """An obligation's balances as entries are added in any order: after the last one, the
    balances at the end of the latest date so far. Each entry counts as its kind's row
    says (entry_kinds.KINDS)."""

    def __init__(self, entries: Iterable[LedgerEntry] = ()) -> None:
        self.totals: dict[str, Decimal] = dict.fromkeys(TOTALS, ZERO)
        #: H, kept as each entry is added (it equals held_from(totals)): an import asks for
        #: it after every row.
        self.held = ZERO
        self.by_project: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.allocated_unspent = ZERO
        #: Each project's committed money (SPEC 8.7), for projects with spend or commitments.
        self.commitments: dict[str, ProjectCommitments] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: LedgerEntry) -> None:
        rule = KIND_RULES[entry.kind]
        if rule.total is not None:
            self.totals[rule.total] += entry.amount
            self.held += signed(rule.held, entry.amount)
        if entry.project is not None and counts_in_commitments(rule):
            if entry.project not in self.commitments:
                self.commitments[entry.project] = ProjectCommitments()
            self.commitments[entry.project].add(rule, entry.occurred_on, entry.amount)
        # A kind that leaves projects' money alone (a repayment, rule 6) changes no project.
        if entry.project is None or rule.allocated == NONE:
            return
        change = signed(rule.allocated, entry.amount)
        self.by_project[entry.project] += change
        self.allocated_unspent += change

    def broken(self, projects: Iterable[str]) -> list[tuple[str, str | None]]:
        """The invariants of SPEC rule 4 these balances break, each with its project (for
        ``U_p >= 0``, looking at ``projects`` only), in the order they are reported. With
        money held negative, ``U <= H`` fails as a mere consequence: only the cause is named."""
        held = self.held
        found: list[tuple[str, str | None]] = [(HELD_NOT_NEGATIVE, None)] if held < ZERO else []
        found.extend((PROJECT_ALLOCATION_NOT_NEGATIVE, p) for p in sorted(projects) if self.by_project[p] < ZERO)
        if ZERO <= held < self.allocated_unspent:
            found.append((ALLOCATED_WITHIN_HELD, None))
        found.extend(self._commitments_broken(projects))
        return found

    def _commitments_broken(self, projects: Iterable[str]) -> list[tuple[str, str]]:
        """SPEC 8.7 at the end of each project's latest date: releases within the money
        committed, and ``C_p <= U_p`` (with ``U_p`` negative, a mere consequence)."""
        found = []
        for project in sorted(projects):
            state = self.commitments.get(project)
            if state is None or not state.commits:
                continue
            _, day, before = state.latest()
            if day.released > day.releasable(before):
                found.append((RELEASED_WITHIN_COMMITTED, project))
            elif ZERO <= self.by_project[project] < day.after(before):
                found.append((COMMITTED_WITHIN_ALLOCATED, project))
        return found

    def snapshot(self) -> Balances:
        committed = {p: state.amount for p, state in self.commitments.items()}
        return Balances(**self.totals, by_project={p: v for p, v in self.by_project.items() if v != ZERO},
                        committed={p: v for p, v in committed.items() if v != ZERO})


def _by_date(entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    return sorted(entries, key=lambda e: (e.occurred_on, e.id))


def balances_at(entries: Iterable[LedgerEntry], on: date) -> Balances:
    """Balances at the end of ``on`` from entries in force (SPEC rule 4)."""
    return RunningTotals(e for e in entries if e.occurred_on <= on).snapshot()


def invariant_violations(entries: Iterable[LedgerEntry]) -> list[RuleViolation]:
    """Every invariant of SPEC rule 4 that breaks at some date, each on its first such date.

    The invariants are checked at the end of every date on which an entry falls, which is
    enough: balances only change on those dates. ``H >= 0`` (money held), ``U_p >= 0``
    (each project's allocated-unspent money) and ``U <= H`` (allocations never exceed the
    money held, which is also why repayments draw on unallocated money only, rule 6).
    """
    running = RunningTotals()
    found: dict[str, RuleViolation] = {}
    for day, same_day in groupby(_by_date(entries), key=lambda e: e.occurred_on):
        touched: set[str] = set()
        for entry in same_day:
            running.add(entry)
            if entry.project is not None:
                touched.add(entry.project)
        for invariant, project in running.broken(touched):
            if invariant not in found:
                found[invariant] = _violation(invariant, day, running, project)
    return sorted(found.values(), key=lambda v: (v.on, _INVARIANT_ORDER.index(v.invariant)))


def _violation(invariant: str, day: date, running: RunningTotals, project: str | None) -> RuleViolation:
    on = written_date(day)
    if invariant == HELD_NOT_NEGATIVE:
        return RuleViolation(invariant=invariant, on=day,
                             message=f"money held on {on} would be {format_money(running.held)}")
    if invariant == PROJECT_ALLOCATION_NOT_NEGATIVE:
        assert project is not None
        return RuleViolation(
            invariant=invariant, on=day, field="project_reference",
            message=(f"money allocated and unspent on project {project} on {on} would be "
                     f"{format_money(running.by_project[project])}"),
        )
    if invariant in (RELEASED_WITHIN_COMMITTED, COMMITTED_WITHIN_ALLOCATED):
        assert project is not None
        return _commitment_violation(invariant, day, on, running, project)
    return RuleViolation(
        invariant=invariant, on=day,
        message=(f"on {on} {format_money(running.allocated_unspent)} would be allocated but only "
                 f"{format_money(running.held)} held"),
    )


def _commitment_violation(invariant: str, day: date, on: str, running: RunningTotals, project: str) -> RuleViolation:
    """SPEC 8.7's refusals, each naming the amount and its limit."""
    _, sums, before = running.commitments[project].latest()
    if invariant == RELEASED_WITHIN_COMMITTED:
        return RuleViolation(
            invariant=invariant, on=day,
            message=(f"on {on} {format_money(sums.released)} would be released from project {project} but only "
                     f"{format_money(sums.releasable(before))} is committed to it"),
        )
    return RuleViolation(
        invariant=invariant, on=day,
        message=(f"on {on} {format_money(sums.after(before))} would be committed to project {project} but only "
                 f"{format_money(running.by_project[project])} is allocated to it and not spent"),
    )


def project_shortfall(entries: Iterable[LedgerEntry], *, project: str, from_date: date) -> Decimal:
    """How much more must be allocated to ``project`` on ``from_date`` so that its
    allocated-unspent money is never negative at the end of that date or any later one
    (SPEC rule 5). Entries within a date are unordered, as for the invariants."""
    lowest = ZERO
    balance = ZERO
    relevant = (e for e in entries if e.project == project and KIND_RULES[e.kind].allocated != NONE)
    for day, same_day in groupby(_by_date(relevant), key=lambda e: e.occurred_on):
        for entry in same_day:
            balance += signed(KIND_RULES[entry.kind].allocated, entry.amount)
        if day >= from_date:
            lowest = min(lowest, balance)
    return -lowest


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptPosition:
    """What is left of one receipt at a date, and how much of that is allocated (rule 8)."""

    receipt: LedgerEntry
    deadline: Deadline
    remaining: Decimal
    allocated: Decimal
    #: Of the allocated money, what is committed (SPEC 8.7), attributed in the same order.
    committed: Decimal = ZERO
    #: Of the committed money, what stops the repayment clock: not at risk (stop_clocks).
    clock_stopped: Decimal = ZERO

    @property
    def unallocated(self) -> Decimal:
        return self.remaining - self.allocated


def consumption_order(receipt: LedgerEntry, deadline: Deadline) -> tuple[int, date, date, int]:
    """Sort key of SPEC rule 8 (and 8.2): earliest known deadline first, receipts whose
    deadline is unknown (terms not read from the deed, a completion not yet reported, an
    opening balance without its original date) next, no deadline last; then received date
    (the date it came into the ledger), then id."""
    if isinstance(deadline, NoDeadline):
        rank = 1 if deadline is NoDeadline.UNKNOWN else 2
        return (rank, date.max, receipt.occurred_on, receipt.id)
    return (0, deadline, receipt.occurred_on, receipt.id)


def received_on(inflow: LedgerEntry) -> date | None:
    """When the money of an inflow was received: an opening balance's original date of
    receipt (None where it is not known, SPEC 8.3), a receipt's own date."""
    if inflow.kind is EntryKind.OPENING_BALANCE:
        return inflow.original_received_on
    return inflow.occurred_on


def last_received_on(entries: Iterable[LedgerEntry], *, on: date) -> date | None:
    """The obligation's last date of receipt on or before ``on``, which a ``last-payment``
    deadline counts from (SPEC 8.2); None when it cannot be known: no receipt yet, or an
    opening balance without its original date that came in after every known receipt (its
    money may have been received after them; one dated before a later receipt cannot be)."""
    inflows = [e for e in entries if e.kind in INFLOWS and e.occurred_on <= on]
    latest = max((d for d in map(received_on, inflows) if d is not None), default=None)
    for inflow in inflows:
        if received_on(inflow) is None and (latest is None or inflow.occurred_on > latest):
            return None
    return latest


def consumed_in_received_order(receipts: Sequence[LedgerEntry], deadlines: Sequence[Deadline]) -> bool:
    """Whether rule 8 consumes these receipts (given in received order: date, then id) in
    that same order: so when their consumption keys never go down along it. Then
    ``remaining_in_received_order`` gives what ``receipt_positions`` gives. Receipts alone
    always pass (every basis gives a deadline that is a non-decreasing function of the
    received date); an opening balance counting from its original date, or unknown without
    it, may not."""
    keys = [consumption_order(r, d)[:2] for r, d in zip(receipts, deadlines, strict=True)]
    return all(a <= b for a, b in pairwise(keys))


def receipt_positions(
    entries: Sequence[LedgerEntry],
    *,
    on: date,
    deadline_of: Callable[[LedgerEntry], Deadline],
) -> list[ReceiptPosition]:
    """Each receipt's remaining and allocated money at the end of ``on`` (SPEC rule 8).

    Outflows, in date order, consume the receipts received on or before their own date,
    earliest deadline first. The allocated-unspent money ``U`` is then taken to be the
    earliest-deadline remaining money. Positions come back in consumption order.
    """
    receipts = [e for e in entries if e.kind in INFLOWS and e.occurred_on <= on]
    deadlines = {r.id: deadline_of(r) for r in receipts}
    receipts.sort(key=lambda r: consumption_order(r, deadlines[r.id]))
    remaining = {r.id: r.amount for r in receipts}
    outflows = _by_date(e for e in entries if e.kind in OUTFLOWS and e.occurred_on <= on)
    for outflow in outflows:
        left = outflow.amount
        for receipt in receipts:
            if left == ZERO:
                break
            if receipt.occurred_on > outflow.occurred_on or remaining[receipt.id] == ZERO:
                continue
            taken = min(left, remaining[receipt.id])
            remaining[receipt.id] -= taken
            left -= taken
    balances = balances_at(entries, on)
    allocated = attribute(balances.allocated_unspent, [remaining[r.id] for r in receipts])
    committed = attribute(balances.committed_unspent, allocated)
    return [
        ReceiptPosition(receipt=receipt, deadline=deadlines[receipt.id], remaining=remaining[receipt.id],
                        allocated=allocated_part, committed=committed_part)
        for receipt, allocated_part, committed_part in zip(receipts, allocated, committed, strict=True)
    ]


def remaining_in_received_order(
    amounts: Iterable[Decimal], *, outflow: Decimal, allocated_unspent: Decimal
) -> list[tuple[Decimal, Decimal]]:
    """Rule 8 from an obligation's totals: ``(remaining, allocated)`` of each receipt,
    the receipts given in received order (date, then id), all at the end of one date.

    The same answer as ``receipt_positions`` for a ledger that keeps the invariants, without
    the entries themselves, so reports can take totals from one SQL pass:
    - within one obligation, consumption order is received order when every receipt's
      deadline is a non-decreasing function of its received date (same period and basis;
      completion, last-payment, unknown and open-ended deadlines are equal for all its
      receipts). An opening balance may break this: callers check with
      ``consumed_in_received_order`` and replay with ``receipt_positions`` where it fails;
    - money held is never negative at the end of any date, so the outflows up to any date
      never exceed the receipts up to it, and earliest-first consumption never reaches a
      receipt dated after the outflow that would take it.
    So the outflows use up a prefix of the receipts: receipt i keeps what is left of it
    once ``outflow`` is taken from the running total, and allocated money is attributed to
    the remaining money from the earliest receipt on.
    """
    positions = []
    through = ZERO
    for amount in amounts:
        before = through - outflow
        through += amount
        remaining = min(amount, max(through - outflow, ZERO))
        allocated = min(remaining, max(allocated_unspent - max(before, ZERO), ZERO))
        positions.append((remaining, allocated))
    return positions


def band_for(deadline: Deadline, *, as_of: date, red_months: int = 12, amber_months: int = 24) -> Band:
    """At-risk band of money with this deadline, seen from ``as_of`` (SPEC rule 9).

    Overdue when the deadline is before ``as_of`` (the deadline day itself is still
    red); red when it falls within ``red_months`` (inclusive), amber within
    ``amber_months``, green later.
    """
    if deadline is NoDeadline.NONE:
        return Band.NO_DEADLINE
    if deadline is NoDeadline.UNKNOWN:
        return Band.UNKNOWN_DEADLINE
    assert isinstance(deadline, date)
    if deadline < as_of:
        return Band.OVERDUE
    if deadline <= add_months(as_of, red_months):
        return Band.RED
    if deadline <= add_months(as_of, amber_months):
        return Band.AMBER
    return Band.GREEN


def check_reversal(original: LedgerEntry, already_reversed: bool) -> str | None:
    """Why ``original`` cannot be reversed, or ``None`` if it can (SPEC rule 2)."""
    if original.reverses is not None:
        return "a reversal cannot itself be reversed; record the entry again instead"
    if already_reversed:
        return "this entry has already been reversed"
    return None


def reversal_reference(reference: str) -> str:
    """The reference of the entry that reverses the one with ``reference``."""
    return f"{reference}/reversal"


def reversal_of(original: LedgerEntry, *, id: int) -> LedgerEntry:
    """The entry that cancels ``original``: same kind, date, amount and project."""
    return LedgerEntry(
        id=id,
        kind=original.kind,
        amount=original.amount,
        occurred_on=original.occurred_on,
        reference=reversal_reference(original.reference),
        project=original.project,
        reverses=original.id,
    )


def stop_clocks(
    entries: Sequence[LedgerEntry],
    positions: Iterable[ReceiptPosition],
    *,
    on: date,
    deadline_of: Callable[[LedgerEntry], Deadline],
) -> list[ReceiptPosition]:
    """``positions`` (of these entries in force, at the end of ``on``) with each receipt's
    committed money and what of it stops its repayment clock, for an obligation whose clause a
    commitment satisfies (SPEC 8.7, ``commitment_stops_clock``).

    Committed money is attributed to the receipts as allocated money is (rule 8: earliest
    deadline first). It stops the clock of a receipt with a repayment date if it was committed
    by that date: all of the receipt's committed money while the date is ``on`` or later;
    after it, the least that was committed to the receipt at the end of the deadline or of any
    later date up to ``on`` (money committed only after the deadline does not undo it). A
    receipt with no time limit, or whose deadline is not known, keeps all its money in its band.
    """
    by_date: dict[date, dict[int, Decimal]] = {}

    def committed_on(day: date) -> dict[int, Decimal]:
        if day not in by_date:
            by_date[day] = {p.receipt.id: p.committed for p in receipt_positions(entries, on=day,
                                                                                  deadline_of=deadline_of)}
        return by_date[day]

    now = committed_on(on)
    dates = sorted({e.occurred_on for e in entries if e.occurred_on <= on})
    stopped = []
    for position in positions:
        committed = now.get(position.receipt.id, ZERO)
        deadline = position.deadline
        if committed == ZERO or isinstance(deadline, NoDeadline):
            clock_stopped = ZERO
        elif deadline >= on:
            clock_stopped = committed
        else:
            since = [deadline, *(d for d in dates if deadline < d)]
            clock_stopped = min(committed, *(committed_on(d).get(position.receipt.id, ZERO) for d in since))
        stopped.append(replace(position, committed=committed, clock_stopped=clock_stopped))
    return stopped
