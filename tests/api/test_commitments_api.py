"""Commitments and terms from a date through the JSON API (SPEC 8.2, 8.7): the two kinds
recorded with a project and refused as problem details naming the field and the limit, the
obligation flag in and out, committed money in the balance and the at-risk items, and an
obligation's terms changed from a date, alone or by a deed of variation, with its history."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

OB = "20%2F00001%2FFUL%2F1"
ENTRIES = "/api/v1/entries"


def entry(kind: str, amount: str, on: str, **extra: str) -> dict[str, str]:
    return {"kind": kind, "obligation_reference": "20/00001/FUL/1", "amount": amount, "occurred_on": on,
            "reason": "api test", **extra}


@pytest.fixture
def committed(client: FlaskClient, headers: dict[str, dict[str, str]], world: None) -> FlaskClient:
    """The world's £1,000 receipt of 1 June 2020: £600 allocated to PRJ-1, £400 committed."""
    for body in (entry("allocation", "600.00", "2020-07-01", project_reference="PRJ-1"),
                 entry("commitment", "400.00", "2020-08-01", project_reference="PRJ-1", reference="C-1")):
        response = client.post(ENTRIES, json=body, headers=headers["officer"])
        assert response.status_code == 201, response.json
    return client


def balance(client: FlaskClient, headers: dict[str, dict[str, str]], on: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/obligations/{OB}/balance?on={on}", headers=headers["member"])
    assert response.status_code == 200
    return response.json  # type: ignore[no-any-return]


def test_a_commitment_is_recorded_and_shown_in_the_balance(committed: FlaskClient, headers: dict) -> None:
    found = balance(committed, headers, "2020-12-31")
    assert (found["allocated_unspent"], found["committed_unspent"]) == ("600.00", "400.00")
    assert found["projects"] == [{"project_reference": "PRJ-1", "allocated_unspent": "600.00",
                                  "committed_unspent": "400.00"}]
    again = committed.post(ENTRIES, json=entry("commitment", "400.00", "2020-08-01", project_reference="PRJ-1",
                                               reference="C-1"), headers=headers["officer"])
    assert again.status_code == 200  # idempotent, as every kind


def test_a_commitment_without_a_project_is_422_naming_it(committed: FlaskClient, headers: dict) -> None:
    response = committed.post(ENTRIES, json=entry("commitment", "10.00", "2020-09-01"), headers=headers["officer"])
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert [e["field"] for e in response.json["errors"]] == ["project_reference"]


@pytest.mark.parametrize(("body", "says"), [
    (entry("decommitment", "450.00", "2020-09-01", project_reference="PRJ-1"),
     "released-within-committed: on 1 September 2020 £450.00 would be released from project PRJ-1 but only "
     "£400.00 is committed to it"),
    (entry("deallocation", "300.00", "2020-09-01", project_reference="PRJ-1"),
     "committed-within-allocated: on 1 September 2020 £400.00 would be committed to project PRJ-1 but only "
     "£300.00 is allocated to it and not spent"),
    (entry("commitment", "200.01", "2020-09-01", project_reference="PRJ-1"),
     "committed-within-allocated: on 1 September 2020 £600.01 would be committed to project PRJ-1 but only "
     "£600.00 is allocated to it and not spent"),
], ids=["release-over-committed", "deallocation-below-committed", "commitment-over-allocated"])
def test_a_refusal_is_422_naming_the_amount_and_the_limit(committed: FlaskClient, headers: dict,
                                                          body: dict[str, str], says: str) -> None:
    response = committed.post(ENTRIES, json=body, headers=headers["officer"])
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert {"field": "amount", "detail": says} in response.json["errors"]
    assert balance(committed, headers, "2020-12-31")["committed_unspent"] == "400.00"  # nothing written


def test_a_member_cannot_commit_money(committed: FlaskClient, headers: dict) -> None:
    response = committed.post(ENTRIES, json=entry("commitment", "1.00", "2020-09-01", project_reference="PRJ-1"),
                              headers=headers["member"])
    assert response.status_code == 403


def test_the_obligation_flag_goes_in_and_out(client: FlaskClient, headers: dict, world: None) -> None:
    created = client.post("/api/v1/agreements/20%2F00001%2FFUL/obligations", headers=headers["officer"], json={
        "reference": "20/00001/FUL/9", "purpose": "education", "service": "send", "repayment_basis": "receipt",
        "repayment_years": 10, "commitment_stops_clock": True})
    assert created.status_code == 201, created.json
    assert created.json["commitment_stops_clock"] is True
    plain = client.get(f"/api/v1/obligations/{OB}", headers=headers["member"]).json
    assert plain["commitment_stops_clock"] is False
    wrong = client.post("/api/v1/agreements/20%2F00001%2FFUL/obligations", headers=headers["officer"], json={
        "reference": "20/00001/FUL/8", "purpose": "education", "service": "send", "commitment_stops_clock": "yes!"})
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json["errors"]] == ["commitment_stops_clock"]


def test_at_risk_items_leave_out_the_money_committed_by_the_deadline(client: FlaskClient, headers: dict,
                                                                      world: None) -> None:
    client.post("/api/v1/agreements/20%2F00001%2FFUL/obligations", headers=headers["officer"], json={
        "reference": "OB-C", "purpose": "education", "service": "send", "repayment_basis": "receipt",
        "repayment_years": 5, "commitment_stops_clock": True})
    for body in ({"kind": "receipt", "amount": "1000.00", "occurred_on": "2020-01-10", "reference": "R-C"},
                 {"kind": "allocation", "amount": "1000.00", "occurred_on": "2020-02-01", "project_reference": "PRJ-1"},
                 {"kind": "commitment", "amount": "700.00", "occurred_on": "2024-06-01", "project_reference": "PRJ-1"}):
        response = client.post(ENTRIES, json=body | {"obligation_reference": "OB-C", "reason": "api test"},
                               headers=headers["officer"])
        assert response.status_code == 201, response.json
    with freeze_time("2024-12-01"):
        items = client.get("/api/v1/at-risk?band=red", headers=headers["member"]).json
    [item] = [i for i in items if i["obligation_reference"] == "OB-C"]
    assert (item["remaining"], item["allocated"], item["deadline"]) == ("300.00", "300.00", "2025-01-10")
    found = client.get("/api/v1/obligations/OB-C/balance?on=2024-12-01", headers=headers["member"]).json
    assert (found["held"], found["committed_unspent"]) == ("1000.00", "700.00")


# -- terms from a date ---------------------------------------------------------------------------------
TERMS = f"/api/v1/obligations/{OB}/terms"


def test_terms_changed_from_a_date_move_the_deadline_and_are_listed(client: FlaskClient, headers: dict,
                                                                    world: None) -> None:
    assert balance(client, headers, "2021-01-01")["receipts"][0]["deadline"] == "2030-06-01"
    response = client.post(TERMS, headers=headers["officer"], json={
        "repayment_basis": "receipt", "repayment_years": 15, "in_force_from": "2021-01-01",
        "reason": "extended by agreement with the developer"})
    assert response.status_code == 201, response.json
    assert response.json | {"created_at": None} == {
        "in_force_from": "2021-01-01", "repayment_basis": "receipt", "repayment_years": 15, "variation": None,
        "created_by": "officer@test.s106", "created_at": None, "reason": "extended by agreement with the developer"}
    assert balance(client, headers, "2020-12-31")["receipts"][0]["deadline"] == "2030-06-01"
    assert balance(client, headers, "2021-01-01")["receipts"][0]["deadline"] == "2035-06-01"
    listed = client.get(TERMS, headers=headers["member"]).json
    assert [(t["in_force_from"], t["repayment_years"]) for t in listed] == [(None, 10), ("2021-01-01", 15)]


@pytest.mark.parametrize(("body", "field"), [
    ({"repayment_basis": "receipt", "in_force_from": "2021-01-01"}, "repayment_years"),
    ({"repayment_basis": "sometime", "in_force_from": "2021-01-01"}, "repayment_basis"),
    ({"repayment_basis": "none"}, "in_force_from"),
    ({"repayment_basis": "none", "variation": "20/00001/FUL"}, "variation"),
    ({"repayment_basis": "none", "in_force_from": "2021-01-01", "reason": ""}, "reason"),
    ({"repayment_basis": "none", "in_force_from": "1800-01-01"}, "in_force_from"),
], ids=["years-missing", "no-such-basis", "no-date", "not-a-variation", "empty-reason", "date-out-of-range"])
def test_a_bad_change_of_terms_is_422_naming_the_field(client: FlaskClient, headers: dict, world: None,
                                                       body: dict[str, Any], field: str) -> None:
    response = client.post(TERMS, headers=headers["officer"], json={"reason": "r"} | body)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.json["errors"]}
    assert len(client.get(TERMS, headers=headers["member"]).json) == 1


def test_a_deed_of_variation_changes_the_terms_of_the_agreement_it_varies(client: FlaskClient, headers: dict,
                                                                           world: None) -> None:
    deed = client.post("/api/v1/agreements", headers=headers["officer"], json={
        "reference": "22/00003/DOV", "type": "deed-of-variation", "authority_code": "E07000105",
        "signed_on": "2022-03-01", "varies": "20/00001/FUL"})
    assert deed.status_code == 201, deed.json
    response = client.post("/api/v1/agreements/22%2F00003%2FDOV/variation-terms", headers=headers["officer"],
                           json={"repayment_basis": "none", "reason": "clause 4 removed"})
    assert response.status_code == 201, response.json
    assert [(t["in_force_from"], t["repayment_basis"], t["variation"]) for t in response.json] == [
        ("2022-03-01", "none", "22/00003/DOV")]
    assert balance(client, headers, "2022-03-01")["receipts"][0]["band"] == "no-deadline"
    refused = client.post("/api/v1/agreements/20%2F00001%2FFUL/variation-terms", headers=headers["officer"],
                          json={"repayment_basis": "none", "reason": "r"})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json["errors"]] == ["reference"]
    missing = client.post("/api/v1/agreements/NOPE/variation-terms", headers=headers["officer"],
                          json={"repayment_basis": "none", "reason": "r"})
    assert missing.status_code == 404
