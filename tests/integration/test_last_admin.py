"""At least one active admin always remains (issue 15 item 6): the only active admin cannot
be demoted or disabled, nobody can disable their own account, and sixteen admins demoting
or disabling one another at once, on both engines, leave at least one. PostgreSQL runs
the sixteen truly at once (row locks); SQLite one after another."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.domain.errors import InvalidInput
from ledger.models import AuditEvent, User
from ledger.services import SYSTEM, Actor, users
from tests.threads import all_at_once, app_for_threads

THREADS = 16


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    with app_for_threads(database_url, THREADS) as application:
        yield application


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with app.extensions["ledger.sessions"]() as session:
        yield session


def add_admins(session: Session, count: int) -> list[str]:
    emails = [f"admin{n}@test.s106" for n in range(count)]
    for email in emails:
        users.add_user(session, email=email, role="admin", password=None, actor=SYSTEM)
    return emails


def active_admins(session: Session) -> list[str]:
    session.rollback()  # read afresh, after the racers committed
    return list(session.scalars(select(User.email).where(User.role == "admin", User.disabled_at.is_(None))))


def as_admin(email: str) -> Actor:
    return Actor(email=email, role="admin", division_code=None)


def test_the_only_admin_cannot_be_demoted_or_disabled_and_nothing_is_written(db: Session) -> None:
    [admin] = add_admins(db, 1)
    users.add_user(db, email="officer@test.s106", role="officer", password=None, actor=SYSTEM)
    audited = db.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(InvalidInput) as demoted:
        users.change_user(db, admin, role="officer", actor=SYSTEM, reason="reorganised")
    assert demoted.value.errors == {"role": [users.LAST_ADMIN_ROLE]}
    with pytest.raises(InvalidInput) as disabled:
        users.change_user(db, admin, disabled=True, actor=SYSTEM, reason="left")
    assert disabled.value.errors == {"disabled": [users.LAST_ADMIN_DISABLED]}
    assert active_admins(db) == [admin]
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == audited
    # What does not take an admin away is still allowed.
    users.change_user(db, admin, role="admin", division_code=None, actor=SYSTEM, reason="no change")
    users.change_user(db, "officer@test.s106", disabled=True, actor=as_admin(admin), reason="left")


def test_an_admin_may_be_demoted_or_disabled_while_another_remains_but_not_by_themselves(db: Session) -> None:
    first, second, third = add_admins(db, 3)
    with pytest.raises(InvalidInput) as own:
        users.change_user(db, first, disabled=True, actor=as_admin(first), reason="going")
    assert own.value.errors == {"disabled": [users.OWN_ACCOUNT_DISABLED]}
    users.change_user(db, first, role="officer", actor=as_admin(first), reason="stepping down")  # their own role
    users.change_user(db, second, disabled=True, actor=as_admin(third), reason="left")
    with pytest.raises(InvalidInput):
        users.change_user(db, third, role="member", actor=SYSTEM, reason="the last one")
    assert active_admins(db) == [third]
    # A disabled admin does not count, and enabling them again makes two.
    users.change_user(db, second, disabled=False, actor=as_admin(third), reason="back")
    users.change_user(db, third, role="officer", actor=as_admin(second), reason="now allowed")
    assert active_admins(db) == [second]


@pytest.mark.parametrize("how", ["demote", "disable"])
def test_sixteen_admins_taking_away_one_another_at_once_leave_at_least_one(app: Flask, db: Session, how: str) -> None:
    admins = add_admins(db, THREADS)
    sessions = [app.extensions["ledger.sessions"]() for _ in range(THREADS)]

    def take_away(n: int) -> str:
        # Each admin takes away the next, round the ring: without the lock every one succeeds.
        target, actor = admins[(n + 1) % THREADS], as_admin(admins[n])
        try:
            if how == "demote":
                users.change_user(sessions[n], target, role="officer", actor=actor, reason="race")
            else:
                users.change_user(sessions[n], target, disabled=True, actor=actor, reason="race")
        except InvalidInput as refused:
            assert refused.errors in ({"role": [users.LAST_ADMIN_ROLE]}, {"disabled": [users.LAST_ADMIN_DISABLED]})
            return "refused"
        return "done"

    try:
        outcomes = Counter(str(result) for result in all_at_once(THREADS, take_away))
    finally:
        for session in sessions:
            session.close()
    remaining = active_admins(db)
    assert len(remaining) >= 1, outcomes
    # Every call either took an admin away or was refused as the last: no error of any other kind.
    assert set(outcomes) <= {"done", "refused"}, outcomes
    assert outcomes["done"] == THREADS - len(remaining)
    changes = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "change-user",
                                                                            AuditEvent.reason == "race"))
    assert changes == outcomes["done"]


def test_the_api_refuses_with_a_422_naming_the_field(app: Flask, db: Session) -> None:
    [admin] = add_admins(db, 1)
    bearer = {"Authorization": f"Bearer {users.create_token(db, email=admin, actor=SYSTEM)}"}
    client = app.test_client()
    for change, field, message in (({"role": "officer"}, "role", users.LAST_ADMIN_ROLE),
                                   ({"disabled": True}, "disabled", users.OWN_ACCOUNT_DISABLED)):
        answer = client.patch(f"/api/v1/users/{admin}", headers=bearer, json=change)
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
        assert answer.json["errors"] == [{"field": field, "detail": message}]
    assert active_admins(db) == [admin]
    assert client.get("/api/v1/users", headers=bearer).status_code == 200  # still signed in, still an admin
