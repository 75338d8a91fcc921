"""The public pages' reads on a hand-worked ledger (tests/integration/test_ifs_classes.py's
mixed statement), on SQLite and PostgreSQL: last year's figures are the statement's, every
agreement's, project's and division's money is worked out by hand, the search filters as
the officers' lists do, and the government files are the officers' export without notes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy.orm import Session

from ledger.models import Agreement
from ledger.public import queries
from ledger.services import exports
from ledger.services.ifs import ifs_report
from ledger.services.registry import Filters, update_agreement
from tests.factories import OFFICER, make_agreement, make_obligation, post
from tests.integration.test_ifs_classes import build_mixed

D = Decimal
TODAY = date(2024, 6, 1)


@pytest.fixture
def plain(session: Session) -> Session:
    """The hand-worked statement's ledger as it is."""
    build_mixed(session)
    return session


@pytest.fixture
def mixed(plain: Session) -> Session:
    """With a receipt this year and, where the schema has them, a proposed agreement."""
    session = plain
    with freeze_time("2024-06-01 09:00:00"):
        post(session, "receipt", "2500.00", date(2024, 5, 20), obligation="OB-A", reference="A-R2")
        if hasattr(Agreement, "status"):
            make_agreement(session, reference="AG-PROPOSED", status="proposed", signed_on=None,
                           site_name="Land at Proposed Lane")
            make_obligation(session, agreement="AG-PROPOSED", reference="OB-PROPOSED", amount=D("99000.00"))
    return session


def figures(year: queries.YearFigures) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    return {row.label: (row.received, row.spent, row.held) for row in year.classes}


def test_last_year_s_figures_are_the_statement_s_and_this_year_s_run_to_today(mixed: Session) -> None:
    with freeze_time("2024-06-01 12:00:00"):
        this_year, last_year = queries.year_figures(mixed, today=TODAY)
        report = ifs_report(mixed, year=2023)
    s106, cil, s278 = queries.CLASS_LABELS.values()
    assert (last_year.year, last_year.label, last_year.complete) == (2023, "2023/24", True)
    assert figures(last_year) == {
        s106: (report.value("s106_b_money_received"), report.value("s106_f_money_spent"),
               report.value("s106_i_money_retained")),
        cil: (report.value("cil_b_receipts"), report.value("cil_e_expenditure") + report.value("cil_i_passed_to_others"),
              report.value("cil_l_retained")),
        s278: (report.value("s278_b_money_received"), report.value("s278_f_money_spent"),
               report.value("s278_i_money_retained")),
    }
    # The statement's own hand-worked figures (test_ifs_classes.EXPECTED): the opening balance
    # is held, never received in the year.
    assert figures(last_year)[s106] == (D("63000.00"), D("17000.00"), D("71000.00"))
    assert figures(last_year)[cil] == (D("25000.00"), D("9000.00"), D("46000.00"))
    assert (this_year.year, this_year.start, this_year.end, this_year.complete) == (2024, date(2024, 4, 1), TODAY, False)
    assert figures(this_year)[s106] == (D("2500.00"), D("0.00"), D("73500.00"))
    assert figures(this_year)[s278] == (D("0.00"), D("0.00"), D("25000.00"))


def test_an_agreement_page_holds_its_obligations_money_and_projects(mixed: Session) -> None:
    page = queries.agreement_page(mixed, "AG-OLD", today=TODAY)
    assert page is not None
    assert page.type == "Section 106" and page.authority.name == "Ashford Borough Council"
    assert page.division == queries.Place(code="ashford-central", name="Ashford Central")
    money = {o.reference: (o.money.received, o.money.spent_or_transferred, o.money.held) for o in page.obligations}
    assert money == {"OB-OLD1": (D("20000.00"), D("7000.00"), D("13000.00")),
                     # An opening balance is money received, before the ledger began.
                     "OB-OLD2": (D("5000.00"), D("0.00"), D("5000.00")),
                     "OB-PH": (D("1000.00"), D("0.00"), D("1000.00"))}
    assert page.money.held == D("19000.00")
    [project] = page.projects
    assert (project.reference, project.spent, project.allocated_unspent) == ("P-S106", D("7000.00"), D("7000.00"))
    assert queries.agreement_page(mixed, "AG-NONE", today=TODAY) is None


def test_money_after_the_day_asked_about_is_not_counted(mixed: Session) -> None:
    page = queries.agreement_page(mixed, "AG-S106", today=date(2024, 1, 31))
    assert page is not None
    assert {o.reference: o.money.spent for o in page.obligations} == {"OB-A": D("0.00"), "OB-UNK": D("0.00")}


def test_a_project_page_names_the_agreements_that_paid(mixed: Session) -> None:
    page = queries.project_page(mixed, "P-CIL", today=TODAY)
    assert page is not None
    # Spend 6,000 and 3,000 passed to Wye Parish Council; 10,000 + 5,000 allocated less both.
    assert (page.spent, page.allocated_unspent) == (D("9000.00"), D("6000.00"))
    assert [(f.agreement_reference, f.spent, f.allocated_unspent) for f in page.funded_by] == [
        ("AG-CIL", D("9000.00"), D("6000.00"))]
    s106 = queries.project_page(mixed, "P-S106", today=TODAY)
    assert s106 is not None
    assert [(f.agreement_reference, f.spent) for f in s106.funded_by] == [("AG-OLD", D("7000.00")),
                                                                         ("AG-S106", D("10000.00"))]
    assert queries.project_page(mixed, "P-NONE", today=TODAY) is None


def test_a_division_page_sums_its_signed_agreements(mixed: Session) -> None:
    page = queries.division_page(mixed, "ashford-central", today=TODAY)
    assert page is not None
    assert page.authority.code == "E07000105"
    every = {"AG-OLD", "AG-S106", "AG-UU", "AG-DOV1", "AG-DOV2", "AG-CIL", "AG-278"}
    assert {a.reference for a in page.agreements} == every
    # Held: 19,000 (AG-OLD) + 46,500 (AG-S106) + 8,000 (AG-UU) + 46,000 (CIL) + 25,000 (s278).
    assert page.money.held == D("144500.00")
    assert sum((s.money.held for s in page.services), D(0)) == page.money.held
    assert page.secured == D("175000.00")  # the proposed agreement's 99,000 is not secured yet
    assert {p.reference for p in page.projects} == {"P-S106", "P-CIL", "P-278"}


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(search="AG-DOV"), ["AG-DOV2", "AG-DOV1"]),
    (Filters(search="proposed"), []),
    (Filters(service="other"), ["AG-UU"]),
    (Filters(purpose="community-infrastructure-levy"), ["AG-CIL"]),
    (Filters(authority="E07000105", division="ashford-central", search="AG-278"), ["AG-278"]),
    (Filters(authority="E07000999"), []),
])
def test_the_search_finds_signed_agreements_by_its_filters(mixed: Session, filters: Filters,
                                                           expected: list[str]) -> None:
    found = queries.search_agreements(mixed, filters, page=1)
    assert [r.reference for r in found.rows] == expected and found.total == len(expected)


def test_the_search_is_paged_newest_first(mixed: Session) -> None:
    first = queries.search_agreements(mixed, Filters(), page=1, page_size=3)
    second = queries.search_agreements(mixed, Filters(), page=3, page_size=3)
    assert (first.total, first.pages) == (7, 3)
    assert [r.reference for r in first.rows] == ["AG-DOV2", "AG-DOV1", "AG-278"]
    assert [r.reference for r in second.rows] == ["AG-OLD"]


def test_the_government_files_are_the_officers_export_less_notes(plain: Session) -> None:
    with freeze_time("2024-06-01 09:00:00"):
        update_agreement(plain, "AG-OLD", {"notes": "an officer's note"}, actor=OFFICER, reason="test")
    officers = exports.gov_csv_rows(plain)
    agreements, contributions, transactions = queries.gov_csv_rows(plain)
    assert any(row["notes"] for row in officers.agreements)
    assert agreements == [row | {"notes": ""} for row in officers.agreements]
    assert (contributions, transactions) == (officers.contributions, officers.transactions)
    assert len(transactions) == 20  # 18 posted, and the allocations two spends made (rule 5)


def test_the_government_files_leave_proposed_agreements_out(mixed: Session) -> None:
    agreements, contributions, _ = queries.gov_csv_rows(mixed)
    assert "AG-PROPOSED" not in {row["reference"] for row in agreements}
    assert "OB-PROPOSED" not in {row["reference"] for row in contributions}
