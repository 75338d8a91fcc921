"""Importers take what the API takes: dates from 1980 (earlier ones are placeholders) to
2199-12-31, ASCII digits, references and texts that fit their columns, counts that fit 32
bits. A row that does not is refused with its field and reason (or, for a detail the row
can do without, kept with a warning); nothing reaches the database to be refused there,
so the import runs to the end on PostgreSQL too (SPEC §5: nothing is lost silently)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from importers.gov_csv import plan_gov_csv
from importers.plan import REJECTED, WARNING, ImportIssue, ImportPlan
from importers.read import parse_date, parse_units
from importers.tracker import cell_date, plan_tracker
from ledger.models import Agreement, Entry, Obligation
from ledger.services.entries import REFERENCE_MAX_LENGTH
from ledger.services.imports import apply_import
from tests.factories import OFFICER, write_gov_files


def arabic(text: str) -> str:
    return "".join(chr(0x660 + int(c)) if c in "0123456789" else c for c in text)


def issues(plan: ImportPlan, severity: str) -> dict[tuple[str, str], str]:
    """(reference, field) -> reason of each issue of this severity."""
    return {(i.source.reference, i.field): i.reason for i in plan.issues if i.severity == severity}


@pytest.mark.parametrize(("text", "reason"), [
    ("9999-12-31", "after 2199-12-31"), ("31/12/2200", "after 2199-12-31"), ("2200", "after 2199-12-31"),
    ("01/01/1900", "placeholder"), (arabic("2020-01-01"), "not a date"), (arabic("01/01/2020"), "not a date"),
], ids=["9999", "uk-2200", "year-2200", "1900-placeholder", "arabic-iso", "arabic-uk"])
def test_a_date_the_ledger_does_not_take_is_refused_saying_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_date(text)


def test_the_last_date_the_ledger_takes_is_read() -> None:
    assert parse_date("2199-12-31") == date(2199, 12, 31)
    assert parse_date("31/12/2199") == date(2199, 12, 31)


@pytest.mark.parametrize("value", [2958466, 10**7, 1e10, float("nan"), datetime(2250, 1, 1), date(1899, 12, 30)],
                         ids=["past-9999", "ten-million", "huge-float", "nan", "2250", "1899"])
def test_an_excel_date_outside_the_range_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        cell_date(value)


@pytest.mark.parametrize("text", ["99999999999", arabic("12"), "1e3"])
def test_units_that_cannot_be_counted_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_units(text)


def test_gov_csv_rows_with_dates_out_of_range_are_refused_or_warned(tmp_path: Path) -> None:
    directory = write_gov_files(tmp_path / "council", [
        ("T-1", "received", "100.00", "01/06/2020"),
        ("T-2", "received", "200.00", "31/12/9999"),
        ("T-3", "received", arabic("300.00"), "01/06/2020"),
        ("T-4", "received", "400.00", "2200-01-01"),
    ])
    # An end-date of 9999-12-31 ("open-ended") is ignored with a warning, not read as superseded.
    transactions = directory / "developer-agreement-transaction.csv"
    transactions.write_text(transactions.read_text().replace(
        "contribution-funding-status,amount,start-date\n", "contribution-funding-status,amount,start-date,end-date\n")
        .replace("T-1,DA-1/C1,received,100.00,01/06/2020\n", "T-1,DA-1/C1,received,100.00,01/06/2020,9999-12-31\n"))
    plan = plan_gov_csv(directory)
    rejected = issues(plan, REJECTED)
    assert "after 2199-12-31" in rejected["T-2", "start-date"]
    assert "after 2199-12-31" in rejected["T-4", "start-date"]
    assert "not an amount of money" in rejected["T-3", "amount"]
    assert "after 2199-12-31" in issues(plan, WARNING)["T-1", "end-date"]
    assert [e.reference for e in plan.entries] == ["T-1"]


def test_tracker_rows_with_dates_out_of_range_are_refused(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "S106 receipts"
    headings = ["Planning ref", "Date of S106", "Contribution for", "Amount in S106 (£)", "Receipt no.",
                "Date received", "Amount received"]
    for column, heading in enumerate(headings, start=1):
        sheet.cell(row=4, column=column, value=heading)
    rows = [["AS/1", datetime(2019, 5, 14), "Libraries", 500, "R-1", datetime(2020, 1, 1), 100],
            ["AS/1", datetime(2019, 5, 14), "Libraries", 500, "R-2", 2958466, 100],  # past 9999-12-31
            ["AS/1", datetime(2019, 5, 14), "Libraries", 500, "R-3", datetime(2250, 1, 1), 100],
            ["AS/2", datetime(9999, 12, 31), "Libraries", 500, "R-4", datetime(2020, 1, 1), 100]]
    for offset, values in enumerate(rows, start=5):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=offset, column=column, value=value)
    path = tmp_path / "tracker.xlsx"
    workbook.save(path)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[tracker]\nsheet = "S106 receipts"\nheader_row = 4\norganisation = "E07000105"\n[columns]\n'
                       + "".join(f'{field} = "{heading}"\n' for field, heading in zip(
                           ["agreement_reference", "signed_on", "purpose", "amount_secured", "receipt_reference",
                            "received_on", "amount_received"], headings, strict=True)))
    plan = plan_tracker(path, mapping)
    rejected = {(i.source.line, i.field): i.reason for i in plan.rejected}
    assert "2958466 is not a date" in rejected[6, "received_on"]
    assert "after 2199-12-31" in rejected[7, "received_on"]
    assert "after 2199-12-31" in rejected[8, "signed_on"]
    assert [e.reference for e in plan.entries] == ["R-1"]


def test_a_reference_too_long_for_its_column_is_refused_with_what_hangs_on_it(session: Session,
                                                                              tmp_path: Path) -> None:
    """On PostgreSQL the import would otherwise stop with a database error, on SQLite keep
    what the API refuses. The entry reference leaves room for its reversal's."""
    longest = "T" * REFERENCE_MAX_LENGTH
    directory = write_gov_files(tmp_path / "council", [
        (longest, "received", "100.00", "01/06/2020"),
        (longest + "X", "received", "200.00", "01/06/2020"),
        ("T-3", "received", "300.00", "01/06/2020"),
    ])
    long_contribution = "C" * 256
    contributions = directory / "developer-agreement-contribution.csv"
    contributions.write_text(contributions.read_text() + f"{long_contribution},DA-1,education,10.00,01/04/2020\n")
    transactions = directory / "developer-agreement-transaction.csv"
    transactions.write_text(transactions.read_text() + f"T-5,{long_contribution},received,5.00,01/06/2020\n")
    plan = plan_gov_csv(directory)
    result = apply_import(session, plan, actor=OFFICER)
    assert result.committed
    rejected: dict[tuple[str, str], ImportIssue] = {(i.source.reference, i.field): i for i in result.rejected}
    assert f"at most {REFERENCE_MAX_LENGTH} characters" in rejected[longest + "X", "reference"].reason
    assert "at most 255 characters" in rejected[long_contribution, "reference"].reason
    assert "refused with obligation" in rejected["T-5", "obligation_reference"].reason
    assert session.scalar(select(func.count()).select_from(Entry).where(Entry.reference == longest)) == 1
    assert session.scalar(select(func.count()).select_from(Obligation)) == 1
    assert session.scalar(select(func.count()).select_from(Agreement)) == 1
    # Nothing is lost silently: each file's money adds up, the refused rows' included.
    assert all(line.adds_up for line in result.summary)


def test_an_authority_code_that_does_not_fit_refuses_its_agreements(session: Session, tmp_path: Path) -> None:
    directory = write_gov_files(tmp_path / "council", [("T-1", "received", "100.00", "01/06/2020")])
    plan = plan_gov_csv(directory, organisation="E" * 65)
    result = apply_import(session, plan, actor=OFFICER)
    assert result.committed and not plan.authorities
    reasons = {(i.source.reference, i.field): i.reason for i in result.rejected}
    assert "at most 64 characters" in reasons["DA-1", "authority_code"]
    assert "refused with agreement 'DA-1'" in reasons["DA-1/C1", "agreement_reference"]
    assert "refused with obligation 'DA-1/C1'" in reasons["T-1", "obligation_reference"]
    assert session.scalar(select(func.count()).select_from(Entry)) == 0
    assert all(line.adds_up for line in result.summary)
