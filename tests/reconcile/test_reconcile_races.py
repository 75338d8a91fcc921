"""Sixteen officers deciding at once (issue 19), on both engines (PostgreSQL truly at once):
one wins, the rest are refused, and no entry is ever matched to two transactions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from importers.finance import plan_finance
from ledger.domain.errors import Conflict
from ledger.models import ReconciliationDecision
from ledger.services import Actor, reconcile
from tests.reconcile.ledger import EXPORT, MAPPING, OFFICER, TODAY, make_hand_worked_ledger
from tests.threads import all_at_once, app_for_threads

THREADS = 16


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    with freeze_time(TODAY), app_for_threads(database_url, THREADS) as application:
        yield application


@pytest.fixture
def ids(app: Flask) -> dict[str, int]:
    with app.extensions["ledger.sessions"]() as session:
        made = make_hand_worked_ledger(session)
        reconcile.import_finance(session, plan_finance(EXPORT, MAPPING), actor=OFFICER, source=str(EXPORT))
        return made | {t.transaction_id: t.id
                       for t in reconcile.reconciliation(session, as_of=reconcile.clock.today()).transactions.values()}


def decide(app: Flask, transaction: int, action: str, entries: list[int], n: int) -> object:
    with app.extensions["ledger.sessions"]() as session:
        return reconcile.decide(session, transaction, action=action, entry_ids=entries, reason=f"officer {n}",
                                actor=Actor(email=f"officer{n}@test.s106", role="officer"))


def decisions(app: Flask) -> list[ReconciliationDecision]:
    with app.extensions["ledger.sessions"]() as session:
        return list(session.scalars(select(ReconciliationDecision)))


def test_sixteen_officers_confirming_one_transaction_make_one_decision(app: Flask, ids: dict[str, int]) -> None:
    pair = [ids["RCPT-1003"], ids["RCPT-1004"]]
    results = all_at_once(THREADS, lambda n: decide(app, ids["GL-0003"], "confirm", pair, n))
    assert Counter(type(r).__name__ for r in results) == {"ReconciliationDecision": 1, "Conflict": THREADS - 1}
    assert len(decisions(app)) == 1


def test_one_entry_matched_by_hand_to_sixteen_transactions_at_once_is_matched_once(
        app: Flask, ids: dict[str, int], tmp_path: Path) -> None:
    """Sixteen officers each match RCPT-1001 to a transaction of their own at once: one wins."""
    # Sixteen transactions of £10,000.00 in, on the education code, none matched yet.
    rows = "\n".join(f"RACE-{n},12/04/2024,S106-EDU-A,-10000.00,RACE-{n},copy {n},JNL" for n in range(THREADS))
    export = tmp_path / "race.csv"
    export.write_text("Txn No,Posting Date,Cost Centre,Amount,Reference,Description,Type\n" + rows + "\n")
    with app.extensions["ledger.sessions"]() as session:
        reconcile.import_finance(session, plan_finance(export, MAPPING), actor=OFFICER, source="race.csv")
        racing = {t.transaction_id: t.id for t in
                  reconcile.reconciliation(session, as_of=reconcile.clock.today()).transactions.values()}
    targets = [racing[f"RACE-{n}"] for n in range(THREADS)]
    results = all_at_once(THREADS, lambda n: decide(app, targets[n], "match", [ids["RCPT-1001"]], n))
    assert Counter(type(r).__name__ for r in results) == {"ReconciliationDecision": 1, "Conflict": THREADS - 1}
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, ReconciliationDecision))
    claims = [d for d in decisions(app) if ids["RCPT-1001"] in d.entry_ids]
    assert len(claims) == 1
