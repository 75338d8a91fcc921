"""`s106 serve` itself: gunicorn with two workers on SQLite and on PostgreSQL, driven over
HTTP. Each request stands alone, whichever worker answers it and whatever that worker
answered before."""

from __future__ import annotations

import re
import sqlite3
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.cookiejar import CookieJar

import pytest
from sqlalchemy import create_engine, make_url, text

from ledger.domain.money import format_money
from tests.server.serving import MEMBER, PASSWORD, Served, fetch, fresh_database, seed, serve

DATABASE = "ledger_serve_test"
OBLIGATION = "20/00001/FUL/1"
BALANCE = f"/api/v1/obligations/{urllib.parse.quote(OBLIGATION, safe='')}/balance?on=2021-12-31"
#: Rounds before checking that both workers answered; more are made only until they have.
ROUNDS = 20


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database of the module's own."""
    with fresh_database(request.param, request, tmp_path_factory, DATABASE) as url:
        yield url


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`s106 serve --workers 2` on the database, until the module's tests are done."""
    with serve(database_url, seed(database_url), tmp_path_factory.mktemp("instance")) as served:
        yield served


def _on_both_workers(served: Served, request_line: str, attempt: Callable[[], None]) -> None:
    """Run ``attempt`` from four clients at once, round after round, until the access log
    shows both workers answered ``request_line``: one client alone may keep finding the same
    worker waiting. Every attempt asserts what it must."""
    with ThreadPoolExecutor(max_workers=4) as clients:
        for round_ in range(1, 31):
            for done in [clients.submit(attempt) for _ in range(4)]:
                done.result()
            if round_ >= 3 and len(served.workers_that_answered(request_line)) == 2:
                return
    pytest.fail(f"only one worker answered {request_line!r}: {served.workers_that_answered(request_line)}")


def test_an_anonymous_request_after_an_admins_is_still_anonymous(served: Served) -> None:
    def admin_then_anonymous() -> None:
        assert fetch(served, "GET", "/api/v1/agreements", role="admin").status == 200
        dashboard = fetch(served, "GET", "/dashboard")
        assert dashboard.status == 302 and dashboard.headers["Location"].startswith("/login")
        assert fetch(served, "GET", "/api/v1/agreements").status == 401

    _on_both_workers(served, "GET /dashboard", admin_then_anonymous)


def _sign_in(served: Served) -> str:
    """A member signs in through the form in a fresh browser; the dashboard page they reach."""
    return _signed_in(served)[1]


def _signed_in(served: Served) -> tuple[urllib.request.OpenerDirector, str]:
    """A member signed in through the form in a fresh browser, and the dashboard page they reach."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login = f"http://127.0.0.1:{served.port}/login?next=/dashboard"
    with opener.open(login, timeout=30) as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
    assert token
    form = urllib.parse.urlencode({"email": MEMBER, "password": PASSWORD, "csrf_token": token.group(1)})
    with opener.open(login, data=form.encode(), timeout=30) as dashboard:  # the redirect is followed
        assert dashboard.status == 200 and dashboard.url.endswith("/dashboard")
        return opener, str(dashboard.read().decode())


def test_a_member_signs_in_through_the_form(served: Served) -> None:
    def sign_in() -> None:
        assert MEMBER in _sign_in(served)

    _on_both_workers(served, "POST /login?next=/dashboard", sign_in)


def test_the_pages_reading_kept_money_answer_alike_on_both_workers(served: Served) -> None:
    """The signed-in pages that read the kept positions answer on either worker, and a
    division's page shows the money the API's summary of it gives, after a write."""
    assert fetch(served, "POST", "/api/v1/entries", role="officer", body={
        "kind": "receipt", "obligation_reference": OBLIGATION, "amount": "250.50", "occurred_on": "2020-07-01",
        "reference": "SERVE-KEPT", "reason": "remittance"}).status == 201
    summary = fetch(served, "GET", "/api/v1/divisions/ashford-central/summary", role="officer").json()
    assert isinstance(summary, dict) and Decimal(summary["received"]) >= Decimal("250.50")
    opener, _ = _signed_in(served)
    base = f"http://127.0.0.1:{served.port}"

    def read_pages() -> None:
        for path in ("/dashboard", "/divisions", "/at-risk", "/agreements?at_risk=1"):
            with opener.open(base + path, timeout=30) as page:
                assert page.status == 200 and page.url.endswith(path), path
        with opener.open(f"{base}/divisions/ashford-central", timeout=30) as page:
            html = page.read().decode()
        for name in ("secured", "received", "spent", "held"):
            assert f'data-figure="{name}">{format_money(Decimal(summary[name]))}<' in html, name

    _on_both_workers(served, "GET /divisions/ashford-central", read_pages)


def test_each_read_sees_the_write_before_it(served: Served) -> None:
    received = Decimal(str(fetch(served, "GET", BALANCE, role="officer").json()["received"]))  # type: ignore[index]
    for n in range(1, ROUNDS + 1):
        amount = Decimal(f"{100 + n}.25")
        written = fetch(served, "POST", "/api/v1/entries", role="officer", body={
            "kind": "receipt", "obligation_reference": OBLIGATION, "amount": str(amount),
            "occurred_on": "2021-01-01", "reference": f"SERVE-{n}", "reason": f"remittance {n}"})
        assert written.status == 201, written.body
        received += amount
        balance = fetch(served, "GET", BALANCE, role="officer")
        assert balance.status == 200 and balance.json()["received"] == f"{received:.2f}"  # type: ignore[index]


def test_no_transaction_is_left_open_after_the_requests(served: Served) -> None:
    # A write first: on SQLite, only a snapshot taken after it holds the write-ahead log.
    assert fetch(served, "POST", "/api/v1/entries", role="officer", body={
        "kind": "receipt", "obligation_reference": OBLIGATION, "amount": "1.00", "occurred_on": "2021-01-01",
        "reference": "SERVE-OPEN", "reason": "remittance"}).status in (200, 201)
    for _ in range(4):
        assert fetch(served, "GET", "/api/v1/agreements", role="admin").status == 200
        assert fetch(served, "GET", BALANCE, role="officer").status == 200
    assert MEMBER in _sign_in(served)
    deadline = time.monotonic() + 10  # a worker closes its session just after it answers
    while (left_open := _open_transactions(served.database_url)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left_open == 0


def _open_transactions(url: str) -> int:
    """PostgreSQL: the app's connections idle in a transaction. SQLite: whether a reader still
    holds an old snapshot, which stops a checkpoint from emptying the write-ahead log."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(make_url(url).database or "", timeout=1)
        try:
            busy, _log, _done = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return int(busy)
        finally:
            connection.close()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' AND pid <> pg_backend_pid()")).scalar_one())
    finally:
        engine.dispose()
