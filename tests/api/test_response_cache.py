"""The response cache of the heavier reads: a repeat is served from memory, and any write,
a new day or another caller's role sees a fresh answer."""

from __future__ import annotations

import sqlite3

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import text

from ledger.db import ledger_revision
from ledger.extensions import get_session
from ledger.services import SYSTEM, users
from ledger.speed.response_cache import CACHED_ENDPOINTS

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
    assert revision(app) > before  # moved by the database's triggers
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


RECEIPT = {"kind": "receipt", "obligation_reference": "20/00001/FUL/1", "occurred_on": "2020-12-01",
           "reason": "remittance"}


def test_a_change_made_with_raw_sql_is_seen_on_the_next_request(app: Flask, client: FlaskClient,
                                                                  headers: dict) -> None:
    assert client.get(BALANCE, headers=headers["member"]).json["received"] == "1000.00"
    with app.extensions["ledger.engine"].begin() as connection:  # not through any service
        connection.execute(text(
            "INSERT INTO entries (reference, kind, obligation_id, amount, occurred_on, created_by, created_at, reason) "
            "SELECT 'RAW-1', 'receipt', id, 5000, '2020-12-01', 'dba', '2020-12-01 00:00:00', 'raw' "
            "FROM obligations WHERE reference = '20/00001/FUL/1'"))
    assert client.get(BALANCE, headers=headers["member"]).json["received"] == "1050.00"


def test_a_restored_backup_never_brings_back_answers_of_other_data(app: Flask, client: FlaskClient,
                                                                    headers: dict, tmp_path) -> None:  # type: ignore[no-untyped-def]
    live = app.extensions["ledger.engine"].url.database
    backup = tmp_path / "backup.sqlite"
    with sqlite3.connect(live) as source, sqlite3.connect(backup) as copy:
        source.backup(copy)
    assert client.post("/api/v1/entries", headers=headers["officer"], json=RECEIPT | {"amount": "10.00"}).status_code == 201
    assert client.get(BALANCE, headers=headers["member"]).json["received"] == "1010.00"  # now cached
    app.extensions["ledger.engine"].dispose()
    with sqlite3.connect(backup) as source, sqlite3.connect(live) as target:
        source.backup(target)  # the ledger as it was before the receipt of 10.00
    assert client.get(BALANCE, headers=headers["member"]).json["received"] == "1000.00"
    assert client.post("/api/v1/entries", headers=headers["officer"], json=RECEIPT | {"amount": "20.00"}).status_code == 201
    assert client.get(BALANCE, headers=headers["member"]).json["received"] == "1020.00"
