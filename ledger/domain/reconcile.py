"""Reconciling the ledger with the council's finance ledger (issue 19): pure rules.

Finance transactions (rows of a finance-system export, their amounts turned into money into
the section 106 pot by the mapping's sign convention) are matched to ledger entries that
move money: receipts in, spend, transfers and repayments out. Allocations, commitments and
opening balances move no money and are never matched. The rules, in the order they run:

1. An officer's decision in force stands: a confirmed match or a match by hand claims its
   entries; a rejected transaction is finance-only until matched by hand.
2. By reference: an entry whose reference is the transaction's (ignoring case and spaces),
   of the same direction and amount; or every unclaimed entry with that reference, where
   together they make the amount. A reference is strong enough to match across cost codes:
   such a match is a *misposting* (the money sits on another cost code in finance).
3. A finance reversal: a transaction and a later one on the same cost code of the opposite
   amount whose reference (or description) names the first's reference cancel each other.
4. By amount and date: an unclaimed entry of the cost code's obligation, service or project,
   same amount, dated within the mapping's tolerance (nearest date first).
5. A remittance: two to ``max_parts`` unclaimed entries of the cost code's target within the
   tolerance that add up to the amount exactly (subset sum over the ``max_candidates``
   nearest by date, so the search is bounded).

What is left is *finance only* (a bank charge, a receipt the ledger lacks) or *ledger only*.
Every figure is a Decimal; no rule reads the clock or the database.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ledger.domain.money import ZERO, format_money


class TargetKind(StrEnum):
    """What a section 106 cost code holds: one obligation's money, a service's or a project's."""

    OBLIGATION = "obligation"
    SERVICE = "service"
    PROJECT = "project"


class Action(StrEnum):
    """An officer's decision on a finance transaction."""

    CONFIRM = "confirm"
    REJECT = "reject"
    MATCH = "match"


class Rule(StrEnum):
    """Why a transaction is matched."""

    CONFIRMED = "confirmed"
    BY_HAND = "matched-by-hand"
    REFERENCE = "reference"
    AMOUNT_AND_DATE = "amount-and-date"
    REMITTANCE = "remittance"


class AssertionState(StrEnum):
    HOLDS = "holds"
    FAILS = "fails"
    RESOLVED = "resolved-by-note"


class AssertionScope(StrEnum):
    COST_CODE = "cost-code"
    OBLIGATION = "obligation"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FinanceItem:
    """One in-scope finance transaction; ``amount`` is money into the section 106 pot."""

    id: int
    posted_on: date
    amount: Decimal
    cost_code: str
    reference: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerItem:
    """One ledger entry that moves money; ``amount`` is signed: + in (receipt), - out."""

    id: int
    kind: str
    reference: str
    occurred_on: date
    amount: Decimal
    obligation: str
    service: str
    project: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The decision in force on one transaction (the latest one recorded)."""

    transaction_id: int
    action: Action
    entry_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    transaction_id: int
    entry_ids: tuple[int, ...]
    rule: Rule
    #: Set when the proposal is the matcher's own and no officer has confirmed it.
    proposed: bool = True
    #: The transaction's cost code is not the one the entries' money belongs to.
    misposted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Matching:
    matches: list[Match]
    #: (transaction, the later transaction reversing it).
    reversals: list[tuple[int, int]]
    finance_only: list[int]
    ledger_only: list[int]
    #: Transactions an officer rejected and has not matched by hand since (also finance-only).
    rejected: list[int] = field(default_factory=list)


def reference_key(text: str | None) -> str:
    """References compare ignoring case and spaces: `s106/12 a` is `S106/12A`."""
    return re.sub(r"\s+", "", text or "").upper()


def serves(target: Target, item: LedgerItem) -> bool:
    """Whether a ledger entry's money is held on a cost code with this target."""
    if target.kind is TargetKind.OBLIGATION:
        return item.obligation == target.code
    if target.kind is TargetKind.SERVICE:
        return item.service == target.code
    return item.project == target.code


def code_index(codes: Mapping[str, Target]) -> dict[Target, str]:
    """Each target's cost code; of several codes with the same target, the first in code order."""
    index: dict[Target, str] = {}
    for code, target in sorted(codes.items(), reverse=True):
        index[target] = code
    return index


def cost_code_of(item: LedgerItem, codes: Mapping[str, Target], index: Mapping[Target, str] | None = None) -> str | None:
    """The cost code a ledger entry's money belongs on: the code of its obligation, else of
    its project, else of its service (the most particular first); None if no code holds it.
    ``index`` is code_index(codes), when the caller asks for many entries."""
    index = code_index(codes) if index is None else index
    for kind, value in ((TargetKind.OBLIGATION, item.obligation), (TargetKind.PROJECT, item.project),
                        (TargetKind.SERVICE, item.service)):
        if value is not None and Target(kind, value) in index:
            return index[Target(kind, value)]
    return None


def _names(reversing: FinanceItem, original: FinanceItem) -> bool:
    key = reference_key(original.reference)
    if len(key) < 3:  # too short to be told from other text
        return False
    return key in reference_key(reversing.reference) or key in reference_key(reversing.description)


def _targets(item: LedgerItem) -> list[Target]:
    found = [Target(TargetKind.OBLIGATION, item.obligation), Target(TargetKind.SERVICE, item.service)]
    return [*found, Target(TargetKind.PROJECT, item.project)] if item.project else found


def _subset(target: int, candidates: Sequence[tuple[int, int]], max_parts: int) -> tuple[int, ...] | None:
    """Ids of 2..max_parts candidates (id, pence > 0) whose pence add up to ``target``:
    fewest parts first, then in the candidates' order."""
    for size in range(2, max_parts + 1):
        for combination in itertools.combinations(candidates, size):
            if sum(pence for _, pence in combination) == target:
                return tuple(sorted(entry_id for entry_id, _ in combination))
    return None


def match(
    finance: Iterable[FinanceItem],
    ledger: Iterable[LedgerItem],
    *,
    codes: Mapping[str, Target],
    decisions: Iterable[Decision] = (),
    tolerance_days: int = 7,
    max_parts: int = 4,
    max_candidates: int = 16,
) -> Matching:
    """Match finance transactions to ledger entries by the rules of this module's docstring.
    Transactions are taken in date then id order, so the result is the same every time."""
    transactions = sorted(finance, key=lambda t: (t.posted_on, t.id))
    entries = sorted(ledger, key=lambda e: (e.occurred_on, e.id))
    by_id = {e.id: e for e in entries}
    claimed: set[int] = set()
    done: set[int] = set()
    matches: list[Match] = []
    rejected: list[int] = []

    def take(transaction: FinanceItem, ids: tuple[int, ...], rule: Rule, *, proposed: bool = True) -> None:
        target = codes.get(transaction.cost_code)
        misposted = target is None or not all(serves(target, by_id[i]) for i in ids if i in by_id)
        matches.append(Match(transaction_id=transaction.id, entry_ids=ids, rule=rule, proposed=proposed,
                             misposted=misposted))
        claimed.update(ids)
        done.add(transaction.id)

    in_force = {d.transaction_id: d for d in decisions}
    for transaction in transactions:
        decision = in_force.get(transaction.id)
        if decision is None:
            continue
        if decision.action is Action.REJECT:
            rejected.append(transaction.id)
            done.add(transaction.id)
        else:
            take(transaction, tuple(sorted(decision.entry_ids)),
                 Rule.CONFIRMED if decision.action is Action.CONFIRM else Rule.BY_HAND, proposed=False)

    # 2. By reference.
    by_reference: dict[str, list[LedgerItem]] = defaultdict(list)
    for entry in entries:
        by_reference[reference_key(entry.reference)].append(entry)
    for transaction in transactions:
        key = reference_key(transaction.reference)
        if transaction.id in done or not key or transaction.amount == ZERO:
            continue
        same = [e for e in by_reference.get(key, []) if e.id not in claimed
                and (e.amount > 0) == (transaction.amount > 0)]
        exact = [e for e in same if e.amount == transaction.amount]
        if exact:
            take(transaction, (exact[0].id,), Rule.REFERENCE)
        elif len(same) > 1 and sum((e.amount for e in same), ZERO) == transaction.amount:
            take(transaction, tuple(e.id for e in same), Rule.REFERENCE)

    # 3. Finance reversals: candidates found by cost code and amount, not by a scan of all.
    reversals: list[tuple[int, int]] = []
    by_code_amount: dict[tuple[str, Decimal], list[FinanceItem]] = defaultdict(list)
    for transaction in transactions:
        if transaction.id not in done:
            by_code_amount[transaction.cost_code, transaction.amount].append(transaction)
    for original in transactions:
        if original.id in done:
            continue
        for reversing in by_code_amount.get((original.cost_code, -original.amount), []):
            if (reversing.id not in done and reversing.id != original.id
                    and reversing.posted_on >= original.posted_on and _names(reversing, original)):
                reversals.append((original.id, reversing.id))
                done.update((original.id, reversing.id))
                break

    # 4. Amount and date, 5. remittances: only among the entries of the cost code's target.
    of_target: dict[Target, list[LedgerItem]] = defaultdict(list)
    for entry in entries:
        for target in _targets(entry):
            of_target[target].append(entry)

    def window(transaction: FinanceItem, candidates: Iterable[LedgerItem]) -> list[LedgerItem]:
        near = [e for e in candidates if e.id not in claimed and (e.amount > 0) == (transaction.amount > 0)
                and abs((e.occurred_on - transaction.posted_on).days) <= tolerance_days]
        return sorted(near, key=lambda e: (abs((e.occurred_on - transaction.posted_on).days), e.occurred_on, e.id))

    of_target_amount: dict[tuple[Target, Decimal], list[LedgerItem]] = defaultdict(list)
    for target, items in of_target.items():
        for entry in items:
            of_target_amount[target, entry.amount].append(entry)
    for transaction in transactions:
        target = codes.get(transaction.cost_code)
        if transaction.id in done or transaction.amount == ZERO or target is None:
            continue
        same = window(transaction, of_target_amount.get((target, transaction.amount), []))
        if same:
            take(transaction, (same[0].id,), Rule.AMOUNT_AND_DATE)
    for transaction in transactions:
        target = codes.get(transaction.cost_code)
        if transaction.id in done or transaction.amount == ZERO or target is None:
            continue
        smaller = [(e.id, int(abs(e.amount) * 100)) for e in window(transaction, of_target.get(target, []))
                   if abs(e.amount) < abs(transaction.amount)][:max_candidates]
        found = _subset(int(abs(transaction.amount) * 100), smaller, max_parts)
        if found:
            take(transaction, found, Rule.REMITTANCE)

    return Matching(
        matches=matches, reversals=reversals,
        finance_only=[t.id for t in transactions if t.id not in done or t.id in rejected],
        ledger_only=[e.id for e in entries if e.id not in claimed], rejected=rejected,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """Money in finance and in the ledger for one cost code or obligation; the difference is
    finance less ledger."""

    key: str
    finance: Decimal
    ledger: Decimal

    @property
    def difference(self) -> Decimal:
        return self.finance - self.ledger


#: The row for money no cost code (or no obligation) holds.
NONE = "(none)"


def differences_by_cost_code(
    finance: Iterable[FinanceItem], ledger: Iterable[LedgerItem], codes: Mapping[str, Target]
) -> list[Difference]:
    """Per cost code: the finance transactions on it, against the ledger entries whose money
    belongs on it (cost_code_of); every code with money on either side, in code order."""
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for transaction in finance:
        totals[transaction.cost_code][0] += transaction.amount
    index = code_index(codes)
    for entry in ledger:
        totals[cost_code_of(entry, codes, index) or NONE][1] += entry.amount
    return [Difference(key=k, finance=v[0], ledger=v[1]) for k, v in sorted(totals.items())]


def differences_by_obligation(
    finance: Iterable[FinanceItem], ledger: Iterable[LedgerItem], codes: Mapping[str, Target], matching: Matching
) -> list[Difference]:
    """Per obligation: finance money is the obligation's when matched to its entries (each
    entry's amount), or when its cost code holds that one obligation; the rest is NONE's.
    Reversed pairs cancel out. Ledger money is the obligation's entries."""
    by_id = {e.id: e for e in ledger}
    transactions = {t.id: t for t in finance}
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    matched = set()
    for found in matching.matches:
        matched.add(found.transaction_id)
        for entry_id in found.entry_ids:
            entry = by_id.get(entry_id)
            if entry is not None:
                totals[entry.obligation][0] += entry.amount
    for transaction_id, transaction in transactions.items():
        if transaction_id in matched:
            continue
        target = codes.get(transaction.cost_code)
        key = target.code if target is not None and target.kind is TargetKind.OBLIGATION else NONE
        totals[key][0] += transaction.amount
    for entry in by_id.values():
        totals[entry.obligation][1] += entry.amount
    return [Difference(key=k, finance=v[0], ledger=v[1]) for k, v in sorted(totals.items())
            if v[0] != ZERO or v[1] != ZERO]


def assertion_state(asserted: Decimal, ledger: Decimal, *, resolved: bool) -> AssertionState:
    """An assertion holds while the ledger's figure is the finance system's; a failing one
    stays failing until an entry makes it hold or a note resolves it."""
    if asserted == ledger:
        return AssertionState.HOLDS
    return AssertionState.RESOLVED if resolved else AssertionState.FAILS


@dataclass(frozen=True, slots=True, kw_only=True)
class YearEnd:
    """Whether the ledger agrees with the finance ledger over a period (the IFS year)."""

    start: date
    end: date
    #: In-scope finance transactions dated in the period.
    transactions: int
    finance: Decimal
    ledger: Decimal
    finance_only: Decimal
    ledger_only: Decimal
    unmatched: int
    misposted: int
    failing_assertions: int

    @property
    def imported(self) -> bool:
        return self.transactions > 0

    @property
    def reconciled(self) -> bool:
        return self.imported and not self.unmatched and not self.misposted and not self.failing_assertions

    @property
    def difference(self) -> Decimal:
        return self.finance - self.ledger


def year_end_lines(year_end: YearEnd) -> list[str]:
    """What the IFS Checks sheet says of the reconciliation: never claims it without data."""
    period = f"{year_end.start:%d %B %Y} to {year_end.end:%d %B %Y}"
    if not year_end.imported:
        return [f"Not reconciled with the finance ledger: no finance transactions on section 106 cost codes "
                f"dated {period} have been imported (s106 reconcile import)."]
    if year_end.reconciled:
        return [f"Reconciled with the finance ledger, {period}: {year_end.transactions:,} finance transactions, "
                f"{format_money(year_end.finance)} net, every one matched to the ledger, every balance assertion holds."]
    return [
        f"Not reconciled with the finance ledger, {period}: finance {format_money(year_end.finance)} net, "
        f"ledger {format_money(year_end.ledger)}, difference {format_money(year_end.difference)}.",
        f"Unmatched: {year_end.unmatched:,} items, {format_money(year_end.finance_only)} in finance only and "
        f"{format_money(year_end.ledger_only)} in the ledger only; {year_end.misposted:,} matched on another "
        f"cost code; {year_end.failing_assertions:,} balance assertions failing.",
    ]


class Status(StrEnum):
    """Where an item stands in a reconciliation, as the report and the pages show it."""

    MATCHED = "matched"
    PROPOSED = "proposed"
    REVERSED = "reversed-in-finance"
    FINANCE_ONLY = "finance-only"
    LEDGER_ONLY = "ledger-only"


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRow:
    """One line of a reconciliation: a finance transaction with the entries matched to it, a
    transaction alone, or an entry alone."""

    status: Status
    rule: Rule | None = None
    misposted: bool = False
    #: The finance transaction's id in the ledger's database (for decisions), and its own.
    transaction: int | None = None
    transaction_id: str | None = None
    posted_on: date | None = None
    cost_code: str | None = None
    reference: str | None = None
    description: str | None = None
    finance: Decimal | None = None
    entries: tuple[int, ...] = ()
    entry_references: str = ""
    obligations: str = ""
    occurred_on: date | None = None
    ledger: Decimal | None = None
    #: The decision in force on the transaction: who made it and why.
    decided_by: str | None = None
    decision_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AssertionRow:
    id: int
    scope: str
    code: str
    held_on: date
    asserted: Decimal
    ledger: Decimal
    state: AssertionState
    recorded_by: str
    reason: str
    #: The notes that resolved it, if any.
    notes: tuple[str, ...] = ()

    @property
    def difference(self) -> Decimal:
        return self.asserted - self.ledger


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """A reconciliation as the workbook and the web page show it."""

    as_of: date
    since: date
    tolerance_days: int
    imported: bool
    summary: list[tuple[str, int | None, Decimal | None]]
    matched: list[ItemRow]
    reversed: list[ItemRow]
    finance_only: list[ItemRow]
    ledger_only: list[ItemRow]
    by_cost_code: list[Difference]
    by_obligation: list[Difference]
    assertions: list[AssertionRow]
    codes: dict[str, Target]

    @property
    def differences(self) -> list[ItemRow]:
        """What needs clearing: items on one side only, and matches on another cost code."""
        return [*self.finance_only, *self.ledger_only, *(m for m in self.matched if m.misposted)]
