"""Each request stands alone even under an outer app context (a CLI command's, as `s106
serve` once had): what one request put on ``g`` is gone before the next begins."""

from __future__ import annotations

import re

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from ledger.services import SYSTEM, users

PASSWORD = "correct horse"


@pytest.fixture
def people(app: Flask) -> dict[str, str]:
    """An admin's bearer header value and a member's email."""
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="admin@test.s106", role="admin", password=None, actor=SYSTEM)
        users.add_user(session, email="member@test.s106", role="member", password=PASSWORD, actor=SYSTEM)
        token = users.create_token(session, email="admin@test.s106", actor=SYSTEM)
    return {"admin": f"Bearer {token}", "member": "member@test.s106"}


def test_an_anonymous_request_after_an_admins_is_anonymous(app: Flask, client: FlaskClient,
                                                              people: dict[str, str]) -> None:
    with app.app_context():
        assert client.get("/api/v1/agreements", headers={"Authorization": people["admin"]}).status_code == 200
        assert client.get("/dashboard").status_code == 302
        assert client.get("/api/v1/agreements").status_code == 401
        assert not {"actor", "ledger_session", "response_cache_key", "csrf_token", "_flask_smorest"} & set(vars(g))


def test_signing_in_under_a_shared_app_context(app: Flask, people: dict[str, str]) -> None:
    with app.app_context():
        for _ in range(2):  # the second visitor must not be handed the first one's CSRF token
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            signed_in = client.post("/login", data={"email": people["member"], "password": PASSWORD,
                                                    "csrf_token": token.group(1)})
            assert signed_in.status_code == 302
            assert people["member"] in client.get("/dashboard").get_data(as_text=True)
