"""Every endpoint for each role, the problem-details errors and the money contract."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ledger.models import AuditEvent, Entry

pytestmark = pytest.mark.usefixtures("world")

READS = [
    "/api/v1/authorities",
    "/api/v1/authorities/E07000105",
    "/api/v1/divisions",
    "/api/v1/divisions/ashford-central",
    "/api/v1/divisions/ashford-central/summary?on=2024-01-01",
    "/api/v1/agreements",
    "/api/v1/agreements/20%2F00001%2FFUL",
    "/api/v1/agreements/20%2F00001%2FFUL/obligations",
    "/api/v1/obligations",
    "/api/v1/obligations/20%2F00001%2FFUL%2F1",
    "/api/v1/obligations/20%2F00001%2FFUL%2F1/balance?on=2024-01-01",
    "/api/v1/projects",
    "/api/v1/projects/PRJ-1",
    "/api/v1/entries",
    "/api/v1/entries/1",
    "/api/v1/at-risk?as_of=2024-01-01",
]

WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/v1/authorities", {"code": "E07000106", "name": "Canterbury City Council", "kind": "district"}),
    ("POST", "/api/v1/divisions", {"code": "herne-bay-east", "name": "Herne Bay East", "authority_code": "E07000105"}),
    ("POST", "/api/v1/agreements", {"reference": "21/00002/OUT", "type": "section-106",
                                    "authority_code": "E07000105", "signed_on": "2021-02-01"}),
    ("POST", "/api/v1/agreements/20%2F00001%2FFUL/obligations",
     {"reference": "20/00001/FUL/9", "purpose": "highways", "service": "highways", "amount": "2500.00"}),
    ("POST", "/api/v1/projects", {"reference": "PRJ-9", "name": "Junction works", "service": "highways"}),
    ("POST", "/api/v1/entries", {"kind": "allocation", "obligation_reference": "20/00001/FUL/1",
                                 "amount": "100.00", "occurred_on": "2020-07-01", "project_reference": "PRJ-1",
                                 "reason": "capital programme board"}),
    ("POST", "/api/v1/entries/1/reversal", {"reason": "keyed against the wrong obligation"}),
    ("PATCH", "/api/v1/agreements/20%2F00001%2FFUL", {"completion_on": "2023-03-01", "reason": "district reported"}),
]


def entry_count(app: Flask) -> int:
    with app.extensions["ledger.sessions"]() as session:
        return session.scalar(select(func.count()).select_from(Entry)) or 0


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("role", ["admin", "officer", "member"])
def test_every_role_can_read(client: FlaskClient, headers: dict, path: str, role: str) -> None:
    response = client.get(path, headers=headers[role])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_json


@pytest.mark.parametrize("path", [*READS, "/api/v1/audit"])
def test_anonymous_requests_get_401(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_token_gets_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/agreements", headers={"Authorization": "Bearer s106_not-a-token"})
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[w[1] for w in WRITES])
@pytest.mark.parametrize(("role", "allowed"), [("admin", True), ("officer", True), ("member", False)])
def test_officers_and_admins_write_members_cannot(
    client: FlaskClient, headers: dict, method: str, path: str, body: dict, role: str, allowed: bool
) -> None:
    response = client.open(path, method=method, json=body, headers=headers[role])
    if allowed:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        if method == "POST":
            assert response.status_code == 201
            assert isinstance(response.json["id"], int)
    else:
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("officer", 403), ("member", 403)])
def test_only_admins_read_the_audit_log(client: FlaskClient, headers: dict, role: str, status: int) -> None:
    assert client.get("/api/v1/audit", headers=headers[role]).status_code == status


def test_refused_requests_are_audited(app: Flask, client: FlaskClient, headers: dict) -> None:
    client.post("/api/v1/projects", json={}, headers=headers["member"])
    client.get("/api/v1/agreements")
    with app.extensions["ledger.sessions"]() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    assert [(e.actor, e.action) for e in refused] == [
        ("member@test.s106", "POST /api/v1/projects"), ("anonymous", "GET /api/v1/agreements")]


GOOD_ENTRY = {"kind": "receipt", "obligation_reference": "20/00001/FUL/1", "amount": "10.00",
              "occurred_on": "2021-01-01", "reason": "instalment 2"}

BAD_ENTRIES = [
    ({"amount": 10.5}, "amount"),
    ({"amount": 10}, "amount"),
    ({"amount": "10.001"}, "amount"),
    ({"amount": "-10.00"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": ""}, "amount"),
    ({"amount": "0.00"}, "amount"),
    ({"amount": None}, "amount"),
    ({"reason": None}, "reason"),
    ({"reason": ""}, "reason"),
    ({"colour": "red"}, "colour"),
    ({"occurred_on": "2021-02-30"}, "occurred_on"),
    ({"occurred_on": "31/01/2021"}, "occurred_on"),
    ({"kind": "gift"}, "kind"),
    ({"obligation_reference": "NOPE/1"}, "obligation_reference"),
    ({"kind": "allocation", "project_reference": "NOPE"}, "project_reference"),
    ({"kind": "allocation"}, "project_reference"),
    ({"interest": "20.00"}, "interest"),
]


@pytest.mark.parametrize(
    ("change", "field"), BAD_ENTRIES,
    ids=["json-float", "json-integer", "third-decimal", "negative", "nan", "empty", "zero", "null", "null-reason",
         "empty-reason", "unknown-field", "impossible-date", "uk-date", "unknown-kind", "unknown-obligation",
         "unknown-project", "missing-project", "interest-over-amount"],
)
def test_bad_entry_is_422_naming_the_field_and_writes_nothing(
    app: Flask, client: FlaskClient, headers: dict, change: dict, field: str
) -> None:
    before = entry_count(app)
    response = client.post("/api/v1/entries", json=GOOD_ENTRY | change, headers=headers["officer"])
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["status"] == 422
    assert field in {e["field"] for e in problem["errors"]}, problem
    assert field in problem["detail"]
    assert entry_count(app) == before


@pytest.mark.parametrize("missing", ["kind", "obligation_reference", "amount", "occurred_on", "reason"])
def test_missing_field_is_422_naming_it(client: FlaskClient, headers: dict, missing: str) -> None:
    body = {k: v for k, v in GOOD_ENTRY.items() if k != missing}
    response = client.post("/api/v1/entries", json=body, headers=headers["officer"])
    assert response.status_code == 422
    assert missing in {e["field"] for e in response.json["errors"]}


def test_raw_nan_literal_for_money_is_refused(app: Flask, client: FlaskClient, headers: dict) -> None:
    raw = json.dumps(GOOD_ENTRY).replace('"10.00"', "NaN")
    response = client.post("/api/v1/entries", data=raw, content_type="application/json", headers=headers["officer"])
    assert response.status_code == 422
    assert "amount" in {e["field"] for e in response.json["errors"]}


@pytest.mark.parametrize(
    "path", ["/api/v1/agreements/NOPE", "/api/v1/obligations/NOPE/balance", "/api/v1/entries/999",
             "/api/v1/divisions/nowhere/summary", "/api/v1/projects/NOPE", "/api/v1/authorities/E0"],
)
def test_unknown_path_resource_is_404_problem(client: FlaskClient, headers: dict, path: str) -> None:
    response = client.get(path, headers=headers["member"])
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_reversal_of_unknown_entry_is_404(client: FlaskClient, headers: dict) -> None:
    response = client.post("/api/v1/entries/999/reversal", json={"reason": "x"}, headers=headers["officer"])
    assert response.status_code == 404


def test_entries_are_idempotent_on_kind_and_reference(app: Flask, client: FlaskClient, headers: dict) -> None:
    body = GOOD_ENTRY | {"reference": "FIN/2021/0001"}
    first = client.post("/api/v1/entries", json=body, headers=headers["officer"])
    again = client.post("/api/v1/entries", json=body, headers=headers["officer"])
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json
    conflict = client.post("/api/v1/entries", json=body | {"amount": "11.00"}, headers=headers["officer"])
    assert conflict.status_code == 409
    assert conflict.json["errors"][0]["field"] == "reference"


def test_spend_beyond_money_held_is_422_naming_the_invariant(app: Flask, client: FlaskClient, headers: dict) -> None:
    before = entry_count(app)
    response = client.post("/api/v1/entries", headers=headers["officer"], json={
        "kind": "spend", "obligation_reference": "20/00001/FUL/1", "amount": "1000.01",
        "occurred_on": "2021-01-01", "project_reference": "PRJ-1", "reason": "too much"})
    assert response.status_code == 422
    assert "held-not-negative" in response.json["detail"]
    assert entry_count(app) == before


def test_spend_money_and_see_the_balance(client: FlaskClient, headers: dict) -> None:
    spend = client.post("/api/v1/entries", headers=headers["officer"], json={
        "kind": "spend", "obligation_reference": "20/00001/FUL/1", "amount": "400.00",
        "occurred_on": "2021-01-01", "project_reference": "PRJ-1", "reason": "school extension"})
    assert spend.status_code == 201
    assert spend.json["amount"] == "400.00"
    balance = client.get("/api/v1/obligations/20%2F00001%2FFUL%2F1/balance?on=2021-01-01", headers=headers["member"]).json
    assert {k: balance[k] for k in ("received", "spent", "held", "allocated_unspent", "unallocated")} == {
        "received": "1000.00", "spent": "400.00", "held": "600.00", "allocated_unspent": "0.00",
        "unallocated": "600.00"}
    assert balance["receipts"] == [{
        "reference": "R-1", "received_on": "2020-06-01", "amount": "1000.00", "remaining": "600.00",
        "allocated": "0.00", "unallocated": "600.00", "deadline": "2030-06-01", "band": "green"}]


def test_reversal_endpoint(client: FlaskClient, headers: dict) -> None:
    response = client.post("/api/v1/entries/1/reversal", json={"reason": "bounced cheque"}, headers=headers["officer"])
    assert response.status_code == 201
    assert (response.json["reverses"], response.json["amount"], response.json["kind"]) == (1, "1000.00", "receipt")
    assert client.post("/api/v1/entries/1/reversal", json={"reason": "again"},
                       headers=headers["officer"]).status_code == 409
    assert client.post("/api/v1/entries/1/reversal", json={}, headers=headers["officer"]).status_code == 422


def test_references_with_slashes_work_encoded_or_not(client: FlaskClient, headers: dict) -> None:
    encoded = client.get("/api/v1/agreements/20%2F00001%2FFUL", headers=headers["member"])
    plain = client.get("/api/v1/agreements/20/00001/FUL", headers=headers["member"])
    assert encoded.json["reference"] == plain.json["reference"] == "20/00001/FUL"


def test_collections_are_paginated_and_filtered(client: FlaskClient, headers: dict) -> None:
    for n in range(3):
        client.post("/api/v1/projects", headers=headers["officer"],
                    json={"reference": f"H-{n}", "name": f"Road {n}", "service": "highways"})
    page = client.get("/api/v1/projects?page=1&page_size=2", headers=headers["member"])
    assert len(page.json) == 2
    assert json.loads(page.headers["X-Pagination"])["total"] == 5
    highways = client.get("/api/v1/projects?service=highways", headers=headers["member"]).json
    assert {p["reference"] for p in highways} == {"H-0", "H-1", "H-2"}
    by_division = client.get("/api/v1/agreements?division=ashford-central", headers=headers["member"]).json
    assert [a["reference"] for a in by_division] == ["20/00001/FUL"]
    assert client.get("/api/v1/agreements?purpose=highways", headers=headers["member"]).json == []
    assert len(client.get("/api/v1/obligations?authority=E07000105", headers=headers["member"]).json) == 1
    assert client.get("/api/v1/entries?service=highways", headers=headers["member"]).json == []
    assert client.get("/api/v1/at-risk?as_of=2030-01-01&division=ashford-central",
                      headers=headers["member"]).json[0]["band"] == "red"


def test_at_risk_items_have_exactly_the_spec_fields(client: FlaskClient, headers: dict) -> None:
    [item] = client.get("/api/v1/at-risk?as_of=2029-01-01", headers=headers["member"]).json
    assert list(item) == ["agreement_reference", "obligation_reference", "authority_code", "division_code",
                          "purpose", "service", "receipt_reference", "received_on", "deadline", "remaining",
                          "allocated", "unallocated", "band"]


def test_division_summary(client: FlaskClient, headers: dict) -> None:
    summary = client.get("/api/v1/divisions/ashford-central/summary?on=2029-07-01", headers=headers["member"]).json
    assert (summary["secured"], summary["received"], summary["held"]) == ("100000.00", "1000.00", "1000.00")
    assert {b["band"]: b["remaining"] for b in summary["at_risk"]}["red"] == "1000.00"


def test_obligation_defaults_and_bad_vocabulary(client: FlaskClient, headers: dict) -> None:
    created = client.post("/api/v1/agreements/20%2F00001%2FFUL/obligations", headers=headers["officer"],
                          json={"reference": "X/1", "purpose": "education", "service": "send", "amount": None,
                                "units": 12, "unit_kind": "school-places", "school_category": "send"}).json
    # No terms given and none set for the authority: unknown, never invented (SPEC 8.2).
    assert (created["repayment_years"], created["repayment_basis"], created["index"]) == (None, "unknown", "none")
    bad = client.post("/api/v1/agreements/20%2F00001%2FFUL/obligations", headers=headers["officer"],
                      json={"reference": "X/2", "purpose": "schools", "service": "Send Team"})
    assert {e["field"] for e in bad.json["errors"]} == {"purpose", "service"}
    missing_agreement = client.post("/api/v1/agreements/NOPE/obligations", headers=headers["officer"],
                                    json={"reference": "X/3", "purpose": "education", "service": "send"})
    assert missing_agreement.status_code == 404


def test_duplicate_reference_data_is_409(client: FlaskClient, headers: dict) -> None:
    response = client.post("/api/v1/projects", headers=headers["officer"],
                           json={"reference": "PRJ-1", "name": "again", "service": "highways"})
    assert response.status_code == 409
    assert response.json["errors"][0]["field"] == "reference"


def test_openapi_describes_the_api(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path in ("/api/v1/entries", "/api/v1/entries/{entry_id}/reversal", "/api/v1/at-risk",
                 "/api/v1/obligations/{reference}/balance", "/api/v1/divisions/{code}/summary", "/api/v1/audit"):
        assert path in spec["paths"], path
    assert spec["components"]["schemas"]["EntryIn"]["properties"]["amount"]["type"] == "string"


def test_health_is_public(client: FlaskClient) -> None:
    assert client.get("/health").json["status"] == "ok"
