"""Index values, instalments, milestones, invoices, payments and income due over the API."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

pytestmark = pytest.mark.usefixtures("world")
OBLIGATION = "/api/v1/obligations/20%2F00001%2FFUL%2F1"


def test_the_whole_income_flow(client: FlaskClient, headers: dict) -> None:
    officer = headers["officer"]
    for period, value, published in (("2020-04-01", "330.0", "2020-07-01"), ("2024-01-01", "396.0", "2024-04-01")):
        created = client.post("/api/v1/index-values", headers=officer, json={
            "index": "bcis-tpi", "period": period, "value": value, "published_on": published})
        assert created.status_code == 201, created.json
    instalment = client.post(f"{OBLIGATION}/instalments", headers=officer, json={
        "reference": "I-1", "share": "0.25", "trigger_event": "commencement", "index": "bcis-tpi",
        "base_date": "2020-06-01", "floor": True})
    assert instalment.status_code == 201, instalment.json
    with freeze_time("2024-05-01"):
        issued = client.post("/api/v1/agreements/20%2F00001%2FFUL/milestones", headers=officer,
                             json={"kind": "commencement", "on": "2024-02-01"})
    assert issued.status_code == 201
    [invoice] = issued.json
    # 25,000 x 396.0 / 330.0 = 30,000.00
    assert (invoice["base_amount"], invoice["amount"], invoice["base_value"], invoice["trigger_value"]) == (
        "25000.00", "30000.00", "330.0", "396.0")
    paid = client.post("/api/v1/invoices/I-1%2Finvoice/payments", headers=officer,
                       json={"entry_id": 1, "amount": "1000.00"})
    assert paid.status_code == 201, paid.json
    due = client.get("/api/v1/income-due?as_of=2024-05-01", headers=headers["member"]).json
    assert [(d["reference"], d["outstanding"], d["days_outstanding"], d["overdue"]) for d in due] == [
        ("I-1/invoice", "29000.00", 90, True)]
    again = client.post("/api/v1/invoices/issue", headers=officer, json={"on": "2024-05-01"})
    assert again.json == {"issued": [], "waiting": []}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/index-values", {"index": "bcis-tpi", "period": "2024-01-01", "value": 396.0, "published_on": "2024-04-01"},
     "value"),
    ("/api/v1/index-values", {"index": "gold", "period": "2024-01-01", "value": "1", "published_on": "2024-04-01"},
     "index"),
    (f"{OBLIGATION}/instalments", {"reference": "X", "share": "1.5", "trigger_event": "commencement"}, "share"),
    (f"{OBLIGATION}/instalments", {"reference": "X", "trigger_event": "occupation", "fixed_sum": "10.00"},
     "trigger_dwellings"),
    (f"{OBLIGATION}/instalments", {"reference": "X", "trigger_event": "commencement"}, "share"),
    ("/api/v1/agreements/20%2F00001%2FFUL/milestones", {"kind": "occupation", "on": "2024-01-01"}, "occupied"),
    ("/api/v1/agreements/20%2F00001%2FFUL/milestones", {"kind": "topping-out", "on": "2024-01-01"}, "kind"),
])
def test_bad_income_input_is_422_naming_the_field(client: FlaskClient, headers: dict, path: str, body: dict,
                                                  field: str) -> None:
    response = client.post(path, headers=headers["officer"], json=body)
    assert response.status_code == 422, response.json
    assert field in {e["field"] for e in response.json["errors"]}


@pytest.mark.parametrize(("method", "path"), [("POST", "/api/v1/invoices/issue"), ("POST", "/api/v1/index-values")])
def test_members_cannot_write_income_data(client: FlaskClient, headers: dict, method: str, path: str) -> None:
    assert client.open(path, method=method, json={}, headers=headers["member"]).status_code == 403


def test_index_import_issue_and_income_due_report_from_the_command_line(app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    series = tmp_path / "rpi.csv"
    series.write_text("Index,Period,Value,Published On,Provisional\nrpi,2023-01-01,360.4,2023-02-15,no\n"
                      "rpi,2024-03-01,383.0,2024-04-17,yes\n")
    imported = runner.invoke(args=["ledger", "index", "import", str(series)])
    assert imported.exit_code == 0 and "2 index values recorded" in imported.output
    again = runner.invoke(args=["ledger", "index", "import", str(series)])
    assert again.exit_code == 0
    with app.extensions["ledger.sessions"]() as session:
        from datetime import date
        from decimal import Decimal

        from ledger.services import SYSTEM, income

        income.add_instalment(session, "20/00001/FUL/1", {"reference": "FIX", "fixed_sum": Decimal("5000.00"),
                                                          "trigger_event": "date", "trigger_on": date(2024, 3, 10),
                                                          "index": "rpi", "base_date": date(2023, 1, 20)}, actor=SYSTEM)
    issued = runner.invoke(args=["ledger", "invoices", "issue", "--on", "2024-05-01"])
    # 5,000 x 383.0 / 360.4 = 5,313.5405... -> 5,313.54
    assert "issued FIX/invoice: £5,313.54 due 2024-03-10" in issued.output
    out = tmp_path / "due.csv"
    report = runner.invoke(args=["ledger", "report", "income-due", "--as-of", "2024-05-01", "--out", str(out)])
    assert report.exit_code == 0, report.output
    [row] = list(csv.DictReader(io.StringIO(out.read_text())))
    assert (row["outstanding"], row["days_outstanding"], row["overdue"]) == ("5313.54", "52", "yes")
    workbook = runner.invoke(args=["ledger", "report", "income-due", "--out", str(tmp_path / "due.xlsx")])
    assert workbook.exit_code == 0
