"""The import checks each new entry against running totals when it only appends to a
history that keeps the invariants; whatever the history, it must decide exactly what
replaying the whole history through the ledger rules decides."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import rules
from ledger.domain.entries import UNSAVED_ID, LedgerEntry
from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind
from ledger.services.import_replay import History

START = date(2020, 1, 1)
#: Few amounts and days, so balances often land exactly on zero and entries share dates.
amounts = st.sampled_from([Decimal("1.00"), Decimal("2.00"), Decimal("3.00"), Decimal("5.00"), Decimal("0.50")])
days = st.integers(min_value=0, max_value=12).map(lambda n: START + timedelta(days=n))
kinds = st.sampled_from([EntryKind.RECEIPT] * 2 + list(EntryKind))
projects = st.sampled_from(["P1", "P2"])


@st.composite
def stored_history(draw: st.DrawFn) -> list[LedgerEntry]:
    """Entries as the database holds them: not necessarily valid, with some reversals."""
    entries: list[LedgerEntry] = []
    for n in range(1, draw(st.integers(min_value=0, max_value=12)) + 1):
        if entries and draw(st.integers(min_value=0, max_value=5)) == 0:
            original = draw(st.sampled_from(entries))
            entries.append(rules.reversal_of(original, id=n))
            continue
        kind = draw(kinds)
        entries.append(LedgerEntry(id=n, kind=kind, amount=draw(amounts), occurred_on=draw(days), reference=f"S{n}",
                                   project=None if kind in (EntryKind.RECEIPT, EntryKind.REPAYMENT) else draw(projects)))
    return entries


planned = st.lists(st.tuples(kinds, amounts, days, projects), max_size=15)


def replayed(past: list[LedgerEntry], new: list[tuple[EntryKind, Decimal, date, str]]) -> list[object]:
    """What the import decided for each planned entry by replaying the history every time."""
    decisions: list[object] = []
    past = list(past)
    for n, (kind, amount, day, project) in enumerate(new):
        candidate = LedgerEntry(id=UNSAVED_ID - 2 * n, kind=kind, amount=amount, occurred_on=day, reference=f"N{n}",
                                project=None if kind in (EntryKind.RECEIPT, EntryKind.REPAYMENT) else project)
        candidates = [candidate]
        if kind in (EntryKind.SPEND, EntryKind.TRANSFER):
            shortfall = rules.project_shortfall(rules.in_force([*past, candidate]), project=project, from_date=day)
            if shortfall > ZERO:
                candidates.insert(0, LedgerEntry(id=candidate.id - 1, kind=EntryKind.ALLOCATION, amount=shortfall,
                                                 occurred_on=day, reference=f"N{n}/auto", project=project))
        violations = rules.invariant_violations(rules.in_force([*past, *candidates]))
        if violations:
            decisions.append(violations[0])
        else:
            past.extend(candidates)
            decisions.append(candidates)
    return decisions


def with_history(past: list[LedgerEntry], new: list[tuple[EntryKind, Decimal, date, str]]) -> list[object]:
    decisions: list[object] = []
    history = History(list(past))
    for n, (kind, amount, day, project) in enumerate(new):
        candidate = LedgerEntry(id=UNSAVED_ID - 2 * n, kind=kind, amount=amount, occurred_on=day, reference=f"N{n}",
                                project=None if kind in (EntryKind.RECEIPT, EntryKind.REPAYMENT) else project)
        candidates = [candidate]
        if kind in (EntryKind.SPEND, EntryKind.TRANSFER):
            shortfall = history.project_shortfall(candidate)
            if shortfall > ZERO:
                candidates.insert(0, LedgerEntry(id=candidate.id - 1, kind=EntryKind.ALLOCATION, amount=shortfall,
                                                 occurred_on=day, reference=f"N{n}/auto", project=project))
        violation = history.add(candidates)
        decisions.append(violation or candidates)
    return decisions


@settings(max_examples=1500, deadline=None)
@given(stored_history(), planned, st.booleans())
def test_running_totals_decide_as_the_rules_do(past: list[LedgerEntry], new: list, in_date_order: bool) -> None:  # type: ignore[type-arg]
    if in_date_order:  # as an import orders one obligation's entries
        new = sorted(new, key=lambda p: p[2])
    assert with_history(past, new) == replayed(past, new)


def test_an_entry_dated_before_the_history_is_replayed() -> None:
    receipt = LedgerEntry(id=1, kind=EntryKind.RECEIPT, amount=Decimal("5.00"), occurred_on=START + timedelta(days=5))
    spend = LedgerEntry(id=2, kind=EntryKind.SPEND, amount=Decimal("2.00"), occurred_on=START + timedelta(days=1),
                        project="P1")
    history = History([receipt])
    violation = history.add([LedgerEntry(id=3, kind=EntryKind.ALLOCATION, amount=Decimal("2.00"),
                                         occurred_on=spend.occurred_on, project="P1"), spend])
    assert violation is not None and violation.invariant == rules.HELD_NOT_NEGATIVE
    assert history.entries == [receipt]
