"""Ledger entries as immutable records (beancount's directives are the model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ledger.domain.vocab import EntryKind

#: Id given to an entry that is being checked before it is stored: it sorts after every stored one.
UNSAVED_ID = 2**62


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """One money movement on one obligation, as the rules see it."""

    id: int
    kind: EntryKind
    amount: Decimal
    occurred_on: date
    reference: str = ""
    project: str | None = None
    reverses: int | None = None
    created_at: datetime | None = None
    #: An opening balance's original date of receipt, where known (SPEC 8.3).
    original_received_on: date | None = None
