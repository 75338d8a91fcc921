"""Property tests of committed money (SPEC 8.7) against a model written straight from the
rules, date by date, with the kinds' meanings spelt out rather than read from the table of
kinds: random sequences of receipts, allocations, commitments, releases, spend, transfers,
deallocations, repayments and reversals. The rules refuse exactly what the model says breaks
an invariant, and what they accept keeps 0 <= C_p <= U_p at every date."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import rules
from ledger.domain.committed_limits import committed_limit
from ledger.domain.dates import repayment_deadline
from ledger.domain.entries import UNSAVED_ID, LedgerEntry
from ledger.domain.money import PENNY, ZERO
from ledger.domain.vocab import EntryKind

K = EntryKind
START = date(2020, 1, 1)
PROJECTS = ("P1", "P2")
#: Commitments and releases drawn as often as the rest, so that most histories have some.
DRAWN = [K.RECEIPT] * 3 + [K.ALLOCATION] * 4 + [K.COMMITMENT] * 4 + [K.DECOMMITMENT] * 3 + [
    K.SPEND, K.SPEND, K.TRANSFER, K.DEALLOCATION, K.DEALLOCATION, K.REPAYMENT]
#: Receipts larger than allocations, allocations larger than what draws on them, releases
#: smaller than commitments.
SCALE = {K.RECEIPT: 100, K.ALLOCATION: 4, K.DECOMMITMENT: Decimal("0.25")}
#: Money arrives first, is allocated next, and committed, spent and taken back after.
LATEST_DAY = {K.RECEIPT: 4, K.ALLOCATION: 10}
WITH_PROJECT = {K.ALLOCATION, K.DEALLOCATION, K.SPEND, K.TRANSFER, K.COMMITMENT, K.DECOMMITMENT}


@st.composite
def proposal(draw: st.DrawFn) -> tuple[EntryKind, Decimal, date, str, bool]:
    """Money arrives early and in larger sums, so that most histories allocate, commit and
    spend it; few amounts and days, so that balances land exactly on their limits."""
    kind = draw(st.sampled_from(DRAWN))
    amount = Decimal(draw(st.sampled_from([100, 250, 500, 1_000, 2_500, 4_000]))) / 100 * SCALE.get(kind, 1)
    day = START + timedelta(days=draw(st.integers(min_value=0, max_value=LATEST_DAY.get(kind, 20))))
    return kind, amount, day, draw(st.sampled_from(PROJECTS)), draw(st.integers(min_value=0, max_value=7)) == 0


def mostly_in_date_order(drawn: tuple[list, int]) -> list:  # type: ignore[type-arg]
    """Three in four sequences in date order, as people mostly record them (so money is
    allocated before it is committed); the rest as drawn, backdated entries and all."""
    sequence, chance = drawn
    return sorted(sequence, key=lambda p: p[2]) if chance else sequence


proposals = st.tuples(st.lists(proposal(), min_size=5, max_size=40),
                      st.integers(min_value=0, max_value=3)).map(mostly_in_date_order)


def live(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    cancelled = {e.reverses for e in entries if e.reverses is not None}
    return [e for e in entries if e.reverses is None and e.id not in cancelled]


def model(entries: list[LedgerEntry]) -> tuple[bool, dict[date, dict[str, tuple[Decimal, Decimal]]]]:
    """Whether the ledger breaks an invariant at some date, and each project's (U_p, C_p) at
    the end of every date. Within a date: commitments, then releases, then spend."""
    kept = live(entries)
    committed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    figures: dict[date, dict[str, tuple[Decimal, Decimal]]] = {}
    broken = False
    for day in sorted({e.occurred_on for e in kept}):
        upto = [e for e in kept if e.occurred_on <= day]
        held = sum((e.amount if e.kind in (K.RECEIPT, K.OPENING_BALANCE) else -e.amount
                    for e in upto if e.kind in (K.RECEIPT, K.OPENING_BALANCE, K.SPEND, K.TRANSFER, K.REPAYMENT)),
                   ZERO)
        unspent = {p: sum((e.amount if e.kind is K.ALLOCATION else -e.amount for e in upto if e.project == p
                           and e.kind in (K.ALLOCATION, K.DEALLOCATION, K.SPEND, K.TRANSFER)), ZERO)
                   for p in PROJECTS}
        broken |= held < ZERO or any(u < ZERO for u in unspent.values()) or sum(unspent.values()) > held
        for p in PROJECTS:
            today = [e for e in kept if e.occurred_on == day and e.project == p]
            commit = sum((e.amount for e in today if e.kind is K.COMMITMENT), ZERO)
            release = sum((e.amount for e in today if e.kind is K.DECOMMITMENT), ZERO)
            spend = sum((e.amount for e in today if e.kind in (K.SPEND, K.TRANSFER)), ZERO)
            broken |= release > committed[p] + commit
            committed[p] = max(ZERO, committed[p] + commit - release - spend)
            broken |= committed[p] > unspent[p]
        figures[day] = {p: (unspent[p], committed[p]) for p in PROJECTS}
    return broken, figures


def accepted_history(proposed: list) -> tuple[list[LedgerEntry], int]:  # type: ignore[type-arg]
    """Each proposal through the rules as the service asks them (a spend's shortfall allocated
    first, a reversal of an earlier entry), checked against the model as it goes; returns the
    accepted entries and how many proposals were refused."""
    history: list[LedgerEntry] = []
    refused = 0
    for n, (kind, amount, day, project, reverse) in enumerate(proposed, start=1):
        if reverse and history:
            original = history[n % len(history)]
            if rules.check_reversal(original, any(e.reverses == original.id for e in history)) is not None:
                continue
            candidates = [rules.reversal_of(original, id=n)]
        else:
            entry = LedgerEntry(id=n, kind=kind, amount=amount, occurred_on=day, reference=f"E{n}",
                                project=project if kind in WITH_PROJECT else None)
            candidates = [entry]
            if kind in (K.SPEND, K.TRANSFER):
                shortfall = rules.project_shortfall(rules.in_force([*history, entry]), project=project, from_date=day)
                if shortfall > ZERO:
                    candidates.insert(0, LedgerEntry(id=-n, kind=K.ALLOCATION, amount=shortfall, occurred_on=day,
                                                     project=project))
        refuses = bool(rules.invariant_violations(rules.in_force([*history, *candidates])))
        assert refuses == model([*history, *candidates])[0], (history, candidates)
        if refuses:
            refused += 1
        else:
            history.extend(candidates)
    return history, refused


@settings(max_examples=400, deadline=None)
@given(proposals)
def test_the_rules_refuse_exactly_what_the_model_says_breaks_an_invariant(proposed: list) -> None:  # type: ignore[type-arg]
    accepted_history(proposed)


@settings(max_examples=300, deadline=None)
@given(proposals)
def test_accepted_histories_keep_committed_money_within_allocated_money_at_every_date(proposed: list) -> None:  # type: ignore[type-arg]
    history, _ = accepted_history(proposed)
    kept = rules.in_force(history)
    _, figures = model(history)
    for day, by_project in figures.items():
        balances = rules.balances_at(kept, day)
        for project, (unspent, committed) in by_project.items():
            assert balances.committed.get(project, ZERO) == committed
            assert ZERO <= committed <= unspent == balances.by_project.get(project, ZERO)
        positions = rules.receipt_positions(kept, on=day, deadline_of=lambda r: repayment_deadline(r.occurred_on,
                                                                                                   years=5))
        assert sum((p.committed for p in positions), ZERO) == balances.committed_unspent
        assert all(ZERO <= p.committed <= p.allocated for p in positions)


@settings(max_examples=200, deadline=None)
@given(proposals, st.randoms(use_true_random=False))
def test_running_totals_in_any_order_give_the_committed_money_of_date_order(
    proposed: list, shuffle: random.Random  # type: ignore[type-arg]
) -> None:
    history, _ = accepted_history(proposed)
    kept = rules.in_force(history)
    shuffled = list(kept)
    shuffle.shuffle(shuffled)
    assert rules.RunningTotals(shuffled).snapshot() == rules.balances_at(kept, date.max)


@settings(max_examples=200, deadline=None)
@given(proposals, st.sampled_from([K.COMMITMENT, K.DECOMMITMENT, K.DEALLOCATION]),
       st.integers(min_value=0, max_value=22), st.sampled_from(PROJECTS))
def test_the_limit_a_refusal_names_is_the_most_the_rules_accept(
    proposed: list, kind: EntryKind, offset: int, project: str  # type: ignore[type-arg]
) -> None:
    history, _ = accepted_history(proposed)
    kept = rules.in_force(history)
    on = START + timedelta(days=offset)
    limit = committed_limit(kept, kind=kind, on=on, project=project)
    assert limit is not None

    def accepted(amount: Decimal) -> bool:
        new = LedgerEntry(id=UNSAVED_ID, kind=kind, amount=amount, occurred_on=on, project=project)
        return not rules.invariant_violations([*kept, new])

    if limit.most > ZERO:
        assert accepted(limit.most)
    assert not accepted(limit.most + PENNY)
