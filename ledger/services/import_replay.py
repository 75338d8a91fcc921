"""The import's fast path through an obligation's history: the one place an import checks
new entries without replaying the history through the ledger rules.

The API checks each new entry by replaying the obligation's whole history through
``rules.invariant_violations``, which costs time in proportion to the history; an import
adding thousands of entries to one obligation would pay that for every one of them. But an
import mostly appends: an entry dated on or after every entry in force, added to a history
that breaks no invariant, changes only the balances at the end of its own date, and those
are the domain's running totals (``rules.RunningTotals``) with the entry added. For such an
entry ``RunningTotals.broken`` decides exactly what the replay would: no balance of an
earlier date changes, and every project the entry does not touch was checked already.
Anything else (an entry dated before the latest one, a history that already breaks an
invariant) and every refusal, for its wording, is replayed through the rules.

What it buys, measured on 1 December 2026 on the project's 2-core machine while other work
shared it (runs of one command differed by up to 40%), in the county file of `make bench`
(100,000 transaction rows, five for each of 20,000 contributions, into SQLite with
`python -m bench.ops import`): best of six runs 12,961 rows/s with this path and 12,241 rows/s
replaying every entry, the replay slower in five of six back-to-back pairs. The checks alone
(no database, the county plan): 0.9-1.3 s against 1.5-3.1 s. With five entries an
obligation a replay is short; the path is there for long histories, where each replay costs
time in proportion to the history so far: 1,000 entries added to one obligation are checked
in 0.01 s, against 2-4.5 s replaying (quadratic: a tracker of years of monthly spend, or a
re-import onto an established ledger).
What it costs: this module (a history's totals kept beside its entries, rebuilt after a
refusal), and a property test (tests/unit/test_rules_properties.py) that it gives the
shortfalls and refusals the replay gives and keeps the balances the rules compute. No rule
is written here: each entry counts as its kind's row says (entry_kinds.KINDS) through
RunningTotals, the invariants are RunningTotals.broken, which rules.invariant_violations
uses too, and a shortfall is rules.project_shortfall's on the one date that remains.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledger.domain import rules
from ledger.domain.entries import LedgerEntry
from ledger.domain.entry_kinds import KIND_RULES, signed
from ledger.domain.errors import RuleViolation
from ledger.domain.money import ZERO


class History:
    """One obligation's entries as the import adds to them, each addition checked by the
    ledger rules (SPEC rule 4) as the API checks it."""

    def __init__(self, stored: list[LedgerEntry]) -> None:
        self.entries = stored
        in_force = rules.in_force(stored)
        self.keeps_invariants = not rules.invariant_violations(in_force)
        self.last_day = max((e.occurred_on for e in in_force), default=date.min)
        #: The balances at the end of the latest date, from the entries in force.
        self.running = rules.RunningTotals(in_force)

    def _appends(self, day: date) -> bool:
        return self.keeps_invariants and day >= self.last_day

    def project_shortfall(self, entry: LedgerEntry) -> Decimal:
        """rules.project_shortfall of ``entry``'s project from its date, with ``entry`` added."""
        assert entry.project is not None
        if self._appends(entry.occurred_on):
            # Only the end of the entry's own date is on or after it: the project's money then.
            after = self.running.by_project.get(entry.project, ZERO) + signed(
                KIND_RULES[entry.kind].allocated, entry.amount)
            return -min(ZERO, after)
        return rules.project_shortfall(rules.in_force([*self.entries, entry]), project=entry.project,
                                       from_date=entry.occurred_on)

    def add(self, new: list[LedgerEntry]) -> RuleViolation | None:
        """Add ``new`` (entries of one date) unless it would break an invariant; if it
        would, add nothing and return the first violation, as the rules report it."""
        day = new[0].occurred_on
        appends = self._appends(day)
        for entry in new:
            self.running.add(entry)
        if not appends or self.running.broken({e.project for e in new if e.project is not None}):
            violations = rules.invariant_violations(rules.in_force([*self.entries, *new]))
            if violations:
                # Back to the totals without ``new``: a refusal has just replayed the history anyway.
                self.running = rules.RunningTotals(rules.in_force(self.entries))
                return violations[0]
        self.entries.extend(new)
        self.last_day = max(self.last_day, day)
        # Checked either way: the history with ``new`` breaks no invariant.
        self.keeps_invariants = True
        return None
