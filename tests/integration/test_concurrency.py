"""Two or more officers writing to one obligation at once never break an invariant."""

import threading
from datetime import date
from decimal import Decimal

from flask import Flask
from sqlalchemy.orm import Session

from ledger.domain.errors import RuleViolated
from ledger.services import balances
from tests.factories import make_ledger, make_project, post

WRITERS = 8


def test_concurrent_spends_never_overspend(any_app: Flask, session: Session) -> None:
    make_ledger(session)
    for n in range(WRITERS):
        make_project(session, reference=f"PRJ-C{n}")
    post(session, "receipt", "100.00", date(2024, 5, 1))
    session.close()

    factory = any_app.extensions["ledger.sessions"]
    barrier = threading.Barrier(WRITERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def spend(n: int) -> None:
        with factory() as own:
            barrier.wait()
            try:
                post(own, "spend", "30.00", date(2024, 6, 1), project=f"PRJ-C{n}", reference=f"S{n}")
                result = "ok"
            except RuleViolated:
                result = "refused"
            except Exception as error:
                result = f"error: {error!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * (WRITERS - 3), outcomes
    with factory() as fresh:
        held = balances.obligation_balance(fresh, "20/00001/FUL/1", on=date(2024, 12, 31)).balances
    assert held.held == Decimal("10.00")
    assert held.spent == Decimal("90.00")
