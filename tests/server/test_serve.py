"""`s106 serve` itself: gunicorn with two workers on SQLite and on PostgreSQL, driven over
HTTP. Each request stands alone, whichever worker answers it and whatever that worker
answered before."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from ledger.db import make_engine, make_session_factory
from ledger.migrate import upgrade
from ledger.services import SYSTEM, users
from tests.factories import make_ledger

S106 = Path(sys.executable).parent / "s106"
DATABASE = "ledger_serve_test"
PASSWORD = "correct horse"
MEMBER = "member@test.s106"
OBLIGATION = "20/00001/FUL/1"
BALANCE = f"/api/v1/obligations/{urllib.parse.quote(OBLIGATION, safe='')}/balance?on=2021-12-31"
#: Rounds before checking that both workers answered; more are made only until they have.
ROUNDS = 20


@dataclass(frozen=True)
class Served:
    database_url: str
    port: int
    log: Path
    tokens: dict[str, str]

    def workers_that_answered(self, request_line: str) -> set[str]:
        """The pids of the workers whose access log lines (`<pid> ... "GET /path HTTP/1.1"`)
        show this request line."""
        return set(re.findall(rf'^<(\d+)> .*"{re.escape(request_line)} HTTP', self.log.read_text(), flags=re.M))


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def fetch(served: Served, method: str, path: str, *, role: str | None = None, body: object = None) -> Answer:
    """One request on a connection of its own, redirects not followed."""
    headers = {"Authorization": f"Bearer {served.tokens[role]}"} if role else {}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database of the module's own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('serve') / 'ledger.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    server = make_url(request.getfixturevalue("postgres_url"))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    url = server.set(database=DATABASE).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
    admin.dispose()


def _seed(url: str) -> dict[str, str]:
    """A small ledger, an admin, an officer and a member who signs in; bearer tokens by role."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        make_ledger(session)
        tokens = {}
        for role in ("admin", "officer"):
            users.add_user(session, email=f"{role}@test.s106", role=role, password=None, actor=SYSTEM)
            tokens[role] = users.create_token(session, email=f"{role}@test.s106", actor=SYSTEM)
        users.add_user(session, email=MEMBER, role="member", password=PASSWORD, actor=SYSTEM)
    engine.dispose()
    return tokens


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`s106 serve --workers 2` on the database, until the module's tests are done."""
    tokens = _seed(database_url)
    directory = tmp_path_factory.mktemp("instance")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "LEDGER_SECRET_KEY"}
    # Development: the workers must share the throwaway key the command makes, or a cookie
    # one worker set would be refused by the other.
    env |= {"LEDGER_DATABASE_URL": database_url, "LEDGER_ENV": "development",
            "LEDGER_INSTANCE_PATH": str(directory)}
    log = directory / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen([S106, "serve", "--workers", "2", "--port", str(port)], env=env,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        served = Served(database_url, port, log, tokens)
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"s106 serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if fetch(served, "GET", "/health").status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"s106 serve did not answer /health:\n{log.read_text()}")
                time.sleep(0.2)
        yield served
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


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
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login = f"http://127.0.0.1:{served.port}/login?next=/dashboard"
    with opener.open(login, timeout=30) as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
    assert token
    form = urllib.parse.urlencode({"email": MEMBER, "password": PASSWORD, "csrf_token": token.group(1)})
    with opener.open(login, data=form.encode(), timeout=30) as dashboard:  # the redirect is followed
        assert dashboard.status == 200 and dashboard.url.endswith("/dashboard")
        return str(dashboard.read().decode())


def test_a_member_signs_in_through_the_form(served: Served) -> None:
    def sign_in() -> None:
        assert MEMBER in _sign_in(served)

    _on_both_workers(served, "POST /login?next=/dashboard", sign_in)


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
