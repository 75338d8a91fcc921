"""A pooled PostgreSQL connection is pinged before it is used again only when it has sat
idle (ledger.db's ping when idle): a busy server pays no round trip for it, and a connection
the server has ended is replaced before a statement meets it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from ledger import db
from ledger.services import SYSTEM, users
from tests.conftest import make_test_app

pytestmark = pytest.mark.postgres

#: Shorter than the server's, so the tests wait a moment rather than half a second.
IDLE = 0.05


@pytest.fixture
def engine(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(db, "PING_AFTER_IDLE", IDLE)
    engine = db.make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The connections pinged, in turn."""
    pinged: list[Any] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pinged.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pinged


def backend(engine: Engine) -> int:
    """The server process of the pooled connection a statement is run on."""
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def end_on_the_server(postgres_url: str, *pids: int) -> None:
    """End these server processes, waiting (up to five seconds each) until they have gone."""
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for pid in pids:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
    admin.dispose()


def backends_at_once(engine: Engine) -> set[int]:
    """The server processes of two pooled connections used at the same time."""
    with engine.connect() as first, engine.connect() as second:
        return {int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
                for connection in (first, second)}


def test_a_connection_in_use_moments_ago_is_not_pinged(
        engine: Engine, pings: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 60)  # "moments" however slow this machine is today
    first = backend(engine)
    assert [backend(engine) for _ in range(5)] == [first] * 5
    assert pings == []


def test_a_connection_idle_for_longer_is_pinged(engine: Engine, pings: list[Any]) -> None:
    first = backend(engine)
    assert pings == []  # a new connection needs none
    time.sleep(IDLE * 2)
    assert backend(engine) == first
    assert len(pings) == 1


def test_a_connection_the_server_ended_is_replaced_before_use(
        engine: Engine, pings: list[Any], postgres_url: str) -> None:
    ended = backend(engine)
    end_on_the_server(postgres_url, ended)
    time.sleep(IDLE * 2)
    replaced = backend(engine)
    assert replaced != ended
    assert len(pings) == 1


def test_a_connection_ended_moments_after_its_use_meets_the_error_once(
        engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The price of skipping the ping, as a pool without one pays it: the one statement that
    meets the dead connection fails, and the pool is replaced for the next."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 60)
    ended = backend(engine)
    end_on_the_server(postgres_url, ended)
    with pytest.raises(OperationalError):
        backend(engine)
    assert backend(engine) != ended


def test_one_failed_ping_replaces_every_pooled_connection(
        engine: Engine, pings: list[Any], postgres_url: str) -> None:
    ended = backends_at_once(engine)
    assert len(ended) == 2
    end_on_the_server(postgres_url, *ended)
    time.sleep(IDLE * 2)
    # The first connection fails its ping; the pool then replaces the second unpinged.
    assert backends_at_once(engine).isdisjoint(ended)
    assert len(pings) == 1


def test_a_request_that_meets_an_ended_connection_is_asked_to_come_again(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a 500: the pool is replaced, so the same request sent again is served."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 60)
    name = f"restart-{time.time_ns()}"  # its connections, found by name on the server
    app = make_test_app(f"{postgres_url}?application_name={name}")
    email = f"{name}@test.s106"
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email=email, role="officer", password=None, actor=SYSTEM)
        token = users.create_token(session, email=email, actor=SYSTEM)
    engine = app.extensions["ledger.engine"]
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/income-due", headers=headers).status_code == 200
    admin = create_engine(postgres_url)
    with admin.connect() as connection:  # every connection the app has pooled
        pids = list(connection.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                                       {"name": name}).scalars())
    admin.dispose()
    assert pids
    end_on_the_server(postgres_url, *pids)
    lost = client.get("/api/v1/income-due", headers=headers)
    assert lost.status_code == 503
    assert lost.headers["Retry-After"] == "1"
    assert "try again" in lost.get_json()["detail"].lower()
    assert client.get("/api/v1/income-due", headers=headers).status_code == 200
    engine.dispose()
