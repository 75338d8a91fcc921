"""Repayment terms as data (SPEC 8.2): an obligation's own terms checked (422 naming the
field), its authority's default taken when it gives none, the default set through the API
and the command line with who and why in the audit log."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.models import AuditEvent, Authority

OBLIGATIONS = "/api/v1/agreements/20%2F00001%2FFUL/obligations"
AUTHORITY = "/api/v1/authorities/E07000105"


def new_obligation(client: FlaskClient, headers: dict, reference: str, **terms: object):  # type: ignore[no-untyped-def]
    return client.post(OBLIGATIONS, headers=headers["officer"],
                       json={"reference": reference, "purpose": "education", "service": "send", **terms})


@pytest.mark.parametrize(("terms", "field"), [
    ({"repayment_basis": "receipt"}, "repayment_years"),
    ({"repayment_basis": "last-payment", "repayment_years": None}, "repayment_years"),
    ({"repayment_basis": "none", "repayment_years": 10}, "repayment_years"),
    ({"repayment_basis": "unknown", "repayment_years": 5}, "repayment_years"),
    ({"repayment_basis": "completion", "repayment_years": 31}, "repayment_years"),
    ({"repayment_basis": "receipt", "repayment_years": 0}, "repayment_years"),
    ({"repayment_basis": "when-asked", "repayment_years": 5}, "repayment_basis"),
    ({"repayment_years": 5}, "repayment_basis"),
], ids=["receipt-without-years", "last-payment-null-years", "none-with-years", "unknown-with-years",
        "31-years", "0-years", "no-such-basis", "years-without-basis"])
def test_bad_terms_are_422_naming_the_field_and_write_nothing(
    client: FlaskClient, headers: dict, world: None, terms: dict, field: str,
) -> None:
    response = new_obligation(client, headers, "T/1", **terms)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert [e["field"] for e in response.json["errors"]] == [field]
    assert client.get("/api/v1/obligations/T%2F1", headers=headers["member"]).status_code == 404


@pytest.mark.parametrize(("terms", "expected"), [
    ({"repayment_basis": "last-payment", "repayment_years": 30}, ("last-payment", 30)),
    ({"repayment_basis": "completion", "repayment_years": 1}, ("completion", 1)),
    ({"repayment_basis": "none", "repayment_years": None}, ("none", None)),
    ({"repayment_basis": "unknown"}, ("unknown", None)),
])
def test_good_terms_are_kept(client: FlaskClient, headers: dict, world: None, terms: dict, expected: tuple) -> None:
    created = new_obligation(client, headers, "T/1", **terms)
    assert created.status_code == 201, created.json
    assert (created.json["repayment_basis"], created.json["repayment_years"]) == expected


def test_an_obligation_without_terms_takes_its_authority_default(
    app: Flask, client: FlaskClient, headers: dict, world: None,
) -> None:
    before = new_obligation(client, headers, "T/1").json
    assert (before["repayment_basis"], before["repayment_years"]) == ("unknown", None)  # nothing invented

    refused = client.patch(AUTHORITY, headers=headers["officer"],
                           json={"default_repayment_basis": "receipt", "reason": "deeds say ten years"})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json["errors"]] == ["default_repayment_years"]
    no_reason = client.patch(AUTHORITY, headers=headers["officer"],
                             json={"default_repayment_basis": "receipt", "default_repayment_years": 10})
    assert [e["field"] for e in no_reason.json["errors"]] == ["reason"]
    assert client.patch(AUTHORITY, headers=headers["member"], json={
        "default_repayment_basis": "receipt", "default_repayment_years": 10, "reason": "x"}).status_code == 403

    changed = client.patch(AUTHORITY, headers=headers["officer"], json={
        "default_repayment_basis": "receipt", "default_repayment_years": 10, "reason": "deeds say ten years"})
    assert changed.status_code == 200, changed.json
    assert (changed.json["default_repayment_basis"], changed.json["default_repayment_years"]) == ("receipt", 10)
    after = new_obligation(client, headers, "T/2").json
    assert (after["repayment_basis"], after["repayment_years"]) == ("receipt", 10)
    own = new_obligation(client, headers, "T/3", repayment_basis="none").json
    assert (own["repayment_basis"], own["repayment_years"]) == ("none", None)
    # The obligation made before keeps its terms.
    assert client.get("/api/v1/obligations/T%2F1", headers=headers["member"]).json["repayment_basis"] == "unknown"

    with app.app_context():
        from ledger.extensions import get_session

        event = get_session().scalars(select(AuditEvent).where(AuditEvent.action == "set-authority-terms")).one()
        assert (event.actor, event.reason) == ("officer@test.s106", "deeds say ten years")
        assert event.before["default_repayment_basis"] == "unknown"
        assert event.after["default_repayment_years"] == 10


def test_an_authority_can_be_created_with_default_terms(client: FlaskClient, headers: dict) -> None:
    created = client.post("/api/v1/authorities", headers=headers["officer"], json={
        "code": "E1", "name": "A", "kind": "district", "default_repayment_basis": "completion",
        "default_repayment_years": 5})
    assert created.status_code == 201, created.json
    bad = client.post("/api/v1/authorities", headers=headers["officer"], json={
        "code": "E2", "name": "B", "kind": "district", "default_repayment_basis": "none",
        "default_repayment_years": 5})
    assert [e["field"] for e in bad.json["errors"]] == ["default_repayment_years"]
    plain = client.post("/api/v1/authorities", headers=headers["officer"],
                        json={"code": "E3", "name": "C", "kind": "district"}).json
    assert (plain["default_repayment_basis"], plain["default_repayment_years"]) == ("unknown", None)


def test_the_command_line_sets_an_authority_default(app: Flask, world: None) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ledger", "authorities", "set-terms", "E07000105", "--basis", "last-payment",
                                 "--years", "7", "--reason", "committee decision 12"])
    assert result.exit_code == 0, result.output
    assert "last-payment, 7 years" in result.output
    refused = runner.invoke(args=["ledger", "authorities", "set-terms", "E07000105", "--basis", "none",
                                  "--years", "7", "--reason", "x"])
    assert refused.exit_code != 0 and "default_repayment_years" in refused.output
    missing = runner.invoke(args=["ledger", "authorities", "set-terms", "NOPE", "--basis", "none", "--reason", "x"])
    assert missing.exit_code != 0
    with app.app_context():
        from ledger.extensions import get_session

        session = get_session()
        authority = session.scalars(select(Authority).where(Authority.code == "E07000105")).one()
        assert (authority.default_repayment_basis, authority.default_repayment_years) == ("last-payment", 7)
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "set-authority-terms")).one()
        assert event.reason == "committee decision 12"


def test_a_cil_obligation_without_terms_has_no_time_limit(client: FlaskClient, headers: dict, world: None) -> None:
    client.patch(AUTHORITY, headers=headers["officer"], json={
        "default_repayment_basis": "receipt", "default_repayment_years": 10, "reason": "usual deeds"})
    assert client.post("/api/v1/agreements", headers=headers["officer"], json={
        "reference": "CIL-1", "type": "community-infrastructure-levy", "authority_code": "E07000105",
        "signed_on": "2020-06-01"}).status_code == 201
    created = client.post("/api/v1/agreements/CIL-1/obligations", headers=headers["officer"],
                          json={"reference": "CIL-1/1", "purpose": "other", "service": "highways"}).json
    assert (created["repayment_basis"], created["repayment_years"]) == ("none", None)
