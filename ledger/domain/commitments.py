"""Committed-unspent money (SPEC 8.7): the part of a project's allocated-unspent money that
is contractually committed, ``C_p``, for each project of one obligation.

Balances are end-of-day figures (docs/RULES.md, "Commitments"). Within a date, commitments
come first, then releases of committed money (decommitments), then spend and transfers,
which use committed money before the rest of the project's money. So at the end of a date

    C_p = max(0, C_p at the end of the date before + committed - released - spent)

and a date's releases may take at most C_p at the end of the date before plus that date's
commitments. The invariants: a release never exceeds the money committed, and
``0 <= C_p <= U_p`` at the end of every date (``C_p >= 0`` holds by construction).
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.domain.entry_kinds import ADDS, NONE, TAKES, KindRule
from ledger.domain.money import ZERO

COMMITTED_WITHIN_ALLOCATED = "committed-within-allocated"
RELEASED_WITHIN_COMMITTED = "released-within-committed"


@dataclass(slots=True)
class DayOfCommitments:
    """One project's commitments, releases and spend (with transfers) on one date."""

    committed: Decimal = ZERO
    released: Decimal = ZERO
    spent: Decimal = ZERO

    def releasable(self, before: Decimal) -> Decimal:
        """The most this date's releases may be, given C_p at the end of the date before."""
        return before + self.committed

    def after(self, before: Decimal) -> Decimal:
        """C_p at the end of this date, given C_p at the end of the date before: spend takes
        committed money first and the rest from uncommitted money, so never below zero."""
        return max(ZERO, before + self.committed - self.released - self.spent)


class ProjectCommitments:
    """One project's committed money as entries are added in any order. Entries usually come
    in date order (a replay, an import appending), so C_p is folded once per date as dates
    close; an entry dated before the latest one starts the fold again."""

    def __init__(self) -> None:
        self._days: dict[date, DayOfCommitments] = {}
        self._dates: list[date] = []
        #: C_p at the end of the first ``_folded`` dates (never the latest: it may still change).
        self._folded = 0
        self._before = ZERO
        #: Whether any commitment or release was added: without one, C_p is zero.
        self.commits = False

    def add(self, rule: KindRule, on: date, amount: Decimal) -> None:
        """Count an entry of a kind that commits, releases or spends a project's money."""
        day = self._days.get(on)
        if day is None:
            day = self._days[on] = DayOfCommitments()
            if not self._dates or on > self._dates[-1]:
                self._dates.append(on)
            else:
                insort(self._dates, on)
        if on < self._dates[-1]:
            self._folded, self._before = 0, ZERO
        if rule.committed == ADDS:
            day.committed += amount
        elif rule.committed == TAKES:
            day.released += amount
        else:
            day.spent += amount
        self.commits = self.commits or rule.committed != NONE

    def latest(self) -> tuple[date, DayOfCommitments, Decimal]:
        """The latest date, its sums, and C_p at the end of the date before it."""
        while self._folded < len(self._dates) - 1:
            self._before = self._days[self._dates[self._folded]].after(self._before)
            self._folded += 1
        last = self._dates[-1]
        return last, self._days[last], self._before

    @property
    def amount(self) -> Decimal:
        """C_p at the end of the latest date."""
        if not self.commits:
            return ZERO
        _, day, before = self.latest()
        return day.after(before)


def counts_in_commitments(rule: KindRule) -> bool:
    """Whether an entry of this kind naming a project changes that project's C_p."""
    return rule.committed != NONE or rule.spends_committed_first


def attribute(total: Decimal, parts: Iterable[Decimal]) -> list[Decimal]:
    """``total`` spread over ``parts`` in order, each taking at most its own amount (rule 8
    attributes money to receipts this way: allocated money to the remaining money, committed
    money to the allocated money, earliest deadline first)."""
    left = max(total, ZERO)
    shares = []
    for part in parts:
        share = min(part, left)
        left -= share
        shares.append(share)
    return shares
