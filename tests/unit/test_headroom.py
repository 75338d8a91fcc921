"""The most an entry can be (ledger.domain.headroom): exactly the amount the invariants
accept and not a penny more, for every kind, on ledgers the rules accepted; and the words
a refusal uses."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import rules
from ledger.domain.entries import UNSAVED_ID, LedgerEntry
from ledger.domain.entry_kinds import AUTO_ALLOCATING, PROJECT_KINDS
from ledger.domain.headroom import amount_limit, project_money
from ledger.domain.money import PENNY, ZERO
from ledger.domain.vocab import EntryKind
from tests.unit.test_rules_properties import START, accepted_history, proposals

D = Decimal


def accepted(history: list[LedgerEntry], kind: EntryKind, amount: Decimal, on: date, project: str) -> bool:
    """Whether the rules accept the entry, as the service asks them (rule 5 included)."""
    new = LedgerEntry(id=UNSAVED_ID, kind=kind, amount=amount, occurred_on=on, reference="NEW",
                      project=project if kind in PROJECT_KINDS else None)
    candidates = [new]
    if kind in AUTO_ALLOCATING:
        shortfall = rules.project_shortfall([*history, new], project=project, from_date=on)
        if shortfall > ZERO:
            candidates.append(LedgerEntry(id=UNSAVED_ID - 1, kind=EntryKind.ALLOCATION, amount=shortfall,
                                          occurred_on=on, project=project))
    return not rules.invariant_violations([*history, *candidates])


@settings(max_examples=300, deadline=None)
@given(proposals, st.sampled_from(sorted(EntryKind)), st.integers(min_value=-30, max_value=430),
       st.sampled_from(["P1", "P2"]))
def test_the_limit_is_the_most_the_rules_accept(proposed: list, kind: EntryKind, offset: int,  # type: ignore[type-arg]
                                                 project: str) -> None:
    history = rules.in_force(accepted_history(proposed))
    on = START + timedelta(days=offset)
    limit = amount_limit(history, kind=kind, on=on, project=project if kind in PROJECT_KINDS else None)
    if limit is None:
        assert kind in (EntryKind.RECEIPT, EntryKind.OPENING_BALANCE)
        assert accepted(history, kind, D("9999999.99"), on, project)
        return
    if limit.most > ZERO:
        assert accepted(history, kind, limit.most, on, project)
    assert not accepted(history, kind, limit.most + PENNY, on, project)


def entry(n: int, kind: str, amount: str, on: date, project: str | None = None) -> LedgerEntry:
    return LedgerEntry(id=n, kind=EntryKind(kind), amount=D(amount), occurred_on=on, reference=f"E{n}",
                       project=project)


LEDGER = [
    entry(1, "receipt", "1000.00", date(2026, 1, 10)),
    entry(2, "allocation", "300.00", date(2026, 2, 1), "P1"),
    entry(3, "allocation", "200.00", date(2026, 2, 1), "P2"),
    entry(4, "spend", "50.00", date(2026, 3, 1), "P1"),
]


@pytest.mark.parametrize(("kind", "project", "says"), [
    ("spend", "P1", "Spend must be £750.00 or less: that is the money held on 30 November 2026 that is not "
                    "allocated to another project"),
    ("transfer", "P2", "Transfer must be £700.00 or less: that is the money held on 30 November 2026 that is not "
                       "allocated to another project"),
    ("allocation", "P1", "Allocation must be £500.00 or less: that is the money held on 30 November 2026 that is "
                         "not allocated to a project"),
    ("deallocation", "P1", "Money taken back must be £250.00 or less: that is the money allocated to project P1 "
                           "on 30 November 2026 and not spent"),
    ("repayment", None, "Repayment must be £500.00 or less: that is the money held on 30 November 2026 that is "
                        "not allocated to a project"),
])
def test_a_refusal_names_the_limit_in_pounds_and_the_date_in_words(kind: str, project: str | None,
                                                                  says: str) -> None:
    limit = amount_limit(LEDGER, kind=EntryKind(kind), on=date(2026, 11, 30), project=project)
    assert limit is not None and limit.message == says and limit.on == date(2026, 11, 30)


def test_a_later_entry_sets_the_limit_on_its_own_date() -> None:
    # Backdated to February, the repayment must leave room for the allocation made in March.
    later = [*LEDGER, entry(5, "allocation", "400.00", date(2026, 3, 5), "P2")]
    limit = amount_limit(later, kind=EntryKind.REPAYMENT, on=date(2026, 2, 15))
    assert limit is not None
    assert (limit.most, limit.on) == (D("100.00"), date(2026, 3, 5))
    assert limit.message.endswith("money held on 5 March 2026 that is not allocated to a project")


def test_no_money_at_all_says_so_rather_than_a_limit_of_nothing() -> None:
    limit = amount_limit([], kind=EntryKind.SPEND, on=date(2026, 11, 30), project="P1")
    assert limit is not None and limit.most == ZERO
    assert limit.message == ("Spend cannot be recorded: there is no money held on 30 November 2026 that is not "
                             "allocated to another project")


def test_a_project_short_on_one_date_and_unallocated_money_on_another_are_both_named() -> None:
    history = [*LEDGER, entry(5, "allocation", "450.00", date(2026, 4, 1), "P2"),
               entry(6, "receipt", "100.00", date(2026, 5, 1)), entry(7, "spend", "200.00", date(2026, 6, 1), "P1")]
    limit = amount_limit(history, kind=EntryKind.SPEND, on=date(2026, 3, 15), project="P1")
    # After the spend of June P1 has £50.00 left; after April's allocation £50.00 is unallocated.
    assert limit is not None and limit.most == D("100.00")
    assert limit.message == ("Spend must be £100.00 or less: that is the £50.00 allocated to project P1 and not spent "
                             "on 1 June 2026, with the £50.00 held on 1 April 2026 that is not allocated to a project")


def test_receipts_have_no_limit() -> None:
    assert amount_limit(LEDGER, kind=EntryKind.RECEIPT, on=date(2026, 1, 1)) is None


def test_project_money_is_allocated_less_taken_back_and_spent() -> None:
    history = [*LEDGER, entry(5, "deallocation", "20.00", date(2026, 3, 2), "P2"),
               entry(6, "transfer", "30.00", date(2026, 3, 3), "P2")]
    rows = {p.project: (p.allocated, p.spent, p.unspent) for p in project_money(history, on=date(2026, 12, 31))}
    assert rows == {"P1": (D("300.00"), D("50.00"), D("250.00")), "P2": (D("180.00"), D("30.00"), D("150.00"))}
    assert [p.project for p in project_money(history, on=date(2026, 1, 31))] == []
