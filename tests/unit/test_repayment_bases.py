"""Repayment deadlines on each of the five bases of SPEC 8.2."""

from datetime import date

import pytest

from ledger.domain.dates import NoDeadline, repayment_deadline
from ledger.domain.entries import LedgerEntry
from ledger.domain.rules import band_for, consumption_order
from ledger.domain.vocab import Band, EntryKind


@pytest.mark.parametrize(("basis", "expected"), [
    ("receipt", date(2026, 2, 28)),  # 29 February counts to 28 February in a common year
    ("completion", date(2027, 2, 28)),
    ("last-payment", date(2028, 2, 28)),
    ("none", NoDeadline.NONE),
    ("unknown", NoDeadline.UNKNOWN),
])
def test_each_basis_counts_from_its_own_date(basis: str, expected: object) -> None:
    years = None if basis in ("none", "unknown") else 10
    assert repayment_deadline(date(2016, 2, 29), years=years, basis=basis, completion_on=date(2017, 2, 28),
                              last_received_on=date(2018, 2, 28)) == expected


def test_last_payment_counts_from_a_leap_day_last_receipt() -> None:
    assert repayment_deadline(date(2015, 1, 1), years=10, basis="last-payment",
                              last_received_on=date(2016, 2, 29)) == date(2026, 2, 28)
    assert repayment_deadline(date(2015, 1, 1), years=12, basis="last-payment",
                              last_received_on=date(2016, 2, 29)) == date(2028, 2, 29)


def test_last_payment_without_the_last_date_is_unknown_never_one_per_receipt() -> None:
    assert repayment_deadline(date(2015, 1, 1), years=10, basis="last-payment") is NoDeadline.UNKNOWN


def test_none_and_unknown_ignore_any_years_stored_with_them() -> None:
    assert repayment_deadline(date(2015, 1, 1), years=10, basis="none") is NoDeadline.NONE
    assert repayment_deadline(date(2015, 1, 1), years=10, basis="unknown") is NoDeadline.UNKNOWN


def test_an_opening_balance_without_its_original_date_has_an_unknown_deadline() -> None:
    assert repayment_deadline(None, years=10, basis="receipt") is NoDeadline.UNKNOWN
    # Completion and last-payment do not count from the receipt's own date.
    assert repayment_deadline(None, years=10, basis="completion", completion_on=date(2020, 1, 1)) == date(2030, 1, 1)


def test_unknown_deadlines_band_as_unknown_and_sort_between_known_and_none() -> None:
    receipt = LedgerEntry(id=1, kind=EntryKind.RECEIPT, amount=1, occurred_on=date(2020, 1, 1))  # type: ignore[arg-type]
    assert band_for(NoDeadline.UNKNOWN, as_of=date(2024, 1, 1)) is Band.UNKNOWN_DEADLINE
    known = consumption_order(receipt, date(2199, 12, 31))
    assert known < consumption_order(receipt, NoDeadline.UNKNOWN) < consumption_order(receipt, NoDeadline.NONE)
