"""Two or more officers writing to one obligation at once never break an invariant."""

from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from importers.gov_csv import plan_gov_csv
from ledger.domain.errors import RuleViolated
from ledger.services import SYSTEM, balances
from ledger.services.imports import apply_import
from tests.factories import make_ledger, make_project, post, write_gov_files
from tests.threads import all_at_once

WRITERS = 8


def test_concurrent_spends_never_overspend(any_app: Flask, session: Session) -> None:
    make_ledger(session)
    for n in range(WRITERS):
        make_project(session, reference=f"PRJ-C{n}")
    post(session, "receipt", "100.00", date(2024, 5, 1))
    session.close()

    factory = any_app.extensions["ledger.sessions"]
    sessions = [factory() for _ in range(WRITERS)]

    def spend(n: int) -> str:
        try:
            post(sessions[n], "spend", "30.00", date(2024, 6, 1), project=f"PRJ-C{n}", reference=f"S{n}")
            return "ok"
        except RuleViolated:
            return "refused"
        finally:
            sessions[n].close()

    outcomes = [f"error: {o!r}" if isinstance(o, BaseException) else o for o in all_at_once(WRITERS, spend)]

    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * (WRITERS - 3), outcomes
    with factory() as fresh:
        held = balances.obligation_balance(fresh, "20/00001/FUL/1", on=date(2024, 12, 31)).balances
    assert held.held == Decimal("10.00")
    assert held.spent == Decimal("90.00")


def test_an_import_holds_the_obligations_it_checks_until_it_commits(
    any_app: Flask, session: Session, database_url: str, tmp_path: Path,
) -> None:
    """While an import checks new entries against an obligation's history, no API write can
    change that history: the obligation is row-locked (PostgreSQL) or the database
    write-locked (SQLite) from before the history is read until the commit."""
    first = write_gov_files(tmp_path / "first", [("T-1", "received", "1000.00", "2021-01-01")])
    assert apply_import(session, plan_gov_csv(first), actor=SYSTEM).committed
    second = write_gov_files(tmp_path / "second", [("T-2", "spent", "400.00", "2021-02-01")])
    other = create_engine(database_url, connect_args={"timeout": 0} if database_url.startswith("sqlite") else {})
    attempts: list[str] = []

    @event.listens_for(any_app.extensions["ledger.engine"], "after_cursor_execute")
    def try_to_write_meanwhile(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if "FROM entries" in statement and "ORDER BY entries.obligation_id" in statement and not attempts:
            with other.connect() as connection:
                try:
                    if database_url.startswith("sqlite"):
                        connection.exec_driver_sql("BEGIN IMMEDIATE")
                    else:
                        connection.execute(text("SELECT id FROM obligations WHERE reference = 'DA-1/C1' "
                                                "FOR UPDATE NOWAIT"))
                    attempts.append("got the lock")
                except OperationalError:
                    attempts.append("locked")

    try:
        assert apply_import(session, plan_gov_csv(second), actor=SYSTEM).committed
    finally:
        event.remove(any_app.extensions["ledger.engine"], "after_cursor_execute", try_to_write_meanwhile)
        other.dispose()
    assert attempts == ["locked"]
