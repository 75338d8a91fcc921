"""Issue 17: the positions kept as the ledger is written equal the replay, on SQLite and
PostgreSQL. Hypothesis drives the services with random sequences of entries (every kind,
opening balances with and without their original date, backdated entries, reversals),
changes of terms, completions, divisions corrected, proposed agreements signed and
government-CSV imports; what they refuse writes nothing, kept rows included. After each
example the kept rows are compared with kept.differences and, independently of kept.py,
with what services.balances reads by replaying the entries (the path the API has always
used): per obligation, per receipt, per project and per division."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from freezegun import freeze_time
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from importers.gov_csv import plan_gov_csv
from ledger.domain import rules
from ledger.domain.dates import NoDeadline
from ledger.domain.errors import LedgerError
from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind
from ledger.models import (
    Agreement,
    Division,
    KeptDeadlineTotal,
    KeptDivisionPosition,
    KeptObligationPosition,
    KeptProjectPosition,
    KeptReceiptPosition,
    Obligation,
    Project,
    RepaymentTerms,
)
from ledger.services import SYSTEM, income, kept, registry, variations
from ledger.services.balances import deadline_date, division_summary, obligation_balance
from ledger.services.entries import history, reverse_entry
from ledger.services.imports import apply_import
from tests.factories import OFFICER, make_agreement, make_obligation, make_places, make_project, post

K = EntryKind
#: Every entry, change and milestone below is dated before this: money cannot move after today.
TODAY = datetime(2026, 1, 5, 10, tzinfo=UTC)
START = date(2021, 3, 1)
#: A date after every entry and change: the replay there is what the kept rows say.
AFTER = date(2030, 6, 30)
DIVISIONS = ("ashford-central", "ashford-rural", None)
PROJECTS = ("P1", "P2")
MONEY = ("secured", "received", "spent", "transferred", "repaid", "held", "allocated", "committed")
#: A division's kept row: its obligations' money, and its receipts with money and their spread.
DIVISION_SUMS = (*MONEY, "receipts", "dated", "no_deadline", "unknown_deadline")
WITH_PROJECT = {K.ALLOCATION, K.DEALLOCATION, K.SPEND, K.TRANSFER, K.COMMITMENT, K.DECOMMITMENT}
#: Receipts drawn often and larger, allocations larger than what draws on them, releases
#: smaller than commitments: so that most histories allocate, commit, spend and release.
DRAWN = [K.RECEIPT] * 4 + [K.ALLOCATION] * 3 + [K.COMMITMENT] * 3 + [K.DECOMMITMENT] * 2 + [
    K.SPEND, K.SPEND, K.TRANSFER, K.DEALLOCATION, K.REPAYMENT]
SCALE = {K.RECEIPT: 10, K.ALLOCATION: 3, K.DECOMMITMENT: Decimal("0.2")}
BASES = [("receipt", 5), ("receipt", 12), ("completion", 3), ("last-payment", 2), ("none", None), ("unknown", None)]
STEPS = ["entry"] * 10 + ["reverse"] * 2 + ["opening", "terms", "completion", "import", "division", "sign"]

days = st.integers(min_value=0, max_value=90).map(lambda n: START + timedelta(days=n))
amounts = st.sampled_from([100, 250, 500, 1_000, 2_500]).map(lambda p: Decimal(p) / 100)


@st.composite
def step(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(DRAWN))
    return {"what": draw(st.sampled_from(STEPS)), "obligation": draw(st.integers(0, 1)), "kind": kind,
            "amount": draw(amounts) * SCALE.get(kind, 1), "day": draw(days), "project": draw(st.sampled_from(PROJECTS)),
            "pick": draw(st.integers(0, 50)), "original": draw(st.booleans()), "terms": draw(st.sampled_from(BASES)),
            "division": draw(st.sampled_from(DIVISIONS)),
            "rows": draw(st.lists(st.tuples(st.sampled_from(["received", "received", "spent", "allocated", "returned"]),
                                            amounts.map(lambda a: a * 4), days), min_size=1, max_size=4))}


def arranged(drawn: dict[str, Any]) -> dict[str, Any]:
    """Three in four sequences in date order, as people mostly record them (so money is
    allocated before it is committed); the rest as drawn, backdated entries and all. A
    proposed agreement is signed part of the way through: what comes before is refused."""
    steps = sorted(drawn["steps"], key=lambda s: s["day"]) if drawn["in_date_order"] else drawn["steps"]
    if drawn["proposed"]:
        at = drawn["signed_after"] % (len(steps) + 1)
        signing = steps[at - 1]["day"] if at else START
        steps = [*steps[:at], {"what": "sign", "day": signing, "obligation": 0}, *steps[at:]]
    return drawn | {"steps": steps}


example = st.fixed_dictionaries({
    "division": st.sampled_from(DIVISIONS), "proposed": st.integers(0, 2).map(lambda n: n == 2),
    "stops_clock": st.booleans(), "first_receipts": st.sampled_from([Decimal(500), Decimal(40), ZERO]),
    "steps": st.lists(step(), min_size=4, max_size=22), "in_date_order": st.integers(0, 3).map(lambda n: n < 3),
    "signed_after": st.integers(0, 22)}).map(arranged)


# -- the independent check -------------------------------------------------------------------------------
def kept_tables(session: Session) -> list[list[tuple[Any, ...]]]:
    """Every kept row, in key order: what a refused request must leave as it was."""
    session.rollback()
    return [[tuple(row) for row in session.execute(select(table.__table__).order_by(*table.__table__.primary_key))]
            for table in (KeptObligationPosition, KeptReceiptPosition, KeptDivisionPosition)]


def receipt_rows(positions: Any) -> set[tuple[Any, ...]]:
    """(entry id, deadline, no-deadline reason, remaining, allocated, committed) of each
    receipt with money remaining, from services.balances' replay."""
    return {(p.receipt.id, deadline_date(p.deadline), p.deadline.value if isinstance(p.deadline, NoDeadline) else None,
             p.remaining, p.allocated, p.committed) for p in positions if p.remaining != ZERO}


def replayed_money(session: Session, obligation: Obligation, on: date) -> tuple[dict[str, Decimal], set[tuple[Any, ...]]]:
    replay = obligation_balance(session, obligation.reference, on=on)
    b = replay.balances
    signed = obligation.agreement.signed_on is not None
    money = {"secured": (obligation.amount or ZERO) if signed else ZERO, "received": b.received, "spent": b.spent,
             "transferred": b.transferred, "repaid": b.repaid, "held": b.held, "allocated": b.allocated_unspent,
             "committed": b.committed_unspent}
    return money, receipt_rows(replay.receipts)


def replayed_projects(session: Session, obligation: Obligation) -> set[tuple[str, Decimal, Decimal, Decimal]]:
    """(project reference, spent, transferred, allocated unspent) of each project the
    obligation's entries in force did anything for: allocated unspent as services.balances
    replays it, spent and transferred summed from the entries."""
    by_project = obligation_balance(session, obligation.reference, on=AFTER).balances.by_project
    moved: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for entry in rules.in_force(history(session, obligation.id)):
        if entry.project is not None and entry.kind in (K.SPEND, K.TRANSFER):
            moved[entry.project][entry.kind == K.TRANSFER] += entry.amount
    found = {(p, *moved.get(p, (ZERO, ZERO)), by_project.get(p, ZERO)) for p in set(moved) | set(by_project)}
    return {row for row in found if any(row[1:])}


def assert_kept_is_the_replay(session: Session) -> None:
    """kept.differences finds nothing, and every kept row is what services.balances replays."""
    session.rollback()
    assert kept.differences(session) == []
    rows = {r.obligation_id: r for r in session.scalars(select(KeptObligationPosition))}
    receipts: dict[int, set[tuple[Any, ...]]] = defaultdict(set)
    for r in session.scalars(select(KeptReceiptPosition)):
        assert r.division_code == rows[r.obligation_id].division_code
        receipts[r.obligation_id].add((r.entry_id, r.deadline, r.no_deadline, r.remaining, r.allocated, r.committed))
    divisions: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(DIVISION_SUMS, ZERO))
    deadlines: dict[date, tuple[Decimal, int]] = defaultdict(lambda: (ZERO, 0))
    obligations = session.scalars(select(Obligation).order_by(Obligation.id)).all()
    assert set(rows) == {o.id for o in obligations}, "every obligation has its kept row"
    for obligation in obligations:
        row = rows[obligation.id]
        money, expected_receipts = replayed_money(session, obligation, AFTER)
        assert {name: getattr(row, name) for name in MONEY} == money, obligation.reference
        assert row.division_code == obligation.agreement.division_code, obligation.reference
        assert receipts.pop(obligation.id, set()) == expected_receipts, obligation.reference
        sums = divisions[obligation.agreement.division_code or ""]
        for name, value in money.items():
            sums[name] += value
        for _, deadline, reason, remaining, _, _ in expected_receipts:
            sums["receipts"] += 1
            if deadline is not None:
                deadlines[deadline] = (deadlines[deadline][0] + remaining, deadlines[deadline][1] + 1)
                sums["dated"] += remaining
            else:
                sums[{NoDeadline.NONE: "no_deadline", NoDeadline.UNKNOWN: "unknown_deadline"}[NoDeadline(reason)]] += remaining
        assert_settled_from(session, obligation, row, money, expected_receipts)
    assert not receipts, "receipts kept for no obligation"
    kept_projects: dict[int, set[tuple[str, Decimal, Decimal, Decimal]]] = defaultdict(set)
    for obligation_id, project, spent, transferred, allocated in session.execute(
            select(KeptProjectPosition.obligation_id, Project.reference, KeptProjectPosition.spent,
                   KeptProjectPosition.transferred, KeptProjectPosition.allocated)
            .join(Project, Project.id == KeptProjectPosition.project_id)):
        kept_projects[obligation_id].add((project, spent, transferred, allocated))
    for obligation in obligations:
        assert kept_projects.pop(obligation.id, set()) == replayed_projects(session, obligation), obligation.reference
    assert not kept_projects, "projects kept for no obligation"
    kept_divisions = {r.division_code: {name: getattr(r, name) for name in DIVISION_SUMS}
                      for r in session.scalars(select(KeptDivisionPosition))}
    # A division all of whose money moved away keeps a row of zeros.
    assert ({code: m for code, m in kept_divisions.items() if any(m.values())}
            == {code: m for code, m in divisions.items() if any(m.values())})
    # A date all of whose receipts are spent keeps a row of nothing.
    assert {r.deadline: (r.remaining, r.receipts) for r in session.scalars(select(KeptDeadlineTotal))
            if r.receipts} == deadlines
    for code in session.scalars(select(Division.code)):
        summary = division_summary(session, code, on=AFTER)
        want = divisions.get(code, dict.fromkeys(DIVISION_SUMS, ZERO))
        assert (summary.secured, summary.received, summary.spent, summary.transferred, summary.repaid,
                summary.held) == tuple(want[n] for n in MONEY[:6]), code


def assert_settled_from(session: Session, obligation: Obligation, row: KeptObligationPosition,
                        money: dict[str, Decimal], expected_receipts: set[tuple[Any, ...]]) -> None:
    """The kept positions answer for every date from settled_from on: no entry in force,
    change of terms or signing is dated later, and the replay at that date already gives them."""
    latest = [d for d in (
        max((e.occurred_on for e in rules.in_force(history(session, obligation.id))), default=None),
        session.scalar(select(RepaymentTerms.in_force_from).where(RepaymentTerms.obligation_id == obligation.id)
                       .order_by(RepaymentTerms.in_force_from.desc()).limit(1)),
        obligation.agreement.signed_on) if d is not None]
    if row.settled_from is None:
        assert not latest and not any(money.values()), obligation.reference
        return
    assert row.settled_from >= max(latest), obligation.reference
    if row.settled_from != kept.LAST_DAY:
        assert replayed_money(session, obligation, row.settled_from) == (money, expected_receipts), obligation.reference


# -- the random sequences ----------------------------------------------------------------------------------
numbers = itertools.count(1)


def import_rows(session: Session, directory: Path, agreement: str, obligation: str,
                rows: list[tuple[str, Decimal, date]]) -> None:
    """A government-CSV import of these transactions against an obligation already in the ledger."""
    directory.mkdir(parents=True)
    (directory / "developer-agreement.csv").write_text(
        "reference,organisation,developer-agreement-type,planning-application,start-date\n"
        f"{agreement},local-authority:KEN,section-106,{agreement},01/03/2021\n")
    (directory / "developer-agreement-contribution.csv").write_text(
        "reference,developer-agreement,contribution-purpose,amount,start-date\n"
        f"{obligation},{agreement},education,100000.00,01/03/2021\n")
    (directory / "developer-agreement-transaction.csv").write_text(
        "reference,developer-agreement-contribution,contribution-funding-status,amount,start-date\n"
        + "".join(f"{directory.name}-{n},{obligation},{status},{amount},{day.isoformat()}\n"
                  for n, (status, amount, day) in enumerate(rows)))
    assert apply_import(session, plan_gov_csv(directory), actor=SYSTEM).committed


def apply_step(session: Session, s: dict[str, Any], *, agreement: str, obligations: list[str],
               recorded: dict[str, list[int]], commitments: dict[str, list[tuple[date, str]]],
               directory: Path) -> None:
    """One step through the services; raises what they refuse it with."""
    obligation = obligations[s["obligation"]]
    what = s["what"]
    if what == "entry":
        kind, amount, day, project = s["kind"], s["amount"], s["day"], s["project"]
        if kind is K.DECOMMITMENT and commitments[obligation]:
            # Release part of the latest commitment, or the draws would seldom find one to release.
            committed_on, project = commitments[obligation][-1]
            day = max(day, committed_on)
        entry = post(session, kind.value, str(amount), day, obligation=obligation,
                     project=project if kind in WITH_PROJECT else None,
                     **({"recipient": "Kent Highways"} if kind is K.TRANSFER else {}))
        recorded[obligation].append(entry.id)
        if kind is K.COMMITMENT:
            commitments[obligation].append((day, project))
    elif what == "reverse":
        if not recorded[obligation]:
            raise LedgerError("nothing recorded to reverse")
        reverse_entry(session, recorded[obligation][s["pick"] % len(recorded[obligation])], actor=OFFICER,
                      reason="keyed twice")
        recorded[obligation].remove(recorded[obligation][s["pick"] % len(recorded[obligation])])
    elif what == "opening":
        original = s["day"] - timedelta(days=400) if s["original"] else None
        entry = post(session, "opening-balance", str(s["amount"] * 10), s["day"], obligation=obligation,
                     original_received_on=original)
        recorded[obligation].append(entry.id)
    elif what == "terms":
        basis, years = s["terms"]
        variations.change_terms(session, obligation, basis=basis, years=years, in_force_from=s["day"],
                                reason="deed of variation", actor=OFFICER)
    elif what == "completion":
        income.record_milestone(session, agreement, kind="completion", on=s["day"], actor=OFFICER)
    elif what == "import":
        import_rows(session, directory / f"I{next(numbers)}", agreement, obligation, s["rows"])
    elif what == "division":
        registry.update_agreement(session, agreement, {"division_code": s["division"]}, actor=OFFICER,
                                  reason="the site is in the other ward")
    elif what == "sign":
        registry.update_agreement(session, agreement, {"status": "signed", "signed_on": s["day"]}, actor=OFFICER,
                                  reason="signed")


def test_kept_positions_equal_the_replay_after_random_writes(session: Session, tmp_path: Path) -> None:
    """Each example on an agreement of its own with two obligations (one counting from
    receipt, one from completion); the whole ledger is checked after each one."""
    make_places(session)
    registry.create_division(session, {"code": "ashford-rural", "name": "Ashford Rural", "authority_code": "E07000105",
                                       "members": []}, actor=OFFICER)
    for project in PROJECTS:
        make_project(session, reference=project)
    accepted: Counter[str] = Counter()
    refused: Counter[str] = Counter()

    # No shrinking: each example writes to the database, and the first failing one is shown.
    # The same examples each run, so that the tally of what they wrote below holds every time.
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              phases=(Phase.explicit, Phase.generate))
    @given(example)
    def run(drawn: dict[str, Any]) -> None:
        n = next(numbers)
        agreement = f"AG-{n}"
        with freeze_time(TODAY):
            if drawn["proposed"]:
                make_agreement(session, reference=agreement, signed_on=None, status="proposed",
                               division_code=drawn["division"])
            else:
                make_agreement(session, reference=agreement, signed_on=START - timedelta(days=30),
                               division_code=drawn["division"])
            obligations = [make_obligation(session, agreement=agreement, reference=f"{agreement}/1").reference,
                           make_obligation(session, agreement=agreement, reference=f"{agreement}/2",
                                           amount=Decimal("2500.00"), repayment_years=5, repayment_basis="completion",
                                           commitment_stops_clock=drawn["stops_clock"]).reference]
            recorded: dict[str, list[int]] = {o: [] for o in obligations}
            commitments: dict[str, list[tuple[date, str]]] = defaultdict(list)
            if drawn["first_receipts"] and not drawn["proposed"]:
                # Money first, mostly: so that most steps find money to allocate, spend and take back.
                for o in obligations:
                    recorded[o].append(post(session, "receipt", str(drawn["first_receipts"]), START, obligation=o).id)
                    for project in PROJECTS:
                        recorded[o].append(post(session, "allocation", str(drawn["first_receipts"] / 4), START,
                                                obligation=o, project=project).id)
            for s in drawn["steps"]:
                before = kept_tables(session)
                try:
                    apply_step(session, s, agreement=agreement, obligations=obligations, recorded=recorded,
                               commitments=commitments, directory=tmp_path)
                except LedgerError:
                    refused[s["what"]] += 1
                    assert kept_tables(session) == before, s
                    continue
                accepted[s["what"]] += 1
                if s["what"] == "entry":
                    accepted[s["kind"].value] += 1
        assert_kept_is_the_replay(session)

    run()
    # Every kind of write was made, and some refused, or the examples proved little.
    assert set(accepted) == set(STEPS) | {k.value for k in K} - {K.OPENING_BALANCE}, accepted
    assert refused["entry"], refused
    assert session.scalar(select(Agreement.id).where(Agreement.completion_on.is_not(None))) is not None
