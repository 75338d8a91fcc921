"""Report and export commands and downloads, end to end on a SQLite file."""

from __future__ import annotations

import csv
from datetime import date
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from flask import Flask
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy import select

from ledger.domain.vocab import BAND_LABELS, Band
from ledger.models import Authority
from ledger.services import SYSTEM, users
from ledger.services.entries import reverse_entry
from reports.at_risk import FIELDS, HEADINGS
from reports.gov_csv import AGREEMENT_FIELDS, CONTRIBUTION_FIELDS, TRANSACTION_FIELDS
from reports.ifs_workbook import PUBLIC_SHEETS, SHEETS
from tests.factories import OFFICER, make_ledger, make_obligation, post


@pytest.fixture
def ledger(app: Flask) -> Flask:
    with app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        make_obligation(session, reference="20/00001/FUL/2", service="highways", purpose="highways",
                        repayment_years=None, repayment_basis="none")
        post(session, "receipt", "100.00", date(2015, 4, 1), reference="R-RED")       # deadline 1 April 2025
        post(session, "receipt", "200.00", date(2016, 3, 31), reference="R-AMBER")    # deadline 31 March 2026
        post(session, "receipt", "300.00", date(2014, 3, 30), reference="R-OVERDUE")  # deadline 30 March 2024
        post(session, "receipt", "50.00", date(2020, 1, 1), obligation="20/00001/FUL/2", reference="R-NONE")
        post(session, "allocation", "20.00", date(2020, 1, 2), obligation="20/00001/FUL/2", project="PRJ-2")
        post(session, "spend", "300.00", date(2014, 6, 1), project="PRJ-1", reference="S-1")
        wrong = post(session, "receipt", "7.00", date(2019, 1, 1), reference="R-WRONG")
        reverse_entry(session, wrong.id, actor=OFFICER, reason="duplicate")
    return app


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(StringIO(text)))


@pytest.mark.parametrize(
    ("today", "bands"),
    [("2024-04-01", {"R-RED": "red", "R-AMBER": "amber", "R-NONE": "no-deadline"}),
     ("2025-04-01", {"R-RED": "red", "R-AMBER": "red", "R-NONE": "no-deadline"}),
     ("2025-04-02", {"R-RED": "overdue", "R-AMBER": "red", "R-NONE": "no-deadline"})],
    ids=["a-year-before", "red-deadline-day", "day-after"],
)
def test_at_risk_csv_bands_as_of_today(ledger: Flask, tmp_path: Path, today: str, bands: dict[str, str]) -> None:
    out = tmp_path / "at-risk.csv"
    with freeze_time(today):
        result = ledger.test_cli_runner().invoke(args=["ledger", "report", "at-risk", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_csv(out.read_text())
    assert list(rows[0]) == list(FIELDS)
    assert {r["receipt_reference"]: r["band"] for r in rows} == bands
    none = next(r for r in rows if r["receipt_reference"] == "R-NONE")
    assert (none["remaining"], none["allocated"], none["unallocated"], none["deadline"]) == ("50.00", "20.00", "30.00", "")
    assert [r["receipt_reference"] for r in rows][-1] == "R-NONE"  # no deadline sorts last


def test_at_risk_workbook_is_banded_with_totals(ledger: Flask, tmp_path: Path) -> None:
    out = tmp_path / "at-risk.xlsx"
    result = ledger.test_cli_runner().invoke(args=["ledger", "report", "at-risk", "--as-of", "2025-01-01",
                                                   "--out", str(out)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["At risk", "By band", "By authority", "By division", "By service", "Notes"]
    sheet = workbook["At risk"]
    # The fields of the CSV, in words, then each obligation's latest review (issue 16).
    assert [c.value for c in sheet[1]] == [HEADINGS[f] for f in FIELDS] + [
        "Latest review", "Review note", "Review owner", "Next review"]
    assert sheet["M2"].value == BAND_LABELS[Band.RED] and sheet["M2"].fill.fgColor.rgb.endswith("FF7C80")
    assert sheet["J2"].number_format == "£#,##0.00"
    by_band = {row[0]: row[1] for row in workbook["By band"].iter_rows(min_row=2, values_only=True)}
    assert [by_band[BAND_LABELS[b]] for b in (Band.RED, Band.AMBER, Band.NO_DEADLINE)] + [by_band["Total"]] == [
        100, 200, 50, 350]
    assert workbook["By band"]._charts


def test_report_at_risk_refuses_other_file_types(ledger: Flask, tmp_path: Path) -> None:
    result = ledger.test_cli_runner().invoke(args=["ledger", "report", "at-risk", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0
    assert ".xlsx or .csv" in result.output


def test_report_ifs_command(ledger: Flask, tmp_path: Path) -> None:
    out = tmp_path / "ifs.xlsx"
    result = ledger.test_cli_runner().invoke(args=["ledger", "report", "ifs", "--year", "2013", "--out", str(out)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    received = workbook.defined_names["s106_b_money_received"]
    [(sheet, cell)] = list(received.destinations)
    assert workbook[sheet][cell.replace("$", "")].value == 300  # R-OVERDUE on 30 March 2014 is in 2013/14
    assert workbook.sheetnames == list(SHEETS)  # internal unless asked
    bad = ledger.test_cli_runner().invoke(args=["ledger", "report", "ifs", "--year", "2014", "--as-known-at",
                                                "yesterday", "--out", str(out)])
    assert bad.exit_code != 0 and "--as-known-at" in bad.output


def test_gov_csv_export_then_read_back(ledger: Flask, tmp_path: Path) -> None:
    result = ledger.test_cli_runner().invoke(args=["ledger", "export", "gov-csv", "--out", str(tmp_path / "gov")])
    assert result.exit_code == 0, result.output
    agreements = read_csv((tmp_path / "gov" / "developer-agreement.csv").read_text(encoding="utf-8"))
    contributions = read_csv((tmp_path / "gov" / "developer-agreement-contribution.csv").read_text(encoding="utf-8"))
    transactions = read_csv((tmp_path / "gov" / "developer-agreement-transaction.csv").read_text(encoding="utf-8"))
    assert tuple(agreements[0]) == AGREEMENT_FIELDS
    assert tuple(contributions[0]) == CONTRIBUTION_FIELDS
    assert tuple(transactions[0]) == TRANSACTION_FIELDS
    assert [(a["reference"], a["developer-agreement-type"], a["start-date"], a["organisation"]) for a in agreements] == [
        ("20/00001/FUL", "section-106", "2020-06-01", "E07000105")]
    assert {c["reference"]: (c["contribution-purpose"], c["amount"]) for c in contributions} == {
        "20/00001/FUL/1": ("education", "100000.00"), "20/00001/FUL/2": ("highways", "100000.00")}
    statuses = [(t["reference"], t["contribution-funding-status"], t["amount"], t["start-date"]) for t in transactions]
    assert ("R-RED", "received", "100.00", "2015-04-01") in statuses
    assert ("S-1", "spent", "300.00", "2014-06-01") in statuses
    assert not any(t["reference"].startswith("R-WRONG") for t in transactions)  # reversed: left out
    assert len({t["reference"] for t in transactions}) == len(transactions)
    assert sum(1 for t in transactions if t["contribution-funding-status"] == "received") == 4


def test_report_downloads_through_the_api(ledger: Flask) -> None:
    with ledger.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="m@test.s106", role="member", password=None, actor=SYSTEM)
        token = users.create_token(session, email="m@test.s106", actor=SYSTEM)
    client = ledger.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    ifs = client.get("/api/v1/reports/ifs?year=2014", headers=auth)
    assert ifs.status_code == 200
    assert ifs.headers["Content-Disposition"] == 'attachment; filename="ifs-2014-15.xlsx"'
    assert "Summary" in load_workbook(BytesIO(ifs.data)).sheetnames
    at_risk_csv = client.get("/api/v1/reports/at-risk?as_of=2025-01-01&format=csv", headers=auth)
    assert at_risk_csv.mimetype == "text/csv"
    assert len(read_csv(at_risk_csv.get_data(as_text=True))) == 3
    at_risk_xlsx = client.get("/api/v1/reports/at-risk?as_of=2025-01-01", headers=auth)
    assert load_workbook(BytesIO(at_risk_xlsx.data)).sheetnames[0] == "At risk"
    assert client.get("/api/v1/reports/ifs", headers=auth).status_code == 422
    assert client.get("/api/v1/reports/ifs?year=2014").status_code == 401


def test_report_ifs_public_edition(ledger: Flask, tmp_path: Path) -> None:
    out = tmp_path / "ifs.xlsx"
    result = ledger.test_cli_runner().invoke(args=["ledger", "report", "ifs", "--year", "2013", "--edition", "public",
                                                   "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "public edition" in result.output
    workbook = load_workbook(out)
    assert workbook.sheetnames == list(PUBLIC_SHEETS)
    assert "Public edition" in workbook["Summary"]["A2"].value
    bad = ledger.test_cli_runner().invoke(args=["ledger", "report", "ifs", "--year", "2013", "--edition", "draft",
                                                "--out", str(out)])
    assert bad.exit_code != 0 and "--edition" in bad.output


def test_the_council_name_heads_workbooks_and_pages(ledger: Flask, tmp_path: Path) -> None:
    ledger.config["COUNCIL_NAME"] = "Kent County Council"
    out = tmp_path / "ifs.xlsx"
    result = ledger.test_cli_runner().invoke(args=["ledger", "report", "ifs", "--year", "2013", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = load_workbook(out)["Summary"]
    assert summary["A1"].value == "Kent County Council: Infrastructure Funding Statement 2013/14"
    assert summary.oddHeader.center.text.startswith("Kent County Council: Infrastructure Funding Statement 2013/14")
    at_risk_out = tmp_path / "at-risk.xlsx"
    result = ledger.test_cli_runner().invoke(args=["ledger", "report", "at-risk", "--as-of", "2025-01-01",
                                                   "--out", str(at_risk_out)])
    assert result.exit_code == 0, result.output
    assert load_workbook(at_risk_out)["At risk"].oddHeader.center.text.startswith("Kent County Council: ")
    assert "Kent County Council" in ledger.test_client().get("/login").get_data(as_text=True)


def test_without_a_council_name_the_workbook_names_the_authority(ledger: Flask, tmp_path: Path) -> None:
    out = tmp_path / "ifs.xlsx"
    result = ledger.test_cli_runner().invoke(args=["ledger", "report", "ifs", "--year", "2013", "--out", str(out)])
    assert result.exit_code == 0, result.output
    title = load_workbook(out)["Summary"]["A1"].value
    with ledger.extensions["ledger.sessions"]() as session:
        [name] = session.scalars(select(Authority.name)).all()
    assert title == f"{name}: Infrastructure Funding Statement 2013/14"
    assert "council-name" not in ledger.test_client().get("/login").get_data(as_text=True)


def test_ifs_download_takes_an_edition(ledger: Flask) -> None:
    with ledger.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="m@test.s106", role="member", password=None, actor=SYSTEM)
        token = users.create_token(session, email="m@test.s106", actor=SYSTEM)
    client = ledger.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    public = client.get("/api/v1/reports/ifs?year=2014&edition=public", headers=auth)
    assert public.status_code == 200
    assert public.headers["Content-Disposition"] == 'attachment; filename="ifs-2014-15-public.xlsx"'
    assert load_workbook(BytesIO(public.data)).sheetnames == list(PUBLIC_SHEETS)
    bad = client.get("/api/v1/reports/ifs?year=2014&edition=draft", headers=auth)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert "edition" in bad.get_data(as_text=True)


def _column(sheet, heading: str) -> list[object]:  # type: ignore[no-untyped-def]
    rows = list(sheet.iter_rows(values_only=True))
    index = list(rows[0]).index(heading)
    return [row[index] for row in rows[1:] if row[0] not in (None, "Total")]


def test_the_at_risk_workbook_names_authorities_divisions_and_services(ledger: Flask, tmp_path: Path) -> None:
    out = tmp_path / "at-risk.xlsx"
    result = ledger.test_cli_runner().invoke(args=["ledger", "report", "at-risk", "--as-of", "2025-01-01",
                                                   "--out", str(out)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    sheet = workbook["At risk"]
    assert set(_column(sheet, "Authority")) == {"Ashford Borough Council"}
    assert set(_column(sheet, "Division")) == {"Ashford Central"}
    assert set(_column(sheet, "Service")) == {"Primary education", "Highways"}
    assert "Ashford Borough Council" in _column(workbook["By authority"], "name")


def test_the_web_downloads_either_edition_named_for_the_council(ledger: Flask) -> None:
    from tests.web.test_sessions import sign_in

    ledger.config["COUNCIL_NAME"] = "Kent County Council"
    with ledger.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="o@test.s106", role="officer", password="correct horse", actor=SYSTEM)
    client = ledger.test_client()
    sign_in(client, "o@test.s106", "correct horse")
    assert 'name="edition"' in client.get("/reports").get_data(as_text=True)
    public = client.get("/reports/ifs.xlsx?year=2014&edition=public")
    assert public.status_code == 200
    assert public.headers["Content-Disposition"] == 'attachment; filename="ifs-2014-15-public.xlsx"'
    workbook = load_workbook(BytesIO(public.data))
    assert workbook.sheetnames == list(PUBLIC_SHEETS)
    assert workbook["Summary"]["A1"].value.startswith("Kent County Council: ")
    internal = load_workbook(BytesIO(client.get("/reports/ifs.xlsx?year=2014").data))
    assert internal.sheetnames == list(SHEETS)
    assert client.get("/reports/ifs.xlsx?year=2014&edition=draft").status_code == 400
    at_risk = load_workbook(BytesIO(client.get("/reports/at-risk.xlsx?as_of=2025-01-01").data))["At risk"]
    assert set(_column(at_risk, "Authority")) == {"Ashford Borough Council"}
    assert at_risk.oddHeader.center.text.startswith("Kent County Council: ")
