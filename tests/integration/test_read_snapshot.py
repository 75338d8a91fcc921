"""A page or answer read by GET is one read-only snapshot on PostgreSQL, from its first
statement to its last, ended with COMMIT so psycopg keeps the statements it has prepared
(issue 17: a ROLLBACK makes it forget them, and every statement was parsed and planned on
every request). A request that writes is untouched: read committed, and free to write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text

from ledger.extensions import close_session, get_session
from tests.conftest import make_test_app

#: A statement only these tests run, so the prepared ones can be told apart.
PROBE = text("SELECT count(*) FROM divisions WHERE code <> :code")


@pytest.fixture
def postgres_app(postgres_url: str) -> Iterator[Flask]:
    application = make_test_app(postgres_url)
    yield application
    application.extensions["ledger.engine"].dispose()


def transaction_of(app: Flask, method: str) -> tuple[str, str]:
    """The isolation level and read-only setting of a request's transaction."""
    with app.test_request_context("/dashboard", method=method):
        session = get_session()
        isolation = session.execute(text("SHOW transaction_isolation")).scalar_one()
        read_only = session.execute(text("SHOW transaction_read_only")).scalar_one()
        close_session()
    return isolation, read_only


@pytest.mark.postgres
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_read_is_one_read_only_snapshot(postgres_app: Flask, method: str) -> None:
    assert transaction_of(postgres_app, method) == ("repeatable read", "on")


@pytest.mark.postgres
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_write_is_not(postgres_app: Flask, method: str) -> None:
    assert transaction_of(postgres_app, method) == ("read committed", "off")


@pytest.mark.postgres
def test_a_write_inside_a_read_is_refused_by_the_database(postgres_app: Flask) -> None:
    with postgres_app.test_request_context("/dashboard"):
        with pytest.raises(Exception, match="read-only transaction"):
            get_session().execute(text("UPDATE ledger_revision SET number = number WHERE id = 1"))
        close_session()


@pytest.mark.postgres
def test_reads_keep_their_prepared_statements(postgres_app: Flask) -> None:
    """psycopg prepares a statement the sixth time a connection runs it: read by request
    after request, the probe is prepared and stays so, as it would not after a ROLLBACK."""
    for _ in range(8):
        with postgres_app.test_request_context("/dashboard"):
            get_session().execute(PROBE, {"code": "none"}).scalar_one()
            close_session()
    with postgres_app.test_request_context("/dashboard"):
        prepared = get_session().execute(text(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%code <> $1%'")).scalar_one()
        close_session()
    assert prepared == 1
