"""Property tests of rule 8 under every repayment basis (SPEC 8.2) with opening balances
(SPEC 8.3): the reports' closed form (rules.remaining_in_received_order, used by
services.positions) gives what replaying every outflow gives whenever
rules.consumed_in_received_order says it may be used, and receipts alone always pass it."""

from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import rules
from ledger.domain.entries import LedgerEntry
from ledger.domain.entry_kinds import INFLOWS
from ledger.domain.vocab import EntryKind, RepaymentBasis
from ledger.services.ledger_rows import deadline_rule
from tests.unit.test_rules_properties import START, accepted_history, proposals

terms = st.one_of(
    st.tuples(st.sampled_from([RepaymentBasis.RECEIPT, RepaymentBasis.LAST_PAYMENT]), st.integers(1, 30)),
    st.tuples(st.just(RepaymentBasis.COMPLETION), st.integers(1, 30)),
    st.tuples(st.sampled_from([RepaymentBasis.NONE, RepaymentBasis.UNKNOWN]), st.none()),
)
#: An opening balance's original date of receipt: unknown, or up to six years either side of START.
original_dates = st.one_of(st.none(), st.integers(-2200, 400).map(lambda d: START + timedelta(days=d)))


def with_original_dates(history: list[LedgerEntry], dates: list[date | None]) -> list[LedgerEntry]:
    return [replace(e, original_received_on=dates[n % len(dates)]) if e.kind is EntryKind.OPENING_BALANCE else e
            for n, e in enumerate(history)]


def check_every_date(history: list[LedgerEntry], basis: str, years: int | None, completion_on: date | None) -> int:
    """Compare both ways at every date of the history and long after; how many dates used
    the closed form."""
    obligation = SimpleNamespace(repayment_basis=basis, repayment_years=years)
    closed_form_used = 0
    for day in [*sorted({e.occurred_on for e in history}), date(2040, 1, 1)]:
        deadline_of = deadline_rule(obligation, completion_on, rules.last_received_on(history, on=day))
        walked = rules.receipt_positions(history, on=day, deadline_of=deadline_of)
        balances = rules.balances_at(history, day)
        receipts = sorted((e for e in history if e.kind in INFLOWS and e.occurred_on <= day),
                          key=lambda e: (e.occurred_on, e.id))
        deadlines = [deadline_of(r) for r in receipts]
        if not any(r.kind is EntryKind.OPENING_BALANCE for r in receipts):
            # services.positions skips the check for these: it must hold.
            assert rules.consumed_in_received_order(receipts, deadlines)
        if not rules.consumed_in_received_order(receipts, deadlines):
            continue
        closed_form_used += 1
        from_totals = rules.remaining_in_received_order(
            [r.amount for r in receipts], outflow=balances.spent + balances.transferred + balances.repaid,
            allocated_unspent=balances.allocated_unspent)
        assert [p.receipt.id for p in walked] == [r.id for r in receipts]
        assert [(p.remaining, p.allocated) for p in walked] == from_totals
        assert [p.deadline for p in walked] == deadlines
    return closed_form_used


@settings(max_examples=400, deadline=None)
@given(proposals, terms, st.lists(original_dates, min_size=1, max_size=4),
       st.one_of(st.none(), st.integers(0, 600).map(lambda d: START + timedelta(days=d))))
def test_closed_form_equals_the_walk_whenever_the_check_allows_it(
    proposed: list, term: tuple, dates: list, completion_on: date | None,  # type: ignore[type-arg]
) -> None:
    basis, years = term
    history = with_original_dates(rules.in_force(accepted_history(proposed)), dates)
    check_every_date(history, basis, years, completion_on)


def test_an_opening_balance_with_a_later_deadline_than_a_receipt_after_it_needs_the_walk() -> None:
    """Received order puts the opening balance first; rule 8 takes the receipt first (its
    deadline is earlier): the check refuses the closed form, and the walk spends the receipt."""
    opening = LedgerEntry(id=1, kind=EntryKind.OPENING_BALANCE, amount=rules.ZERO + 100, occurred_on=date(2020, 4, 1),
                          original_received_on=date(2019, 1, 1))
    receipt = LedgerEntry(id=2, kind=EntryKind.RECEIPT, amount=rules.ZERO + 100, occurred_on=date(2020, 5, 1))
    spend = LedgerEntry(id=3, kind=EntryKind.REPAYMENT, amount=rules.ZERO + 100, occurred_on=date(2020, 6, 1))
    history = [opening, receipt, spend]
    # A 1-year receipt basis: the opening balance is due 2020-01-01, the receipt 2021-05-01: in order.
    obligation = SimpleNamespace(repayment_basis="receipt", repayment_years=1)
    deadline_of = deadline_rule(obligation, None)
    assert rules.consumed_in_received_order([opening, receipt], [deadline_of(opening), deadline_of(receipt)])
    # Unknown original date: the opening balance's deadline is unknown, after the receipt's.
    unknown = replace(opening, original_received_on=None)
    assert not rules.consumed_in_received_order([unknown, receipt], [deadline_of(unknown), deadline_of(receipt)])
    walked = rules.receipt_positions([unknown, receipt, spend], on=date(2020, 7, 1), deadline_of=deadline_of)
    assert [(p.receipt.id, p.remaining) for p in walked] == [(2, 0), (1, 100)]
    assert check_every_date(history, "receipt", 1, None) == 4  # every date: 3 and 2040
    # Undated, the closed form is refused once the receipt is in, and the walk is used.
    assert check_every_date([unknown, receipt, spend], "receipt", 1, None) == 1


def test_last_received_on_counts_opening_balances_by_their_original_date() -> None:
    receipt = LedgerEntry(id=1, kind=EntryKind.RECEIPT, amount=rules.ZERO + 1, occurred_on=date(2020, 5, 1))
    dated = LedgerEntry(id=2, kind=EntryKind.OPENING_BALANCE, amount=rules.ZERO + 1, occurred_on=date(2020, 6, 1),
                        original_received_on=date(2018, 1, 1))
    undated = replace(dated, id=3, original_received_on=None)
    assert rules.last_received_on([receipt, dated], on=date(2021, 1, 1)) == date(2020, 5, 1)
    assert rules.last_received_on([receipt], on=date(2020, 4, 30)) is None
    # An opening balance of unknown date, brought in after the last receipt, may hide a later one.
    assert rules.last_received_on([receipt, undated], on=date(2021, 1, 1)) is None
    later = replace(receipt, id=4, occurred_on=date(2020, 7, 1))
    assert rules.last_received_on([receipt, undated, later], on=date(2021, 1, 1)) == date(2020, 7, 1)
