"""Issue 17 under load on PostgreSQL: sixteen officers record receipts and spends at once on
the same and different obligations of one division. Each write moves its obligation's kept
rows and the division's under its locks, so none is lost or counted twice: afterwards the kept
positions agree with the entries and the division's money received is every receipt's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select

from ledger.models import Entry, KeptDivisionPosition
from ledger.services import kept
from tests.conftest import _reset_postgres
from tests.factories import make_ledger, make_obligation, make_project, post
from tests.integration.test_kept_positions import assert_kept_is_the_replay
from tests.threads import all_at_once, app_for_threads

THREADS = 16
OBLIGATIONS = [f"20/00001/FUL/{n}" for n in range(1, 5)]
DIVISION = "ashford-central"
TODAY = datetime(2026, 1, 5, 10, tzinfo=UTC)

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(postgres_url: str) -> Iterator[Flask]:
    _reset_postgres(postgres_url)
    with app_for_threads(postgres_url, THREADS) as application:
        yield application


def test_sixteen_writers_at_once_keep_every_position(app: Flask) -> None:
    factory = app.extensions["ledger.sessions"]
    with factory() as session, freeze_time(TODAY):
        make_ledger(session)
        for reference in OBLIGATIONS[1:]:
            make_obligation(session, reference=reference)
        for n, reference in enumerate(OBLIGATIONS):
            make_project(session, reference=f"PRJ-R{n}")
            post(session, "receipt", "1000.00", date(2025, 1, 1), obligation=reference, reference=f"FIRST-{n}")

    def write(n: int) -> str:
        # Four writers on each obligation: a receipt, then a spend that allocates what it needs.
        obligation = OBLIGATIONS[n % len(OBLIGATIONS)]
        with factory() as session:
            post(session, "receipt", f"{n + 1}.00", date(2025, 6, 1), obligation=obligation, reference=f"R-{n}")
            post(session, "spend", f"{n + 10}.00", date(2025, 7, 1), obligation=obligation,
                 project=f"PRJ-R{n % len(OBLIGATIONS)}", reference=f"S-{n}")
        return "ok"

    # One frozen clock for every thread: freezegun patches the clock for the whole process.
    with freeze_time(TODAY):
        outcomes = [repr(o) if isinstance(o, BaseException) else o for o in all_at_once(THREADS, write)]
    assert outcomes == ["ok"] * THREADS

    with factory() as session:
        recorded = session.scalar(select(func.sum(Entry.amount)).where(Entry.kind == "receipt"))
        assert recorded == Decimal("4000.00") + sum(Decimal(n + 1) for n in range(THREADS))
        row = session.get(KeptDivisionPosition, DIVISION)
        assert row.received == recorded
        assert row.spent == sum(Decimal(n + 10) for n in range(THREADS))
        assert kept.differences(session) == []
        assert_kept_is_the_replay(session)
