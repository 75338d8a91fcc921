"""Commitments (SPEC 8.7) and terms from a date (SPEC 8.2) as pure rules, on hand-worked
ledgers: spend uses committed money first, a release cannot exceed the money committed, a
deallocation cannot leave less allocated than committed, the refusals name the amount and
the limit, committed money stops the clock only where committed by the deadline, and the
terms in force at a date are the latest to come into force by then."""

from datetime import date
from decimal import Decimal

import pytest

from ledger.domain import rules
from ledger.domain.commitments import COMMITTED_WITHIN_ALLOCATED, RELEASED_WITHIN_COMMITTED, attribute
from ledger.domain.committed_limits import committed_limit, limited_by_commitments
from ledger.domain.dates import NoDeadline, Terms, repayment_deadline, terms_in_force
from ledger.domain.entries import LedgerEntry
from ledger.domain.vocab import EntryKind

D = Decimal


def entry(n: int, kind: str, amount: str, on: date, project: str | None = None) -> LedgerEntry:
    return LedgerEntry(id=n, kind=EntryKind(kind), amount=D(amount), occurred_on=on, reference=f"E{n}",
                       project=project)


#: £1,000 received; £600 allocated to P1 and £400 of it committed; £300 spent, then £200.
LEDGER = [
    entry(1, "receipt", "1000.00", date(2025, 1, 10)),
    entry(2, "allocation", "600.00", date(2025, 2, 1), "P1"),
    entry(3, "commitment", "400.00", date(2025, 2, 15), "P1"),
    entry(4, "spend", "300.00", date(2025, 3, 1), "P1"),
    entry(5, "spend", "200.00", date(2025, 4, 1), "P1"),
]


def committed(entries: list[LedgerEntry], on: date, project: str = "P1") -> Decimal:
    return rules.balances_at(entries, on).committed.get(project, D(0))


def test_spend_uses_committed_money_first() -> None:
    assert committed(LEDGER, date(2025, 2, 15)) == D("400.00")
    # £300 of the £400 committed is spent: £100 stays committed of the £300 allocated.
    assert committed(LEDGER, date(2025, 3, 1)) == D("100.00")
    assert rules.balances_at(LEDGER, date(2025, 3, 1)).by_project["P1"] == D("300.00")
    # £200 more: the last £100 committed, then £100 that was not: nothing is committed.
    assert committed(LEDGER, date(2025, 4, 1)) == D("0.00")
    assert rules.balances_at(LEDGER, date(2025, 4, 1)).by_project["P1"] == D("100.00")
    assert rules.invariant_violations(LEDGER) == []


#: The same ledger up to the first spend: £100 committed of the £300 allocated from 1 March.
TO_MARCH = LEDGER[:4]


def test_a_release_beyond_the_money_committed_is_refused_naming_amount_and_limit() -> None:
    release = entry(6, "decommitment", "150.00", date(2025, 3, 10), "P1")
    [violation] = rules.invariant_violations([*LEDGER, release])
    assert violation.invariant == RELEASED_WITHIN_COMMITTED
    assert violation.field == "amount"
    assert violation.on == date(2025, 3, 10)
    assert "£150.00 would be released from project P1 but only £100.00 is committed to it" in violation.message
    assert rules.invariant_violations([*LEDGER, entry(6, "decommitment", "100.00", date(2025, 3, 10), "P1")]) == []


def test_a_deallocation_cannot_leave_less_allocated_than_committed() -> None:
    take_back = entry(6, "deallocation", "250.00", date(2025, 2, 20), "P1")
    [violation] = rules.invariant_violations([*TO_MARCH, take_back])
    assert violation.invariant == COMMITTED_WITHIN_ALLOCATED
    assert violation.on == date(2025, 2, 20)
    assert "£400.00 would be committed to project P1 but only £350.00 is allocated to it and not spent" in \
        violation.message
    assert rules.invariant_violations([*TO_MARCH, entry(6, "deallocation", "200.00", date(2025, 2, 20), "P1")]) == []


def test_a_backdated_deallocation_is_refused_at_the_later_date_it_breaks() -> None:
    """Taking £300 back in February leaves £300 allocated: fine then, but the £400 committed
    on 15 February would then exceed it."""
    take_back = entry(6, "deallocation", "300.00", date(2025, 2, 5), "P1")
    [violation] = rules.invariant_violations([*TO_MARCH, take_back])
    assert (violation.invariant, violation.on) == (COMMITTED_WITHIN_ALLOCATED, date(2025, 2, 15))


def test_a_commitment_beyond_the_money_allocated_is_refused() -> None:
    commit = entry(6, "commitment", "300.00", date(2025, 2, 20), "P1")
    [violation] = rules.invariant_violations([*TO_MARCH, commit])
    assert violation.invariant == COMMITTED_WITHIN_ALLOCATED
    assert "£700.00 would be committed to project P1 but only £600.00" in violation.message


def test_commitments_come_before_spend_and_releases_within_a_date() -> None:
    """Balances are end-of-day figures: money committed and spent on one date was committed,
    then spent; a release that date may take what was committed by the day before plus that
    day's commitments, whatever is spent that day."""
    day = date(2025, 5, 1)
    same_day = [entry(1, "receipt", "500.00", day), entry(2, "allocation", "500.00", day, "P1"),
                entry(3, "spend", "200.00", day, "P1"), entry(4, "commitment", "200.00", day, "P1")]
    assert committed(same_day, day) == D("0.00")
    release = entry(5, "decommitment", "200.00", day, "P1")
    assert rules.invariant_violations([*same_day, release]) == []
    assert committed([*same_day, release], day) == D("0.00")
    assert rules.invariant_violations([*same_day, entry(5, "decommitment", "200.01", day, "P1")])[0].invariant \
        == RELEASED_WITHIN_COMMITTED


def test_commitments_change_no_money_held_or_allocated() -> None:
    before = rules.balances_at(LEDGER[:2], date(2025, 12, 31))
    after = rules.balances_at(LEDGER[:3], date(2025, 12, 31))
    assert (after.held, after.allocated_unspent, after.by_project) == (before.held, before.allocated_unspent,
                                                                       before.by_project)
    assert after.committed_unspent == D("400.00")


def test_reversing_a_commitment_is_refused_where_a_later_release_needs_it() -> None:
    release = entry(6, "decommitment", "50.00", date(2025, 3, 10), "P1")
    history = [*LEDGER, release]
    reversal = rules.reversal_of(history[2], id=7)
    [violation] = rules.invariant_violations(rules.in_force([*history, reversal]))
    assert violation.invariant == RELEASED_WITHIN_COMMITTED
    # Without the release, the commitment reverses cleanly and nothing is committed.
    assert rules.invariant_violations(rules.in_force([*LEDGER, rules.reversal_of(LEDGER[2], id=7)])) == []


def test_reversing_an_allocation_is_refused_where_the_money_is_committed() -> None:
    reversal = rules.reversal_of(LEDGER[1], id=7)
    [violation] = rules.invariant_violations(rules.in_force([*LEDGER[:3], reversal]))
    assert (violation.invariant, violation.on) == (COMMITTED_WITHIN_ALLOCATED, date(2025, 2, 15))


def test_running_totals_in_any_order_give_the_committed_money_of_date_order() -> None:
    """An import adds entries out of date order: C_p is still that of the dates."""
    shuffled = [LEDGER[4], LEDGER[0], LEDGER[3], LEDGER[2], LEDGER[1]]
    running = rules.RunningTotals()
    for e in shuffled:
        running.add(e)
    assert running.snapshot() == rules.balances_at(LEDGER, date(2025, 12, 31))
    assert running.snapshot().committed == {}
    partial = rules.RunningTotals([LEDGER[3], LEDGER[0], LEDGER[2], LEDGER[1]])
    assert partial.snapshot().committed == {"P1": D("100.00")}


def test_committed_money_is_attributed_to_the_earliest_deadline_allocated_money() -> None:
    history = [entry(1, "receipt", "300.00", date(2020, 1, 1)), entry(2, "receipt", "500.00", date(2021, 1, 1)),
               entry(3, "allocation", "600.00", date(2021, 2, 1), "P1"),
               entry(4, "commitment", "450.00", date(2021, 3, 1), "P1")]
    positions = rules.receipt_positions(history, on=date(2021, 6, 1),
                                        deadline_of=lambda r: repayment_deadline(r.occurred_on, years=5))
    assert [(p.allocated, p.committed) for p in positions] == [(D("300.00"), D("300.00")), (D("300.00"), D("150.00"))]
    assert attribute(D("5"), [D("2"), D("2"), D("2")]) == [D("2"), D("2"), D("1")]


# -- money committed by its deadline stops the clock ------------------------------------------
def five_years(receipt: LedgerEntry) -> date | NoDeadline:
    return repayment_deadline(receipt.occurred_on, years=5)


#: £1,000 received 1 June 2015 (deadline 1 June 2020), all allocated; £700 committed in 2019.
CLOCK = [entry(1, "receipt", "1000.00", date(2015, 6, 1)), entry(2, "allocation", "1000.00", date(2016, 1, 1), "P1"),
         entry(3, "commitment", "700.00", date(2019, 9, 1), "P1")]


def stopped(history: list[LedgerEntry], on: date) -> list[tuple[Decimal, Decimal]]:
    positions = rules.receipt_positions(history, on=on, deadline_of=five_years)
    return [(p.committed, p.clock_stopped) for p in rules.stop_clocks(history, positions, on=on,
                                                                      deadline_of=five_years)]


def test_money_committed_before_the_deadline_stops_the_clock_before_and_after_it() -> None:
    assert stopped(CLOCK, date(2019, 12, 31)) == [(D("700.00"), D("700.00"))]
    assert stopped(CLOCK, date(2021, 6, 1)) == [(D("700.00"), D("700.00"))]


def test_money_committed_only_after_the_deadline_does_not() -> None:
    late = [*CLOCK, entry(4, "commitment", "200.00", date(2020, 9, 1), "P1")]
    assert stopped(late, date(2021, 6, 1)) == [(D("900.00"), D("700.00"))]


def test_money_released_after_the_deadline_and_committed_again_does_not() -> None:
    """Committed by the deadline means committed then and ever since."""
    history = [*CLOCK, entry(4, "decommitment", "500.00", date(2020, 9, 1), "P1"),
               entry(5, "commitment", "500.00", date(2021, 1, 1), "P1")]
    assert stopped(history, date(2021, 6, 1)) == [(D("700.00"), D("200.00"))]


def test_a_receipt_without_a_repayment_date_keeps_its_money_in_its_band() -> None:
    positions = rules.receipt_positions(CLOCK, on=date(2021, 6, 1), deadline_of=lambda r: NoDeadline.UNKNOWN)
    assert [p.clock_stopped for p in rules.stop_clocks(CLOCK, positions, on=date(2021, 6, 1),
                                                       deadline_of=lambda r: NoDeadline.UNKNOWN)] == [D("0.00")]


# -- the limit a refusal names ---------------------------------------------------------------------
#: £600 allocated to P1, of which £300 spent on 1 March: nothing committed.
UNCOMMITTED = [LEDGER[0], LEDGER[1], entry(4, "spend", "300.00", date(2025, 3, 1), "P1")]


@pytest.mark.parametrize(("ledger", "kind", "on", "most", "says"), [
    (LEDGER, "decommitment", date(2025, 3, 10), "100.00",
     "Money released must be £100.00 or less: that is the money committed to project P1 on 10 March 2025"),
    (TO_MARCH, "deallocation", date(2025, 2, 20), "200.00",
     "Money taken back must be £200.00 or less: that is the money allocated to project P1 on 20 February 2025 "
     "that is neither spent nor committed"),
    # With the second spend, the project has £100 left on 1 April: that is the limit then.
    (LEDGER, "deallocation", date(2025, 2, 20), "100.00",
     "Money taken back must be £100.00 or less: that is the money allocated to project P1 on 1 April 2025 "
     "that is neither spent nor committed"),
    (TO_MARCH, "commitment", date(2025, 2, 20), "200.00",
     "Commitment must be £200.00 or less: that is the money allocated to project P1 on 20 February 2025 that is "
     "neither spent nor committed"),
    # Committed on the day of the spend, it is spent first: all £600 allocated can be committed.
    (UNCOMMITTED, "commitment", date(2025, 3, 1), "600.00",
     "Commitment must be £600.00 or less: that is the money allocated to project P1 on 1 March 2025 that is "
     "neither spent nor committed"),
    (UNCOMMITTED, "decommitment", date(2025, 3, 1), "0.00",
     "Money released cannot be recorded: there is no money committed to project P1 on 1 March 2025"),
], ids=["release", "take-back", "take-back-limited-later", "commit", "commit-on-a-spend-day", "release-nothing"])
def test_a_refusal_names_the_most_the_entry_could_be(ledger: list[LedgerEntry], kind: str, on: date, most: str,
                                                     says: str) -> None:
    limit = committed_limit(ledger, kind=EntryKind(kind), on=on, project="P1")
    assert limit is not None
    assert (limit.most, limit.message) == (D(most), says)


def test_spend_is_never_limited_by_committed_money() -> None:
    assert not limited_by_commitments(EntryKind.SPEND)
    assert not limited_by_commitments(EntryKind.TRANSFER)
    assert committed_limit(LEDGER, kind=EntryKind.SPEND, on=date(2025, 3, 1), project="P1") is None


# -- terms in force --------------------------------------------------------------------------------
DEED = Terms(repayment_basis="receipt", repayment_years=5)
EXTENDED = Terms(repayment_basis="receipt", repayment_years=10, in_force_from=date(2020, 4, 1))
CORRECTED = Terms(repayment_basis="receipt", repayment_years=8, in_force_from=date(2020, 4, 1))
LATER = Terms(repayment_basis="none", repayment_years=None, in_force_from=date(2022, 1, 1))


@pytest.mark.parametrize(("on", "expected"), [
    (date(2020, 3, 31), DEED), (date(2020, 4, 1), CORRECTED), (date(2021, 12, 31), CORRECTED),
    (date(2022, 1, 1), LATER),
], ids=["before-any-change", "from-the-day", "the-last-recorded-of-one-date", "a-later-change"])
def test_the_terms_in_force_are_the_latest_in_force_by_the_date(on: date, expected: Terms) -> None:
    assert terms_in_force([DEED, LATER, EXTENDED, CORRECTED], on=on) == expected
