"""services.division_report on a small ledger worked by hand, on SQLite and PostgreSQL: a
division's projects are those its money paid for, wherever they are; money per agreement
and per service are sums of the division's entries up to the day, reversals left out."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from ledger.services import balances, kept, registry
from ledger.services.division_report import division_report
from ledger.services.entries import reverse_entry
from reports.division import division_csv, division_workbook
from tests.factories import OFFICER, make_agreement, make_obligation, make_places, make_project, post

ON = date(2024, 3, 31)
D = Decimal


@pytest.fixture
def ledger(session: Session) -> Session:
    """Ashford Central's agreements A (two obligations) and B, and C in Ashford North."""
    make_places(session)
    registry.create_division(session, {"code": "ashford-north", "name": "Ashford North",
                                       "authority_code": "E07000105", "members": []}, actor=OFFICER)
    make_agreement(session, reference="A")
    make_obligation(session, agreement="A", reference="A/1", amount=D("100000.00"))
    make_obligation(session, agreement="A", reference="A/2", purpose="highways", service="highways",
                    amount=D("10000.00"))
    make_agreement(session, reference="B", site_name="Mill Lane")
    make_obligation(session, agreement="B", reference="B/1", amount=D("50000.00"))
    make_agreement(session, reference="C", division_code="ashford-north")
    make_obligation(session, agreement="C", reference="C/1", amount=D("40000.00"))
    # PRJ-1 lies in another division: Ashford Central's money paid for it all the same.
    make_project(session, reference="PRJ-1", division_code="ashford-north")
    make_project(session, reference="PRJ-2", service="highways", name="=1+1 Footpath")
    make_project(session, reference="PRJ-3")
    make_project(session, reference="PRJ-4")
    with freeze_time("2024-07-01 09:00:00"):
        post(session, "receipt", "60000.00", date(2023, 1, 10), obligation="A/1")
        post(session, "allocation", "30000.00", date(2023, 2, 1), obligation="A/1", project="PRJ-1")
        post(session, "spend", "12345.67", date(2023, 3, 1), obligation="A/1", project="PRJ-1")
        mistake = post(session, "spend", "100.00", date(2023, 3, 2), obligation="A/1", project="PRJ-1")
        reverse_entry(session, mistake.id, actor=OFFICER, reason="keyed twice")
        post(session, "receipt", "999.00", date(2024, 6, 1), obligation="A/1")  # after the day
        post(session, "receipt", "10000.00", date(2023, 1, 10), obligation="A/2")
        post(session, "transfer", "2500.00", date(2023, 4, 1), obligation="A/2", project="PRJ-2",
             recipient="Parish Council")
        post(session, "repayment", "1000.00", date(2023, 5, 1), obligation="A/2")
        post(session, "receipt", "5000.00", date(2023, 6, 1), obligation="B/1")
        post(session, "allocation", "4000.00", date(2023, 6, 2), obligation="B/1", project="PRJ-1")
        post(session, "spend", "1000.00", date(2023, 6, 3), obligation="B/1", project="PRJ-1")
        post(session, "allocation", "500.00", date(2023, 6, 4), obligation="B/1", project="PRJ-4")
        post(session, "deallocation", "500.00", date(2023, 6, 5), obligation="B/1", project="PRJ-4")
        post(session, "receipt", "40000.00", date(2023, 1, 10), obligation="C/1")
        post(session, "spend", "1000.00", date(2023, 2, 1), obligation="C/1", project="PRJ-3")
        post(session, "spend", "700.00", date(2023, 2, 1), obligation="C/1", project="PRJ-1")
    return session


def test_projects_are_those_the_divisions_money_paid_for_wherever_they_are(ledger: Session) -> None:
    report = division_report(ledger, "ashford-central", on=ON)
    assert [(p.reference, p.division_code, p.division_name, p.spent, p.transferred, p.allocated_unspent)
            for p in report.projects] == [
        # 12,345.67 + 1,000 spent; (30,000 - 12,345.67) + (4,000 - 1,000) still allocated. C's 700 is not ours.
        ("PRJ-1", "ashford-north", "Ashford North", D("13345.67"), D("0.00"), D("20654.33")),
        # The transfer allocated its own 2,500 (rule 5) and used it.
        ("PRJ-2", None, None, D("0.00"), D("2500.00"), D("0.00")),
    ]


def test_money_per_agreement_and_per_service_are_sums_of_the_entries(ledger: Session) -> None:
    report = division_report(ledger, "ashford-central", on=ON)
    assert [(a.reference, a.secured, a.received, a.spent, a.transferred, a.repaid, a.held)
            for a in report.agreements] == [
        ("A", D("110000.00"), D("70000.00"), D("12345.67"), D("2500.00"), D("1000.00"), D("54154.33")),
        ("B", D("50000.00"), D("5000.00"), D("1000.00"), D("0.00"), D("0.00"), D("4000.00")),
    ]
    assert [(s.service, s.secured, s.received, s.spent, s.transferred, s.repaid, s.held) for s in report.services] == [
        ("highways", D("10000.00"), D("10000.00"), D("0.00"), D("2500.00"), D("1000.00"), D("6500.00")),
        ("education-primary", D("150000.00"), D("65000.00"), D("13345.67"), D("0.00"), D("0.00"),
         D("51654.33")),
    ]
    assert all(isinstance(a.held, Decimal) for a in report.agreements)


def test_the_report_agrees_with_the_divisions_summary(ledger: Session) -> None:
    report = division_report(ledger, "ashford-central", on=ON)
    summary = balances.division_summary(ledger, "ashford-central", on=ON)
    for name in ("secured", "received", "spent", "transferred", "repaid", "held"):
        assert report.total(name) == getattr(summary, name), name
    later = division_report(ledger, "ashford-central", on=date(2024, 6, 1))
    assert later.total("received") == D("75999.00")


def test_the_kept_positions_give_what_the_replay_gives(ledger: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    # An agreement with no obligations yet is listed, with no money.
    make_agreement(ledger, reference="A0", site_name="Empty Field")
    # A proposed agreement is not: nor is its obligation's service, whose kept row is in the
    # division too.
    make_agreement(ledger, reference="P", signed_on=None, status="proposed")
    make_obligation(ledger, agreement="P", reference="P/1", purpose="libraries", service="libraries")
    on = date(2024, 6, 1)
    assert kept.unsettled(ledger, on) == [], "the kept positions answer for the day"
    report = division_report(ledger, "ashford-central", on=on)
    assert [(a.reference, a.site_name, a.secured, a.received) for a in report.agreements] == [
        ("A", None, D("110000.00"), D("70999.00")), ("A0", "Empty Field", D("0"), D("0")),
        ("B", "Mill Lane", D("50000.00"), D("5000.00"))]
    assert [(p.reference, p.spent, p.transferred, p.allocated_unspent) for p in report.projects] == [
        ("PRJ-1", D("13345.67"), D("0.00"), D("20654.33")), ("PRJ-2", D("0.00"), D("2500.00"), D("0.00"))]
    assert [s.service for s in report.services] == ["highways", "education-primary"]
    monkeypatch.setattr(kept, "unsettled", lambda session, on: None)
    assert division_report(ledger, "ashford-central", on=on) == report


def test_an_agreement_moved_to_another_division_takes_its_money_and_projects_with_it(
        ledger: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept rows the page reads carry their division: a corrected division moves them."""
    on = date(2024, 6, 1)
    registry.update_agreement(ledger, "B", {"division_code": "ashford-north"}, actor=OFFICER,
                              reason="the site is across the boundary")
    assert kept.unsettled(ledger, on) == []
    central, north = (division_report(ledger, code, on=on) for code in ("ashford-central", "ashford-north"))
    assert [a.reference for a in central.agreements] == ["A"]
    assert [a.reference for a in north.agreements] == ["B", "C"]
    # B's 1,000 spent on PRJ-1 and 3,000 allocated to it went with B; C's 700 was there already.
    assert [(p.reference, p.spent, p.allocated_unspent) for p in north.projects] == [
        ("PRJ-1", D("1700.00"), D("3000.00")), ("PRJ-3", D("1000.00"), D("0.00"))]
    assert [(p.reference, p.spent, p.allocated_unspent) for p in central.projects] == [
        ("PRJ-1", D("12345.67"), D("17654.33")), ("PRJ-2", D("0.00"), D("0.00"))]
    assert kept.differences(ledger) == []
    monkeypatch.setattr(kept, "unsettled", lambda session, on: None)
    assert [division_report(ledger, code, on=on) for code in ("ashford-central", "ashford-north")] == [central, north]


def test_another_division_sees_only_what_its_own_money_paid_for(ledger: Session) -> None:
    report = division_report(ledger, "ashford-north", on=ON)
    assert [p.reference for p in report.projects] == ["PRJ-1", "PRJ-3"]
    assert [a.reference for a in report.agreements] == ["C"]


def exact(row: tuple[object, ...]) -> list[object]:
    """A row read back from the workbook, its numbers as the pence they were written as."""
    return [Decimal(str(v)).quantize(D("0.01")) if isinstance(v, int | float) else v for v in row]


def test_the_workbook_holds_each_table_with_names_and_exact_totals(ledger: Session) -> None:
    report = division_report(ledger, "ashford-central", on=ON)
    names = registry.place_names(ledger)["divisions"]
    book = load_workbook(BytesIO(division_workbook(report, divisions=names, version="test")))
    assert book.sheetnames == ["Projects", "Agreements", "By service", "Notes"]
    projects = [exact(r) for r in book["Projects"].iter_rows(values_only=True)]
    assert projects[0] == ["Project", "Name", "Service", "Project's division", "Spent", "Transferred",
                           "Allocated, not yet spent"]
    assert projects[1][:4] == ["PRJ-1", "Project PRJ-1", "Primary education", "Ashford North"]
    assert projects[2][1] == "=1+1 Footpath" and book["Projects"]["B3"].data_type == "s"
    assert projects[-1] == ["Total", None, None, None, D("13345.67"), D("2500.00"), D("20654.33")]
    agreements = [exact(r) for r in book["Agreements"].iter_rows(values_only=True)]
    assert agreements[-1] == ["Total", None, D("160000.00"), D("75000.00"), D("13345.67"), D("2500.00"),
                              D("1000.00"), D("58154.33")]
    assert book["Agreements"]["C2"].number_format == "£#,##0.00"
    assert [r[0] for r in book["By service"].iter_rows(min_row=2, values_only=True)] == [
        "Highways", "Primary education", "Total"]
    assert int(book["Projects"].page_setup.paperSize) == 9  # A4


def test_the_csv_lists_the_three_tables_and_is_formula_safe(ledger: Session) -> None:
    report = division_report(ledger, "ashford-central", on=ON)
    rows = list(csv.DictReader(StringIO(division_csv(report, divisions=registry.place_names(ledger)["divisions"]))))
    assert [(r["table"], r["reference"]) for r in rows] == [
        ("project", "PRJ-1"), ("project", "PRJ-2"), ("agreement", "A"), ("agreement", "B"),
        ("service", ""), ("service", "")]
    assert rows[0]["project_division"] == "Ashford North" and rows[0]["allocated_unspent"] == "20654.33"
    assert rows[1]["name"] == "'=1+1 Footpath"
    assert rows[2]["held"] == "54154.33" and rows[5]["service"] == "Primary education"


def test_the_summary_counts_the_divisions_proposed_agreements(ledger: Session) -> None:
    """Its page lists the proposed agreements only if the summary has counted some (read with
    the kept money; as known at an earlier moment, on their own)."""
    on = date(2024, 6, 1)
    summary = balances.division_summary(ledger, "ashford-central", on=on)
    assert (summary.agreements, summary.proposed) == (2, 0)
    make_agreement(ledger, reference="P", signed_on=None, status="proposed")
    make_agreement(ledger, reference="Q", signed_on=None, status="proposed", division_code="ashford-north")
    summary = balances.division_summary(ledger, "ashford-central", on=on)
    assert (summary.agreements, summary.proposed) == (2, 1)
    assert balances.division_summary(ledger, "ashford-central", on=ON).proposed == 1
    earlier = balances.division_summary(ledger, "ashford-central", on=ON, as_known_at=datetime(2024, 7, 2, tzinfo=UTC))
    assert (earlier.agreements, earlier.proposed) == (2, 1)
