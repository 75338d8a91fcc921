"""Commitments through the services on SQLite and PostgreSQL (SPEC 8.7): a hand-worked
ledger where spend uses committed money first, refusals that name the amount and the limit
and write nothing, reversals, money committed by its deadline leaving the at-risk report
where the clause says so, the IFS untouched by commitments, and random sequences through the
service checked against the rules' model of committed money."""

from __future__ import annotations

import itertools
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.domain import rules
from ledger.domain.entries import UNSAVED_ID, LedgerEntry
from ledger.domain.entry_kinds import AUTO_ALLOCATING
from ledger.domain.errors import LedgerError, RuleViolated
from ledger.domain.money import ZERO
from ledger.domain.vocab import Band, EntryKind
from ledger.models import Entry
from ledger.services.balances import at_risk, division_summary, obligation_balance
from ledger.services.entries import history, reverse_entry
from ledger.services.ifs import ifs_report
from ledger.services.positions import obligation_positions
from tests.factories import OFFICER, make_ledger, make_obligation, make_project, post
from tests.integration.test_ifs import build_scenario
from tests.unit.test_commitments_properties import PROJECTS, WITH_PROJECT, model, proposals

D = Decimal
OB = "20/00001/FUL/1"
#: Every entry below is dated before this: the service refuses money moved after today.
TODAY = datetime(2026, 1, 5, 10, tzinfo=UTC)


@pytest.fixture
def ledger(session: Session) -> Session:
    """£1,000 received; £600 allocated to PRJ-1, £400 of it committed, then £300 spent."""
    make_ledger(session)
    with freeze_time(TODAY):
        post(session, "receipt", "1000.00", date(2025, 1, 10), reference="R-1")
        post(session, "allocation", "600.00", date(2025, 2, 1), project="PRJ-1")
        post(session, "commitment", "400.00", date(2025, 2, 15), project="PRJ-1", reference="C-1")
        post(session, "spend", "300.00", date(2025, 3, 1), project="PRJ-1", reference="S-1")
    return session


def figures(session: Session, on: date) -> tuple[Decimal, Decimal]:
    """PRJ-1's allocated-unspent and committed-unspent money at the end of ``on``."""
    balances = obligation_balance(session, OB, on=on).balances
    return balances.by_project.get("PRJ-1", D(0)), balances.committed.get("PRJ-1", D(0))


def entry_count(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Entry)) or 0


def test_spend_uses_the_committed_money_first(ledger: Session) -> None:
    assert figures(ledger, date(2025, 2, 15)) == (D("600.00"), D("400.00"))
    assert figures(ledger, date(2025, 3, 1)) == (D("300.00"), D("100.00"))
    with freeze_time(TODAY):
        post(ledger, "spend", "150.00", date(2025, 4, 1), project="PRJ-1")
    assert figures(ledger, date(2025, 4, 1)) == (D("150.00"), D("0.00"))
    # Commitments move no money held or allocated.
    balances = obligation_balance(ledger, OB, on=date(2025, 4, 1)).balances
    assert (balances.held, balances.allocated_unspent) == (D("550.00"), D("150.00"))


def test_a_release_over_the_money_committed_is_refused_naming_amount_and_limit(ledger: Session) -> None:
    before = entry_count(ledger)
    with freeze_time(TODAY), pytest.raises(RuleViolated) as refused:
        post(ledger, "decommitment", "150.00", date(2025, 3, 10), project="PRJ-1")
    assert refused.value.status == 422
    assert refused.value.errors["amount"] == [
        "released-within-committed: on 10 March 2025 £150.00 would be released from project PRJ-1 but only "
        "£100.00 is committed to it",
        "Money released must be £100.00 or less: that is the money committed to project PRJ-1 on 10 March 2025"]
    assert entry_count(ledger) == before
    with freeze_time(TODAY):
        post(ledger, "decommitment", "100.00", date(2025, 3, 10), project="PRJ-1")
    assert figures(ledger, date(2025, 3, 10)) == (D("300.00"), D("0.00"))


def test_a_deallocation_below_the_money_committed_is_refused(ledger: Session) -> None:
    before = entry_count(ledger)
    with freeze_time(TODAY), pytest.raises(RuleViolated) as refused:
        post(ledger, "deallocation", "250.00", date(2025, 3, 10), project="PRJ-1")
    assert refused.value.errors["amount"][0] == (
        "committed-within-allocated: on 10 March 2025 £100.00 would be committed to project PRJ-1 but only "
        "£50.00 is allocated to it and not spent")
    assert entry_count(ledger) == before
    with freeze_time(TODAY):
        post(ledger, "deallocation", "200.00", date(2025, 3, 10), project="PRJ-1")
    assert figures(ledger, date(2025, 3, 10)) == (D("100.00"), D("100.00"))


def test_a_backdated_deallocation_is_refused_at_the_date_it_would_break(ledger: Session) -> None:
    with freeze_time(TODAY), pytest.raises(RuleViolated) as refused:
        post(ledger, "deallocation", "300.00", date(2025, 2, 5), project="PRJ-1")
    assert [(v.invariant, v.on) for v in refused.value.violations] == [
        ("committed-within-allocated", date(2025, 2, 15))]


def test_a_commitment_names_a_project_and_needs_allocated_money(ledger: Session) -> None:
    with freeze_time(TODAY):
        with pytest.raises(LedgerError) as unnamed:
            post(ledger, "commitment", "10.00", date(2025, 3, 10))
        assert "project_reference" in unnamed.value.errors
        with pytest.raises(RuleViolated) as beyond:
            post(ledger, "commitment", "10.00", date(2025, 3, 10), project="PRJ-2")
    assert beyond.value.violations[0].invariant == "committed-within-allocated"


def test_a_commitment_is_reversed_like_any_entry_unless_a_release_needs_it(ledger: Session) -> None:
    commitment = ledger.scalar(select(Entry).where(Entry.reference == "C-1"))
    with freeze_time(TODAY):
        release = post(ledger, "decommitment", "50.00", date(2025, 3, 10), project="PRJ-1")
        with pytest.raises(RuleViolated) as refused:
            reverse_entry(ledger, commitment.id, actor=OFFICER, reason="keyed twice")
        assert refused.value.violations[0].invariant == "released-within-committed"
        reverse_entry(ledger, release.id, actor=OFFICER, reason="the contract stands")
        reversal = reverse_entry(ledger, commitment.id, actor=OFFICER, reason="keyed twice")
    assert (reversal.kind, reversal.reference, reversal.amount) == ("commitment", "C-1/reversal", D("400.00"))
    assert figures(ledger, date(2025, 3, 1)) == (D("300.00"), D("0.00"))
    with freeze_time(TODAY), pytest.raises(LedgerError):
        reverse_entry(ledger, commitment.id, actor=OFFICER, reason="again")


def test_reversing_the_allocation_behind_a_commitment_is_refused(ledger: Session) -> None:
    allocation = ledger.scalar(select(Entry).where(Entry.kind == "allocation"))
    with freeze_time(TODAY), pytest.raises(RuleViolated) as refused:
        reverse_entry(ledger, allocation.id, actor=OFFICER, reason="wrong project")
    assert (refused.value.violations[0].invariant, refused.value.violations[0].on) == (
        "committed-within-allocated", date(2025, 2, 15))


# -- committed money stops the clock ------------------------------------------------------------
CLAUSE = "20/00001/FUL/2"


@pytest.fixture
def clocks(session: Session) -> Session:
    """Two obligations alike, received 1 June 2015 and repayable after ten years (1 June
    2025), all allocated and £600 committed in September 2024; only CLAUSE's deed says that
    committing the money satisfies the clause."""
    make_ledger(session)
    make_obligation(session, reference=CLAUSE, commitment_stops_clock=True)
    with freeze_time(TODAY):
        for obligation in (OB, CLAUSE):
            post(session, "receipt", "1000.00", date(2015, 6, 1), obligation=obligation, reference=f"R-{obligation}")
            post(session, "allocation", "1000.00", date(2016, 1, 1), obligation=obligation, project="PRJ-1")
            post(session, "commitment", "600.00", date(2024, 9, 1), obligation=obligation, project="PRJ-1")
    return session


def rows_by_obligation(session: Session, as_of: date) -> dict[str, tuple[Decimal, Decimal, Decimal, Band]]:
    return {r.obligation_reference: (r.remaining, r.allocated, r.committed, r.band)
            for r in at_risk(session, as_of=as_of)}


@pytest.mark.parametrize(("today", "band"), [("2025-03-01", Band.RED), ("2026-01-05", Band.OVERDUE)],
                         ids=["before-the-deadline", "after-the-deadline"])
def test_money_committed_by_its_deadline_is_not_at_risk_where_the_clause_says_so(
    clocks: Session, today: str, band: Band,
) -> None:
    with freeze_time(today):
        rows = rows_by_obligation(clocks, date.fromisoformat(today))
        summary = division_summary(clocks, "ashford-central", on=date.fromisoformat(today))
    assert rows == {OB: (D("1000.00"), D("1000.00"), D("0.00"), band),
                    CLAUSE: (D("400.00"), D("400.00"), D("600.00"), band)}
    assert summary.at_risk[band] == D("1400.00")


def test_money_committed_after_the_deadline_stays_at_risk(clocks: Session) -> None:
    with freeze_time(TODAY):
        post(clocks, "commitment", "300.00", date(2025, 9, 1), obligation=CLAUSE, project="PRJ-1")
        rows = rows_by_obligation(clocks, TODAY.date())
    assert rows[CLAUSE] == (D("400.00"), D("400.00"), D("600.00"), Band.OVERDUE)
    assert obligation_balance(clocks, CLAUSE, on=TODAY.date()).receipts[0].committed == D("900.00")


def test_money_wholly_committed_leaves_the_at_risk_report(clocks: Session) -> None:
    with freeze_time(TODAY):
        post(clocks, "commitment", "400.00", date(2025, 1, 1), obligation=CLAUSE, project="PRJ-1")
        assert CLAUSE not in rows_by_obligation(clocks, TODAY.date())


def test_the_reports_positions_stop_the_clock_as_the_balance_does(clocks: Session) -> None:
    """services.positions (the closed form, and a replay for obligations that commit) gives
    the balance page's per-receipt committed money, at several dates."""
    for on in (date(2024, 12, 31), date(2025, 6, 1), date(2025, 6, 2), date(2030, 1, 1)):
        walked = {r.obligation.reference: [(p.receipt.id, p.remaining, p.clock_stopped) for p in r.receipts]
                  for r in (obligation_balance(clocks, ref, on=on) for ref in (OB, CLAUSE))}
        positions = {p.info.reference: [(r.receipt.id, r.remaining, r.clock_stopped) for r in p.receipts]
                     for p in obligation_positions(clocks, on=on)}
        assert positions == walked, on
    assert walked[CLAUSE][0][2] == D("600.00")


# -- the statement ------------------------------------------------------------------------------------
def comparable(session: Session) -> dict[str, object]:
    with freeze_time("2024-06-01"):
        report = ifs_report(session, year=2023)
    assert not report.failed_checks
    return {"items": [(i.name, i.value) for i in report.items],
            **{name: [asdict(r) for r in getattr(report, name)]
               for name in ("secured", "received", "allocated", "spent", "repaid", "retained", "at_risk")}}


def test_commitments_change_no_figure_or_row_of_the_statement(session: Session) -> None:
    build_scenario(session)
    before = comparable(session)
    with freeze_time("2024-05-02"):
        post(session, "commitment", "20000.00", date(2021, 6, 1), obligation="OB1", project="P1")
        post(session, "commitment", "5000.00", date(2023, 10, 1), obligation="OB2", project="P2")
        post(session, "decommitment", "1000.00", date(2024, 2, 1), obligation="OB2", project="P2")
    assert comparable(session) == before


def test_the_statements_at_risk_sheet_leaves_out_money_committed_by_its_deadline(session: Session) -> None:
    build_scenario(session)
    with freeze_time("2024-05-02"):
        make_obligation(session, agreement="AG1", reference="OB-C", commitment_stops_clock=True)
        post(session, "receipt", "3000.00", date(2019, 6, 1), obligation="OB-C", reference="R-C")
        post(session, "allocation", "3000.00", date(2020, 1, 1), obligation="OB-C", project="P2")
        post(session, "commitment", "2500.00", date(2023, 1, 1), obligation="OB-C", project="P2")
        report = ifs_report(session, year=2023)
    assert not report.failed_checks
    [row] = [r for r in report.at_risk if r.obligation_reference == "OB-C"]
    assert (row.remaining, row.committed) == (D("500.00"), D("2500.00"))
    assert report.value("s106_i_money_retained") == D("91000.00")  # 88,000 + OB-C's 3,000: still held


# -- random sequences through the service --------------------------------------------------------------
numbers = itertools.count(1)


def test_the_service_refuses_exactly_what_the_model_refuses_and_keeps_committed_within_allocated(
    session: Session,
) -> None:
    """Hypothesis drives the service: each example on an obligation of its own, each proposal
    recorded (a spend with its automatic allocation) or reversed through services.entries,
    the service's refusal compared with the model's, and the stored history then checked at
    every date against the balances the service reports."""
    make_ledger(session)
    for project in PROJECTS:
        make_project(session, reference=project)

    # No shrinking: each example writes to the database, and the first failing one is shown.
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck),
              phases=(Phase.explicit, Phase.reuse, Phase.generate))
    @given(proposals)
    def run(proposed: list) -> None:  # type: ignore[type-arg]
        reference = f"OB-H{next(numbers)}"
        obligation_id = make_obligation(session, reference=reference).id
        recorded: list[int] = []
        with freeze_time(TODAY):
            for n, (kind, amount, day, project, reverse) in enumerate(proposed):
                stored = history(session, obligation_id)
                if reverse and recorded:
                    original = next(e for e in stored if e.id == recorded[n % len(recorded)])
                    if rules.check_reversal(original, any(e.reverses == original.id for e in stored)):
                        continue
                    candidates = [rules.reversal_of(original, id=UNSAVED_ID)]
                    write = partial(reverse_entry, session, original.id, actor=OFFICER, reason="property test")
                else:
                    new = LedgerEntry(id=UNSAVED_ID, kind=kind, amount=amount, occurred_on=day,
                                      project=project if kind in WITH_PROJECT else None)
                    candidates = [new]
                    shortfall = rules.project_shortfall(rules.in_force([*stored, new]), project=project,
                                                        from_date=day) if kind in AUTO_ALLOCATING else ZERO
                    if shortfall > ZERO:
                        candidates.append(LedgerEntry(id=UNSAVED_ID - 1, kind=EntryKind.ALLOCATION, amount=shortfall,
                                                      occurred_on=day, project=project))
                    write = partial(post, session, kind.value, str(amount), day, obligation=reference,
                                    project=new.project,
                                    **({"recipient": "Kent Highways"} if kind is EntryKind.TRANSFER else {}))
                broken, _ = model([*stored, *candidates])
                try:
                    written = write()
                except RuleViolated:
                    assert broken, candidates
                    continue
                assert not broken, candidates
                if not reverse:
                    recorded.append(written.id)
        kept = history(session, obligation_id)
        broken, by_date = model(kept)
        assert not broken
        for day, by_project in by_date.items():
            balances = obligation_balance(session, reference, on=day).balances
            for project, (unspent, committed) in by_project.items():
                assert balances.by_project.get(project, ZERO) == unspent
                assert ZERO <= balances.committed.get(project, ZERO) == committed <= unspent

    run()
