"""Text that a spreadsheet program would read as a formula stays text in every report: a
string cell in every workbook, a quoted value with a leading apostrophe in the CSVs people
open (OWASP "CSV Injection"), and exactly as stored in the government CSV export, which is
data. The hostile values go in through the services, as an import or an older API could
have stored them (tab and carriage return included), so the report writers are what is tested."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from io import BytesIO, StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from ledger.services import balances, income
from ledger.services.exports import gov_csv_rows
from ledger.services.ifs import ifs_report
from reports.at_risk import at_risk_csv, at_risk_workbook
from reports.gov_csv import write_gov_csv
from reports.ifs_workbook import build_ifs_workbook
from reports.income_due import income_due_csv, income_due_workbook
from reports.workbook import csv_text
from tests.factories import OFFICER, make_agreement, make_obligation, make_places, make_project, post

HOSTILE = ('=HYPERLINK("http://evil.example","x")', "+1+1", "-1+1", "@SUM(1)", "\t=1", "\r=1", "#N/A")
AS_OF = date(2024, 3, 31)


def texts(value: str) -> dict[str, str]:
    """The text one agreement carries, every field starting with the hostile value (its
    developer, site name and planning application are the value itself)."""
    return {"agreement": value, "obligation": f"{value} obligation", "project": f"{value} project",
            "project_name": f"{value} school", "receipt": f"{value} receipt", "spend": f"{value} spend",
            "transfer": f"{value} transfer", "recipient": f"{value} trust", "instalment": f"{value} instalment",
            "invoice": f"{value} instalment/invoice"}


@pytest.fixture
def hostile(app: Flask) -> Iterator[Session]:
    """One agreement per hostile value, with a receipt, an allocation, a spend, a transfer
    and an invoice due, so that its text reaches every report."""
    with app.extensions["ledger.sessions"]() as s, freeze_time("2024-04-02"):
        make_places(s)
        for value in HOSTILE:
            t = texts(value)
            make_agreement(s, reference=t["agreement"], signed_on=date(2023, 6, 1), developer=value, site_name=value,
                           planning_application=value)
            make_obligation(s, agreement=t["agreement"], reference=t["obligation"])
            make_project(s, reference=t["project"], name=t["project_name"])
            post(s, "receipt", "10000.00", date(2023, 7, 1), obligation=t["obligation"], reference=t["receipt"])
            post(s, "allocation", "3000.00", date(2023, 8, 1), obligation=t["obligation"], project=t["project"])
            post(s, "spend", "1000.00", date(2023, 9, 1), obligation=t["obligation"], project=t["project"],
                 reference=t["spend"])
            post(s, "transfer", "500.00", date(2023, 10, 1), obligation=t["obligation"], project=t["project"],
                 reference=t["transfer"], recipient=t["recipient"])
            income.add_instalment(s, t["obligation"], {
                "reference": t["instalment"], "fixed_sum": Decimal("5000.00"), "trigger_event": "date",
                "trigger_on": date(2023, 6, 15), "index": "none"}, actor=OFFICER)
        income.issue_invoices(s, today=AS_OF, actor=OFFICER)
        yield s


def as_xml_reads_it(value: str) -> str:
    """XML parsers read a raw carriage return in text as a line feed (XML 1.0 section 2.11),
    and openpyxl writes it raw: the one change a reader of a workbook sees (docs/REPORTS.md)."""
    return value.replace("\r", "\n")


def string_cells(data: bytes) -> dict[str, bool]:
    """Every text value in the workbook and whether each of its cells is marked as text
    (quotePrefix), after checking that no cell is a formula or an error value. The reports
    write numbers, never formulas (totals included), so no cell needs to be allowed one."""
    found: dict[str, bool] = {}
    for sheet in load_workbook(BytesIO(data)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type not in ("f", "e"), f"{sheet.title}!{cell.coordinate} is {cell.value!r}"
                if cell.data_type == "s":
                    found[cell.value] = found.get(cell.value, True) and bool(cell.quotePrefix)
    return found


def expect_text(data: bytes, values: list[str]) -> None:
    """Each value is in a string cell exactly as typed, marked as text."""
    found = string_cells(data)
    for value in values:
        assert found.get(as_xml_reads_it(value)) is True, (value, found.get(as_xml_reads_it(value)))


def csv_column(text: str, column: str) -> set[str]:
    return {row[column] for row in csv.DictReader(StringIO(text, newline=""))}


def test_hostile_text_stays_text_in_every_workbook(hostile: Session) -> None:
    every = [texts(value) for value in HOSTILE]
    with freeze_time("2024-04-02"):
        ifs = build_ifs_workbook(ifs_report(hostile, year=2023))
    expect_text(ifs, [t[field] for t in every for field in ("agreement", "obligation", "project", "project_name",
                                                             "receipt", "spend", "transfer", "recipient")])
    rows = balances.at_risk(hostile, as_of=AS_OF)
    expect_text(at_risk_workbook(rows, as_of=AS_OF, version="test"),
                [t[field] for t in every for field in ("agreement", "obligation", "receipt")])
    due = income.income_due(hostile, today=AS_OF)
    assert len(due) == len(HOSTILE)
    expect_text(income_due_workbook(due, as_of=AS_OF, version="test"),
                [*HOSTILE, *(t[field] for t in every for field in ("agreement", "obligation", "invoice"))])


def test_hostile_text_is_neutralised_in_the_human_csvs(hostile: Session) -> None:
    at_risk = at_risk_csv(balances.at_risk(hostile, as_of=AS_OF))
    due = income_due_csv(income.income_due(hostile, today=AS_OF))
    for value in HOSTILE:
        t = texts(value)
        quote = "" if value.startswith("#") else "'"  # "#" starts no formula: left as it is
        assert quote + t["agreement"] in csv_column(at_risk, "agreement_reference")
        assert quote + t["obligation"] in csv_column(at_risk, "obligation_reference")
        assert quote + t["receipt"] in csv_column(at_risk, "receipt_reference")
        assert quote + value in csv_column(due, "developer")
        assert quote + t["invoice"] in csv_column(due, "reference")
    # Money and dates are left as they are: 10,000 received less 1,000 spent and 500 transferred.
    assert (csv_column(at_risk, "remaining"), csv_column(at_risk, "received_on")) == ({"8500.00"}, {"2023-07-01"})
    assert (csv_column(due, "outstanding"), csv_column(due, "due_on")) == ({"5000.00"}, {"2023-06-15"})


def test_only_text_is_prefixed_and_quoted_in_a_csv() -> None:
    row = SimpleNamespace(text="-5.00", money=Decimal("-5.00"), count=-3, day=date(2024, 1, 2), flag=False,
                          empty=None, plain="Ashford", places="x;=1+1")
    _header, line = csv_text([row], tuple(vars(row))).splitlines()
    # Text quoted (a reader splitting on ";" cannot start a cell inside it), numbers bare.
    assert line == '"\'-5.00",-5.00,-3,"2024-01-02","no","","Ashford","x;=1+1"'


def test_government_csv_export_is_left_exact(hostile: Session, tmp_path: Path) -> None:
    """The export is data for the national pipeline, not for a spreadsheet: prefixing would
    change the published references (docs/REPORTS.md). A carriage return must not split a row."""
    rows = gov_csv_rows(hostile)
    write_gov_csv(tmp_path, agreements=rows.agreements, contributions=rows.contributions,
                  transactions=rows.transactions)
    with (tmp_path / "developer-agreement.csv").open(encoding="utf-8", newline="") as handle:
        agreements = list(csv.DictReader(handle))
    assert {a["reference"] for a in agreements} == set(HOSTILE)
    assert {a["planning-application"] for a in agreements} == set(HOSTILE)
    with (tmp_path / "developer-agreement-contribution.csv").open(encoding="utf-8", newline="") as handle:
        assert {c["reference"] for c in csv.DictReader(handle)} == {texts(v)["obligation"] for v in HOSTILE}


def test_libreoffice_opens_the_reports_without_a_formula(hostile: Session, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("LibreOffice is required under CI=true (apt-get install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice not installed")
    rows = balances.at_risk(hostile, as_of=AS_OF)
    due = income.income_due(hostile, today=AS_OF)
    files = {"at-risk-csv.csv": at_risk_csv(rows).encode(), "income-due-csv.csv": income_due_csv(due).encode(),
             "at-risk.xlsx": at_risk_workbook(rows, as_of=AS_OF, version="test"),
             "income-due.xlsx": income_due_workbook(due, as_of=AS_OF, version="test")}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    # LibreOffice reads each file as a person opening it would, and saves what it understood.
    out = tmp_path / "out"
    result = subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "xlsx", "--outdir", str(out), *(str(tmp_path / name) for name in files)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    understood = {}
    for name in files:
        values = understood[name] = set()
        for sheet in load_workbook(out / f"{Path(name).stem}.xlsx").worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{name} {sheet.title}!{cell.coordinate} is {cell.value!r}"
                    values.add(cell.value)
    developers = [as_xml_reads_it(value) for value in HOSTILE]
    assert set(developers) <= understood["income-due.xlsx"]
    assert {("" if v.startswith("#") else "'") + v for v in developers} <= understood["income-due-csv.csv"]


def test_the_rejects_report_shows_hostile_text_as_text(tmp_path: Path) -> None:
    """The rejects CSV holds what the refused files held, and people open it to fix them."""
    from importers.gov_csv import plan_gov_csv
    from importers.report import write_rejects
    from tests.factories import write_gov_files

    # write_gov_files writes plain lines: no commas or line breaks in these.
    hostile = ['=HYPERLINK("http://evil.example")', "+1+1", "-1+1", "@SUM(1)", "#N/A"]
    files = write_gov_files(tmp_path / "files", [(value, "no-such-status", "-5.00", "01/05/2020")
                                                 for value in hostile])
    rejects = tmp_path / "rejects.csv"
    assert write_rejects(rejects, plan_gov_csv(files).issues) == len(hostile)
    text = rejects.read_text(encoding="utf-8")
    assert csv_column(text, "reference") == {("" if v.startswith("#") else "'") + v for v in hostile}
    # Amounts stay numbers, unquoted: a refused refund of -5.00 is not a formula.
    assert csv_column(text, "amount") == {"-5.00"} and ",-5.00," in text
