"""Obligations and projects corrected over the API (PATCH, with a reason), as the web pages
correct them: 200 with the record, 422 naming the field for what cannot be corrected or
does not fit, 403 for a councillor; a refusal writes nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.models import AuditEvent

OBLIGATION = "/api/v1/obligations/20%2F00001%2FFUL%2F1"
PROJECT = "/api/v1/projects/PRJ-1"


def _audited(app: Flask, action: str) -> list[AuditEvent]:
    with app.extensions["ledger.sessions"]() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_obligation_and_a_project_are_corrected_with_a_reason(app: Flask, client: FlaskClient, headers: dict,
                                                                 world: None) -> None:
    changed = client.patch(OBLIGATION, headers=headers["officer"], json={
        "repayment_basis": "completion", "repayment_years": 5, "service": "send", "reason": "Clause 7 of the deed"})
    assert changed.status_code == 200, changed.json
    assert (changed.json["repayment_basis"], changed.json["repayment_years"], changed.json["service"]) == (
        "completion", 5, "send")
    project = client.patch(PROJECT, headers=headers["admin"], json={"name": "Two classrooms", "division_code": None,
                                                                    "repays_borrowing": True, "reason": "Cabinet"})
    assert project.status_code == 200, project.json
    assert (project.json["name"], project.json["division_code"], project.json["repays_borrowing"]) == (
        "Two classrooms", None, True)
    [obligation_event] = _audited(app, "update-obligation")
    [project_event] = _audited(app, "update-project")
    assert (obligation_event.reason, project_event.reason) == ("Clause 7 of the deed", "Cabinet")


@pytest.mark.parametrize(("path", "body", "field"), [
    (OBLIGATION, {"repayment_basis": "none"}, "repayment_years"),
    (OBLIGATION, {"repayment_years": 31}, "repayment_years"),
    (OBLIGATION, {"purpose": "parks"}, "purpose"),
    (OBLIGATION, {"amount": "1.00"}, "amount"),
    (OBLIGATION, {"trigger": "\x00"}, "trigger"),
    (OBLIGATION, {"service": "send", "reason": ""}, "reason"),
    (OBLIGATION, {"service": "send", "reason": None}, "reason"),
    (PROJECT, {"name": ""}, "name"),
    (PROJECT, {"division_code": "atlantis"}, "division_code"),
    (PROJECT, {"reference": "PRJ-9"}, "reference"),
    (PROJECT, {"repays_borrowing": "perhaps"}, "repays_borrowing"),
], ids=["years-with-none", "31-years", "no-such-purpose", "amount", "control-character", "blank-reason",
        "null-reason", "blank-name", "no-such-division", "reference", "not-a-boolean"])
def test_a_refused_correction_is_422_naming_the_field_and_writes_nothing(
    app: Flask, client: FlaskClient, headers: dict, world: None, path: str, body: dict, field: str,
) -> None:
    response = client.patch(path, headers=headers["officer"], json={"reason": "because"} | body)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert field in [e["field"] for e in response.json["errors"]], response.json
    assert _audited(app, "update-obligation") == [] and _audited(app, "update-project") == []


def test_a_councillor_cannot_correct_and_an_unknown_record_is_404(client: FlaskClient, headers: dict,
                                                                  world: None) -> None:
    assert client.patch(OBLIGATION, headers=headers["member"], json={"service": "send", "reason": "x"}).status_code == 403
    assert client.patch(PROJECT, headers=headers["member"], json={"name": "x", "reason": "x"}).status_code == 403
    assert client.patch("/api/v1/projects/NO-SUCH", headers=headers["officer"],
                        json={"name": "x", "reason": "x"}).status_code == 404
    assert client.patch(OBLIGATION, json={"service": "send", "reason": "x"}).status_code == 401
