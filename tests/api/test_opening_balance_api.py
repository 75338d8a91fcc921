"""Opening balances through the API (SPEC 8.3), on SQLite and PostgreSQL: recorded with
their original date of receipt, refused with the field named, audited, reversed with it,
and counted as held money whose deadline runs from that date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ledger.models import AuditEvent, Entry
from ledger.services import SYSTEM, users
from tests.factories import make_ledger

OBLIGATION = "20/00001/FUL/1"  # ten years from receipt (tests.factories)
BALANCE = f"/api/v1/obligations/{OBLIGATION.replace('/', '%2F')}/balance"
OPENING = {"kind": "opening-balance", "obligation_reference": OBLIGATION, "amount": "2500.00",
           "occurred_on": "2021-04-01", "original_received_on": "2015-06-30", "reference": "OB-1",
           "reason": "held at the cut-over to this ledger"}


@pytest.fixture
def api(any_app: Flask) -> Iterator[tuple[FlaskClient, dict[str, str]]]:
    """A client on each engine, an officer's bearer header, and the factories' ledger."""
    with any_app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        users.add_user(session, email="officer@test.s106", role="officer", password=None, actor=SYSTEM)
        token = users.create_token(session, email="officer@test.s106", actor=SYSTEM,
                                   expires_in_days=users.MAX_TOKEN_LIFETIME_DAYS)
    yield any_app.test_client(), {"Authorization": f"Bearer {token}"}


def entries_stored(app: Flask) -> int:
    with app.extensions["ledger.sessions"]() as session:
        return session.scalar(select(func.count()).select_from(Entry)) or 0


def test_an_opening_balance_is_recorded_audited_held_and_dated_from_its_original_receipt(
    any_app: Flask, api: tuple[FlaskClient, dict[str, str]],
) -> None:
    client, officer = api
    response = client.post("/api/v1/entries", json=OPENING, headers=officer)
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["kind"], body["amount"], body["occurred_on"], body["original_received_on"]) == (
        "opening-balance", "2500.00", "2021-04-01", "2015-06-30")
    assert client.get(f"/api/v1/entries/{body['id']}", headers=officer).json["original_received_on"] == "2015-06-30"
    # The same request again is the same entry; another original date is another entry's content.
    assert client.post("/api/v1/entries", json=OPENING, headers=officer).status_code == 200
    assert client.post("/api/v1/entries", json=OPENING | {"original_received_on": "2016-01-01"},
                       headers=officer).status_code == 409

    with any_app.extensions["ledger.sessions"]() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record-opening-balance")).one()
    assert event.after is not None and event.after["original_received_on"] == "2015-06-30"
    assert event.reason == OPENING["reason"]

    balance = client.get(f"{BALANCE}?on=2022-01-01", headers=officer).json
    assert (balance["received"], balance["held"], balance["unallocated"]) == ("2500.00", "2500.00", "2500.00")
    [receipt] = balance["receipts"]
    # Ten years from the original receipt, not from the cut-over date.
    assert (receipt["reference"], receipt["received_on"], receipt["deadline"]) == ("OB-1", "2021-04-01", "2025-06-30")

    # Held money can be spent like a receipt's.
    spend = client.post("/api/v1/entries", headers=officer, json={
        "kind": "spend", "obligation_reference": OBLIGATION, "amount": "1000.00", "occurred_on": "2021-05-01",
        "project_reference": "PRJ-1", "reason": "works"})
    assert spend.status_code == 201, spend.json
    assert client.get(f"{BALANCE}?on=2022-01-01", headers=officer).json["held"] == "1500.00"


def test_without_an_original_date_its_deadline_is_unknown(api: tuple[FlaskClient, dict[str, str]]) -> None:
    client, officer = api
    opening = {k: v for k, v in OPENING.items() if k != "original_received_on"}
    response = client.post("/api/v1/entries", json=opening, headers=officer)
    assert response.status_code == 201 and response.json["original_received_on"] is None
    [receipt] = client.get(f"{BALANCE}?on=2022-01-01", headers=officer).json["receipts"]
    assert (receipt["deadline"], receipt["band"]) == (None, "unknown-deadline")


@pytest.mark.parametrize(("change", "message"), [
    ({"original_received_on": "2021-04-02"}, "must not be after"),
    ({"original_received_on": "15/06/2015"}, "Not a valid date"),
    ({"original_received_on": "1899-12-31"}, "between 1900-01-01"),
    ({"kind": "receipt"}, "only an opening-balance has an original date of receipt"),
    ({"kind": "repayment"}, "only an opening-balance has an original date of receipt"),
])
def test_a_bad_original_date_is_422_naming_the_field_and_writes_nothing(
    any_app: Flask, api: tuple[FlaskClient, dict[str, str]], change: dict[str, Any], message: str,
) -> None:
    client, officer = api
    before = entries_stored(any_app)
    response = client.post("/api/v1/entries", json=OPENING | change, headers=officer)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    [error] = [e for e in response.json["errors"] if e["field"] == "original_received_on"]
    assert message in error["detail"]
    assert entries_stored(any_app) == before


def test_a_reversal_copies_the_original_date_and_takes_the_money_away(
    any_app: Flask, api: tuple[FlaskClient, dict[str, str]],
) -> None:
    client, officer = api
    opening = client.post("/api/v1/entries", json=OPENING, headers=officer).json
    reversal = client.post(f"/api/v1/entries/{opening['id']}/reversal", json={"reason": "keyed twice"},
                           headers=officer)
    assert reversal.status_code == 201, reversal.json
    assert (reversal.json["kind"], reversal.json["reverses"], reversal.json["original_received_on"]) == (
        "opening-balance", opening["id"], "2015-06-30")
    balance = client.get(f"{BALANCE}?on=2022-01-01", headers=officer).json
    assert (balance["held"], balance["receipts"]) == ("0.00", [])
    assert date.fromisoformat(reversal.json["occurred_on"]) == date(2021, 4, 1)


def test_at_risk_lists_opening_balances_by_the_deadline_of_their_original_receipt(
    api: tuple[FlaskClient, dict[str, str]],
) -> None:
    client, officer = api
    assert client.post("/api/v1/entries", json=OPENING, headers=officer).status_code == 201
    unknown = {k: v for k, v in OPENING.items() if k != "original_received_on"} | {"reference": "OB-2",
                                                                                   "amount": "700.00"}
    assert client.post("/api/v1/entries", json=unknown, headers=officer).status_code == 201
    rows = client.get("/api/v1/at-risk?as_of=2024-12-31", headers=officer).json
    found = {r["receipt_reference"]: (r["remaining"], r["deadline"], r["band"]) for r in rows}
    # Ten years from 30 June 2015 is within twelve months of the end of 2024.
    assert found == {"OB-1": ("2500.00", "2025-06-30", "red"), "OB-2": ("700.00", None, "unknown-deadline")}
