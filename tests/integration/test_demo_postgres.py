"""After `s106 demo` the app still creates rows: on PostgreSQL every id sequence is past the
highest id the demo wrote (the database numbered them all)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from ledger.models import Authority
from ledger.services import SYSTEM, users
from tests.conftest import make_test_app


@pytest.fixture
def demo_app(database_url: str) -> Iterator[Flask]:
    application = make_test_app(database_url)
    result = application.test_cli_runner().invoke(args=["ledger", "demo", "--scale", "small", "--seed", "3"])
    assert result.exit_code == 0, result.output
    yield application
    application.extensions["ledger.engine"].dispose()


def test_after_the_demo_the_api_creates_an_agreement_obligation_project_instalment_and_entry(demo_app: Flask) -> None:
    with demo_app.extensions["ledger.sessions"]() as session:
        token = users.create_token(session, email="officer@demo.s106.test", actor=SYSTEM)
        authority = session.scalar(select(Authority.code).order_by(Authority.code).limit(1))
    client = demo_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    writes = [
        ("/api/v1/agreements", {"reference": "26/09999/FUL", "type": "section-106", "authority_code": authority,
                                "signed_on": "2026-01-05"}),
        ("/api/v1/agreements/26%2F09999%2FFUL/obligations",
         {"reference": "26/09999/FUL/1", "purpose": "highways", "service": "highways", "amount": "2500.00"}),
        ("/api/v1/projects", {"reference": "PRJ-AFTER-DEMO", "name": "Junction works", "service": "highways"}),
        ("/api/v1/obligations/26%2F09999%2FFUL%2F1/instalments",
         {"reference": "26/09999/FUL/1/1", "fixed_sum": "2500.00", "trigger_event": "commencement"}),
        ("/api/v1/entries", {"kind": "receipt", "obligation_reference": "26/09999/FUL/1", "amount": "2500.00",
                             "occurred_on": "2026-02-01", "reason": "remittance 4411"}),
    ]
    for path, body in writes:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, (path, response.get_json())
