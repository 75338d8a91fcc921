"""services.positions (SQL totals, then rule 8's closed form) against the domain rules'
entry-by-entry walk, on random histories the services accepted, reversals and a later
correction included, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ledger.db import make_engine, make_session_factory
from ledger.domain import rules
from ledger.domain.dates import add_months
from ledger.domain.errors import Conflict, RuleViolated
from ledger.models import Entry, Obligation
from ledger.services import positions
from ledger.services.balances import at_risk
from ledger.services.entries import history, reverse_entry
from ledger.services.ledger_rows import deadline_rule
from ledger.services.positions import obligation_positions
from ledger.services.registry import Filters
from tests.factories import OFFICER, make_agreement, make_obligation, make_places, make_project, post

PERIODS = {"OB/10": 10, "OB/5": 5, "OB/OPEN": None}
FIRST_DAY = date(2015, 1, 1)
RECORDED = datetime(2025, 1, 1, 9, tzinfo=UTC)
CORRECTED = datetime(2025, 6, 1, 9, tzinfo=UTC)


def propose(session: Session, rng: random.Random, count: int) -> None:
    """Random entries on random obligations; the services refuse what breaks the rules."""
    for _ in range(count):
        obligation = rng.choice(list(PERIODS))
        kind = rng.choice(["receipt", "receipt", "allocation", "deallocation", "spend", "transfer", "repayment"])
        amount = f"{rng.randint(1, 50_000 if kind == 'receipt' else 15_000) / 100:.2f}"
        day = FIRST_DAY + timedelta(days=rng.randint(0, 500))
        project = None if kind in ("receipt", "repayment") else rng.choice(["P-1", "P-2"])
        try:
            extra = {"recipient": "Parish Council"} if kind == "transfer" else {}
            post(session, kind, amount, day, obligation=obligation, project=project, **extra)
        except RuleViolated:
            continue


def reverse_some(session: Session, rng: random.Random, count: int) -> None:
    ids = list(session.scalars(select(Entry.id).where(Entry.reverses.is_(None))))
    for entry_id in rng.sample(ids, min(count, len(ids))):
        try:
            reverse_entry(session, entry_id, actor=OFFICER, reason="test correction")
        except (RuleViolated, Conflict):
            continue


@pytest.fixture
def ledger(session: Session) -> Session:
    make_places(session)
    make_agreement(session)
    make_project(session, reference="P-1")
    make_project(session, reference="P-2")
    for reference, years in PERIODS.items():
        make_obligation(session, reference=reference, repayment_years=years)
    rng = random.Random(106)
    with freeze_time(RECORDED):
        propose(session, rng, 150)
        reverse_some(session, rng, 8)
    with freeze_time(CORRECTED):
        propose(session, rng, 40)
        reverse_some(session, rng, 8)
    return session


@pytest.mark.parametrize("known_at", [None, RECORDED + timedelta(days=1)], ids=["now", "as-known-earlier"])
def test_positions_from_totals_equal_the_walk_at_every_month(ledger: Session, known_at: datetime | None) -> None:
    obligations = {o.reference: o for o in ledger.scalars(select(Obligation))}
    histories = {ref: rules.in_force(history(ledger, o.id), as_known_at=known_at) for ref, o in obligations.items()}
    assert sum(len(h) for h in histories.values()) > 100  # the random ledger is not trivial
    checked = 0
    for months in range(0, 24, 2):
        day = add_months(FIRST_DAY, months)
        since = day - timedelta(days=40)
        found = {p.info.reference: p for p in obligation_positions(ledger, on=day, since=since, known_at=known_at)}
        for reference, entries in histories.items():
            at_day = rules.balances_at(entries, day)
            before = rules.balances_at(entries, since - timedelta(days=1))
            walked = [p for p in rules.receipt_positions(
                entries, on=day, deadline_of=deadline_rule(obligations[reference], None)) if p.remaining]
            if at_day.held == 0 and before.held == 0:
                assert reference not in found
                continue
            position = found[reference]
            assert (position.held, position.held_before, position.allocated_unspent) == (
                at_day.held, before.held, at_day.allocated_unspent)
            assert [(p.receipt.reference, p.receipt.amount, p.deadline, p.remaining, p.allocated)
                    for p in position.receipts] == [
                (p.receipt.reference, p.receipt.amount, p.deadline, p.remaining, p.allocated) for p in walked]
            checked += len(walked)
    assert checked > 50


def test_many_chosen_obligations_are_chosen_by_a_subquery_with_the_same_result(
    ledger: Session, monkeypatch: pytest.MonkeyPatch,
) -> None:
    named = at_risk(ledger, as_of=date(2016, 6, 1), filters=Filters(division="ashford-central"))
    monkeypatch.setattr(positions, "NAMED_OBLIGATIONS", 1)  # three obligations: too many to name
    chosen = at_risk(ledger, as_of=date(2016, 6, 1), filters=Filters(division="ashford-central"))
    assert named == chosen and len(named) > 3
    assert at_risk(ledger, as_of=date(2016, 6, 1), filters=Filters(division="nowhere")) == []


def test_a_report_reads_one_snapshot_while_another_client_commits(any_app: Flask, database_url: str) -> None:
    """Totals and receipts are two queries: a receipt committed between them must not be
    counted against totals that do not include it (READ COMMITTED would on PostgreSQL)."""
    factory = any_app.extensions["ledger.sessions"]
    with factory() as setup:
        make_places(setup)
        make_agreement(setup)
        make_obligation(setup, reference="OB/10")
        make_project(setup, reference="P-1")
        post(setup, "receipt", "100.00", date(2020, 1, 1), obligation="OB/10", reference="R-1")
        post(setup, "spend", "60.00", date(2020, 2, 1), obligation="OB/10", project="P-1", reference="S-1")
    other = make_engine(database_url)
    committed: list[str] = []

    @event.listens_for(any_app.extensions["ledger.engine"], "after_cursor_execute")
    def commit_in_between(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if "GROUP BY entries.obligation_id" in statement and not committed:
            committed.append(statement)
            with make_session_factory(other)() as writer:
                post(writer, "receipt", "50.00", date(2020, 1, 10), obligation="OB/10", reference="R-0")

    try:
        with factory() as reader:
            rows = at_risk(reader, as_of=date(2020, 3, 1))
        assert committed
        assert [(r.receipt_reference, r.remaining) for r in rows] == [("R-1", Decimal("40.00"))]
        with factory() as reader:  # the next report sees the receipt
            assert [(r.receipt_reference, r.remaining) for r in at_risk(reader, as_of=date(2020, 3, 1))] == [
                ("R-1", Decimal("40.00")), ("R-0", Decimal("50.00"))]
    finally:
        event.remove(any_app.extensions["ledger.engine"], "after_cursor_execute", commit_in_between)
        other.dispose()
