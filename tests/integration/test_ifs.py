"""A hand-worked Infrastructure Funding Statement, every figure computed by hand here and
read back from the workbook (reported year 2023 = 1 April 2023 to 31 March 2024)."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from ledger.domain.vocab import BAND_LABELS, Band
from ledger.services import registry
from ledger.services.entries import reverse_entry
from ledger.services.ifs import ifs_report
from reports.ifs_workbook import SHEETS, build_ifs_workbook
from tests.factories import OFFICER, make_agreement, make_obligation, make_project, post

D = Decimal
PUBLISHED = "2024-05-01 09:00:00"

EXPECTED = {
    "s106_a_money_secured": D("5500.00"),          # AG2: libraries 5,000 + monitoring 500
    "s106_b_money_received": D("20500.00"),        # R3 20,000 (1 April 2023) + R5 500
    "s106_c_received_before_unallocated": D("70000.00"),  # OB1's R1 30,000 + R2 40,000 left, none allocated
    "s106_d_affordable_housing_units": 30,
    "s106_d_school_places": 240,                   # 210 primary + 30 SEND
    "s106_e_allocated_not_spent": D("8000.00"),    # P2 on OB2
    "s106_f_money_spent": D("20500.00"),           # 15,000 spend + 5,000 transfer + 500 monitoring
    "s106_h_borrowing_repaid": D("15000.00"),      # the spend on P1, which repays borrowing
    "s106_h_monitoring_spent": D("500.00"),
    "s106_i_money_retained": D("88000.00"),        # OB1 70,000 + OB2 18,000
    "s106_i_commuted_sums_retained": D("18000.00"),  # OB2
    "s106_money_repaid": D("2000.00"),
}


def build_scenario(session: Session) -> None:
    with freeze_time(PUBLISHED):
        for code, name, division in (("E07000105", "Ashford", "ashford-central"),
                                     ("E07000106", "Canterbury", "canterbury-north")):
            registry.create_authority(session, {"code": code, "name": name, "kind": "district"}, actor=OFFICER)
            registry.create_division(session, {"code": division, "name": division.title(), "authority_code": code},
                                     actor=OFFICER)
        make_agreement(session, reference="AG1", signed_on=date(2019, 6, 1))
        make_obligation(session, agreement="AG1", reference="OB1", amount=D("100000.00"))
        make_obligation(session, agreement="AG1", reference="OB2", purpose="highways", service="highways",
                        amount=D("20000.00"), commuted_sum=True)
        make_agreement(session, reference="AG2", signed_on=date(2023, 5, 10), authority_code="E07000106",
                       division_code="canterbury-north")
        make_obligation(session, agreement="AG2", reference="OB3", purpose="community-facilities",
                        service="libraries", amount=D("5000.00"))
        make_obligation(session, agreement="AG2", reference="OB4", purpose="monitoring-fees", service="monitoring",
                        amount=D("500.00"), repayment_years=None, repayment_basis="none")
        make_obligation(session, agreement="AG2", reference="OB5", purpose="affordable-housing", service="other",
                        amount=None, units=30, unit_kind="affordable-housing-units")
        make_obligation(session, agreement="AG2", reference="OB6", amount=None, units=210, unit_kind="school-places",
                        school_category="primary")
        make_obligation(session, agreement="AG2", reference="OB7", service="send", amount=None, units=30,
                        unit_kind="school-places", school_category="send")
        make_agreement(session, reference="AG3", signed_on=date(2024, 4, 1))
        make_obligation(session, agreement="AG3", reference="OB8", amount=D("9999.00"))
        make_agreement(session, reference="AG4", signed_on=date(2023, 3, 31))
        make_obligation(session, agreement="AG4", reference="OB9", amount=D("7777.00"))
        make_project(session, reference="P1", repays_borrowing=True)
        make_project(session, reference="P2", service="highways")
        make_project(session, reference="PM", service="monitoring")

        post(session, "receipt", "60000.00", date(2020, 2, 29), obligation="OB1", reference="R1")
        post(session, "receipt", "40000.00", date(2023, 3, 31), obligation="OB1", reference="R2")
        post(session, "allocation", "30000.00", date(2021, 1, 1), obligation="OB1", project="P1")
        post(session, "spend", "10000.00", date(2022, 6, 1), obligation="OB1", project="P1")
        post(session, "spend", "15000.00", date(2023, 6, 15), obligation="OB1", project="P1")
        post(session, "transfer", "5000.00", date(2024, 3, 31), obligation="OB1", project="P1",
             recipient="Kent Academies Trust")
        post(session, "receipt", "20000.00", date(2023, 4, 1), obligation="OB2", reference="R3")
        post(session, "allocation", "8000.00", date(2023, 9, 1), obligation="OB2", project="P2")
        post(session, "repayment", "2000.00", date(2024, 1, 15), obligation="OB2")
        mistake = post(session, "receipt", "999.00", date(2023, 5, 1), obligation="OB2", reference="R6")
        reverse_entry(session, mistake.id, actor=OFFICER, reason="keyed against the wrong obligation")
        post(session, "receipt", "5000.00", date(2024, 4, 1), obligation="OB3", reference="R4")
        post(session, "receipt", "500.00", date(2023, 6, 1), obligation="OB4", reference="R5")
        post(session, "spend", "500.00", date(2023, 7, 1), obligation="OB4", project="PM")


@pytest.fixture
def scenario(session: Session) -> Session:
    build_scenario(session)
    return session


def test_every_figure_matches_the_hand_worked_statement(scenario: Session) -> None:
    with freeze_time("2024-06-01"):
        workbook = load_workbook(BytesIO(build_ifs_workbook(ifs_report(scenario, year=2023))))
    assert workbook.sheetnames == list(SHEETS)
    for name, expected in EXPECTED.items():
        defined = workbook.defined_names[name]
        [(sheet, cell)] = list(defined.destinations)
        value = workbook[sheet][cell.replace("$", "")].value
        assert not (isinstance(value, str) and value.startswith("=")), f"{name} is a formula"
        assert D(str(value)) == expected, name
        if isinstance(expected, Decimal):
            assert workbook[sheet][cell.replace("$", "")].number_format.startswith("£#,##0")


def test_detail_sheets_carry_the_rows_behind_the_figures(scenario: Session) -> None:
    with freeze_time("2024-06-01"):
        report = ifs_report(scenario, year=2023)
        workbook = load_workbook(BytesIO(build_ifs_workbook(report)))
    assert all(check.holds for check in report.checks)
    received = workbook["Received"]
    header = [c.value for c in received[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=False)) for row in received.iter_rows(min_row=2)
            if row[0].value not in (None, "Total")]
    assert sorted(r["Entry"] for r in rows) == ["R3", "R5"]
    assert {r["Entry"]: r["Repayment deadline"].date() for r in rows if r["Repayment deadline"]} == {
        "R3": date(2033, 4, 1)}
    spent = workbook["Spent"]
    spent_header = [c.value for c in spent[1]]
    spent_rows = [dict(zip(spent_header, (c.value for c in row), strict=False))
                  for row in spent.iter_rows(min_row=2, max_row=4)]
    assert [(r["Kind"], r["Project"], D(str(r["Amount"]))) for r in spent_rows] == [
        ("spend", "P1", D("15000")), ("spend", "PM", D("500")), ("transfer", "P1", D("5000"))]
    at_risk = workbook["At risk"]
    leap = next(row for row in at_risk.iter_rows(min_row=2, values_only=True) if row[6] == "R1")
    assert (leap[8].date(), D(str(leap[9])), leap[12]) == (date(2030, 2, 28), D("30000"), BAND_LABELS[Band.GREEN])
    checks = workbook["Checks"]
    # The table of checks, then the statement of the reconciliation with the finance ledger.
    assert [row[3] for row in checks.iter_rows(min_row=2, max_row=len(report.checks) + 1, values_only=True)] == [
        "Yes"] * len(report.checks)
    non_monetary = [row[:2] for row in workbook["Non-monetary"].iter_rows(values_only=True) if row[0] in ("primary", "send")]
    assert non_monetary == [("primary", 210), ("send", 30)]
    notes = " ".join(str(c.value) for row in workbook["Notes"].iter_rows() for c in row if c.value)
    assert "2023/24" in notes and "As known at" in notes and "Allocated" in notes


def test_sheets_are_laid_out_for_committee_papers(scenario: Session) -> None:
    with freeze_time("2024-06-01"):
        workbook = load_workbook(BytesIO(build_ifs_workbook(ifs_report(scenario, year=2023))))
    for name in SHEETS:
        sheet = workbook[name]
        assert sheet.freeze_panes, name
        assert sheet.page_setup.orientation == "landscape", name
        assert sheet.page_setup.fitToWidth == 1, name
    for name in ("Secured", "Received", "Allocated", "Spent", "Retained", "At risk", "By authority", "By division"):
        assert workbook[name].auto_filter.ref, name
        assert workbook[name].print_title_rows == "$1:$1", name
    [(sheet, cell)] = list(workbook.defined_names["s106_a_money_secured"].destinations)
    assert workbook[sheet][cell.replace("$", "")].number_format.startswith("£#,##0")
    charts = sum(len(workbook[name]._charts) for name in SHEETS)
    assert charts >= 1


def test_last_years_statement_is_reproduced_after_a_later_correction(scenario: Session) -> None:
    published_at = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    with freeze_time("2024-08-01"):
        post(scenario, "receipt", "1000.00", date(2023, 12, 1), obligation="OB3", reference="LATE")
        reproduced = ifs_report(scenario, year=2023, as_known_at=published_at)
        current = ifs_report(scenario, year=2023)
    assert reproduced.value("s106_b_money_received") == EXPECTED["s106_b_money_received"]
    assert reproduced.value("s106_i_money_retained") == EXPECTED["s106_i_money_retained"]
    assert current.value("s106_b_money_received") == D("21500.00")
    assert current.value("s106_i_money_retained") == D("89000.00")


def test_year_boundaries_count_1_april_in_and_31_march_out(scenario: Session) -> None:
    with freeze_time("2025-06-01"):
        previous = ifs_report(scenario, year=2022)
        following = ifs_report(scenario, year=2024)
    assert previous.value("s106_a_money_secured") == D("7777.00")       # AG4 signed 31 March 2023
    assert previous.value("s106_b_money_received") == D("40000.00")     # R2 on 31 March 2023
    assert following.value("s106_a_money_secured") == D("9999.00")      # AG3 signed 1 April 2024
    assert following.value("s106_b_money_received") == D("5000.00")     # R4 on 1 April 2024


def test_workbook_opens_in_libreoffice(scenario: Session, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("LibreOffice is required under CI=true (apt-get install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice not installed")
    with freeze_time("2024-06-01"):
        path = tmp_path / "ifs.xlsx"
        path.write_bytes(build_ifs_workbook(ifs_report(scenario, year=2023)))
    # Converting back to xlsx makes LibreOffice parse every part; a damaged file fails here.
    out = tmp_path / "out"
    result = subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "csv", "--outdir", str(out), str(path)],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr
    summary = (out / "ifs.csv").read_text(encoding="utf-8", errors="replace")
    assert "Infrastructure Funding Statement 2023/24" in summary
    assert "88000" in summary.replace(",", "")
