"""Property tests: whatever sequence of entries the rules accept keeps every invariant,
per-receipt remaining money always adds up to the money held, and the import's fast path
decides what the rules decide. Every kind of the entry-kind table is drawn."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import rules
from ledger.domain.dates import repayment_deadline
from ledger.domain.entries import UNSAVED_ID, LedgerEntry
from ledger.domain.entry_kinds import AUTO_ALLOCATING, INFLOWS, PROJECT_KINDS
from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind
from ledger.services.import_replay import History

START = date(2015, 1, 1)

@st.composite
def proposal(draw: st.DrawFn) -> tuple:  # type: ignore[type-arg]
    """One proposed entry of any kind. Money coming in is common and larger than the rest,
    and dates fall in a short window, so that many outflows find money to draw on and some
    do not."""
    kind = draw(st.sampled_from(sorted(INFLOWS) * 3 + list(EntryKind)))
    top = 50_000 if kind in INFLOWS else 15_000
    amount = Decimal(draw(st.integers(min_value=1, max_value=top))) / 100
    day = START + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
    project = draw(st.sampled_from(["P1", "P2"]))
    reverse_an_earlier_entry = draw(st.integers(min_value=0, max_value=3)) == 0
    return (kind, amount, day, project, reverse_an_earlier_entry)


proposals = st.lists(proposal(), min_size=8, max_size=60)


def accepted_history(proposed: list) -> list[LedgerEntry]:  # type: ignore[type-arg]
    """Feed proposals through the rules as the service does; keep only accepted ones.
    Some proposals are reversals of an earlier accepted entry."""
    history: list[LedgerEntry] = []
    for n, (kind, amount, day, project, reverse) in enumerate(proposed, start=1):
        if reverse and history:
            original = history[n % len(history)]
            already = any(e.reverses == original.id for e in history)
            if rules.check_reversal(original, already) is None:
                candidate = rules.reversal_of(original, id=n)
                if not rules.invariant_violations(rules.in_force([*history, candidate])):
                    history.append(candidate)
            continue
        entry = LedgerEntry(
            id=n, kind=kind, amount=amount, occurred_on=day, reference=f"E{n}",
            project=project if kind in PROJECT_KINDS else None,
        )
        candidates = [entry]
        if kind in AUTO_ALLOCATING:
            shortfall = rules.project_shortfall(rules.in_force([*history, entry]), project=project, from_date=day)
            if shortfall > ZERO:
                candidates.insert(0, LedgerEntry(id=-n, kind=EntryKind.ALLOCATION, amount=shortfall,
                                                 occurred_on=day, project=project))
        if not rules.invariant_violations(rules.in_force([*history, *candidates])):
            history.extend(candidates)
    return history


@settings(max_examples=300, deadline=None)
@given(proposals)
def test_accepted_entries_never_break_an_invariant_at_any_date(proposed: list) -> None:  # type: ignore[type-arg]
    history = rules.in_force(accepted_history(proposed))
    for day in sorted({e.occurred_on for e in history}):
        balances = rules.balances_at(history, day)
        assert balances.held >= ZERO
        assert all(v >= ZERO for v in balances.by_project.values())
        assert balances.allocated_unspent <= balances.held


def positions_at_every_date(proposed: list, years: int | None):  # type: ignore[no-untyped-def,type-arg]
    """(day, history in force, receipt positions, balances) at every date of an accepted
    history and long after it, receipts due ``years`` after they are received."""
    history = rules.in_force(accepted_history(proposed))

    def deadline_of(receipt: LedgerEntry):  # type: ignore[no-untyped-def]
        return repayment_deadline(receipt.occurred_on, years=years)

    for day in [*sorted({e.occurred_on for e in history}), date(2030, 1, 1)]:
        yield (day, history, rules.receipt_positions(history, on=day, deadline_of=deadline_of),
               rules.balances_at(history, day))


@settings(max_examples=300, deadline=None)
@given(proposals, st.sampled_from([None, 5, 10]))
def test_receipt_remaining_money_sums_to_money_held(proposed: list, years: int | None) -> None:  # type: ignore[type-arg]
    for _, _, positions, balances in positions_at_every_date(proposed, years):
        assert sum((p.remaining for p in positions), ZERO) == balances.held
        assert sum((p.allocated for p in positions), ZERO) == balances.allocated_unspent
        assert all(ZERO <= p.allocated <= p.remaining <= p.receipt.amount for p in positions)


@settings(max_examples=300, deadline=None)
@given(proposals, st.sampled_from([None, 5, 10]))
def test_remaining_from_totals_equals_the_entry_by_entry_walk(proposed: list, years: int | None) -> None:  # type: ignore[type-arg]
    """The closed form the reports compute from SQL totals gives what walking every
    outflow through the receipts gives, at every date of an accepted history."""
    for day, history, walked, balances in positions_at_every_date(proposed, years):
        receipts = sorted((e for e in history if e.kind in INFLOWS and e.occurred_on <= day),
                          key=lambda e: (e.occurred_on, e.id))
        from_totals = rules.remaining_in_received_order(
            [r.amount for r in receipts], outflow=balances.spent + balances.transferred + balances.repaid,
            allocated_unspent=balances.allocated_unspent)
        assert [p.receipt.id for p in walked] == [r.id for r in receipts]
        assert [(p.remaining, p.allocated) for p in walked] == from_totals


@settings(max_examples=300, deadline=None)
@given(proposals, proposals, st.booleans())
def test_the_import_fast_path_decides_and_counts_as_the_rules_do(
    stored: list, planned: list, in_date_order: bool  # type: ignore[type-arg]
) -> None:
    """services.import_replay.History, adding entries to a stored history (reversals
    included) one at a time as an import does, gives each project's shortfall and refuses
    what the rules give and refuse, with the same violation; and its running totals stay
    the rules' balances of the entries it kept."""
    kept = accepted_history(stored)
    history = History(list(kept))
    if in_date_order:  # as an import orders one obligation's entries
        planned = sorted(planned, key=lambda p: p[2])
    for n, (kind, amount, day, project, _) in enumerate(planned):
        entry = LedgerEntry(id=UNSAVED_ID - 2 * n, kind=kind, amount=amount, occurred_on=day, reference=f"N{n}",
                            project=project if kind in PROJECT_KINDS else None)
        candidates = [entry]
        if kind in AUTO_ALLOCATING:
            shortfall = rules.project_shortfall(rules.in_force([*kept, entry]), project=project, from_date=day)
            assert history.project_shortfall(entry) == shortfall
            if shortfall > ZERO:
                candidates.insert(0, LedgerEntry(id=entry.id - 1, kind=EntryKind.ALLOCATION, amount=shortfall,
                                                 occurred_on=day, reference=f"N{n}/auto", project=project))
        violations = rules.invariant_violations(rules.in_force([*kept, *candidates]))
        assert history.add(candidates) == (violations[0] if violations else None)
        if not violations:
            kept.extend(candidates)
        assert history.entries == kept
        assert history.running.snapshot() == rules.balances_at(rules.in_force(kept), date.max)
        # Money held is kept as entries are added: it must stay what the totals make it.
        assert history.running.held == history.running.snapshot().held
