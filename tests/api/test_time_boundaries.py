"""Rules that depend on today's date, with the clock frozen at their boundaries."""

from datetime import date

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from ledger import clock
from ledger.domain.dates import financial_year_of

pytestmark = pytest.mark.usefixtures("world")


@pytest.mark.parametrize(
    ("now", "year"),
    [("2024-03-31 12:00:00", 2023), ("2024-03-31 23:30:00", 2024), ("2024-04-01 00:00:01", 2024),
     ("2025-03-31 22:59:59", 2024)],
    ids=["31-march-midday", "31-march-late-utc-is-1-april-in-london", "1-april", "31-march-2025-bst-edge"],
)
def test_today_is_the_uk_business_day(now: str, year: int) -> None:
    with freeze_time(now):
        assert financial_year_of(clock.today()) == year


@pytest.mark.parametrize(
    ("today", "band"),
    [("2026-02-27", "red"), ("2026-02-28", "red"), ("2026-03-01", "overdue")],
    ids=["day-before-deadline", "deadline-day", "day-after"],
)
def test_leap_day_receipt_at_its_deadline(client: FlaskClient, headers: dict, today: str, band: str) -> None:
    created = client.post("/api/v1/entries", headers=headers["officer"], json={
        "kind": "receipt", "obligation_reference": "20/00001/FUL/1", "amount": "29.00",
        "occurred_on": "2016-02-29", "reference": "LEAP", "reason": "leap-day payment"})
    assert created.status_code == 201
    with freeze_time(today):
        balance = client.get("/api/v1/obligations/20%2F00001%2FFUL%2F1/balance", headers=headers["member"]).json
    assert balance["on"] == today
    leap = next(r for r in balance["receipts"] if r["reference"] == "LEAP")
    assert (leap["deadline"], leap["band"]) == ("2026-02-28", band)


@pytest.mark.parametrize(("today", "received"), [("2020-05-31", "0.00"), ("2020-06-01", "1000.00")])
def test_balance_defaults_to_the_end_of_today(client: FlaskClient, headers: dict, today: str, received: str) -> None:
    with freeze_time(today):
        balance = client.get("/api/v1/obligations/20%2F00001%2FFUL%2F1/balance", headers=headers["member"]).json
    assert balance["received"] == received
    assert date.fromisoformat(balance["on"]) == date.fromisoformat(today)
