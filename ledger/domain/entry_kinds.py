"""What each kind of ledger entry does, in one table (SPEC §3).

Every rule that depends on an entry's kind reads it from here: the running totals
(rules), the SQL sums of reports, the IFS figures, the government CSV export and import,
the import's same-day order and the web's words. A new kind is a member of ``EntryKind``
and one row of ``KINDS``; the checks at the end of this module refuse to import a table
that leaves a kind out or contradicts itself, so nothing fails later with a KeyError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind

T = TypeVar("T")

#: Effects on a balance: the amount is added, taken away, or leaves it alone.
ADDS, TAKES, NONE = 1, -1, 0


class IfsRole(StrEnum):
    """The Infrastructure Funding Statement figures an amount feeds directly (SPEC §4).
    Every kind also feeds (e) and (i), through its effects on allocated and held money."""

    #: (b) money received, and the Received sheet.
    RECEIVED = "received"
    #: (f) money spent, including money transferred to another person to spend; the Spent sheet.
    SPENT = "spent"
    #: (h)(ii) and (h)(iii): what the authority spent itself (repaying borrowing, monitoring).
    SPENT_BY_AUTHORITY = "spent-by-authority"
    #: Money repaid to developers (an extra line), and the Repaid sheet.
    REPAID = "repaid"
    #: Money held at a cut-over whose receipts are not in the ledger (SPEC 8.3): never in (b),
    #: listed on the Data quality sheet.
    OPENING = "opening"


#: Roles whose kinds are listed, entry by entry, on a sheet of the IFS (Received, Spent,
#: Repaid, and Data quality for opening balances).
SHEET_ROLES = frozenset({IfsRole.RECEIVED, IfsRole.SPENT, IfsRole.REPAID, IfsRole.OPENING})


@dataclass(frozen=True, slots=True, kw_only=True)
class KindRule:
    """One kind of entry: its effects on the balances of SPEC rule 4 and how it is
    recorded, published, imported and shown."""

    kind: EntryKind
    #: On money held, H (ADDS, TAKES or NONE).
    held: int
    #: On the named project's allocated-unspent money, U_p (ADDS, TAKES or NONE).
    allocated: int
    #: The balance total the amount is counted in (a field of rules.Balances), or None.
    total: str | None
    #: Must name a project (and a kind without it must not).
    project: bool
    #: Beyond the project's allocated-unspent money, allocates the shortfall first (rule 5).
    auto_allocates: bool = False
    #: Must name its recipient (and a kind without it must not).
    recipient: bool = False
    #: Its amount may include interest.
    interest: bool = False
    #: The government format's contribution-funding-status it is published under and read from;
    #: None for a kind the format has no status for (a commitment), neither published nor read.
    status: str | None
    #: Published as a negative amount of that status, and a negative amount of it read as this kind.
    negated: bool = False
    #: A row of that status is read as this kind. An opening balance is published as money
    #: received (so a published file still adds up) but a file's receipts are receipts.
    read_from_status: bool = True
    #: Same-day order when an import replays a history: money arrives before it is used.
    import_order: int
    #: The words the web shows for recording one (page title, button, record form).
    label: str
    #: The IFS figures its amount feeds directly.
    ifs: frozenset[IfsRole] = frozenset()
    #: On the named project's committed-unspent money, C_p (SPEC 8.7): ADDS (a commitment),
    #: TAKES (a decommitment, never more than is committed) or NONE.
    committed: int = NONE
    #: Uses the project's committed money before the rest of its allocated money (SPEC 8.7):
    #: takes what it can of its amount from C_p, never below zero.
    spends_committed_first: bool = False
    #: May be dated after today. Money cannot have moved yet on a later date, but a committee
    #: may decide today to allocate money from a later date (docs/RULES.md, "Dates").
    dated_ahead: bool = False


KINDS: tuple[KindRule, ...] = (
    KindRule(kind=EntryKind.RECEIPT, held=ADDS, allocated=NONE, total="received", project=False, interest=True,
             status="received", import_order=0, label="Record a receipt", ifs=frozenset({IfsRole.RECEIVED})),
    KindRule(kind=EntryKind.ALLOCATION, held=NONE, allocated=ADDS, total=None, project=True,
             status="allocated", import_order=1, label="Allocate money to a project", dated_ahead=True),
    # Allocated money handed back has no status of its own: it is published as a negative
    # `allocated` amount, so the allocated amounts of a file still add up.
    KindRule(kind=EntryKind.DEALLOCATION, held=NONE, allocated=TAKES, total=None, project=True,
             status="allocated", negated=True, import_order=2, label="Take money back from a project",
             dated_ahead=True),
    KindRule(kind=EntryKind.SPEND, held=TAKES, allocated=TAKES, total="spent", project=True, auto_allocates=True,
             status="spent", import_order=3, label="Record spend",
             ifs=frozenset({IfsRole.SPENT, IfsRole.SPENT_BY_AUTHORITY}), spends_committed_first=True),
    KindRule(kind=EntryKind.TRANSFER, held=TAKES, allocated=TAKES, total="transferred", project=True,
             auto_allocates=True, recipient=True, status="transferred", import_order=3,
             label="Record a transfer to another body", ifs=frozenset({IfsRole.SPENT}), spends_committed_first=True),
    # A repayment names no project: it draws on unallocated money (rule 6).
    KindRule(kind=EntryKind.REPAYMENT, held=TAKES, allocated=NONE, total="repaid", project=False, interest=True,
             status="returned", import_order=4, label="Record a repayment", ifs=frozenset({IfsRole.REPAID})),
    # Money held at a cut-over date whose receipts are not in the ledger (SPEC 8.3): held
    # like a receipt, counted in money received, but never in the year's receipts (b).
    KindRule(kind=EntryKind.OPENING_BALANCE, held=ADDS, allocated=NONE, total="received", project=False,
             status="received", read_from_status=False, import_order=0, label="Record an opening balance",
             ifs=frozenset({IfsRole.OPENING})),
    # Money of a project's allocated-unspent money contractually committed, and committed
    # money released (SPEC 8.7). Neither is spend nor moves money held: no statutory figure
    # counts them, and the government format has no status for them.
    KindRule(kind=EntryKind.COMMITMENT, held=NONE, allocated=NONE, total=None, project=True, committed=ADDS,
             status=None, read_from_status=False, import_order=2, label="Record a commitment to a project"),
    KindRule(kind=EntryKind.DECOMMITMENT, held=NONE, allocated=NONE, total=None, project=True, committed=TAKES,
             status=None, read_from_status=False, import_order=2, label="Record a release of committed money"),
)

#: The rule of each kind.
KIND_RULES: Mapping[EntryKind, KindRule] = MappingProxyType({rule.kind: rule for rule in KINDS})


def kinds_where(test: Callable[[KindRule], bool]) -> frozenset[EntryKind]:
    """The kinds whose rule passes ``test``."""
    return frozenset(rule.kind for rule in KINDS if test(rule))


#: Kinds that bring money in: rule 8 gives each such entry a deadline and remaining money.
INFLOWS = kinds_where(lambda r: r.held == ADDS)
#: Kinds that take money out of the held balance, consuming the inflows (rule 8).
OUTFLOWS = kinds_where(lambda r: r.held == TAKES)
#: Kinds that must name a project.
PROJECT_KINDS = kinds_where(lambda r: r.project)
#: Kinds whose amount may include interest.
INTEREST_KINDS = kinds_where(lambda r: r.interest)
#: Kinds that must name a recipient.
RECIPIENT_KINDS = kinds_where(lambda r: r.recipient)
#: Kinds that allocate a project's shortfall before they draw on it (rule 5).
AUTO_ALLOCATING = kinds_where(lambda r: r.auto_allocates)
#: Kinds that commit a project's money or release committed money (SPEC 8.7).
COMMITTING = kinds_where(lambda r: r.committed != NONE)
#: Kinds published in the government format (the others have no status there).
PUBLISHED = kinds_where(lambda r: r.status is not None)
#: Kinds that may be dated after today.
DATED_AHEAD = kinds_where(lambda r: r.dated_ahead)


def kinds_in(role: IfsRole) -> frozenset[EntryKind]:
    """The kinds whose amounts feed the IFS figures of ``role``."""
    return kinds_where(lambda r: role in r.ifs)


#: Each balance total (received, spent, ...) with its effect on money held, in table order.
TOTALS: Mapping[str, int] = MappingProxyType({rule.total: rule.held for rule in KINDS if rule.total})
#: The kind a government status names, and the kind a negative amount of that status names.
KIND_OF_STATUS: Mapping[str, EntryKind] = MappingProxyType(
    {rule.status: rule.kind for rule in KINDS if not rule.negated and rule.read_from_status})
KIND_OF_NEGATIVE_STATUS: Mapping[str, EntryKind] = MappingProxyType(
    {rule.status: rule.kind for rule in KINDS if rule.negated and rule.read_from_status})


def signed(effect: int, amount: Decimal) -> Decimal:
    """What an amount with this effect adds to a balance."""
    return amount if effect == ADDS else -amount if effect == TAKES else ZERO


def held_from(total: Callable[[str], Decimal]) -> Decimal:
    """Money held from the balance totals, ``total(name)`` giving each: H = R - S - T - P
    (SPEC rule 4)."""
    held = ZERO
    for name, effect in TOTALS.items():
        held += signed(effect, total(name))
    return held


def with_totals(record: type[T]) -> type[T]:
    """Class decorator for a dataclass of money totals: refuses, when it is defined, a
    record without a field for each balance total (so a new total cannot be missed)."""
    missing = sorted(set(TOTALS) - set(record.__dataclass_fields__))  # type: ignore[attr-defined]
    if missing:
        raise TypeError(f"{record.__qualname__} has no field for the balance totals {missing}")
    return record


def join_kinds(kinds: frozenset[EntryKind]) -> str:
    """``receipt or repayment``: kinds in table order, for messages."""
    return " or ".join(rule.kind.value for rule in KINDS if rule.kind in kinds)


def contradictions(table: tuple[KindRule, ...]) -> list[str]:
    """What is wrong with a table of kinds; empty when every kind has one consistent row."""
    found = []
    kinds = [rule.kind for rule in table]
    if sorted(kinds) != sorted(EntryKind):
        found.append(f"the table must have one row per EntryKind: rows {kinds}, kinds {list(EntryKind)}")
    for rule in table:
        if rule.held not in (ADDS, TAKES, NONE) or rule.allocated not in (ADDS, TAKES, NONE):
            found.append(f"{rule.kind}: effects are ADDS, TAKES or NONE")
        if (rule.total is None) != (rule.held == NONE):
            found.append(f"{rule.kind}: a kind moves money held if and only if it is counted in a balance total")
        if rule.total and any(other.total == rule.total and other.held != rule.held for other in table):
            found.append(f"{rule.kind}: every kind counted in {rule.total!r} must move money held the same way")
        if rule.ifs and rule.total is None:
            found.append(f"{rule.kind}: a kind that feeds the IFS's money lines must be counted in a balance total")
        if rule.held != NONE and not rule.ifs & SHEET_ROLES:
            found.append(f"{rule.kind}: a kind that moves money held must be listed on an IFS sheet (a role of "
                         f"{', '.join(sorted(SHEET_ROLES))}), or the IFS's money retained does not reconcile")
        if rule.allocated != NONE and not rule.project:
            found.append(f"{rule.kind}: a kind that changes a project's money must name the project")
        if rule.auto_allocates and rule.allocated != TAKES:
            found.append(f"{rule.kind}: only a kind that draws on a project's money can allocate a shortfall")
        if rule.dated_ahead and rule.held != NONE:
            found.append(f"{rule.kind}: a kind that moves money held cannot be dated after today")
        if rule.committed not in (ADDS, TAKES, NONE):
            found.append(f"{rule.kind}: effects are ADDS, TAKES or NONE")
        if rule.committed != NONE and not (rule.project and rule.held == NONE and rule.allocated == NONE):
            found.append(f"{rule.kind}: a kind that commits money names a project and moves no other money")
        if rule.spends_committed_first and (rule.held, rule.allocated) != (TAKES, TAKES):
            found.append(f"{rule.kind}: only a kind that spends a project's money uses its committed money first")
        if rule.status is None and (rule.read_from_status or rule.negated):
            found.append(f"{rule.kind}: a kind without a status cannot be read from one or published negated")
        if rule.status is None and rule.held != NONE:
            found.append(f"{rule.kind}: a kind that moves money held must be published with a status")
        if rule.read_from_status and sum(1 for other in table if other.read_from_status and (
                other.status, other.negated) == (rule.status, rule.negated)) > 1:
            found.append(f"{rule.kind}: another kind is published as {'negative ' * rule.negated}{rule.status!r}")
        if rule.negated and not any(other.status == rule.status and not other.negated for other in table):
            found.append(f"{rule.kind}: a negative {rule.status!r} needs a kind published as a positive one")
    return found


if contradictions(KINDS):  # at import: no lookup by kind can fail later
    raise TypeError("ledger.domain.entry_kinds: " + "; ".join(contradictions(KINDS)))
