"""POST and GET /api/v1/obligations/{reference}/reviews on SQLite and PostgreSQL: recorded,
listed newest first, refused by field, never changed or deleted."""

from __future__ import annotations

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger.models import AuditEvent, Review
from tests.reviews.conftest import OBLIGATION, OBLIGATION_PATH

URL = f"/api/v1/obligations/{OBLIGATION_PATH}/reviews"
GOOD = {"status": "spend-planned", "note": "Primary expansion goes to cabinet in June",
        "owner_email": "Jo.Bloggs@kent.gov.uk", "next_review_on": "2025-06-30"}


def _count(app: Flask, model: type) -> int:
    with app.extensions["ledger.sessions"]() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@freeze_time("2025-03-31 10:00:00")
def test_a_review_is_recorded_and_listed_newest_first(world: Flask, tokens: dict) -> None:
    client = world.test_client()
    first = client.post(URL, json=GOOD, headers=tokens["officer"])
    assert first.status_code == 201, first.json
    assert first.json | {"id": 0, "created_at": ""} == GOOD | {
        "id": 0, "obligation_reference": OBLIGATION, "owner_email": "jo.bloggs@kent.gov.uk",
        "created_by": "officer@test.s106", "created_at": ""}
    second = client.post(URL, json=GOOD | {"status": "variation-sought", "note": "Asked to extend by 2 years",
                                          "next_review_on": "2025-04-30"}, headers=tokens["admin"])
    assert second.status_code == 201
    listed = client.get(URL, headers=tokens["member"])
    assert listed.status_code == 200
    assert [r["status"] for r in listed.json] == ["variation-sought", "spend-planned"]
    [event, _] = [e for e in _events(world) if e.action == "record-review"]
    assert event.target_reference == OBLIGATION and event.reason == GOOD["note"]


def _events(app: Flask) -> list[AuditEvent]:
    with app.extensions["ledger.sessions"]() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


@freeze_time("2025-03-31 10:00:00")
@pytest.mark.parametrize(("change", "field"), [
    ({"status": "ignored"}, "status"),
    ({"note": ""}, "note"),
    ({"note": "   "}, "note"),
    ({"owner_email": "Jo Bloggs"}, "owner_email"),
    ({"next_review_on": "2025-03-30"}, "next_review_on"),
    ({"next_review_on": "31/12/2025"}, "next_review_on"),
], ids=["status", "empty-note", "blank-note", "owner-not-an-address", "next-review-in-the-past", "not-iso"])
def test_a_bad_review_is_refused_by_field_and_writes_nothing(world: Flask, tokens: dict, change: dict,
                                                              field: str) -> None:
    response = world.test_client().post(URL, json=GOOD | change, headers=tokens["officer"])
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in {e["field"].split(".")[-1] for e in response.json["errors"]}, response.json
    assert _count(world, Review) == 0


@freeze_time("2025-03-31 10:00:00")
def test_reviews_of_an_unknown_obligation_are_not_found(world: Flask, tokens: dict) -> None:
    client = world.test_client()
    assert client.post("/api/v1/obligations/NOPE/reviews", json=GOOD, headers=tokens["officer"]).status_code == 404
    assert client.get("/api/v1/obligations/NOPE/reviews", headers=tokens["officer"]).status_code == 404


def test_a_member_reads_reviews_but_cannot_record_one(world: Flask, tokens: dict) -> None:
    client = world.test_client()
    assert client.get(URL, headers=tokens["member"]).status_code == 200
    assert client.post(URL, json=GOOD, headers=tokens["member"]).status_code == 403


@freeze_time("2025-03-31 10:00:00")
def test_reviews_are_append_only(world: Flask, tokens: dict) -> None:
    client = world.test_client()
    review_id = client.post(URL, json=GOOD, headers=tokens["officer"]).json["id"]
    # No route changes or removes one (the path may reach another route, which refuses it)...
    for method in ("put", "patch", "delete"):
        changed = GOOD | {"note": "rewritten"}
        assert getattr(client, method)(f"{URL}/{review_id}", json=changed, headers=tokens["admin"]).status_code >= 400
        assert getattr(client, method)(URL, json=changed, headers=tokens["admin"]).status_code >= 400
    assert [r["note"] for r in client.get(URL, headers=tokens["admin"]).json] == [GOOD["note"]]
    # ...and the database refuses it from anywhere else.
    engine = world.extensions["ledger.engine"]
    for statement in ("UPDATE reviews SET note = 'rewritten'", "DELETE FROM reviews"):
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text(statement))
    assert _count(world, Review) == 1


def test_the_openapi_description_lists_the_reviews(world: Flask) -> None:
    paths = world.test_client().get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/obligations/{reference}/reviews"]) >= {"get", "post"}
