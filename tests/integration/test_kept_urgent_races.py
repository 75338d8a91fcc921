"""Issue 17: the day's urgent money (services.kept_urgent) is written afresh by the first read
of a new day. Sixteen readers ask for a new day at once on PostgreSQL: one writes it, the others
wait for it (the ledger's commit lock) and read it; none fails, and the sums agree with the kept receipts. Then sixteen
writers move it at once, and it still agrees."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select

from ledger.models import KeptUrgentDivision, KeptUrgentObligation
from ledger.services import kept, kept_urgent, overview
from tests.conftest import _reset_postgres
from tests.factories import make_ledger, make_obligation, post
from tests.threads import all_at_once, app_for_threads

THREADS = 16
OBLIGATIONS = [f"20/00001/FUL/{n}" for n in range(1, 9)]
TODAY = datetime(2026, 1, 5, 10, tzinfo=UTC)

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(postgres_url: str) -> Iterator[Flask]:
    _reset_postgres(postgres_url)
    with app_for_threads(postgres_url, THREADS) as application:
        yield application


def test_sixteen_readers_of_a_new_day_write_its_urgent_money_once(app: Flask) -> None:
    factory = app.extensions["ledger.sessions"]
    with factory() as session, freeze_time(TODAY):
        make_ledger(session)
        for reference in OBLIGATIONS[1:]:
            make_obligation(session, reference=reference)
        for n, reference in enumerate(OBLIGATIONS):
            # Ten years from receipt: due within 24 months of today, so urgent, and one not yet.
            post(session, "receipt", f"{100 + n}.00", date(2016, 3, n + 1), obligation=reference, reference=f"U-{n}")
            post(session, "receipt", "50.00", date(2024, 3, n + 1), obligation=reference, reference=f"L-{n}")
        assert kept_urgent.state(session) is None

    def read(n: int) -> object:
        with factory() as session:
            return overview.dashboard(session, today=TODAY.date()).largest

    with freeze_time(TODAY):
        outcomes = all_at_once(THREADS, read)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert all(o == outcomes[0] for o in outcomes)
    with factory() as session:
        assert kept_urgent.state(session) == (TODAY.date(), 24)
        assert session.scalar(select(func.count()).select_from(KeptUrgentObligation)) == len(OBLIGATIONS)
        assert session.scalar(select(KeptUrgentDivision.obligations)) == len(OBLIGATIONS)
        assert kept.differences(session) == []

    def write(n: int) -> str:
        with factory() as session:
            post(session, "receipt", f"{n + 1}.00", date(2015, 12, 1), obligation=OBLIGATIONS[n % len(OBLIGATIONS)],
                 reference=f"W-{n}")
        return "ok"

    with freeze_time(TODAY):
        written = all_at_once(THREADS, write)
    assert written == ["ok"] * THREADS, written
    with factory() as session:
        assert kept.differences(session) == []
        assert session.scalar(select(func.sum(KeptUrgentDivision.money))) == session.scalar(
            select(func.sum(KeptUrgentObligation.money)))
