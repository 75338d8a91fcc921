"""Opening balances an import brings in (SPEC 8.3): money held on an obligation at a
cut-over date whose receipts are not in the files, sized so the outflows the files do hold
keep the invariants of SPEC rule 4."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby

from ledger.domain.entries import LedgerEntry
from ledger.domain.errors import RuleViolation
from ledger.domain.money import ZERO
from ledger.domain.rules import ALLOCATED_WITHIN_HELD, HELD_NOT_NEGATIVE, RunningTotals

#: The invariants that break for want of money held, which money held earlier mends. A
#: project's allocated money going negative is a fault of the allocations, not of receipts.
FOR_WANT_OF_MONEY = frozenset({HELD_NOT_NEGATIVE, ALLOCATED_WITHIN_HELD})


def opening_balance_reference(contribution_reference: str) -> str:
    """The one opening balance an import may bring in for a contribution."""
    return f"{contribution_reference}/opening-balance"


def opening_balance_date(first_outflow_on: date) -> date:
    """An opening balance is dated the day before the first outflow that needs it."""
    return first_outflow_on - timedelta(days=1)


def wants_money(violation: RuleViolation) -> bool:
    return violation.invariant in FOR_WANT_OF_MONEY


def money_shortfall(entries: Iterable[LedgerEntry], *, from_date: date) -> Decimal:
    """How much more money held from ``from_date`` on (entries in force) keeps money held
    from going negative and allocations within money held (SPEC rule 4) at the end of that
    date and every later one: the deepest shortfall of either, not merely the first."""
    running = RunningTotals()
    lowest = ZERO
    for day, same_day in groupby(sorted(entries, key=lambda e: (e.occurred_on, e.id)), key=lambda e: e.occurred_on):
        for entry in same_day:
            running.add(entry)
        if day >= from_date:
            lowest = min(lowest, running.held, running.held - running.allocated_unspent)
    return -lowest
