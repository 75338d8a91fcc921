"""Importers never invent repayment terms (SPEC 8.2): a file without them gives the
authority's default, or unknown with a warning naming file, line and field and the
obligation flagged for review; CIL has no time limit; a tracker's "repayment years" cell is
read as people type it, and what cannot be read is an issue, never ten years."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from importers.gov_csv import plan_gov_csv
from importers.tracker import plan_tracker, read_repayment_terms
from ledger.models import Obligation
from ledger.services import SYSTEM, registry
from ledger.services.imports import apply_import
from tests.factories import write_gov_files


@pytest.mark.parametrize(("cell", "terms"), [
    ("7 years", ("receipt", 7)), ("7", ("receipt", 7)), ("7.0", ("receipt", 7)), ("seven years", ("receipt", 7)),
    ("Seven Years", ("receipt", 7)), ("twenty-five years", ("receipt", 25)), ("thirty", ("receipt", 30)),
    ("1 year", ("receipt", 1)), ("10 yrs", ("receipt", 10)),
    ("none", ("none", None)), ("No limit", ("none", None)), ("n/a", ("none", None)), ("N/A", ("none", None)),
])
def test_repayment_cells_as_people_type_them(cell: str, terms: tuple) -> None:
    assert read_repayment_terms(cell) == terms


@pytest.mark.parametrize("cell", ["ten-ish", "31 years", "0", "ten or fifteen", "twenty-ten", "5 months", "?"])
def test_unreadable_repayment_cells_are_refused(cell: str) -> None:
    with pytest.raises(ValueError):
        read_repayment_terms(cell)


def tracker_with_terms(path: Path, cells: list[str | None]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "S106 receipts"
    headings = ["Planning ref", "Date of S106", "Obligation", "Contribution for", "Amount in S106 (£)",
                "Repayment period"]
    for column, heading in enumerate(headings, start=1):
        sheet.cell(row=4, column=column, value=heading)
    for n, cell in enumerate(cells):
        values = [f"AS/19/000{n}", datetime(2019, 5, 14), f"OB-{n}", "Primary education", 1000, cell]
        for column, value in enumerate(values, start=1):
            sheet.cell(row=5 + n, column=column, value=value)
    workbook.save(path)
    return path


def mapping_with_terms(path: Path) -> Path:
    path.write_text("""
[tracker]
sheet = "S106 receipts"
header_row = 4
organisation = "E07000105"

[columns]
agreement_reference = "Planning ref"
signed_on = "Date of S106"
obligation_reference = "Obligation"
purpose = "Contribution for"
amount_secured = "Amount in S106 (£)"
repayment_years = "Repayment period"

[purposes]
"Primary education" = "education"
""", encoding="utf-8")
    return path


def test_tracker_terms_never_default_to_ten_years(session: Session, tmp_path: Path) -> None:
    workbook = tracker_with_terms(tmp_path / "t.xlsx", ["7 years", "none", "ten-ish", None])
    plan = plan_tracker(workbook, mapping_with_terms(tmp_path / "m.toml"))
    result = apply_import(session, plan, actor=SYSTEM)
    assert result.committed
    found = {o.reference: (o.repayment_basis, o.repayment_years, o.needs_review)
             for o in session.scalars(select(Obligation))}
    assert found == {"OB-0": ("receipt", 7, False), "OB-1": ("none", None, False), "OB-2": ("unknown", None, True),
                     "OB-3": ("unknown", None, True)}
    issues = {(i.source.file, i.source.line, i.field, i.severity) for i in result.issues}
    assert ("t.xlsx", 7, "repayment_years", "warning") in issues  # "ten-ish"
    assert ("t.xlsx", 8, "repayment_years", "warning") in issues  # blank, and no default for the authority
    assert next(i.reason for i in result.issues if i.source.line == 7).startswith("repayment years 'ten-ish'")
    assert not result.rejected


def test_a_blank_tracker_cell_takes_the_authority_default(session: Session, tmp_path: Path) -> None:
    registry.create_authority(session, {"code": "E07000105", "name": "Ashford", "kind": "district",
                                        "default_repayment_basis": "completion", "default_repayment_years": 5},
                              actor=SYSTEM)
    workbook = tracker_with_terms(tmp_path / "t.xlsx", [None, "12 years"])
    result = apply_import(session, plan_tracker(workbook, mapping_with_terms(tmp_path / "m.toml")), actor=SYSTEM)
    found = {o.reference: (o.repayment_basis, o.repayment_years, o.needs_review)
             for o in session.scalars(select(Obligation))}
    assert found == {"OB-0": ("completion", 5, False), "OB-1": ("receipt", 12, False)}
    assert not [i for i in result.issues if i.field == "repayment_years"]


def gov_files(directory: Path, agreement_type: str = "section-106") -> Path:
    write_gov_files(directory, [("T1", "received", "100.00", "01/05/2020")])
    agreements = directory / "developer-agreement.csv"
    agreements.write_text(agreements.read_text().replace(",section-106,", f",{agreement_type},"))
    return directory


def test_a_government_file_without_terms_gives_unknown_with_a_warning(session: Session, tmp_path: Path) -> None:
    result = apply_import(session, plan_gov_csv(gov_files(tmp_path / "gov")), actor=SYSTEM)
    obligation = session.scalars(select(Obligation)).one()
    assert (obligation.repayment_basis, obligation.repayment_years, obligation.needs_review) == ("unknown", None, True)
    [issue] = [i for i in result.issues if i.field == "repayment_years"]
    assert (issue.source.file, issue.source.line, issue.severity) == ("developer-agreement-contribution.csv", 2,
                                                                      "warning")
    assert "no default set for authority" in issue.reason


def test_a_government_file_takes_the_authority_default_where_one_is_set(session: Session, tmp_path: Path) -> None:
    plan = plan_gov_csv(gov_files(tmp_path / "gov"))
    [authority] = plan.authorities
    registry.create_authority(session, {"code": authority, "name": "Kent", "kind": "county",
                                        "default_repayment_basis": "receipt", "default_repayment_years": 10},
                              actor=SYSTEM)
    result = apply_import(session, plan, actor=SYSTEM)
    obligation = session.scalars(select(Obligation)).one()
    assert (obligation.repayment_basis, obligation.repayment_years, obligation.needs_review) == ("receipt", 10, False)
    assert not [i for i in result.issues if i.field == "repayment_years"]
    from ledger.services.balances import obligation_balance
    assert [p.deadline for p in obligation_balance(session, obligation.reference, on=date(2021, 1, 1)).receipts] == [
        date(2030, 5, 1)]


def test_cil_has_no_time_limit(session: Session, tmp_path: Path) -> None:
    result = apply_import(session, plan_gov_csv(gov_files(tmp_path / "gov", "community-infrastructure-levy")),
                          actor=SYSTEM)
    obligation = session.scalars(select(Obligation)).one()
    assert (obligation.repayment_basis, obligation.repayment_years, obligation.needs_review) == ("none", None, False)
    assert not [i for i in result.issues if i.field == "repayment_years"]
