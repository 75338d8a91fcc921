"""A query parameter an endpoint does not read is refused with 422 naming it, rather than
read as no filter at all (and kept as a response-cache key of its own)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

pytestmark = pytest.mark.usefixtures("world")

BALANCE = "/api/v1/obligations/20%2F00001%2FFUL%2F1/balance"
RECEIPT = {"kind": "receipt", "obligation_reference": "20/00001/FUL/1", "amount": "10.00",
           "occurred_on": "2021-01-01", "reason": "remittance"}


@pytest.mark.parametrize("path, unknown", [
    ("/api/v1/agreements?divison=ashford-central", "divison"),  # a misspelt filter
    ("/api/v1/agreements?page=1&pagesize=5", "pagesize"),  # beside pagination's own parameters
    ("/api/v1/agreements/20%2F00001%2FFUL?expand=obligations", "expand"),  # no query schema at all
    ("/api/v1/audit?since=2024-01-01", "since"),  # pagination only
    (f"{BALANCE}?on=2024-01-01&as_at=2024-01-01", "as_at"),
], ids=["filter", "pagination", "no-schema", "pagination-only", "cached"])
def test_an_unknown_query_parameter_is_refused_naming_it(client: FlaskClient, headers: dict, path: str,
                                                         unknown: str) -> None:
    response = client.get(path, headers=headers["admin"])
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/problems/validation-error"
    assert response.json["detail"] == f"{unknown}: Unknown field."
    assert response.json["errors"] == [{"field": unknown, "detail": "Unknown field.", "location": "query"}]


def test_every_unknown_parameter_is_named(client: FlaskClient, headers: dict) -> None:
    response = client.get("/api/v1/obligations?zeta=1&alpha=2&division=ashford-central", headers=headers["member"])
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["alpha", "zeta"]


def test_known_parameters_still_work(client: FlaskClient, headers: dict) -> None:
    agreements = client.get("/api/v1/agreements?division=ashford-central&page=1&page_size=5", headers=headers["member"])
    assert agreements.status_code == 200 and len(agreements.json) == 1
    balance = client.get(f"{BALANCE}?on=2024-01-01&as_known_at=2030-01-01T00:00:00Z", headers=headers["member"])
    assert balance.status_code == 200 and balance.json["received"] == "1000.00"
    assert client.head(f"{BALANCE}?on=2024-01-01", headers=headers["member"]).status_code == 200


def test_a_refused_write_writes_nothing(client: FlaskClient, headers: dict) -> None:
    refused = client.post("/api/v1/entries?dry_run=1", headers=headers["officer"], json=RECEIPT)
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "dry_run"
    assert client.get("/api/v1/entries?kind=receipt", headers=headers["officer"]).json[-1]["amount"] == "1000.00"


def test_refused_parameters_make_no_cache_keys(app: Flask, client: FlaskClient, headers: dict) -> None:
    for n in range(3):
        assert client.get(f"{BALANCE}?on=2024-01-01&n={n}", headers=headers["member"]).status_code == 422
    assert app.extensions["ledger.response_cache"].stored_keys() == []


def test_an_anonymous_caller_is_refused_for_the_token_first(client: FlaskClient) -> None:
    assert client.get("/api/v1/agreements?divison=x").status_code == 401
