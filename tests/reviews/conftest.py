"""An app on each engine with one obligation holding money, and a token for each role."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from ledger.services import SYSTEM, users
from tests.factories import make_ledger, post

OBLIGATION = "20/00001/FUL/1"
OBLIGATION_PATH = "20%2F00001%2FFUL%2F1"


@pytest.fixture
def world(any_app: Flask) -> Flask:
    """One obligation with £1,000.00 received on 1 June 2015: ten years to spend it."""
    with any_app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        post(session, "receipt", "1000.00", date(2015, 6, 1), reference="R-1")
    return any_app


@pytest.fixture
def tokens(world: Flask) -> dict[str, dict[str, str]]:
    found = {}
    with world.extensions["ledger.sessions"]() as session:
        for role in ("admin", "officer", "member"):
            users.add_user(session, email=f"{role}@test.s106", role=role, password=None, actor=SYSTEM)
            token = users.create_token(session, email=f"{role}@test.s106", actor=SYSTEM,
                                       expires_in_days=users.MAX_TOKEN_LIFETIME_DAYS)
            found[role] = {"Authorization": f"Bearer {token}"}
    return found
