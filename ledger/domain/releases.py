"""Allocated money an imported repayment releases first (issue 14): a repayment draws on
unallocated money only (SPEC rule 6), so a council's `returned` row on money it had
allocated is read as the allocation handed back, then repaid, as spend beyond a project's
allocation allocates the difference first (rule 5)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from itertools import groupby

from ledger.domain.entries import LedgerEntry
from ledger.domain.money import ZERO
from ledger.domain.rules import RunningTotals


def release_needed(entries: Iterable[LedgerEntry], *, from_date: date) -> Decimal:
    """How much allocated money must be handed back on ``from_date`` (entries in force, the
    repayment among them) so that allocations stay within money held at the end of that date
    and every later one. Dates on which money held is negative are left out: releasing
    allocations mends no want of money."""
    running = RunningTotals()
    needed = ZERO
    for day, same_day in groupby(sorted(entries, key=lambda e: (e.occurred_on, e.id)), key=lambda e: e.occurred_on):
        for entry in same_day:
            running.add(entry)
        if day >= from_date and running.held >= ZERO:
            needed = max(needed, running.allocated_unspent - running.held)
    return needed


def releases(entries: Iterable[LedgerEntry], *, on: date, needed: Decimal) -> list[tuple[str, Decimal]]:
    """(project, amount) to hand back on ``on`` to release ``needed``: from the projects with
    the most allocated and unspent money at the end of that date first (the fewest
    deallocations), by name on a tie; empty when they hold less than ``needed``."""
    balances = RunningTotals(e for e in entries if e.occurred_on <= on).by_project
    found: list[tuple[str, Decimal]] = []
    left = needed
    for project, balance in sorted(balances.items(), key=lambda kv: (-kv[1], kv[0])):
        if left <= ZERO or balance <= ZERO:
            break
        taken = min(balance, left)
        found.append((project, taken))
        left -= taken
    return found if left <= ZERO else []
