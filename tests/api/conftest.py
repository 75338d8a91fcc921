from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ledger.services import SYSTEM, users
from tests.factories import make_ledger, post

ROLES = ("admin", "officer", "member")


@pytest.fixture
def db(app: Flask) -> Session:
    with app.app_context():
        from ledger.extensions import get_session

        return get_session()


@pytest.fixture
def headers(app: Flask) -> dict[str, dict[str, str]]:
    """Bearer headers for one user of each role."""
    factory = app.extensions["ledger.sessions"]
    result = {}
    with factory() as session:
        for role in ROLES:
            users.add_user(session, email=f"{role}@test.s106", role=role, password=None, actor=SYSTEM)
            # The longest lifetime: some tests freeze the clock years after today's tokens.
            token = users.create_token(session, email=f"{role}@test.s106", actor=SYSTEM,
                                       expires_in_days=users.MAX_TOKEN_LIFETIME_DAYS)
            result[role] = {"Authorization": f"Bearer {token}"}
    return result


@pytest.fixture
def world(app: Flask) -> None:
    """Places, an agreement whose reference contains '/', an obligation, projects and a receipt."""
    factory = app.extensions["ledger.sessions"]
    with factory() as session:
        make_ledger(session)
        post(session, "receipt", "1000.00", date(2020, 6, 1), reference="R-1")
        assert Decimal("1000.00")
