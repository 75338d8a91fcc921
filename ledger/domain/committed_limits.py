"""How much room committed money leaves for a new entry (SPEC 8.7), for refusals that name
the limit: a commitment may take at most the project's allocated money that is neither
spent nor committed, a release at most the money committed, and money taken back from a
project (a deallocation) may not leave it with less allocated than committed.

Spend uses committed money first, so a commitment's room at a later date also depends on
the spend after it: rather than a formula per kind, the limit is found by halving, each
try asking the invariants themselves (rules.invariant_violations), which is exact because
an entry that keeps every invariant keeps them with any smaller amount. Only a refusal
asks, so the few replays it takes cost nothing on an accepted write.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from ledger.domain import rules
from ledger.domain.entries import UNSAVED_ID, LedgerEntry
from ledger.domain.entry_kinds import KIND_RULES, NONE, TAKES
from ledger.domain.errors import AmountLimit
from ledger.domain.money import PENNY, ZERO, format_money
from ledger.domain.vocab import EntryKind
from ledger.domain.wording import written_date

#: How a refusal names an entry of each kind, and the money that limits it.
WORDS = {
    EntryKind.COMMITMENT: ("Commitment", "money allocated to project {project} on {on} that is neither spent nor "
                                         "committed"),
    EntryKind.DECOMMITMENT: ("Money released", "money committed to project {project} on {on}"),
    EntryKind.DEALLOCATION: ("Money taken back", "money allocated to project {project} on {on} that is neither "
                                                 "spent nor committed"),
}


def limited_by_commitments(kind: EntryKind) -> bool:
    """Whether committed money can limit an entry of this kind: one that commits or releases
    money, or takes a project's money without spending it (spend uses committed money first,
    so it never can)."""
    rule = KIND_RULES[kind]
    return rule.committed != NONE or (rule.allocated == TAKES and not rule.spends_committed_first)


def committed_limit(entries: Iterable[LedgerEntry], *, kind: EntryKind, on: date, project: str) -> AmountLimit | None:
    """The most an entry of ``kind`` dated ``on`` naming ``project`` can be, given the
    obligation's entries in force without it, so that every invariant holds at every date
    (SPEC rule 4 and 8.7); None for a kind committed money cannot limit."""
    if not limited_by_commitments(kind):
        return None
    history = list(entries)
    upper = _upper_bound(history, kind=kind, on=on, project=project)

    def keeps(amount: Decimal) -> bool:
        return not _broken(history, kind=kind, on=on, project=project, amount=amount)

    low, high = ZERO, max(upper, ZERO)  # keeps(low); the answer is at most high
    if keeps(high):
        low = high
    while high - low > PENNY:
        middle = (low + (high - low) / 2).quantize(PENNY)
        low, high = (middle, high) if keeps(middle) else (low, middle)
    if low != high and keeps(high):
        low = high
    # The date the limit is reached on: where one penny more first breaks an invariant.
    reached = _broken(history, kind=kind, on=on, project=project, amount=low + PENNY)
    limit_on = reached[0].on if reached else on
    noun, money = WORDS[kind]
    what = money.format(project=project, on=written_date(limit_on))
    if low > ZERO:
        return AmountLimit(most=low, on=limit_on, message=f"{noun} must be {format_money(low)} or less: that is the "
                                                          f"{what}")
    return AmountLimit(most=ZERO, on=limit_on, message=f"{noun} cannot be recorded: there is no {what}")


def _broken(history: list[LedgerEntry], *, kind: EntryKind, on: date, project: str, amount: Decimal) -> list:  # type: ignore[type-arg]
    if amount <= ZERO:
        return []
    new = LedgerEntry(id=UNSAVED_ID, kind=kind, amount=amount, occurred_on=on, reference="NEW", project=project)
    return rules.invariant_violations([*history, new])


def _upper_bound(history: list[LedgerEntry], *, kind: EntryKind, on: date, project: str) -> Decimal:
    """No more than this can be recorded: a release, what is committed that day before spend
    and other releases; money taken back, the project's allocated-unspent money that day; a
    commitment, that money and that day's spend on the project (committed, then spent)."""
    running = rules.RunningTotals(e for e in history if e.occurred_on <= on)
    unspent = running.by_project.get(project, ZERO)
    state = running.commitments.get(project)
    if state is None:
        return unspent if kind is not EntryKind.DECOMMITMENT else ZERO
    last, day, before = state.latest()
    if kind is EntryKind.DECOMMITMENT:
        return day.releasable(before) - day.released if last == on else state.amount
    return unspent + (day.spent if last == on else ZERO)
