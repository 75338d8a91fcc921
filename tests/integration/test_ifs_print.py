"""The statement as a council prints it (issue 13 items 5-7, SPEC 8.5, 8.6): both editions of
the IFS workbook and the at-risk workbook, written from the small demo and converted to PDF by
LibreOffice, as a clerk's print would be. Pages are counted by their header, which names the
sheet, so each bound is per sheet."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pypdf
import pytest
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from ledger import __version__
from ledger.demo import generate
from ledger.domain.ifs import IfsReport
from ledger.domain.vocab import SERVICE_LABELS, SERVICES
from ledger.services.balances import at_risk
from ledger.services.ifs import ifs_report
from reports.at_risk import at_risk_workbook
from reports.ifs_workbook import PUBLIC_SHEETS, SHEETS, build_ifs_workbook
from reports.workbook import wrapped_height
from tests.conftest import make_test_app

TODAY = date(2025, 6, 1)
YEAR = 2024
COUNCIL = "Demo & District Council"  # an "&" must survive into the page header
HEADER_BLUE = "1F4E78"
#: A4 landscape in PDF points (297 x 210 mm), to a point.
A4_LANDSCAPE = (842, 595)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Session]:
    """The small demo (150 agreements) on a SQLite file, shared by this module's tests."""
    path = tmp_path_factory.mktemp("demo") / "ledger.sqlite"
    shutil.copy(sqlite_template, path)
    app = make_test_app(f"sqlite:///{path}")
    with app.extensions["ledger.sessions"]() as session, freeze_time(TODAY):
        generate(session, scale="small", seed=106, today=TODAY)
        yield session
    app.extensions["ledger.engine"].dispose()


@pytest.fixture(scope="module")
def report(small_demo: Session) -> IfsReport:
    with freeze_time(TODAY):
        return ifs_report(small_demo, year=YEAR)


@pytest.fixture(scope="module")
def workbooks(report: IfsReport, small_demo: Session) -> dict[str, bytes]:
    with freeze_time(TODAY):
        rows = at_risk(small_demo, as_of=TODAY)
    return {
        "public": build_ifs_workbook(report, edition="public", council=COUNCIL),
        "internal": build_ifs_workbook(report, edition="internal", council=COUNCIL),
        "at-risk": at_risk_workbook(rows, as_of=TODAY, version=__version__, council=COUNCIL),
    }


def _soffice() -> str:
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("LibreOffice is required under CI=true (apt-get install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice not installed")
    return soffice


@pytest.fixture(scope="module")
def printed(workbooks: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, tuple[int, int]]]]:
    """Each workbook printed to PDF by LibreOffice: per page, its text and its size in points."""
    soffice = _soffice()
    folder = tmp_path_factory.mktemp("print")
    pages = {}
    for name, data in workbooks.items():
        (folder / f"{name}.xlsx").write_bytes(data)
        result = subprocess.run(
            [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{folder}/profile",
             "--convert-to", "pdf", "--outdir", str(folder), str(folder / f"{name}.xlsx")],
            capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, result.stderr
        reader = pypdf.PdfReader(folder / f"{name}.pdf")
        pages[name] = [(page.extract_text() or "", (round(float(page.mediabox.width)), round(float(page.mediabox.height))))
                       for page in reader.pages]
    return pages


def _sheet_of(page_text: str) -> str:
    """The sheet a printed page is from: its header ends ": {sheet name}"."""
    header = page_text.strip().splitlines()[0]
    return header.rsplit(": ", 1)[-1].strip()


def _header_cells(workbook_bytes: bytes) -> dict[str, list[str]]:
    """Each sheet's table headings: the cells in the header colour."""
    workbook = load_workbook(BytesIO(workbook_bytes))
    return {sheet.title: [str(c.value) for row in sheet.iter_rows() for c in row
                          if c.value is not None and c.fill.fgColor.rgb and str(c.fill.fgColor.rgb).endswith(HEADER_BLUE)]
            for sheet in workbook.worksheets}


# -- what each edition holds -------------------------------------------------------------------

def test_the_public_edition_has_no_money_at_risk_and_no_deadlines(workbooks: dict[str, bytes]) -> None:
    workbook = load_workbook(BytesIO(workbooks["public"]))
    assert workbook.sheetnames == list(PUBLIC_SHEETS)
    assert "At risk" not in workbook.sheetnames
    for sheet, headings in _header_cells(workbooks["public"]).items():
        # Data quality lists flagged rows only where there are some (the demo's are counted).
        assert headings or sheet in ("Notes", "Data quality"), f"{sheet} has a table"
        words = " ".join(headings).lower()
        assert "deadline" not in words and "band" not in words, sheet
    notes = " ".join(str(c.value) for row in workbook["Notes"].iter_rows() for c in row if c.value)
    assert "Public edition" in notes and "Repayment deadline" not in notes
    checks = " ".join(str(c.value) for row in workbook["Checks"].iter_rows() for c in row if c.value)
    assert "At risk" not in checks, "a check reads a sheet the public edition does not hold"
    internal = load_workbook(BytesIO(workbooks["internal"]))
    assert "At risk sheet" in " ".join(str(c.value) for row in internal["Checks"].iter_rows() for c in row if c.value)


def test_the_public_edition_lists_items_and_counts_receipts_where_the_internal_lists_payments(
        workbooks: dict[str, bytes], report: IfsReport) -> None:
    public, internal = _header_cells(workbooks["public"]), _header_cells(workbooks["internal"])
    for sheet, section in (("CIL", report.cil), ("Section 278", report.s278)):
        # Paragraphs 1 and 4 ask for items of infrastructure; each payment is for officers.
        assert "Entry" not in public[sheet], sheet
        if section.spent or section.allocated:
            assert "Item of infrastructure" in public[sheet], sheet
        if section.received or section.spent:
            assert "Entry" in internal[sheet], sheet
    assert report.s278.spent, "the small demo spends section 278 money"
    unknown = report.data_quality.unknown_deadlines
    assert unknown, "the small demo has receipts whose repayment date is unknown"
    assert "Remaining at 31 March" in internal["Data quality"]
    assert "Remaining at 31 March" not in public["Data quality"]
    cells = [str(c.value) for row in load_workbook(BytesIO(workbooks["public"]))["Data quality"].iter_rows()
             for c in row if c.value is not None]
    assert f"{len(unknown):,} receipts, listed in the internal edition." in cells
    assert str(sum((r.remaining for r in unknown), Decimal(0))) in cells


def test_the_internal_edition_holds_everything(workbooks: dict[str, bytes]) -> None:
    workbook = load_workbook(BytesIO(workbooks["internal"]))
    assert workbook.sheetnames == list(SHEETS)
    assert set(PUBLIC_SHEETS) < set(SHEETS)
    headings = _header_cells(workbooks["internal"])
    assert "Repayment deadline" in headings["Received"] and "Band" in headings["At risk"]
    notes = " ".join(str(c.value) for row in workbook["Notes"].iter_rows() for c in row if c.value)
    assert "Internal edition" in notes


def test_the_edition_and_council_are_in_every_title(workbooks: dict[str, bytes]) -> None:
    for edition in ("public", "internal"):
        workbook = load_workbook(BytesIO(workbooks[edition]))
        assert workbook["Summary"]["A1"].value == f"{COUNCIL}: Infrastructure Funding Statement 2024/25"
        assert f"{edition.capitalize()} edition" in workbook["Summary"]["A2"].value
        for sheet in workbook.worksheets:
            # "&" is the header's code character, so the council's is doubled.
            assert sheet.oddHeader.center.text == (
                f"Demo && District Council: Infrastructure Funding Statement 2024/25 ({edition} edition): {sheet.title}")


# -- the Summary a councillor reads ------------------------------------------------------------

def test_the_summary_shows_whole_pounds_and_keeps_the_pence(workbooks: dict[str, bytes], report: IfsReport) -> None:
    workbook = load_workbook(BytesIO(workbooks["public"]))
    summary = workbook["Summary"]
    values = [str(c.value) for row in summary.iter_rows() for c in row if c.value is not None]
    assert "Defined name" not in values and not any(v.startswith("s106_") for v in values)
    for item in report.items:
        [(sheet, where)] = list(workbook.defined_names[item.name].destinations)
        value_cell = workbook[sheet][where.replace("$", "")]
        assert sheet == "Summary" and Decimal(str(value_cell.value)) == item.value, item.name
        assert value_cell.number_format == ("#,##0" if isinstance(item.value, int) else "£#,##0"), item.name
    assert any(isinstance(i.value, Decimal) and i.value % 1 for i in report.items), "a figure with pence is kept"


def test_the_summary_by_service_table_names_services_and_totals_them(workbooks: dict[str, bytes],
                                                                     report: IfsReport) -> None:
    summary = load_workbook(BytesIO(workbooks["public"]))["Summary"]
    rows = [[c.value for c in row[:4]] for row in summary.iter_rows()]
    top = next(i for i, row in enumerate(rows) if row[0] == "Service")
    assert rows[top] == ["Service", "Received in the year", "Spent in the year", "Retained at 31 March"]
    body = rows[top + 1:top + 1 + len(report.by_service)]
    assert {row[0] for row in body} <= set(SERVICE_LABELS.values())
    assert not {row[0] for row in body} & set(SERVICES), "service names, not codes"
    total = rows[top + 1 + len(report.by_service)]
    assert total[0] == "Total"
    for column in (1, 2, 3):
        assert Decimal(str(total[column])) == sum(Decimal(str(row[column])) for row in body)
    assert Decimal(str(total[1])) == report.value("s106_b_money_received")
    assert Decimal(str(total[3])) == report.value("s106_i_money_retained")
    # Every header stands over its own column of numbers.
    assert all(isinstance(row[column], int | float) for row in body for column in (1, 2, 3))
    [chart] = summary._charts
    assert chart.width <= sum(summary.column_dimensions[c].width for c in "ABCD") * 0.2


def test_the_item_lists_have_their_own_sheets(workbooks: dict[str, bytes], report: IfsReport) -> None:
    workbook = load_workbook(BytesIO(workbooks["public"]))
    for sheet, figure, column in (("Items allocated (g)", "s106_e_allocated_not_spent", "Allocated, not spent"),
                                  ("Items spent (h)(i)", "s106_f_money_spent", "Total")):
        rows = [[c.value for c in row] for row in workbook[sheet].iter_rows()]
        header = next(i for i, row in enumerate(rows) if row[0] == "Item of infrastructure")
        amounts = rows[header].index(column)
        items = [row for row in rows[header + 1:] if row[0] not in (None, "Total")]
        assert items and len({(row[0], row[1]) for row in items}) == len(items), "one row an item"
        total = next(row for row in rows[header + 1:] if row[0] == "Total")
        assert Decimal(str(total[amounts])) == report.value(figure), sheet
        assert workbook[sheet].print_title_rows == f"${header + 1}:${header + 1}"


def test_non_monetary_never_adds_homes_to_school_places(workbooks: dict[str, bytes], report: IfsReport) -> None:
    sheet = load_workbook(BytesIO(workbooks["public"]))["Non-monetary"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    total = next(row for row in rows if row[0] == "Total")
    assert total[header.index("Affordable housing units")] == report.value("s106_d_affordable_housing_units")
    assert total[header.index("School places")] == report.value("s106_d_school_places")
    assert total[header.index("Other units")] is None


# -- printed -----------------------------------------------------------------------------------

#: Pages each printed workbook may take: measured on the small demo (150 agreements, 2024/25,
#: `python -m bench.pages`) as public 12, internal 36, at-risk 11, and allowed a quarter more
#: for other LibreOffice versions' fonts (docs/REPORTS.md).
PAGE_BOUNDS = {"public": 15, "internal": 45, "at-risk": 14}


@pytest.mark.parametrize("name", ["public", "internal", "at-risk"])
def test_each_workbook_prints_on_a4_landscape_within_its_page_count(
        printed: dict[str, list[tuple[str, tuple[int, int]]]], name: str) -> None:
    pages = printed[name]
    assert 0 < len(pages) <= PAGE_BOUNDS[name], f"{name}: {len(pages)} pages"
    assert {abs(w - A4_LANDSCAPE[0]) <= 1 and abs(h - A4_LANDSCAPE[1]) <= 1 for _, (w, h) in pages} == {True}
    assert not [i for i, (text, _) in enumerate(pages, start=1) if "###" in text], "a number too wide for its column"
    assert all(COUNCIL in text for text, _ in pages), "the council is named in every page header"


def test_the_summary_prints_on_one_page_and_every_sheet_prints(
        printed: dict[str, list[tuple[str, tuple[int, int]]]]) -> None:
    for edition, sheets in (("public", PUBLIC_SHEETS), ("internal", SHEETS)):
        per_sheet = Counter(_sheet_of(text) for text, _ in printed[edition])
        assert per_sheet["Summary"] == 1, edition
        assert set(per_sheet) == set(sheets), edition


def test_the_at_risk_workbook_prints_every_column_one_page_wide(
        printed: dict[str, list[tuple[str, tuple[int, int]]]], workbooks: dict[str, bytes]) -> None:
    first_page = printed["at-risk"][0][0]
    headings = _header_cells(workbooks["at-risk"])["At risk"]
    assert len(headings) == 13
    missing = [h for h in headings if h.split()[0] not in first_page]
    assert not missing, f"columns not on the first printed page: {missing}"
    sheet = load_workbook(BytesIO(workbooks["at-risk"]))["At risk"]
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1


def test_wrapped_rows_are_as_tall_as_their_text(workbooks: dict[str, bytes]) -> None:
    """A wrapped cell in a row of default height prints over the next row: every row holding
    wrapped text longer than its column's line is given the height of its lines."""
    for edition in ("public", "internal"):
        workbook = load_workbook(BytesIO(workbooks[edition]))
        for name in ("CIL", "Notes"):
            sheet = workbook[name]
            needed = {c.row: wrapped_height(c.value, sheet.column_dimensions[c.column_letter].width)
                      for row in sheet.iter_rows() for c in row
                      if c.alignment.wrap_text and isinstance(c.value, str)}
            tall = {r: h for r, h in needed.items() if h > 15}
            assert tall, (edition, name)
            assert all((sheet.row_dimensions[r].height or 15) >= h for r, h in tall.items()), (edition, name)
