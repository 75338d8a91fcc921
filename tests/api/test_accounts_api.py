"""Users and tokens through the API: admins only, audited, refused at once when revoked,
expired or disabled; answers not for caches; floods of refusals counted, not stored each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from ledger.models import AuditEvent
from ledger.services import SYSTEM, users
from tests.factories import make_ledger, post

NOW = "2026-01-05 10:00:00"


@pytest.fixture
def bearer(app: Flask) -> Iterator[dict[str, dict[str, str]]]:
    """Bearer headers for an admin, an officer and a member, all on 5 January 2026."""
    with freeze_time(NOW), app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        post(session, "receipt", "1000.00", date(2020, 6, 1), reference="R-1")
        result = {}
        for role in ("admin", "officer", "member"):
            users.add_user(session, email=f"{role}@test.s106", role=role, password=None, actor=SYSTEM)
            result[role] = {"Authorization": f"Bearer {users.create_token(session, email=f'{role}@test.s106', actor=SYSTEM)}"}
        yield result


def audit_events(app: Flask, *where: object) -> list[AuditEvent]:
    with app.extensions["ledger.sessions"]() as session:
        return list(session.scalars(select(AuditEvent).where(*where).order_by(AuditEvent.id)))


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/tokens", "/api/v1/users/admin@test.s106",
                                  "/api/v1/tokens/1"])
def test_only_admins_manage_users_and_tokens(client: FlaskClient, bearer: dict, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer["member"]).status_code == 403
    assert client.get(path, headers=bearer["officer"]).status_code == 403
    assert client.get(path, headers=bearer["admin"]).status_code == 200
    assert client.delete("/api/v1/tokens/1", headers=bearer["officer"]).status_code == 403


def test_an_admin_adds_and_changes_a_user(app: Flask, client: FlaskClient, bearer: dict) -> None:
    admin = bearer["admin"]
    created = client.post("/api/v1/users", headers=admin, json={
        "email": "New@Kent.gov.uk", "role": "member", "division_code": "ashford-central", "password": "long enough"})
    assert created.status_code == 201
    assert created.json == {"email": "new@kent.gov.uk", "name": "new", "role": "member",
                            "division_code": "ashford-central", "disabled": False, "disabled_at": None,
                            "has_password": True, "created_at": "2026-01-05T10:00:00+00:00"}
    again = client.post("/api/v1/users", headers=admin, json={"email": "new@kent.gov.uk", "role": "member"})
    assert again.status_code == 409
    changed = client.patch("/api/v1/users/new@kent.gov.uk", headers=admin,
                           json={"role": "officer", "division_code": None})
    assert changed.status_code == 200 and (changed.json["role"], changed.json["division_code"]) == ("officer", None)
    assert [u["email"] for u in client.get("/api/v1/users", headers=admin).json] == [
        "admin@test.s106", "member@test.s106", "new@kent.gov.uk", "officer@test.s106"]
    [change] = audit_events(app, AuditEvent.action == "change-user")
    assert (change.actor, change.target_reference) == ("admin@test.s106", "new@kent.gov.uk")
    assert (change.before["role"], change.after["role"]) == ("member", "officer")  # type: ignore[index]


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "x@kent.gov.uk", "role": "king"}, "role"),
    ({"email": "not-an-email", "role": "member"}, "email"),
    ({"email": "x\x00@kent.gov.uk", "role": "member"}, "email"),
    ({"email": "x@kent.gov.uk", "role": "member", "password": "short"}, "password"),
    ({"email": "x@kent.gov.uk", "role": "member", "password": "p" * 1025}, "password"),
    ({"email": "x@kent.gov.uk", "role": "member", "password": "correct horse\ud800"}, "password"),
    ({"email": "x@kent.gov.uk", "role": "member", "division_code": "nowhere"}, "division_code"),
    ({"email": "x@kent.gov.uk", "role": "member", "name": "n" * 256}, "name"),
    ({"email": "x@kent.gov.uk", "role": "member", "is_admin": True}, "is_admin"),
])
def test_a_bad_user_is_refused_naming_the_field(app: Flask, client: FlaskClient, bearer: dict, body: dict,
                                                field: str) -> None:
    response = client.post("/api/v1/users", headers=bearer["admin"], json=body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.json["errors"]}
    assert audit_events(app, AuditEvent.action == "create-user", AuditEvent.target_reference == "x@kent.gov.uk") == []


def test_a_token_is_shown_once_listed_by_prefix_and_refused_at_once_when_revoked(
    app: Flask, client: FlaskClient, bearer: dict,
) -> None:
    admin = bearer["admin"]
    with freeze_time(NOW):
        created = client.post("/api/v1/tokens", headers=admin, json={"email": "officer@test.s106",
                                                                     "expires_in_days": 30})
        assert created.status_code == 201
        token = created.json["token"]
        assert created.json["expires_at"] == "2026-02-04T10:00:00+00:00"
        officer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/agreements", headers=officer).status_code == 200
        listed = client.get("/api/v1/tokens", query_string={"email": "officer@test.s106"}, headers=admin).json
        assert [t["prefix"] for t in listed] == [token[:10], listed[1]["prefix"]]
        assert listed[0]["last_used_at"] == "2026-01-05T10:00:00+00:00" and listed[0]["state"] == "active"
        assert token not in json.dumps(listed)
        revoked = client.post(f"/api/v1/tokens/{created.json['id']}/revocation", headers=admin)
        assert revoked.status_code == 200 and revoked.json["state"] == "revoked"
        refused = client.get("/api/v1/agreements", headers=officer)
        assert refused.status_code == 401 and "revoked" in refused.json["detail"]
        other = listed[1]["id"]
        assert client.delete(f"/api/v1/tokens/{other}", headers=admin).status_code == 204
        assert client.get("/api/v1/agreements", headers=bearer["officer"]).status_code == 401
        assert client.delete("/api/v1/tokens/999", headers=admin).status_code == 404
    stored = json.dumps([(e.before, e.after, e.reason) for e in audit_events(app)])
    assert token not in stored and "scrypt" not in stored and "token_hash" not in stored
    assert [e.action for e in audit_events(app, AuditEvent.target_type == "api_tokens")] == [
        "create-token", "create-token", "create-token", "create-token", "revoke-token", "revoke-token"]


def test_an_expired_token_is_refused(client: FlaskClient, bearer: dict) -> None:
    with freeze_time("2027-01-05 09:59:59"):
        assert client.get("/api/v1/agreements", headers=bearer["member"]).status_code == 200
    with freeze_time("2027-01-05 10:00:00"):
        assert client.get("/api/v1/agreements", headers=bearer["member"]).status_code == 401


@pytest.mark.parametrize("days", [0, 3651, "thirty", 1.5, None])
def test_a_token_lives_one_day_to_ten_years(client: FlaskClient, bearer: dict, days: object) -> None:
    response = client.post("/api/v1/tokens", headers=bearer["admin"],
                           json={"email": "member@test.s106", "expires_in_days": days})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "expires_in_days"


def test_a_disabled_users_tokens_are_refused_until_enabled(client: FlaskClient, bearer: dict) -> None:
    with freeze_time(NOW):
        patch = client.patch("/api/v1/users/member@test.s106", headers=bearer["admin"], json={"disabled": True})
        assert patch.status_code == 200 and patch.json["disabled"] is True
        assert client.get("/api/v1/agreements", headers=bearer["member"]).status_code == 401
        assert client.get("/api/v1/tokens", headers=bearer["admin"]).json[0]["state"] == "disabled-user"
        client.patch("/api/v1/users/member@test.s106", headers=bearer["admin"], json={"disabled": False})
        assert client.get("/api/v1/agreements", headers=bearer["member"]).status_code == 200


def test_an_admin_unlocks_an_account_through_the_api(app: Flask, client: FlaskClient, bearer: dict) -> None:
    assert client.post("/api/v1/users/member@test.s106/unlock", headers=bearer["admin"]).status_code == 204
    assert client.post("/api/v1/users/nobody@test.s106/unlock", headers=bearer["admin"]).status_code == 404
    assert [e.actor for e in audit_events(app, AuditEvent.action == "unlock-user")] == ["admin@test.s106"]


def test_answers_to_a_token_are_not_for_caches(client: FlaskClient, bearer: dict) -> None:
    with freeze_time(NOW):
        for path in ("/api/v1/agreements", "/api/v1/at-risk", "/api/v1/reports/ifs?year=2020"):
            assert client.get(path, headers=bearer["admin"]).headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client.get("/health").headers.get("Cache-Control", "")


def test_noting_a_tokens_use_keeps_the_response_cache(app: Flask, client: FlaskClient, bearer: dict) -> None:
    cache = app.extensions["ledger.response_cache"]
    path = "/api/v1/obligations/20%2F00001%2FFUL%2F1/balance"
    with freeze_time(NOW) as frozen:
        first = client.get(path, headers=bearer["member"])
        frozen.tick(11 * 60)  # the token's last use is written again
        second = client.get(path, headers=bearer["member"])
    assert first.status_code == second.status_code == 200
    assert len(cache.stored_keys()) == 1  # the second came from the cache: the revision stood still


def test_a_flood_of_refused_requests_adds_a_row_a_minute(app: Flask, client: FlaskClient, bearer: dict) -> None:
    with freeze_time(NOW) as frozen:
        for n in range(200):
            client.open(f"/api/v1/x{n}/{'y' * n}", method=("GET", "POST", "BREW")[n % 3])
            client.get("/api/v1/agreements", headers={"Authorization": f"Bearer s106_{n}"})
            client.get(f"/api/v1/users/u{n}@x", headers=bearer["member"])
        frozen.tick(60)
        client.get("/api/v1/agreements")
    rows = audit_events(app, AuditEvent.outcome == "refused")
    assert [(r.actor, r.reason, r.count) for r in rows] == [
        ("anonymous", "a bearer token is required", 200),
        ("anonymous", "the bearer token is unknown, expired or revoked, or its user disabled", 200),
        ("member@test.s106", "the member role cannot GET /api/v1/users/<email>", 200),
        ("anonymous", "a bearer token is required", 1),
    ]
    assert rows[0].action == "GET (no such path)" and rows[0].target_reference == "/api/v1/x0/"


@pytest.mark.parametrize("odd", ["\ud800", "\udcff", "\x00", "é", "\x9b", " s106_x", "s106_" + "A" * 44],
                         ids=["lone-surrogate", "surrogate-escape", "nul", "latin-1", "c1-control", "space",
                              "too-long"])
def test_a_token_not_of_a_tokens_shape_is_unknown_a_401(app: Flask, client: FlaskClient, bearer: dict,
                                                        odd: str) -> None:
    """A real server hands the header over as Latin-1; a WSGI environ can hold anything."""
    good = bearer["officer"]["Authorization"]
    for header in (f"Bearer {odd}", f"{good}{odd}", f"Bearer {odd}{good.split()[1]}"):
        with freeze_time(NOW):
            response = client.get("/api/v1/agreements", environ_base={"HTTP_AUTHORIZATION": header})
        assert response.status_code == 401, header
        assert response.content_type == "application/problem+json"
    assert {r.reason for r in audit_events(app, AuditEvent.outcome == "refused")} == {
        "the bearer token is unknown, expired or revoked, or its user disabled"}


def test_a_new_password_with_a_lone_surrogate_is_refused_naming_it(app: Flask, client: FlaskClient,
                                                                   bearer: dict) -> None:
    with freeze_time(NOW):
        response = client.patch("/api/v1/users/member@test.s106", headers=bearer["admin"],
                                json={"password": "\udcff" * 8})
    assert response.status_code == 422 and {e["field"] for e in response.json["errors"]} == {"password"}
    assert audit_events(app, AuditEvent.action == "change-user") == []
