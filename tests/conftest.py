"""Fixtures: real SQLite files and a real PostgreSQL server, both built by migrating.

Each test gets a clean database: SQLite by copying a migrated template file, PostgreSQL by
truncating every table (with triggers switched off for the reset only).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from ledger import create_app
from ledger.db import make_engine
from ledger.migrate import upgrade
from ledger.models import Base
from ledger.services import Actor
from tests.postgres import postgres_server

IN_CI = os.environ.get("CI", "").lower() == "true"
OFFICER = Actor(email="officer@test.s106", role="officer")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ledger.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database migrated to head. Fails under CI=true if no server can run."""
    try:
        server = postgres_server()
        url = server.__enter__()
    except (FileNotFoundError, OSError) as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true: {error}")
        pytest.skip(f"PostgreSQL not available: {error}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS ledger_test"))
        connection.execute(text("CREATE DATABASE ledger_test"))
    admin.dispose()
    test_url = url.rsplit("/", 1)[0] + "/ledger_test"
    engine = make_engine(test_url)
    upgrade(engine)
    engine.dispose()
    yield test_url
    server.__exit__(None, None, None)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        # Replica role skips the append-only triggers for this reset only.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # The one row migration 0005 puts there, as a freshly migrated database has it.
        connection.execute(text("INSERT INTO ledger_revision (id, number) VALUES (1, 0)"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A clean, migrated database on each engine in turn."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.sqlite"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "ledger.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def make_test_app(url: str) -> Flask:
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret", "ENV": "testing"})


@pytest.fixture
def app(sqlite_url: str) -> Iterator[Flask]:
    """The app on a clean SQLite file (API and CLI tests)."""
    application = make_test_app(sqlite_url)
    yield application
    application.extensions["ledger.engine"].dispose()


@pytest.fixture
def any_app(database_url: str) -> Iterator[Flask]:
    """The app on each engine in turn (service tests)."""
    application = make_test_app(database_url)
    yield application
    application.extensions["ledger.engine"].dispose()


@pytest.fixture
def session(any_app: Flask) -> Iterator[Session]:
    factory = any_app.extensions["ledger.sessions"]
    with factory() as s:
        yield s


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


#: One Chromium for the whole run, whichever directory's tests ask for it: Playwright's sync
#: API runs one event loop, so a second browser fixture (a module importing this one into its
#: own namespace defines a second) would fail every later browser test.
CHROMIUM = os.environ.get("LEDGER_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"Chromium is required under CI=true ({CHROMIUM}; apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # As root (CI) Chromium needs --no-sandbox; the rest keep it off this closed network.
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield launched
        launched.close()
