"""Engine and session set-up. Built in create_app, never at import (STYLE.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Engine,
    Integer,
    bindparam,
    create_engine,
    event,
    literal_column,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import InvalidatePoolError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ledger import clock

#: Execution option a service sets on the first connection of a write transaction.
WRITE = "ledger_write"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and serialised writers; a server
    database has its pooled connections tested before use when they have sat idle."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, **options)
    _ping_when_idle(engine)
    return engine


#: A pooled connection returned this many seconds ago or less is used again without a ping.
#: HikariCP (aliveBypassWindowMs) skips its check for the same half second by default.
PING_AFTER_IDLE = 0.5
_RETURNED = "ledger.returned"


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before it is used again, as ``pool_pre_ping`` would, unless it
    was returned to the pool in the last PING_AFTER_IDLE seconds. A ping is a round trip to
    the server, one of every six to twenty a page makes on PostgreSQL, and a busy server
    reuses its connections within milliseconds. When the server restarts, the first
    connection to fail its ping has the pool replace every connection it holds. One returned
    within the window and ended by the server meanwhile is not pinged: the statement that
    meets it fails, and SQLAlchemy replaces the pool for the next, as it would after a
    restart between a ping and its statement (tests/integration/test_pooled_connections.py)."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is None or time.monotonic() - returned <= PING_AFTER_IDLE:
            return  # just connected, or in use moments ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # Every connection pooled before it is as dead: the pool replaces them all.
                raise InvalidatePoolError(f"a pooled connection failed its ping: {error}") from error
            raise


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction takes SQLite's write lock up front: a deferred one that read
        # first would fail with SQLITE_BUSY instead of waiting when another writer commits.
        if connection.get_execution_options().get(WRITE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def page_bound(name: str) -> BindParameter[int]:
    """A page's OFFSET or LIMIT, written into its statement when it runs rather than sent as
    a parameter: PostgreSQL planned a statement with a LIMIT parameter afresh on every
    request, where one with the numbers written in is planned once."""
    return bindparam(name, type_=Integer(), literal_execute=True)


def written(count: int) -> ColumnElement[int]:
    """A LIMIT known when the statement is built, written into it (page_bound says why)."""
    return literal_column(str(int(count)))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


_SNAPSHOT = "ledger.snapshot"


def read_snapshot(session: Session) -> None:
    """Let the rest of this session's transaction read one snapshot of the ledger, so a
    report's several queries agree with each other while writers commit.

    SQLite (WAL) already reads one snapshot per transaction. PostgreSQL's default, READ
    COMMITTED, gives each statement its own: the read-only transaction left open (the API
    has read a token) is ended and a REPEATABLE READ one begun. Calling it again inside the
    same snapshot changes nothing."""
    if session.get_bind().dialect.name != "postgresql":
        return
    current = session.get_transaction()
    if current is not None and session.info.get(_SNAPSHOT) is current:
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("a snapshot read cannot start with unsaved changes pending")
        session.rollback()
    # Read only: the database refuses a write, so ending it with COMMIT (end_session) is safe.
    session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
    session.info[_SNAPSHOT] = session.get_transaction()


def end_session(session: Session) -> None:
    """Close the session. A snapshot read still open ends with COMMIT, not ROLLBACK: it is
    read only, so nothing is committed, but psycopg forgets every statement it has prepared
    at a ROLLBACK, and a page's statements are parsed and planned afresh each time."""
    current = session.get_transaction()
    if current is not None and session.info.get(_SNAPSHOT) is current and current.is_active:
        try:
            session.commit()
        except SQLAlchemyError:  # the connection was lost: nothing was written to lose
            session.rollback()
    session.close()


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One all-or-nothing write. Ends any read-only transaction the caller left open, so
    the write starts fresh with its locks (on SQLite, BEGIN IMMEDIATE). The ledger revision
    is moved on by the database's own triggers (migration 0006), whoever writes."""
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("a write transaction cannot start with unsaved changes pending")
        session.rollback()
    session.connection(execution_options={WRITE: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


#: As the revision triggers of migration 0006 move it: to the clock's microseconds, or one on.
_LOCK_LEDGER = {
    "postgresql": text("UPDATE ledger_revision SET number = greatest(number + 1, "
                       "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint) WHERE id = 1"),
    "sqlite": text("UPDATE ledger_revision SET number = max(number + 1, "
                   "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)) WHERE id = 1"),
}


def lock_ledger(session: Session) -> datetime:
    """Take the ledger's commit lock and return the moment this transaction's rows are
    stamped with (``created_at``: when they became known).

    The lock is the revision row's, held until the transaction ends. It comes last in the
    one lock order (obligations, invoices, receipts, then this: services.locks), and every
    read a money check depends on comes after it. So on PostgreSQL, as on SQLite (whose
    writers are serialised whole), each check sees every write stamped before it, and no
    write stamped before a moment is still invisible once a reader has waited for the lock
    (known_moment): a statement as known at that moment can be reproduced exactly."""
    session.execute(_LOCK_LEDGER[session.get_bind().dialect.name])
    return clock.now()


_WAIT_FOR_WRITERS = text("SELECT number FROM ledger_revision WHERE id = 1 FOR SHARE")


def known_moment(session: Session) -> datetime:
    """The moment a statement "as known now" is taken at: every write stamped at or before
    it has committed, and every later one is stamped after it. Waits for the writer holding
    the commit lock, reads the clock while no writer can take it, then lets writers go.
    Ends the session's transaction: call it before the report's snapshot."""
    if session.in_transaction():
        session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_WAIT_FOR_WRITERS)
    else:
        session.connection(execution_options={WRITE: True})  # BEGIN IMMEDIATE: the write lock
    moment = clock.now()
    session.rollback()
    return moment


_REVISION = text("SELECT number FROM ledger_revision WHERE id = 1")


def ledger_revision(session: Session) -> int | None:
    """How many changes the ledger's tables have committed (None before migration 0005).
    Read it before the data it stands for: later writes may then show in that data, but a
    read never stands for writes it does not show."""
    return session.connection().execute(_REVISION).scalar()


def refresh_statistics(session: Session) -> None:
    """Tell the query planner the tables' new sizes after a bulk load. Without statistics
    SQLite picks poor join orders: a division summary took four times as long."""
    session.execute(text("ANALYZE"))
