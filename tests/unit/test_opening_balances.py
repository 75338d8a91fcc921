"""The size of an opening balance (SPEC 8.3): the deepest shortfall of money held, or of
unallocated money, at the end of any date from the one it starts to count."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledger.domain.entries import LedgerEntry
from ledger.domain.opening_balances import money_shortfall, opening_balance_date, opening_balance_reference
from ledger.domain.vocab import EntryKind


def entry(n: int, kind: EntryKind, amount: str, day: date, project: str | None = None) -> LedgerEntry:
    return LedgerEntry(id=n, kind=kind, amount=Decimal(amount), occurred_on=day, reference=f"E-{n}", project=project)


def test_the_deepest_shortfall_counts_not_the_first() -> None:
    entries = [entry(1, EntryKind.REPAYMENT, "100.00", date(2021, 1, 1)),
               entry(2, EntryKind.RECEIPT, "50.00", date(2021, 2, 1)),
               entry(3, EntryKind.REPAYMENT, "200.00", date(2021, 3, 1)),
               entry(4, EntryKind.RECEIPT, "1000.00", date(2021, 4, 1))]
    assert money_shortfall(entries, from_date=date(2021, 1, 1)) == Decimal("250.00")
    # From a later date only the dates from it count: held is -250.00 at the end of March too.
    assert money_shortfall(entries, from_date=date(2021, 4, 1)) == Decimal("0")


def test_money_allocated_beyond_what_is_held_is_a_shortfall_too() -> None:
    entries = [entry(1, EntryKind.RECEIPT, "100.00", date(2021, 1, 1)),
               entry(2, EntryKind.ALLOCATION, "400.00", date(2021, 1, 1), project="P")]
    assert money_shortfall(entries, from_date=date(2021, 1, 1)) == Decimal("300.00")


def test_where_and_when_it_is_recorded() -> None:
    assert opening_balance_reference("DA-1/C1") == "DA-1/C1/opening-balance"
    assert opening_balance_date(date(2021, 3, 1)) == date(2021, 2, 28)
