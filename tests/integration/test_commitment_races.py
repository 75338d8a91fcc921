"""Commitments, spend and deallocations on one project, all at once through the API, on both
engines (PostgreSQL truly at once, SQLite one after another): whatever wins, committed money
never exceeds the project's allocated-unspent money at any date, and a request that loses
gets a 422, never a 500."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ledger.domain import rules
from ledger.domain.money import ZERO
from ledger.models import Obligation
from ledger.services import SYSTEM, users
from ledger.services.balances import obligation_balance
from ledger.services.entries import history
from tests.factories import make_ledger, post
from tests.threads import all_at_once, app_for_threads

OB = "20/00001/FUL/1"
EACH = 8
#: Committed first (1 March), then spent (1 April); money taken back is backdated before both.
CALLS = ([("commitment", "2025-03-01")] * EACH + [("spend", "2025-04-01")] * EACH
         + [("deallocation", "2025-02-15")] * EACH)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    with app_for_threads(database_url, len(CALLS)) as application:
        yield application


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """£10,000 received, £6,000 of it allocated to PRJ-1."""
    with app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        post(session, "receipt", "10000.00", date(2025, 1, 10))
        post(session, "allocation", "6000.00", date(2025, 2, 1), project="PRJ-1")
        yield session


@pytest.fixture
def headers(app: Flask) -> dict[str, str]:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="racer@test.s106", role="officer", password=None, actor=SYSTEM)
        return {"Authorization": f"Bearer {users.create_token(session, email='racer@test.s106', actor=SYSTEM)}"}


def test_commitments_spend_and_deallocations_at_once_never_commit_more_than_is_allocated(
    app: Flask, db: Session, headers: dict[str, str],
) -> None:
    clients = [app.test_client() for _ in CALLS]

    def send(n: int) -> tuple[str, int, Any]:
        kind, on = CALLS[n]
        response = clients[n].post("/api/v1/entries", headers=headers, json={
            "kind": kind, "obligation_reference": OB, "amount": "1000.00", "occurred_on": on,
            "project_reference": "PRJ-1", "reason": "race", "reference": f"{kind}-{n}"})
        return kind, response.status_code, response.get_json()

    results = [(("crash", -1, repr(r)) if isinstance(r, BaseException) else r) for r in all_at_once(len(CALLS), send)]
    outcomes = Counter((kind, status) for kind, status, _ in results)
    assert {status for _, status in outcomes} <= {201, 422}, results
    # Every spend finds money (unallocated money covers it); not every commitment and
    # deallocation can win: together they ask for more than is allocated.
    assert outcomes[("spend", 201)] == EACH
    assert 0 < outcomes[("commitment", 201)] < EACH or 0 < outcomes[("deallocation", 201)] < EACH, outcomes

    db.rollback()
    obligation_id = db.query(Obligation.id).filter(Obligation.reference == OB).scalar()
    kept = rules.in_force(history(db, obligation_id))
    assert rules.invariant_violations(kept) == []
    committed_seen = ZERO
    for day in sorted({e.occurred_on for e in kept}):
        balances = obligation_balance(db, OB, on=day).balances
        committed = balances.committed.get("PRJ-1", ZERO)
        assert ZERO <= committed <= balances.by_project.get("PRJ-1", ZERO), day
        committed_seen = max(committed_seen, committed)
    assert committed_seen == Decimal("1000.00") * outcomes[("commitment", 201)]
