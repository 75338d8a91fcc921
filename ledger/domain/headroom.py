"""How much room an obligation's money leaves for a new entry (SPEC §3 rules 4-6).

An entry refused by the invariants is answered with the most it could have been on its
date: what a person needs to correct it, not only which invariant it broke. Every kind's
effect on money held and on its project's money is its row in entry_kinds, so the limit
follows from the invariants at every date from the entry's own:

- a kind that adds to a project's money, or takes money held without touching a project's
  (an allocation, a repayment), must leave ``U <= H``: at most the lowest unallocated money;
- a kind that takes a project's money alone (a deallocation) must leave ``U_p >= 0``: at
  most the project's lowest allocated-unspent money;
- a kind that also allocates its project's shortfall (a spend, a transfer: rule 5) may use
  the project's money and then unallocated money: at most the sum of the two lowests;
- a kind that takes money held must leave ``H >= 0`` (implied by the others in a ledger
  that keeps the invariants, but checked all the same).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby

from ledger.domain.committed_limits import committed_limit, limited_by_commitments
from ledger.domain.entries import LedgerEntry
from ledger.domain.entry_kinds import ADDS, KIND_RULES, NONE, TAKES
from ledger.domain.errors import AmountLimit
from ledger.domain.money import ZERO, format_money
from ledger.domain.rules import RunningTotals
from ledger.domain.vocab import EntryKind
from ledger.domain.wording import written_date

#: How a refusal names an entry of each kind at the start of a sentence.
NOUNS = {
    EntryKind.SPEND: "Spend",
    EntryKind.TRANSFER: "Transfer",
    EntryKind.ALLOCATION: "Allocation",
    EntryKind.DEALLOCATION: "Money taken back",
    EntryKind.REPAYMENT: "Repayment",
}


@dataclass(frozen=True, slots=True)
class Lowest:
    """The lowest a figure is from a date on, and the first date it is that low."""

    amount: Decimal
    on: date


@dataclass(frozen=True, slots=True)
class _Day:
    on: date
    held: Decimal
    unallocated: Decimal
    project: Decimal


def _days_from(entries: Iterable[LedgerEntry], start: date, project: str | None) -> list[_Day]:
    """Balances at the end of ``start`` and of every later date an entry falls on."""
    running = RunningTotals()
    ordered = sorted(entries, key=lambda e: e.occurred_on)

    def day(on: date) -> _Day:
        mine = running.by_project.get(project, ZERO) if project else ZERO
        return _Day(on, running.held, running.held - running.allocated_unspent, mine)

    before = [e for e in ordered if e.occurred_on <= start]
    for entry in before:
        running.add(entry)
    found = [day(start)]
    for on, same_day in groupby(ordered[len(before):], key=lambda e: e.occurred_on):
        for entry in same_day:
            running.add(entry)
        found.append(day(on))
    return found


def _lowest(days: list[_Day], figure: str) -> Lowest:
    first = min(days, key=lambda d: getattr(d, figure))  # min keeps the earliest of equals
    return Lowest(getattr(first, figure), first.on)


def amount_limit(entries: Iterable[LedgerEntry], *, kind: EntryKind, on: date,
                 project: str | None = None) -> AmountLimit | None:
    """The most an entry of ``kind`` dated ``on`` (naming ``project``) can be, given the
    obligation's entries in force without it, so that every invariant holds at every date;
    None for a kind no amount of which can break one (a receipt)."""
    rule = KIND_RULES[kind]
    entries = list(entries)
    days = _days_from(entries, on, project)
    free = _lowest(days, "unallocated")
    noun = NOUNS.get(kind, "Amount")
    candidates: list[tuple[Decimal, date, str]] = []
    if rule.allocated == TAKES and rule.auto_allocates:
        candidates.append(_project_and_unallocated(_lowest(days, "project"), free, project))
    elif rule.allocated == TAKES:
        mine = _lowest(days, "project")
        candidates.append((mine.amount, mine.on, f"money allocated to project {project} on "
                                                 f"{written_date(mine.on)} and not spent"))
    if (rule.allocated, rule.held) in ((ADDS, NONE), (NONE, TAKES)):
        candidates.append((free.amount, free.on, f"money held on {written_date(free.on)} that is not allocated "
                                                 "to a project"))
    if rule.held == TAKES:
        # Last: where it ties with another limit, that one says more.
        held = _lowest(days, "held")
        candidates.append((held.amount, held.on, f"money held on {written_date(held.on)}"))
    if project is not None and limited_by_commitments(kind):
        # Committed money (SPEC 8.7) may set a lower limit: found by the invariants themselves.
        committed = committed_limit(entries, kind=kind, on=on, project=project)
        if committed is not None and (not candidates or committed.most < min(c[0] for c in candidates)):
            return committed
    if not candidates:
        return None
    most, limit_on, money = min(candidates, key=lambda c: c[0])
    if most > ZERO:
        return AmountLimit(most=most, on=limit_on, message=f"{noun} must be {format_money(most)} or less: that is the "
                                                           f"{money}")
    return AmountLimit(most=ZERO, on=limit_on, message=f"{noun} cannot be recorded: there is no {money}")


def _project_and_unallocated(mine: Lowest, free: Lowest, project: str | None) -> tuple[Decimal, date, str]:
    """A spend or transfer uses its project's allocated-unspent money, then allocates the
    rest from unallocated money (rule 5). Each is lowest on some date; where that is one date,
    together they are the money held then that is not allocated to another project."""
    most = mine.amount + free.amount
    if free.amount <= ZERO < mine.amount:
        return most, mine.on, f"money allocated to project {project} on {written_date(mine.on)} and not spent"
    if mine.amount <= ZERO or mine.on == free.on:
        return most, free.on, (f"money held on {written_date(free.on)} that is not allocated to another "
                               "project")
    return most, free.on, (f"{format_money(mine.amount)} allocated to project {project} and not spent on "
                           f"{written_date(mine.on)}, with the {format_money(free.amount)} held on "
                           f"{written_date(free.on)} that is not allocated to a project")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectMoney:
    """One project's money from one obligation at the end of a date."""

    project: str
    #: Allocated, less what was taken back.
    allocated: Decimal
    #: Spent on it or transferred for it.
    spent: Decimal

    @property
    def unspent(self) -> Decimal:
        """U_p of SPEC rule 4."""
        return self.allocated - self.spent


def project_money(entries: Iterable[LedgerEntry], *, on: date) -> list[ProjectMoney]:
    """The money of each project an entry in force names, by project reference: allocated
    (net of money taken back) and spent, at the end of ``on``. A kind that takes a project's
    money and money held spends it; one that takes a project's money alone hands it back."""
    allocated: dict[str, Decimal] = {}
    spent: dict[str, Decimal] = {}
    for entry in entries:
        rule = KIND_RULES[entry.kind]
        if entry.project is None or entry.occurred_on > on or rule.allocated == NONE:
            continue
        allocated.setdefault(entry.project, ZERO)
        spent.setdefault(entry.project, ZERO)
        if rule.allocated == ADDS:
            allocated[entry.project] += entry.amount
        elif rule.held == TAKES:
            spent[entry.project] += entry.amount
        else:
            allocated[entry.project] -= entry.amount
    return [ProjectMoney(project=p, allocated=allocated[p], spent=spent[p]) for p in sorted(allocated)]
