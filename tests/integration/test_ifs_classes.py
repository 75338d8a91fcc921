"""A hand-worked mixed statement (SPEC 8.1, 8.3, 8.4): planning obligations, deeds of variation,
CIL and section 278 money, an opening balance, unknown terms and a placeholder, every figure
of every class worked out by hand here and read back from the workbook by defined name.
Reported year 2023 = 1 April 2023 to 31 March 2024."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from importers.gov_csv import plan_gov_csv
from ledger.domain.ifs import DataQuality, dependence_line
from ledger.models import Obligation
from ledger.services import SYSTEM, users
from ledger.services.ifs import ifs_report
from ledger.services.imports import apply_import
from reports.ifs_workbook import build_ifs_workbook
from tests.factories import make_agreement, make_obligation, make_places, make_project, post

D = Decimal
DATA = Path(__file__).parents[1] / "data" / "gov-csv"

EXPECTED = {
    # Section 106 report: planning obligations only.
    "s106_a_money_secured": D("65000.00"),  # OB-A 50,000 + OB-UU 8,000 + OB-UNK 4,000
    #                                          + OB-DOV1 26,000 - OB-OLD1 20,000 (+6,000)
    #                                          + OB-DOV2 12,000 - OB-OLD2 15,000 (-3,000)
    "s106_b_money_received": D("63000.00"),  # OB-A 50,000 + OB-UU 8,000 + OB-UNK 4,000 + OB-PH 1,000;
    #                                           never the 5,000 opening balance
    "s106_c_received_before_unallocated": D("11000.00"),  # OB-OLD1: 20,000 - 7,000 spent - 5,000 allocated = 8,000;
    #                                                        OB-OLD2's opening balance 5,000 - 2,000 allocated = 3,000
    "s106_e_allocated_not_spent": D("7000.00"),  # OB-OLD1 12,000 - 7,000 spent + OB-OLD2 2,000
    "s106_f_money_spent": D("17000.00"),  # OB-OLD1 7,000 + OB-A 10,000
    "s106_h_borrowing_repaid": D("0.00"),
    "s106_h_monitoring_spent": D("0.00"),
    "s106_i_money_retained": D("71000.00"),  # 13,000 + 40,000 + 8,000 + 4,000 + 5,000 (opening) + 1,000
    "s106_i_commuted_sums_retained": D("0.00"),
    "s106_money_repaid": D("0.00"),
    # CIL report (paragraph 1 letters).
    "cil_b_receipts": D("25000.00"),  # CIL-R2
    "cil_c_received_before_unallocated": D("15000.00"),  # CIL-R1 30,000 - 9,000 used (first received, first used)
    #                                                       - 6,000 allocated (earliest first) = 15,000
    "cil_e_expenditure": D("6000.00"),  # spend only
    "cil_f_allocated_not_spent": D("6000.00"),  # 10,000 - 6,000 spent - 3,000 passed on + 5,000 in March
    "cil_i_passed_to_others": D("3000.00"),  # the transfer to Wye Parish Council
    "cil_l_retained": D("46000.00"),  # 30,000 + 25,000 - 6,000 - 3,000
    # Section 278.
    "s278_a_money_secured": D("40000.00"),
    "s278_b_money_received": D("40000.00"),
    "s278_f_money_spent": D("15000.00"),
    "s278_i_money_retained": D("25000.00"),
}
UNITS = {"s106_d_affordable_housing_units": 0, "s106_d_school_places": 0}


def build_mixed(session: Session) -> None:
    with freeze_time("2024-05-01 09:00:00"):
        make_places(session)
        cil = {"purpose": "community-infrastructure-levy", "service": "highways", "amount": None,
               "repayment_basis": "none", "repayment_years": None}
        make_agreement(session, reference="AG-OLD", signed_on=date(2018, 1, 10))
        make_obligation(session, agreement="AG-OLD", reference="OB-OLD1", amount=D("20000.00"))
        make_obligation(session, agreement="AG-OLD", reference="OB-OLD2", amount=D("15000.00"))
        make_obligation(session, agreement="AG-OLD", reference="OB-PH", amount=None, needs_review=True,
                        trigger="placeholder: named by developer-agreement-transaction.csv line 7")
        make_agreement(session, reference="AG-S106", signed_on=date(2023, 5, 1))
        make_obligation(session, agreement="AG-S106", reference="OB-A", amount=D("50000.00"))
        make_obligation(session, agreement="AG-S106", reference="OB-UNK", amount=D("4000.00"), needs_review=True,
                        repayment_basis="unknown", repayment_years=None)
        make_agreement(session, reference="AG-UU", type="unilateral-undertaking", signed_on=date(2023, 6, 1))
        make_obligation(session, agreement="AG-UU", reference="OB-UU", purpose="open-space", service="other",
                        amount=D("8000.00"))
        make_agreement(session, reference="AG-DOV1", type="deed-of-variation", varies="AG-OLD",
                       signed_on=date(2023, 7, 1))
        make_obligation(session, agreement="AG-DOV1", reference="OB-DOV1", amount=D("26000.00"), replaces="OB-OLD1")
        make_agreement(session, reference="AG-DOV2", type="deed-of-variation", varies="AG-OLD",
                       signed_on=date(2023, 8, 1))
        make_obligation(session, agreement="AG-DOV2", reference="OB-DOV2", amount=D("12000.00"), replaces="OB-OLD2")
        make_agreement(session, reference="AG-CIL", type="community-infrastructure-levy", signed_on=date(2019, 4, 1))
        make_obligation(session, agreement="AG-CIL", reference="OB-CIL", **cil)
        make_agreement(session, reference="AG-278", type="section-278", signed_on=date(2023, 6, 15))
        make_obligation(session, agreement="AG-278", reference="OB-278", purpose="highways", service="highways",
                        amount=D("40000.00"), repayment_years=5)
        make_project(session, reference="P-S106")
        make_project(session, reference="P-CIL", service="highways")
        make_project(session, reference="P-278", service="highways")

        post(session, "receipt", "20000.00", date(2019, 5, 1), obligation="OB-OLD1", reference="OLD1-R")
        post(session, "allocation", "12000.00", date(2021, 1, 1), obligation="OB-OLD1", project="P-S106")
        post(session, "spend", "7000.00", date(2023, 11, 1), obligation="OB-OLD1", project="P-S106")
        post(session, "opening-balance", "5000.00", date(2023, 4, 1), obligation="OB-OLD2", reference="OLD2-OB",
             original_received_on=date(2018, 3, 1))
        post(session, "allocation", "2000.00", date(2023, 12, 1), obligation="OB-OLD2", project="P-S106")
        post(session, "receipt", "1000.00", date(2023, 6, 1), obligation="OB-PH", reference="PH-R")
        post(session, "receipt", "50000.00", date(2023, 9, 1), obligation="OB-A", reference="A-R")
        post(session, "spend", "10000.00", date(2024, 2, 1), obligation="OB-A", project="P-S106")
        post(session, "receipt", "4000.00", date(2023, 10, 1), obligation="OB-UNK", reference="UNK-R")
        post(session, "receipt", "8000.00", date(2024, 1, 10), obligation="OB-UU", reference="UU-R")

        post(session, "receipt", "30000.00", date(2022, 6, 1), obligation="OB-CIL", reference="CIL-R1")
        post(session, "allocation", "10000.00", date(2022, 9, 1), obligation="OB-CIL", project="P-CIL")
        post(session, "receipt", "25000.00", date(2023, 5, 15), obligation="OB-CIL", reference="CIL-R2")
        post(session, "spend", "6000.00", date(2023, 7, 1), obligation="OB-CIL", project="P-CIL")
        post(session, "transfer", "3000.00", date(2023, 12, 15), obligation="OB-CIL", project="P-CIL",
             recipient="Wye Parish Council")
        post(session, "allocation", "5000.00", date(2024, 3, 1), obligation="OB-CIL", project="P-CIL")

        post(session, "receipt", "40000.00", date(2023, 7, 1), obligation="OB-278", reference="278-R")
        post(session, "spend", "15000.00", date(2024, 1, 1), obligation="OB-278", project="P-278")


@pytest.fixture
def mixed(session: Session) -> Session:
    build_mixed(session)
    return session


def named_value(workbook, name: str) -> object:  # type: ignore[no-untyped-def]
    [(sheet, where)] = list(workbook.defined_names[name].destinations)
    return workbook[sheet][where.replace("$", "")].value


def test_every_figure_of_every_class_matches_the_hand_worked_statement(mixed: Session) -> None:
    with freeze_time("2024-06-01"):
        report = ifs_report(mixed, year=2023)
        workbook = load_workbook(BytesIO(build_ifs_workbook(report)))
    assert not report.failed_checks
    for name, expected in EXPECTED.items():
        value = named_value(workbook, name)
        assert isinstance(value, int | float) and D(str(value)) == expected, name
    for name, expected in UNITS.items():
        assert named_value(workbook, name) == expected, name
    assert next(iter(workbook.defined_names["cil_l_retained"].destinations))[0] == "CIL"
    assert next(iter(workbook.defined_names["s278_i_money_retained"].destinations))[0] == "Section 278"


def test_variations_count_what_they_change_and_say_so(mixed: Session) -> None:
    with freeze_time("2024-06-01"):
        report = ifs_report(mixed, year=2023)
    rows = {r.obligation_reference: r for r in report.secured}
    assert set(rows) == {"OB-A", "OB-UNK", "OB-UU", "OB-DOV1", "OB-DOV2"}  # no CIL or s278 obligation
    assert (rows["OB-DOV1"].counted_amount, rows["OB-DOV2"].counted_amount) == (D("6000.00"), D("-3000.00"))
    assert rows["OB-DOV2"].explanation == ("Replaces OB-OLD2 (£15,000.00): the variation reduces the money secured, "
                                           "counted as a decrease of £3,000.00")
    assert "increase of £6,000.00" in rows["OB-DOV1"].explanation
    assert rows["OB-A"].explanation == "" and rows["OB-A"].counted_amount == D("50000.00")
    # The replaced obligations keep their money where it is.
    retained = {r.obligation_reference: r.held for r in report.retained}
    assert (retained["OB-OLD1"], retained["OB-OLD2"]) == (D("13000.00"), D("5000.00"))


def test_class_rows_and_data_quality(mixed: Session) -> None:
    with freeze_time("2024-06-01"):
        report = ifs_report(mixed, year=2023)
        workbook = load_workbook(BytesIO(build_ifs_workbook(report)))
    assert [m.entry_reference for m in report.cil.received] == ["CIL-R2"]
    assert [(m.kind, m.amount) for m in report.cil.spent] == [("spend", D("6000.00")), ("transfer", D("3000.00"))]
    assert [m.entry_reference for m in report.s278.received] == ["278-R"]
    assert [r.obligation_reference for r in report.s278.secured] == ["OB-278"]
    assert "OB-CIL" not in {r.obligation_reference for r in report.retained}
    assert {r.obligation_reference for r in report.at_risk} <= {r.obligation_reference for r in report.retained}  # type: ignore[attr-defined]
    assert [m.entry_reference for m in report.opening] == ["OLD2-OB"]

    quality = report.data_quality
    assert [(r.reference, r.amount) for r in quality.needs_review] == [("OB-UNK", D("4000.00"))]
    assert [(r.reference, r.amount) for r in quality.placeholders] == [("OB-PH", D("1000.00"))]
    assert [(r.entry_reference, r.amount) for r in quality.opening] == [("OLD2-OB", D("5000.00"))]
    assert [(r.entry_reference, r.remaining) for r in quality.unknown_deadlines] == [("UNK-R", D("4000.00"))]
    line = ("The figures depend on data flagged on the Data quality sheet (money on obligations, agreements and "
            "projects flagged needs-review: £4,000.00; opening balances dated in the year: £5,000.00; money held at "
            "the year end whose repayment date is unknown: £4,000.00; money on placeholder obligations made by an "
            "import: £1,000.00).")
    assert dependence_line(quality) == line

    texts = {name: [str(c) for row in workbook[name].iter_rows(values_only=True) for c in row if c is not None]
             for name in ("CIL", "Section 278", "Data quality")}
    assert texts["CIL"].count("not recorded in this ledger") == 3
    assert any("demand notices" in t for t in texts["CIL"]) and "Wye Parish Council" in texts["CIL"]
    assert "278-R" in texts["Section 278"]
    assert line in texts["Data quality"] and {"OB-UNK", "OB-PH", "OLD2-OB", "UNK-R"} <= set(texts["Data quality"])
    for name in ("CIL", "Section 278", "Data quality"):
        assert workbook[name].page_setup.orientation == "landscape" and workbook[name].page_setup.fitToWidth == 1
    checks = {c.name for c in report.checks}
    assert "s106 (i) + CIL (l) + section 278 (i) = money held in the whole ledger" in checks
    assert "CIL sheet money passed to other bodies = CIL (i)" in checks


def test_the_opening_balance_counts_in_c_in_its_own_year_and_later(mixed: Session) -> None:
    with freeze_time("2025-06-01"):
        later = ifs_report(mixed, year=2024)
    # Nothing moved after March 2024: every pound held is now received before the year.
    assert later.value("s106_b_money_received") == D("0.00")
    assert later.value("s106_c_received_before_unallocated") == D("64000.00")  # 71,000 held - 7,000 allocated
    assert later.cil.value("cil_c_received_before_unallocated") == D("40000.00")  # 46,000 - 6,000
    assert later.data_quality.opening == []


def test_no_flagged_data_says_so() -> None:
    empty = DataQuality(needs_review=[], opening=[], unknown_deadlines=[], placeholders=[])
    assert dependence_line(empty) == "The figures do not depend on any data flagged on the Data quality sheet."


def _token(app: Flask) -> dict[str, str]:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="officer@test.s106", role="officer", password=None, actor=SYSTEM)
        return {"Authorization": f"Bearer {users.create_token(session, email='officer@test.s106', actor=SYSTEM)}"}


def test_an_obligation_replaces_one_of_the_agreement_its_deed_varies(app: Flask, client: FlaskClient) -> None:
    headers = _token(app)
    with app.extensions["ledger.sessions"]() as session:
        make_places(session)
        make_agreement(session, reference="OLD")
        make_obligation(session, agreement="OLD", reference="OLD/1")
        make_agreement(session, reference="OTHER")
        make_obligation(session, agreement="OTHER", reference="OTHER/1")
        make_agreement(session, reference="DOV", type="deed-of-variation", varies="OLD", signed_on=date(2023, 5, 1))

        before = session.scalar(select(func.count()).select_from(Obligation))
    body = {"reference": "DOV/1", "purpose": "education", "service": "education-primary", "amount": "1.00"}
    for agreement, replaces in (("OTHER", "OLD/1"), ("DOV", "OTHER/1"), ("DOV", "NOWHERE")):
        response = client.post(f"/api/v1/agreements/{agreement}/obligations", json=body | {"replaces": replaces},
                               headers=headers)
        assert response.status_code == 422, (agreement, replaces)
        assert response.content_type == "application/problem+json"
        assert [e["field"] for e in response.get_json()["errors"]] == ["replaces"]
    with app.extensions["ledger.sessions"]() as session:
        assert session.scalar(select(func.count()).select_from(Obligation)) == before
    response = client.post("/api/v1/agreements/DOV/obligations", json=body | {"replaces": "OLD/1"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    with app.extensions["ledger.sessions"]() as session:
        new, old = (session.scalars(select(Obligation).where(Obligation.reference == r)).one()
                    for r in ("DOV/1", "OLD/1"))
        assert new.replaces_id == old.id


# -- Real councils' files: CIL money is not section 106 money --------------------------------------

def _rows(council: str, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((DATA / council / name).read_bytes().decode("utf-8-sig"))))


def _money(text: str) -> Decimal:
    return abs(Decimal(text.replace("£", "").replace(",", "").strip() or "0"))


def _day(text: str) -> date | None:
    """A date as the files write it; None for what is not one ("n/a")."""
    text = text.strip()
    for form in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def _from_the_files(council: str, year: int) -> tuple[Decimal, Decimal, Decimal]:
    """Section 106 money secured, CIL secured and CIL received in ``year``, read from the files
    alone: an agreement's type and date from the agreement file (a contribution naming an
    agreement not in it is a section 106 placeholder dated by the contribution), the first
    row of a reference."""
    start, end = date(year, 4, 1), date(year + 1, 3, 31)

    def in_year(day: date | None) -> bool:
        return day is not None and start <= day <= end

    agreements: dict[str, tuple[str, date | None]] = {}
    for row in _rows(council, "developer-agreement.csv"):
        agreements.setdefault(row["developer-agreement"], (row["developer-agreement-type"], _day(row["start-date"])))
    secured = {"section-106": Decimal(0), "community-infrastructure-levy": Decimal(0)}
    agreement_of: dict[str, str] = {}
    for row in _rows(council, "developer-agreement-contribution.csv"):
        agreement_of.setdefault(row["developer-agreement-contribution"], row["developer-agreement"])
        kind, signed = agreements.get(row["developer-agreement"], ("section-106", _day(row["start-date"])))
        if kind in secured and in_year(signed):
            secured[kind] += _money(row["amount"])
    cil_received = Decimal(0)
    for row in _rows(council, "developer-agreement-transaction.csv"):
        contribution = row["developer-agreement-contribution"]
        # A transaction names a contribution, or (as Wiltshire's do) the agreement itself.
        kind = agreements.get(agreement_of.get(contribution, contribution), ("section-106",))[0]
        if (kind == "community-infrastructure-levy" and row["contribution-funding-status"].strip() == "received"
                and in_year(_day(row["start-date"]))):
            cil_received += _money(row["amount"])
    return secured["section-106"], secured["community-infrastructure-levy"], cil_received


def test_wiltshire_cil_money_is_not_in_the_section_106_figures(session: Session) -> None:
    secured, cil_secured, cil_received = _from_the_files("wiltshire", 2019)
    # As issue 13 found them: (a) was £7,852,855.46 with the CIL in it, (b) was all CIL.
    assert (secured, secured + cil_secured, cil_received) == (D("4928596.27"), D("7852855.46"), D("1847359.80"))
    with freeze_time("2024-05-01"):
        assert apply_import(session, plan_gov_csv(DATA / "wiltshire"), actor=SYSTEM).committed
    with freeze_time("2024-06-01"):
        report = ifs_report(session, year=2019)
        workbook = load_workbook(BytesIO(build_ifs_workbook(report)))
    assert D(str(named_value(workbook, "s106_a_money_secured"))) == secured
    assert D(str(named_value(workbook, "cil_b_receipts"))) == cil_received
    assert sum((r.amount or D(0) for r in report.cil.secured), D(0)) == cil_secured
    assert report.value("s106_b_money_received") == D("0.00")  # every receipt of the year is CIL
    assert not report.failed_checks

