"""The reconciliation through the JSON API (issue 19): differences as of a date, officers'
decisions with who, when and why, balance assertions; problem details naming the field, and
a refused request writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from importers.finance import plan_finance
from ledger.models import AuditEvent, BalanceAssertion, ReconciliationDecision
from ledger.services import reconcile
from tests.reconcile.ledger import EXPORT, MAPPING, OFFICER, TODAY, make_hand_worked_ledger

URL = "/api/v1/reconciliation"


@pytest.fixture
def ids(app: Flask) -> Iterator[dict[str, int]]:
    with freeze_time(TODAY), app.extensions["ledger.sessions"]() as session:
        made = make_hand_worked_ledger(session)
        reconcile.import_finance(session, plan_finance(EXPORT, MAPPING), actor=OFFICER, source=str(EXPORT))
        made |= {t.transaction_id: t.id for t in reconcile.reconciliation(session, as_of=TODAY).transactions.values()}
    with freeze_time(TODAY):
        yield made


def count(app: Flask, model: type) -> int:
    with app.extensions["ledger.sessions"]() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def fields(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {e["field"] for e in response.get_json()["errors"]}


def test_the_differences_as_of_a_date(client: FlaskClient, headers, ids) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"{URL}?as_of=2024-08-31", headers=headers["officer"]).get_json()
    assert (body["as_of"], body["since"], body["imported"]) == ("2024-08-31", "2024-04-11", True)
    assert [(r["transaction_id"], r["finance"]) for r in body["finance_only"]] == [("GL-0004", "-12.50")]
    assert [(r["entry_references"], r["ledger"]) for r in body["ledger_only"]] == [("RCPT-1005", "600.00")]
    assert [(r["transaction_id"], r["entry_references"], r["obligations"]) for r in body["misposted"]] == [
        ("GL-0002", "RCPT-1002", "20/00001/FUL/1")]
    assert body["proposed"] == 4
    items = client.get(f"{URL}/items?as_of=2024-08-31&status=proposed", headers=headers["officer"])
    assert {r["transaction_id"] for r in items.get_json()} == {"GL-0001", "GL-0002", "GL-0003", "GL-0007"}
    assert json.loads(items.headers["X-Pagination"])["total"] == 4
    reversed_ = client.get(f"{URL}/items?as_of=2024-08-31&status=reversed-in-finance&page_size=1",
                           headers=headers["officer"]).get_json()
    assert [r["transaction_id"] for r in reversed_] == ["GL-0005"]
    assert client.get(f"{URL}/items?status=lost", headers=headers["officer"]).status_code == 422
    assert [(d["key"], d["finance"], d["ledger"], d["difference"]) for d in body["by_cost_code"]] == [
        ("S106-EDU-A", "6987.50", "10100.00", "-3112.50"), ("S106-HWY", "8000.50", "5500.50", "2500.00")]
    assert [(a["code"], a["asserted"], a["ledger"], a["state"]) for a in body["assertions"]] == [
        ("S106-EDU-A", "6987.50", "10100.00", "fails")]
    assert body["verdict"].startswith("Not reconciled: 3 differences to clear (net -£612.50")
    assert client.get(f"{URL}?as_of=2024-13-01", headers=headers["officer"]).status_code == 422


def test_members_are_refused(app: Flask, client: FlaskClient, headers, ids) -> None:  # type: ignore[no-untyped-def]
    assert client.get(URL, headers=headers["member"]).status_code == 403
    decided = client.post(f"{URL}/transactions/{ids['GL-0004']}/decisions", headers=headers["member"],
                          json={"action": "reject", "reason": "a bank charge"})
    assert decided.status_code == 403 and count(app, ReconciliationDecision) == 0


def test_decisions_are_kept_with_who_when_and_why(app: Flask, client: FlaskClient, headers, ids) -> None:  # type: ignore[no-untyped-def]
    path = f"{URL}/transactions/{ids['GL-0003']}/decisions"
    pair = sorted((ids["RCPT-1003"], ids["RCPT-1004"]))
    confirmed = client.post(path, headers=headers["officer"],
                            json={"action": "confirm", "entry_ids": pair, "reason": "remittance advice 7781"})
    assert confirmed.status_code == 201, confirmed.get_json()
    assert (confirmed.get_json()["created_by"], confirmed.get_json()["entry_ids"]) == ("officer@test.s106", pair)
    again = client.post(path, headers=headers["admin"], json={"action": "match", "entry_ids": pair, "reason": "x"})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"

    refused = [
        ({"action": "match", "entry_ids": [ids["RCPT-1005"]], "reason": "x"}, "entry_ids", ids["GL-0002"]),
        ({"action": "reject", "reason": ""}, "reason", ids["GL-0004"]),
        ({"action": "shrug", "reason": "x"}, "action", ids["GL-0004"]),
        ({"action": "reject", "reason": "x", "colour": "red"}, "colour", ids["GL-0004"]),
        ({"action": "match", "entry_ids": ["seven"], "reason": "x"}, "entry_ids", ids["GL-0004"]),
    ]
    for body, field, transaction in refused:
        response = client.post(f"{URL}/transactions/{transaction}/decisions", headers=headers["officer"], json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert any(f.startswith(field) for f in fields(response)), response.get_json()
    assert client.post(f"{URL}/transactions/999999/decisions", headers=headers["officer"],
                       json={"action": "reject", "reason": "x"}).status_code == 404
    assert count(app, ReconciliationDecision) == 1

    rejected = client.post(f"{URL}/transactions/{ids['GL-0002']}/decisions", headers=headers["officer"],
                           json={"action": "reject", "reason": "posted to highways in error"})
    assert rejected.status_code == 201
    shown = client.get(f"{URL}/transactions/{ids['GL-0002']}", headers=headers["officer"]).get_json()
    assert shown["item"]["status"] == "finance-only" and shown["item"]["decided_by"] == "officer@test.s106"
    assert [d["action"] for d in shown["decisions"]] == ["reject"]
    with app.extensions["ledger.sessions"]() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("reconcile-%"))).all()
    assert sorted(actions) == ["reconcile-confirm", "reconcile-reject"]


def test_assertions_are_checked_and_resolved_by_a_note(app: Flask, client: FlaskClient, headers, ids) -> None:  # type: ignore[no-untyped-def]
    made = client.post(f"{URL}/assertions", headers=headers["officer"], json={
        "scope": "service", "code": "highways", "held_on": "2024-05-31", "amount": "5500.50",
        "reason": "finance trial balance, May"})
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["state"], made.get_json()["ledger"]) == ("holds", "5500.50")
    for body, field in (({"scope": "service", "code": "highways", "held_on": "2024-05-31", "amount": 5500.5,
                          "reason": "x"}, "amount"),
                        ({"scope": "cost-code", "code": "S106-NOPE", "held_on": "2024-05-31", "amount": "1.00",
                          "reason": "x"}, "code"),
                        ({"scope": "planet", "code": "x", "held_on": "2024-05-31", "amount": "1.00", "reason": "x"},
                         "scope")):
        response = client.post(f"{URL}/assertions", headers=headers["officer"], json=body)
        assert response.status_code == 422 and field in fields(response), response.get_json()
    assert count(app, BalanceAssertion) == 2  # the export's closing balance and this one

    failing = next(a for a in client.get(f"{URL}/assertions?as_of=2024-08-31", headers=headers["officer"]).get_json()
                   if a["state"] == "fails")
    resolved = client.post(f"{URL}/assertions/{failing['id']}/resolutions", headers=headers["officer"],
                           json={"note": "bank charge, misposting and RCPT-1005 explain £3,112.50"})
    assert resolved.status_code == 201
    states = {a["id"]: a["state"] for a in client.get(f"{URL}/assertions?as_of=2024-08-31",
                                                      headers=headers["officer"]).get_json()}
    assert states[failing["id"]] == "resolved-by-note"
    assert client.post(f"{URL}/assertions/424242/resolutions", headers=headers["officer"],
                       json={"note": "x"}).status_code == 404
