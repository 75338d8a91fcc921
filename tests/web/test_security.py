"""Sign-in, sessions and headers, through the test client (no browser needed)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.models import AuditEvent
from ledger.services import SYSTEM, users


@pytest.fixture
def officer(app: Flask) -> str:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="officer@kent.gov.uk", role="officer", password="correct horse", actor=SYSTEM)
    return "officer@kent.gov.uk"


def csrf(client: FlaskClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str, **kwargs: str) -> object:
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf(client)}, **kwargs)


def test_pages_send_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in response.get_data(as_text=True)


def test_session_cookie_settings(client: FlaskClient, officer: str) -> None:
    response = sign_in(client, officer, "correct horse")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_signing_in_and_out(client: FlaskClient, officer: str) -> None:
    assert client.get("/dashboard").status_code == 302
    response = sign_in(client, officer, "correct horse")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/dashboard").status_code == 200
    token = csrf(client, "/dashboard")
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_next_only_goes_to_this_site(client: FlaskClient, officer: str) -> None:
    token = csrf(client)
    away = client.post("/login?next=https://evil.example/", data={"email": officer, "password": "correct horse",
                                                                  "csrf_token": token})
    assert away.headers["Location"] == "/"
    client.get("/")  # fresh form
    here = client.post("/login?next=/divisions", data={"email": officer, "password": "correct horse",
                                                      "csrf_token": csrf(client)})
    assert here.headers["Location"] == "/divisions"


def test_unknown_email_gets_the_same_answer(client: FlaskClient, officer: str) -> None:
    unknown = sign_in(client, "nobody@kent.gov.uk", "whatever")
    wrong = sign_in(client, officer, "whatever")
    assert unknown.status_code == wrong.status_code == 401
    assert "not right" in unknown.get_data(as_text=True) and "not right" in wrong.get_data(as_text=True)


def test_admin_pages_refuse_officers_with_403_and_audit_it(app: Flask, client: FlaskClient, officer: str) -> None:
    sign_in(client, officer, "correct horse")
    response = client.get("/audit")
    assert response.status_code == 403
    assert "text/html" in response.content_type
    with app.extensions["ledger.sessions"]() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    assert [(e.actor, e.action) for e in refused] == [(officer, "GET /audit")]


def test_agreement_page_title_is_plain_text(app: Flask, client: FlaskClient, officer: str) -> None:
    from tests.factories import make_agreement, make_places

    with app.extensions["ledger.sessions"]() as session:
        make_places(session)
        make_agreement(session, reference="AG/1")
    sign_in(client, officer, "correct horse")
    page = client.get("/agreements/AG/1").get_data(as_text=True)
    assert "<title>Agreement AG/1 \u2013 s106-ledger</title>" in page
    assert page.count("<h2>Instalments</h2>") == 1
