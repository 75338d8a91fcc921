"""`s106 serve` as a subprocess for the server tests: a fresh migrated database, a seeded
ledger with tokens by role, the server with its access log, and plain HTTP requests."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from ledger.db import make_engine, make_session_factory
from ledger.migrate import upgrade
from ledger.services import SYSTEM, users
from tests.factories import make_ledger

S106 = Path(sys.executable).parent / "s106"
PASSWORD = "correct horse"
MEMBER = "member@test.s106"


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


@contextmanager
def fresh_database(kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                   name: str) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, or database ``name`` on the test run's
    PostgreSQL server (dropped afterwards)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'ledger.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    server = make_url(request.getfixturevalue("postgres_url"))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def seed(url: str) -> dict[str, str]:
    """A small ledger; an admin, an officer and a member, each with PASSWORD; bearer tokens for
    the admin and the officer."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        make_ledger(session)
        tokens = {}
        for role in ("admin", "officer"):
            users.add_user(session, email=f"{role}@test.s106", role=role, password=PASSWORD, actor=SYSTEM)
            tokens[role] = users.create_token(session, email=f"{role}@test.s106", actor=SYSTEM)
        users.add_user(session, email=MEMBER, role="member", password=PASSWORD, actor=SYSTEM)
    engine.dispose()
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(database_url: str, tokens: dict[str, str], directory: Path, *, workers: int = 2) -> Iterator[Served]:
    """`s106 serve --workers N` on the database until the block ends, its output in serve.log."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "LEDGER_SECRET_KEY"}
    # Development: the workers must share the throwaway key the command makes, or a cookie
    # one worker set would be refused by the other.
    env |= {"LEDGER_DATABASE_URL": database_url, "LEDGER_ENV": "development",
            "LEDGER_INSTANCE_PATH": str(directory)}
    log = directory / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen([S106, "serve", "--workers", str(workers), "--port", str(port)], env=env,
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
