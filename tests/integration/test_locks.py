"""lock_for_money: rows locked in the one order, held until the commit, on both engines."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ledger.db import write_transaction
from ledger.models import Agreement, Obligation
from ledger.services.locks import lock_for_money
from tests.factories import make_ledger, make_obligation, post


@pytest.fixture
def ledger(session: Session) -> Session:
    make_ledger(session)
    make_obligation(session, reference="20/00001/FUL/2")
    post(session, "receipt", "10.00", date(2024, 1, 1))
    return session


def test_locks_are_taken_in_the_one_order_whatever_order_they_are_asked_in(any_app: Flask, ledger: Session) -> None:
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = any_app.extensions["ledger.engine"]
    event.listen(engine, "before_cursor_execute", note)
    try:
        with write_transaction(ledger):
            lock_for_money(ledger, entry_ids=[1], invoice_ids=[], obligation_ids=[2, 1, 2], agreement_ids=[1])
    finally:
        event.remove(engine, "before_cursor_execute", note)
    tables = [s.split("FROM", 1)[1].split()[0] for s in statements]
    assert tables == ["agreements", "obligations", "entries"]
    assert all("ORDER BY" in s for s in statements)
    if any_app.config["DATABASE_URL"].startswith("postgresql"):
        assert all(s.rstrip().endswith("FOR NO KEY UPDATE") for s in statements)


def test_a_locked_obligation_is_held_until_the_commit(any_app: Flask, ledger: Session, database_url: str) -> None:
    other = create_engine(database_url, connect_args={"timeout": 0} if database_url.startswith("sqlite") else {})
    try:
        with write_transaction(ledger), other.connect() as connection:
            lock_for_money(ledger, obligation_ids=[1])
            with pytest.raises(OperationalError):
                if database_url.startswith("sqlite"):
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    connection.execute(text("SELECT id FROM obligations WHERE id = 1 FOR UPDATE NOWAIT"))
            connection.rollback()
        with other.connect() as connection:
            if database_url.startswith("postgresql"):
                connection.execute(text("SELECT id FROM obligations WHERE id = 1 FOR UPDATE NOWAIT"))
    finally:
        other.dispose()


def test_a_row_already_loaded_is_read_again_once_locked(any_app: Flask, ledger: Session, database_url: str) -> None:
    loaded = ledger.scalar(select(Agreement).where(Agreement.id == 1))
    assert loaded is not None and loaded.commencement_on is None
    other = create_engine(database_url)
    with other.begin() as connection:
        connection.execute(text("UPDATE agreements SET commencement_on = '2024-03-01' WHERE id = 1"))
    other.dispose()
    with write_transaction(ledger):
        lock_for_money(ledger, agreement_ids=[1])
        assert loaded.commencement_on == date(2024, 3, 1)


def test_locks_need_a_write_transaction_and_come_before_any_write(ledger: Session) -> None:
    with pytest.raises(RuntimeError, match="write transaction"):
        lock_for_money(ledger, obligation_ids=[1])
    ledger.rollback()
    with pytest.raises(RuntimeError, match="before writing"), write_transaction(ledger):
        obligation = ledger.get(Obligation, 1)
        assert obligation is not None
        obligation.trigger = "changed"
        lock_for_money(ledger, obligation_ids=[1])
