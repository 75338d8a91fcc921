"""The response cache of the heavier reads: a repeat is served from memory, and any write,
a new day or another caller's role sees a fresh answer."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from ledger.api.cache import CACHED_ENDPOINTS
from ledger.db import ledger_revision
from ledger.extensions import get_session
from ledger.services import SYSTEM, users

BALANCE = "/api/v1/obligations/20%2F00001%2FFUL%2F1/balance?on=2021-01-01"
SUMMARY = "/api/v1/divisions/ashford-central/summary?on=2029-07-01"
pytestmark = pytest.mark.usefixtures("world")


def revision(app: Flask) -> int | None:
    with app.app_context():
        return ledger_revision(get_session())


def test_every_cached_endpoint_exists(app: Flask) -> None:
    assert {rule.endpoint for rule in app.url_map.iter_rules()} >= CACHED_ENDPOINTS


def test_a_repeat_is_served_from_the_cache_until_a_write(app: Flask, client: FlaskClient, headers: dict) -> None:
    cache = app.extensions["ledger.response_cache"]
    first = client.get(BALANCE, headers=headers["member"])
    [key] = cache.stored_keys()
    again = client.get(BALANCE, headers=headers["member"])
    assert again.data == first.data and again.headers["Content-Type"] == "application/json"
    assert cache.stored_keys() == [key]  # nothing new was computed
    before = revision(app)
    spend = client.post("/api/v1/entries", headers=headers["officer"], json={
        "kind": "spend", "obligation_reference": "20/00001/FUL/1", "amount": "400.00",
        "occurred_on": "2021-01-01", "project_reference": "PRJ-1", "reason": "school extension"})
    assert spend.status_code == 201
    assert revision(app) == before + 1  # one write transaction, one step (auto-allocation included)
    after = client.get(BALANCE, headers=headers["member"]).json
    assert (after["spent"], after["held"]) == ("400.00", "600.00")
    assert key[0] == before and len(cache.stored_keys()) == 2


def test_a_refused_write_moves_nothing_it_did_not_change(app: Flask, client: FlaskClient, headers: dict) -> None:
    held = client.get(SUMMARY, headers=headers["member"]).json["held"]
    refused = client.post("/api/v1/entries", headers=headers["officer"], json={
        "kind": "spend", "obligation_reference": "20/00001/FUL/1", "amount": "99999.00",
        "occurred_on": "2021-01-01", "project_reference": "PRJ-1", "reason": "too much"})
    assert refused.status_code == 422
    assert client.get(SUMMARY, headers=headers["member"]).json["held"] == held == "1000.00"


def test_the_key_holds_the_day_and_the_callers_role(app: Flask, client: FlaskClient, headers: dict) -> None:
    cache = app.extensions["ledger.response_cache"]
    path = "/api/v1/at-risk"  # as_of defaults to today: the band moves with the day
    with freeze_time("2029-06-01"):
        assert client.get(path, headers=headers["member"]).json[0]["band"] == "red"
    with freeze_time("2030-06-02"):
        assert client.get(path, headers=headers["member"]).json[0]["band"] == "overdue"
        client.get(path, headers=headers["officer"])
    assert {(key[1].isoformat(), key[2]) for key in cache.stored_keys()} == {
        ("2029-06-01", "member"), ("2030-06-02", "member"), ("2030-06-02", "officer")}


def test_errors_are_not_kept(app: Flask, client: FlaskClient, headers: dict) -> None:
    cache = app.extensions["ledger.response_cache"]
    assert client.get("/api/v1/divisions/nowhere/summary", headers=headers["member"]).status_code == 404
    assert cache.stored_keys() == []


def test_refused_requests_and_new_tokens_leave_the_revision_alone(app: Flask, client: FlaskClient, headers: dict) -> None:
    before = revision(app)
    assert client.get(BALANCE, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    with app.app_context():
        users.create_token(get_session(), email="member@test.s106", actor=SYSTEM)
    assert revision(app) == before
