"""A realistic council tracker workbook, built here, imported through the example mapping."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select

from importers.read import ImportRefused
from importers.tracker import cell_date, cell_money, load_mapping, plan_tracker
from ledger.models import Agreement, Entry, Obligation, Project
from ledger.services import balances

ROOT = Path(__file__).parents[2]
MAPPING = ROOT / "docs" / "examples" / "tracker-mapping.toml"
OUTPUT = ROOT / "test-output"


def build_tracker(path: Path) -> Path:
    """Headings on row 4 under a title block, agreement cells merged down their payments,
    money as numbers and as text, dates as Excel dates, serial numbers and UK text, a
    totals row, and a row with a formula-like amount that cannot be taken."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "S106 receipts"
    sheet["A1"] = "Kent County Council: developer contributions tracker"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = "Maintained by the Development Investment Team. Do not sort."
    headings = ["Planning ref", "Date of S106", "Site", "Developer", "Obligation", "Contribution for",
                "Amount in S106 (£)", "Trigger", "Receipt no.", "Date received", "Amount received", "Date spent",
                "Amount spent", "Project code", "Repayment period"]
    for column, heading in enumerate(headings, start=1):
        sheet.cell(row=4, column=column, value=heading).font = Font(bold=True)
    rows = [
        # Agreement 1: three payments, agreement cells merged over rows 5-7.
        ["AS/19/0001", datetime(2019, 5, 14), "Land at Church Lane, Ashford", "Persimmon Homes", "AS1-PRI",
         "Primary education", 250000, "50% on commencement", "RCT-1001", datetime(2020, 2, 29), 125000,
         datetime(2021, 9, 1), 100000, "PRJ-ASH-PRI", "10 years"],
        [None, None, None, None, "AS1-PRI", "Primary education", 250000, "50% on commencement", "RCT-1002",
         44197, "£125,000.00", None, None, None, "10 years"],  # 44197 = 1 January 2021 as an Excel serial
        [None, None, None, None, "AS1-LIB", "Libraries", "£4,850.50", "on occupation", "RCT-1003", "15/03/2021",
         "4,850.50", None, None, None, "none"],
        # Agreement 2: dates as UK text, a payment with no finance reference, and a highways spend.
        ["TW/20/0456", "01/07/2020", "Hop Garden, Paddock Wood", "Redrow Homes", "TW-HWY", "Highways", 80000,
         "prior to commencement", None, "03/08/2021", 80000, "12/12/2022", 30000, "PRJ-TW-JUNCTION", "5"],
        ["TW/20/0456", "01/07/2020", "Hop Garden, Paddock Wood", "Redrow Homes", "TW-YTH", "Youth services",
         1200.456, None, None, "03/08/2021", 1200.456, None, None, None],  # third decimal: refused
        ["TOTAL", None, None, None, None, None, 336050.5, None, None, None, 335050.5, None, 130000, None],
    ]
    for offset, values in enumerate(rows, start=5):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=offset, column=column, value=value)
    for column in range(1, 5):
        sheet.merge_cells(start_row=5, start_column=column, end_row=7, end_column=column)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


@pytest.fixture
def tracker(tmp_path: Path) -> Path:
    path = build_tracker(tmp_path / "tracker.xlsx")
    OUTPUT.mkdir(exist_ok=True)
    shutil.copy(path, OUTPUT / "example-tracker.xlsx")
    return path


def test_cells_as_councils_type_them() -> None:
    assert cell_money(125000) == Decimal("125000.00")
    assert cell_money("£4,850.50") == Decimal("4850.50")
    assert cell_money(4850.5) == Decimal("4850.50")
    with pytest.raises(ValueError, match="two decimal places"):
        cell_money(1200.456)
    assert cell_date(datetime(2020, 2, 29)) == date(2020, 2, 29)
    assert cell_date(44197) == date(2021, 1, 1)
    assert cell_date("15/03/2021") == date(2021, 3, 15)


def test_the_example_mapping_is_valid() -> None:
    mapping = load_mapping(MAPPING)
    assert mapping.header_row == 4 and mapping.sheet == "S106 receipts"


def test_tracker_plan(tracker: Path) -> None:
    plan = plan_tracker(tracker, MAPPING)
    assert [a.reference for a in plan.agreements] == ["AS/19/0001", "TW/20/0456"]
    assert {o.reference: (o.purpose, o.service, o.amount) for o in plan.obligations} == {
        "AS1-PRI": ("education", "education-primary", Decimal("250000.00")),
        "AS1-LIB": ("community-facilities", "libraries", Decimal("4850.50")),
        "TW-HWY": ("highways", "highways", Decimal("80000.00")),
    }
    assert [(r.source.line, r.field) for r in plan.rejected] == [(9, "amount_secured")]
    receipts = {e.reference: (e.occurred_on, e.amount) for e in plan.entries if e.kind == "receipt"}
    assert receipts["RCT-1002"] == (date(2021, 1, 1), Decimal("125000.00"))
    assert receipts["TW-HWY/received/2021-08-03/80000.00"] == (date(2021, 8, 3), Decimal("80000.00"))


def test_tracker_import_through_the_command_line(app: Flask, tracker: Path, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ledger", "import", "tracker", str(tracker), "--mapping", str(MAPPING),
                                 "--rejects", str(tmp_path / "rejects.csv")])
    assert result.exit_code == 0, result.output
    assert "1 rows rejected" in result.output
    with app.extensions["ledger.sessions"]() as session:
        assert session.scalar(select(func.count()).select_from(Agreement)) == 2
        assert session.scalar(select(func.count()).select_from(Obligation)) == 3
        balance = balances.obligation_balance(session, "AS1-PRI", on=date(2022, 1, 1))
        assert (balance.balances.received, balance.balances.spent) == (Decimal("250000.00"), Decimal("100000.00"))
        assert [p.deadline for p in balance.receipts] == [date(2030, 2, 28), date(2031, 1, 1)]
        project = session.scalars(select(Project).where(Project.reference == "PRJ-TW-JUNCTION")).one()
        assert project.needs_review
        entries = session.scalar(select(func.count()).select_from(Entry))
    again = runner.invoke(args=["ledger", "import", "tracker", str(tracker), "--mapping", str(MAPPING)])
    assert again.exit_code == 0, again.output
    assert "nothing new" in again.output
    with app.extensions["ledger.sessions"]() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == entries


def test_bad_mappings_and_workbooks_are_refused(tmp_path: Path, tracker: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[tracker]\nsheet = "S106 receipts"\norganisation = "X"\n[columns]\nagreement_reference = "Ref"\n')
    with pytest.raises(ImportRefused, match="must name signed_on, purpose"):
        plan_tracker(tracker, bad)
    wrong_heading = tmp_path / "wrong.toml"
    wrong_heading.write_text(MAPPING.read_text().replace('"Date of S106"', '"Date signed"'))
    with pytest.raises(ImportRefused, match="'Date signed'"):
        plan_tracker(tracker, wrong_heading)
    not_a_workbook = tmp_path / "x.xlsx"
    not_a_workbook.write_text("reference,amount\n")
    with pytest.raises(ImportRefused, match="not an Excel workbook"):
        plan_tracker(not_a_workbook, MAPPING)
