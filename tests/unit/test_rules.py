from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ledger.domain import rules
from ledger.domain.dates import NoDeadline, repayment_deadline
from ledger.domain.entries import LedgerEntry
from ledger.domain.vocab import Band, EntryKind

D = Decimal


class Book:
    """A tiny in-memory ledger of one obligation for rule tests."""

    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    def add(self, kind: str, amount: str, on: date, project: str | None = None, *,
            reverses: int | None = None, created_at: datetime | None = None) -> LedgerEntry:
        entry = LedgerEntry(id=len(self.entries) + 1, kind=EntryKind(kind), amount=D(amount), occurred_on=on,
                            reference=f"E{len(self.entries) + 1}", project=project, reverses=reverses,
                            created_at=created_at)
        self.entries.append(entry)
        return entry

    def in_force(self) -> list[LedgerEntry]:
        return rules.in_force(self.entries)


def ten_years(receipt: LedgerEntry) -> date:
    deadline = repayment_deadline(receipt.occurred_on, years=10)
    assert isinstance(deadline, date)
    return deadline


def test_balances_follow_the_spec_formulas() -> None:
    book = Book()
    book.add("receipt", "1000.00", date(2020, 1, 1))
    book.add("allocation", "600.00", date(2020, 2, 1), "P1")
    book.add("spend", "250.00", date(2020, 3, 1), "P1")
    book.add("transfer", "100.00", date(2020, 3, 2), "P1")
    book.add("deallocation", "50.00", date(2020, 3, 3), "P1")
    book.add("repayment", "200.00", date(2020, 4, 1))
    b = rules.balances_at(book.in_force(), date(2020, 12, 31))
    assert (b.received, b.spent, b.transferred, b.repaid) == (D("1000"), D("250"), D("100"), D("200"))
    assert b.held == D("450.00")
    assert b.allocated_unspent == D("200.00")  # 600 - 50 - 250 - 100
    assert b.unallocated == D("250.00")
    assert dict(b.by_project) == {"P1": D("200.00")}


def test_balances_count_entries_to_the_end_of_the_date() -> None:
    book = Book()
    book.add("receipt", "10.00", date(2024, 3, 31))
    book.add("receipt", "5.00", date(2024, 4, 1))
    assert rules.balances_at(book.in_force(), date(2024, 3, 31)).received == D("10.00")
    assert rules.balances_at(book.in_force(), date(2024, 4, 1)).received == D("15.00")


def test_spend_beyond_money_held_breaks_held_not_negative() -> None:
    book = Book()
    book.add("receipt", "100.00", date(2020, 1, 1))
    book.add("allocation", "100.00", date(2020, 1, 2), "P1")
    book.add("spend", "150.00", date(2020, 1, 3), "P1")
    violations = rules.invariant_violations(book.in_force())
    assert violations[0].invariant == rules.HELD_NOT_NEGATIVE
    assert violations[0].on == date(2020, 1, 3)


def test_spend_beyond_project_allocation_breaks_project_invariant() -> None:
    book = Book()
    book.add("receipt", "100.00", date(2020, 1, 1))
    book.add("allocation", "10.00", date(2020, 1, 2), "P1")
    book.add("spend", "20.00", date(2020, 1, 3), "P1")
    [violation] = rules.invariant_violations(book.in_force())
    assert violation.invariant == rules.PROJECT_ALLOCATION_NOT_NEGATIVE
    assert violation.field == "project_reference"


def test_repayment_of_allocated_money_breaks_allocated_within_held() -> None:
    book = Book()
    book.add("receipt", "100.00", date(2020, 1, 1))
    book.add("allocation", "80.00", date(2020, 1, 2), "P1")
    book.add("repayment", "30.00", date(2030, 1, 1))
    [violation] = rules.invariant_violations(book.in_force())
    assert violation.invariant == rules.ALLOCATED_WITHIN_HELD
    assert violation.on == date(2030, 1, 1)


def test_backdated_spend_before_the_receipt_breaks_the_earlier_date() -> None:
    book = Book()
    book.add("receipt", "100.00", date(2020, 6, 1))
    book.add("allocation", "100.00", date(2020, 6, 1), "P1")
    book.add("spend", "100.00", date(2020, 5, 31), "P1")
    violations = rules.invariant_violations(book.in_force())
    assert {v.invariant for v in violations} >= {rules.HELD_NOT_NEGATIVE}
    assert violations[0].on == date(2020, 5, 31)


def test_same_day_order_does_not_matter() -> None:
    book = Book()
    book.add("allocation", "100.00", date(2020, 6, 1), "P1")
    book.add("spend", "100.00", date(2020, 6, 1), "P1")
    book.add("receipt", "100.00", date(2020, 6, 1))
    assert rules.invariant_violations(book.in_force()) == []


def test_reversal_and_original_both_leave_the_balances() -> None:
    book = Book()
    receipt = book.add("receipt", "100.00", date(2020, 1, 1))
    book.add("receipt", "100.00", date(2020, 1, 1), reverses=receipt.id)
    assert book.in_force() == []


def test_as_known_at_ignores_entries_recorded_later() -> None:
    book = Book()
    receipt = book.add("receipt", "100.00", date(2020, 1, 1), created_at=datetime(2020, 1, 2, tzinfo=UTC))
    book.add("receipt", "100.00", date(2020, 1, 1), reverses=receipt.id, created_at=datetime(2021, 5, 1, tzinfo=UTC))
    before = rules.in_force(book.entries, as_known_at=datetime(2021, 4, 30, tzinfo=UTC))
    after = rules.in_force(book.entries, as_known_at=datetime(2021, 5, 1, tzinfo=UTC))
    assert [e.id for e in before] == [receipt.id]
    assert after == []
    assert rules.in_force(book.entries, as_known_at=datetime(2020, 1, 1, tzinfo=UTC)) == []


def test_project_shortfall_is_what_keeps_the_project_whole_from_that_date_on() -> None:
    book = Book()
    book.add("receipt", "500.00", date(2020, 1, 1))
    book.add("allocation", "100.00", date(2020, 1, 1), "P1")
    book.add("spend", "100.00", date(2020, 3, 1), "P1")
    backdated = book.add("spend", "40.00", date(2020, 2, 1), "P1")
    assert rules.project_shortfall(book.in_force(), project="P1", from_date=backdated.occurred_on) == D("40.00")
    assert rules.project_shortfall(book.in_force(), project="P2", from_date=date(2020, 1, 1)) == D("0")


def test_outflows_consume_the_earliest_deadline_first() -> None:
    book = Book()
    five = book.add("receipt", "100.00", date(2020, 1, 1))
    ten = book.add("receipt", "100.00", date(2019, 1, 1))
    book.add("repayment", "150.00", date(2021, 1, 1))
    deadlines = {five.id: date(2025, 1, 1), ten.id: date(2029, 1, 1)}
    positions = rules.receipt_positions(book.in_force(), on=date(2021, 1, 1), deadline_of=lambda r: deadlines[r.id])
    assert [(p.receipt.id, p.remaining) for p in positions] == [(five.id, D("0.00")), (ten.id, D("50.00"))]


def test_outflows_only_consume_receipts_already_received() -> None:
    book = Book()
    early = book.add("receipt", "100.00", date(2020, 1, 1))
    late = book.add("receipt", "100.00", date(2021, 1, 1))
    book.add("allocation", "60.00", date(2020, 6, 1), "P1")
    book.add("spend", "60.00", date(2020, 6, 1), "P1")
    # The later receipt has the earlier deadline, but it had not arrived when the money was spent.
    deadlines = {early.id: date(2030, 1, 1), late.id: date(2026, 1, 1)}
    positions = rules.receipt_positions(book.in_force(), on=date(2022, 1, 1), deadline_of=lambda r: deadlines[r.id])
    remaining = {p.receipt.id: p.remaining for p in positions}
    assert remaining == {early.id: D("40.00"), late.id: D("100.00")}


def test_allocated_money_is_taken_to_be_the_earliest_deadline_money() -> None:
    book = Book()
    a = book.add("receipt", "100.00", date(2016, 1, 1))
    b = book.add("receipt", "100.00", date(2018, 1, 1))
    book.add("allocation", "150.00", date(2019, 1, 1), "P1")
    positions = rules.receipt_positions(book.in_force(), on=date(2019, 1, 1), deadline_of=ten_years)
    assert [(p.receipt.id, p.allocated, p.unallocated) for p in positions] == [
        (a.id, D("100.00"), D("0.00")),
        (b.id, D("50.00"), D("50.00")),
    ]


def test_receipts_without_deadline_are_consumed_last() -> None:
    book = Book()
    none = book.add("receipt", "100.00", date(2015, 1, 1))
    unknown = book.add("receipt", "100.00", date(2016, 1, 1))
    dated = book.add("receipt", "100.00", date(2017, 1, 1))
    deadlines = {none.id: NoDeadline.NONE, unknown.id: NoDeadline.UNKNOWN, dated.id: date(2027, 1, 1)}
    positions = rules.receipt_positions(book.in_force(), on=date(2020, 1, 1), deadline_of=lambda r: deadlines[r.id])
    assert [p.receipt.id for p in positions] == [dated.id, unknown.id, none.id]


@pytest.mark.parametrize(
    ("deadline", "band"),
    [
        (date(2025, 3, 30), Band.OVERDUE),
        (date(2025, 3, 31), Band.RED),
        (date(2026, 3, 31), Band.RED),
        (date(2026, 4, 1), Band.AMBER),
        (date(2027, 3, 31), Band.AMBER),
        (date(2027, 4, 1), Band.GREEN),
        (NoDeadline.NONE, Band.NO_DEADLINE),
        (NoDeadline.UNKNOWN, Band.UNKNOWN_DEADLINE),
    ],
    ids=["day-before-is-overdue", "deadline-day-is-red", "12-months-is-red", "12-months-and-a-day-is-amber",
         "24-months-is-amber", "later-is-green", "no-deadline", "unknown-deadline"],
)
def test_at_risk_bands_at_their_boundaries(deadline: date | NoDeadline, band: Band) -> None:
    assert rules.band_for(deadline, as_of=date(2025, 3, 31)) == band


def test_band_thresholds_are_settings() -> None:
    assert rules.band_for(date(2025, 9, 1), as_of=date(2025, 3, 31), red_months=3, amber_months=6) == Band.AMBER


def test_reversal_rules() -> None:
    book = Book()
    receipt = book.add("receipt", "100.00", date(2020, 1, 1))
    reversal = rules.reversal_of(receipt, id=99)
    assert (reversal.kind, reversal.amount, reversal.occurred_on, reversal.reverses) == (
        receipt.kind, receipt.amount, receipt.occurred_on, receipt.id)
    assert rules.check_reversal(receipt, already_reversed=False) is None
    assert "already" in (rules.check_reversal(receipt, already_reversed=True) or "")
    assert "cannot itself" in (rules.check_reversal(reversal, already_reversed=False) or "")


def test_project_shortfall_looks_at_the_end_of_each_day_not_the_order_within_it() -> None:
    book = Book()
    book.add("receipt", "100.00", date(2020, 1, 1))
    spend = LedgerEntry(id=1, kind=EntryKind.SPEND, amount=D("100.00"), occurred_on=date(2020, 1, 1), project="P1")
    allocation = LedgerEntry(id=9, kind=EntryKind.ALLOCATION, amount=D("100.00"), occurred_on=date(2020, 1, 1),
                             project="P1")
    assert rules.project_shortfall([spend, allocation], project="P1", from_date=date(2020, 1, 1)) == D("0")
