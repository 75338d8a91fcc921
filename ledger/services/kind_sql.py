"""SQL over entries built from the entry-kind table (ledger.domain.entry_kinds): which kinds
a sum takes, and the sign each kind's amount carries in it. The expressions are built once,
when a query is written; the database sees plain CASE and IN over the kind column, as if
they were written out by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, case

from ledger.domain.entry_kinds import ADDS, KINDS, TAKES, KindRule, kinds_where
from ledger.domain.vocab import EntryKind
from ledger.models import Entry

#: An effect of a kind on one balance (entry_kinds: ``lambda rule: rule.held``).
Effect = Callable[[KindRule], int]


def kind_is(kinds: Iterable[EntryKind]) -> ColumnElement[bool]:
    """The entry is of one of ``kinds``: an equality for one kind, IN for several, in
    table order (so the SQL is the same from one run to the next)."""
    wanted = set(kinds)
    values = [rule.kind.value for rule in KINDS if rule.kind in wanted]
    return Entry.kind == values[0] if len(values) == 1 else Entry.kind.in_(values)


def effect_whens(effect: Effect) -> list[tuple[ColumnElement[bool], Any]]:
    """CASE branches: the amount for kinds that add to the balance, minus it for kinds
    that take from it (other kinds fall through)."""
    adds = kinds_where(lambda rule: effect(rule) == ADDS)
    takes = kinds_where(lambda rule: effect(rule) == TAKES)
    return [*([(kind_is(adds), Entry.amount)] if adds else []), *([(kind_is(takes), -Entry.amount)] if takes else [])]


def signed_amount(effect: Effect) -> ColumnElement[Any]:
    """Each entry's change to the balance: its amount, negated, or NULL for kinds that
    leave it alone (a sum skips them)."""
    return case(*effect_whens(effect))


def moving(effect: Effect) -> frozenset[EntryKind]:
    """The kinds that change the balance."""
    return kinds_where(lambda rule: effect(rule) in (ADDS, TAKES))
