"""A completion date in 9999, stored before dates were checked (or by hand), puts a
repayment deadline past the calendar's end. Money at risk, balances, division summaries
and reports still answer, for everyone, on both engines: the deadline is the calendar's
last day, later than every real one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from ledger.services import SYSTEM, registry, users
from tests.factories import OFFICER, make_agreement, make_obligation, make_places, post

BALANCE = "/api/v1/obligations/20%2F00001%2FFUL%2F1/balance?on=2024-01-01"


@pytest.fixture
def client(any_app: Flask) -> Iterator[tuple[FlaskClient, dict[str, str]]]:
    with any_app.extensions["ledger.sessions"]() as session:
        make_places(session)
        make_agreement(session)
        make_obligation(session, repayment_basis="completion")
        make_obligation(session, reference="20/00001/FUL/2", repayment_basis="receipt")
        post(session, "receipt", "1000.00", date(2020, 6, 1), reference="R-1")
        post(session, "receipt", "50.00", date(2020, 6, 1), reference="R-2", obligation="20/00001/FUL/2")
        # The service takes what it is given: only the API's schemas check the date's range.
        registry.update_agreement(session, "20/00001/FUL", {"completion_on": date(9999, 12, 31)}, actor=OFFICER,
                                  reason="keyed in 2019 as 31/12/9999 for 'not yet known'")
        users.add_user(session, email="member@test.s106", role="member", password=None, actor=SYSTEM)
        token = users.create_token(session, email="member@test.s106", actor=SYSTEM)
    yield any_app.test_client(), {"Authorization": f"Bearer {token}"}


@freeze_time("2024-01-01")
def test_money_at_risk_still_answers_with_the_calendars_last_day(client: tuple[FlaskClient, dict]) -> None:
    http, member = client
    rows = {r["receipt_reference"]: r for r in http.get("/api/v1/at-risk", headers=member).json}
    assert rows["R-1"]["deadline"] == "9999-12-31" and rows["R-1"]["band"] == "green"
    assert rows["R-2"]["deadline"] == "2030-06-01"
    receipt = http.get(BALANCE, headers=member).json["receipts"][0]
    assert (receipt["deadline"], receipt["band"]) == ("9999-12-31", "green")
    assert http.get("/api/v1/divisions/ashford-central/summary", headers=member).status_code == 200
    for report in ("/api/v1/reports/at-risk?format=csv", "/api/v1/reports/at-risk", "/api/v1/reports/ifs?year=2023"):
        assert http.get(report, headers=member).status_code == 200, report
