"""The IFS workbook: an IfsReport in, .xlsx bytes out (SPEC §4). No database, no Flask."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName

from ledger.domain.dates import financial_year_label
from ledger.domain.ifs import IfsReport
from ledger.domain.vocab import Band
from reports.at_risk import AT_RISK_COLUMNS, BAND_FILLS, band_totals
from reports.workbook import (
    COUNT,
    DATE,
    MONEY,
    TITLE_FONT,
    Column,
    day,
    money,
    set_up_printing,
    text,
    write_table,
)

SHEETS = ("Summary", "Secured", "Received", "Allocated", "Spent", "Retained", "At risk", "By authority",
          "By division", "Non-monetary", "Checks", "Notes")
UNIT_ITEMS = {"s106_d_affordable_housing_units", "s106_d_school_places"}

DEFINITIONS = (
    ("Reported year", "The financial year 1 April to 31 March (CIL Regulations 2010 reg 121A)."),
    ("Entered into", "An agreement is entered into on the date it was signed and sealed (its signed_on date); "
     "a deed of variation on the date the new version was agreed."),
    ("Received", "Money paid to the authority: receipts whose business date falls in the year."),
    ("Allocated", "Received money formally committed to a named project (item of infrastructure) by an "
     "allocation entry. (e) is the balance allocated and not yet spent at 31 March, not the "
     "allocations made in the year less the spend in the year."),
    ("Received before the year and not allocated (c)", "For each receipt received before 1 April: the money "
     "still held at 31 March that is not taken as allocated, attributing allocated money to the "
     "receipts with the earliest repayment deadlines first."),
    ("Spent (f)", "Spend plus money transferred to another person to spend (para 3(f)); transfers are "
     "listed separately on the Spent sheet."),
    ("Borrowing repaid (h)(ii)", "Spend in the year on projects marked as repaying borrowing."),
    ("Monitoring (h)(iii)", "Spend in the year from obligations whose purpose is monitoring-fees."),
    ("Retained (i)", "Money received in any year and still held at 31 March: received less spent, transferred "
     "and repaid. Commuted sums are obligations marked as long-term maintenance sums."),
    ("Non-monetary (d)", "Units of affordable-housing-units and school-places obligations in agreements "
     "entered into in the year; school places are split by school category."),
    ("Repayment deadline", "Receipt date (or completion date, where the deed says so) plus the repayment period; "
     "29 February plus whole years falls on 28 February."),
    ("At risk", "Money remaining at 31 March by repayment deadline band: overdue, red (within 12 months), "
     "amber (within 24 months), green, no deadline, deadline unknown."),
    ("Reversals", "Corrections are reversal entries; a reversed entry and its reversal are both left out. "
     "Entries recorded after the as-known-at moment are ignored, so the statement can be reproduced."),
)


def build_ifs_workbook(report: IfsReport) -> bytes:
    """The committee workbook for one reported year."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Summary"
    label = financial_year_label(report.year)
    _summary(workbook, summary, report, label)

    sheet = workbook.create_sheet("Secured")
    write_table(sheet, [
        text("Agreement", "agreement_reference"), text("Type", "agreement_type"),
        text("Authority", "authority_code"), text("Division", "division_code"), day("Signed on", "signed_on"),
        text("Obligation", "obligation_reference"), text("Purpose", "purpose"), text("Service", "service"),
        money("Amount secured", "amount"), Column("Units", lambda r: r.units, COUNT, 8),
        text("Unit kind", "unit_kind"), text("School category", "school_category"),
    ], report.secured)

    movement_columns = [
        text("Entry", "entry_reference"), day("Date", "occurred_on"), text("Kind", "kind"),
        text("Agreement", "agreement_reference"), text("Obligation", "obligation_reference"),
        text("Authority", "authority_code"), text("Division", "division_code"), text("Purpose", "purpose"),
        text("Service", "service"),
    ]
    sheet = workbook.create_sheet("Received")
    write_table(sheet, [*movement_columns, money("Amount", "amount"), money("Of which interest", "interest"),
                        day("Repayment deadline", "deadline")], report.received)

    sheet = workbook.create_sheet("Allocated")
    next_row = write_table(sheet, [
        text("Project", "project_reference"), text("Item of infrastructure", "project_name", 40),
        text("Service", "service"), text("Division", "division_code"), text("Obligation", "obligation_reference"),
        text("Agreement", "agreement_reference"), money("Allocated, not spent", "amount"),
    ], report.allocated)
    _by_project(sheet, next_row, "Item (g): allocated and not spent, by item of infrastructure",
                [(r.project_reference, r.project_name, r.amount) for r in report.allocated])

    sheet = workbook.create_sheet("Spent")
    next_row = write_table(sheet, [
        *movement_columns, text("Project", "project_reference"), text("Item of infrastructure", "project_name", 40),
        text("Repays borrowing", "repays_borrowing"), text("Recipient", "recipient"), money("Amount", "amount"),
    ], report.spent)
    _by_project(sheet, next_row, "Item (h)(i): spent (including transferred), by item of infrastructure",
                [(r.project_reference or "", r.project_name or "", r.amount) for r in report.spent])

    sheet = workbook.create_sheet("Retained")
    write_table(sheet, [
        text("Agreement", "agreement_reference"), text("Obligation", "obligation_reference"),
        text("Authority", "authority_code"), text("Division", "division_code"), text("Purpose", "purpose"),
        text("Service", "service"), text("Commuted sum", "commuted_sum"),
        money("Held at 1 April", "held_at_start"), money("Held at 31 March", "held"),
        money("Allocated, not spent", "allocated_unspent"), money("Unallocated", "unallocated"),
        money("Received before the year, unallocated", "received_before_unallocated"),
        day("Earliest deadline", "earliest_deadline"),
    ], report.retained)

    sheet = workbook.create_sheet("At risk")
    _at_risk_sheet(sheet, report)

    area_columns = [
        text("Code", "code"), text("Name", "name", 32), money("Secured", "secured"), money("Received", "received"),
        money("Spent", "spent"), money("Transferred", "transferred"), money("Repaid", "repaid"),
        money("Retained", "retained"),
    ]
    write_table(workbook.create_sheet("By authority"), area_columns, report.by_authority)
    write_table(workbook.create_sheet("By division"), area_columns, report.by_division)

    sheet = workbook.create_sheet("Non-monetary")
    units = [r for r in report.secured if r.units]
    next_row = write_table(sheet, [
        text("Agreement", "agreement_reference"), text("Authority", "authority_code"),
        text("Division", "division_code"), day("Signed on", "signed_on"), text("Obligation", "obligation_reference"),
        text("Unit kind", "unit_kind"), Column("Units", lambda r: r.units, COUNT, 8, True),
        text("School category", "school_category"),
    ], units)
    sheet.cell(row=next_row, column=1, value="Item (d)(ii): school places by category").font = Font(bold=True)
    for offset, (category, places) in enumerate(sorted(report.school_places_by_category.items()), start=1):
        sheet.cell(row=next_row + offset, column=1, value=category)
        sheet.cell(row=next_row + offset, column=2, value=places).number_format = COUNT

    sheet = workbook.create_sheet("Checks")
    write_table(sheet, [
        text("Reconciliation", "name", 70), Column("Expected", lambda c: c.expected, MONEY, 18),
        Column("Actual", lambda c: c.actual, MONEY, 18), Column("Holds", lambda c: "Yes" if c.holds else "NO", None, 8),
    ], report.checks)
    for row in range(2, len(report.checks) + 2):
        if "school places" in str(sheet.cell(row=row, column=1).value) or "units" in str(sheet.cell(row=row, column=1).value):
            sheet.cell(row=row, column=2).number_format = sheet.cell(row=row, column=3).number_format = COUNT

    sheet = workbook.create_sheet("Notes")
    _notes(sheet, report, label)

    for name in SHEETS:
        set_up_printing(workbook[name], f"Infrastructure Funding Statement {label}: {name}")
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _summary(workbook: Workbook, sheet, report: IfsReport, label: str) -> None:  # type: ignore[no-untyped-def]
    sheet["A1"] = f"Infrastructure Funding Statement {label}: section 106 report"
    sheet["A1"].font = TITLE_FONT
    sheet["A2"] = (f"Reported year 1 April {report.year} to 31 March {report.year + 1}. "
                   f"Ledger as known at {report.as_known_at:%d %B %Y %H:%M} UTC. s106-ledger {report.version}.")
    first = 4
    write_table(sheet, [
        Column("Legal reference", lambda i: i.reference, None, 20), Column("Item", lambda i: i.label, None, 80),
        Column("Value", lambda i: i.value, MONEY, 20), Column("Defined name", lambda i: i.name, None, 34),
    ], report.items, first_row=first, total_label=None)
    sheet.freeze_panes = f"A{first + 1}"
    sheet.print_title_rows = f"{first}:{first}"
    sheet.auto_filter.ref = None
    for offset, item in enumerate(report.items, start=1):
        row = first + offset
        if item.name in UNIT_ITEMS:
            sheet.cell(row=row, column=3).number_format = COUNT
        sheet.cell(row=row, column=4).font = Font(color="808080")
        workbook.defined_names[item.name] = DefinedName(item.name, attr_text=f"Summary!$C${row}")

    # Received, spent and retained by service, with a native bar chart.
    top = first + len(report.items) + 3
    sheet.cell(row=top - 1, column=1, value="By service").font = TITLE_FONT
    end = write_table(sheet, [
        Column("Service", lambda a: a.code, None, 34), money("Received in the year", "received", total=False),
        Column("Spent in the year", lambda a: a.spent + a.transferred, MONEY, 20),
        money("Retained at 31 March", "retained", total=False),
    ], report.by_service, first_row=top, total_label=None)
    sheet.auto_filter.ref = None
    chart = BarChart()
    chart.type = "col"
    chart.title = f"Section 106 money by service, {label}"
    chart.y_axis.title = "£"
    chart.y_axis.numFmt = "£#,##0"
    data_rows = max(len(report.by_service), 1)
    chart.add_data(Reference(sheet, min_col=2, max_col=4, min_row=top, max_row=top + data_rows), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=top + data_rows))
    chart.height, chart.width = 9, 24
    # Below the table rather than beside it, so the printed page stays one table wide.
    sheet.add_chart(chart, f"A{end}")


def _by_project(sheet, first_row: int, title: str, rows: list[tuple[str, str, object]]) -> None:  # type: ignore[no-untyped-def]
    totals: dict[tuple[str, str], object] = {}
    for reference, name, amount in rows:
        totals[(reference, name)] = totals.get((reference, name), 0) + amount  # type: ignore[operator]
    sheet.cell(row=first_row, column=1, value=title).font = Font(bold=True)
    for offset, ((reference, name), amount) in enumerate(sorted(totals.items()), start=1):
        sheet.cell(row=first_row + offset, column=1, value=reference)
        sheet.cell(row=first_row + offset, column=2, value=name)
        sheet.cell(row=first_row + offset, column=3, value=amount).number_format = MONEY


def _at_risk_sheet(sheet, report: IfsReport) -> None:  # type: ignore[no-untyped-def]
    write_table(sheet, AT_RISK_COLUMNS, report.at_risk)
    for row_number, row in enumerate(report.at_risk, start=2):
        cell = sheet.cell(row=row_number, column=len(AT_RISK_COLUMNS))
        cell.fill = PatternFill("solid", fgColor=BAND_FILLS[row.band])  # type: ignore[attr-defined]
    top = len(report.at_risk) + 5
    sheet.cell(row=top - 1, column=1, value="Money remaining at 31 March by band").font = Font(bold=True)
    for offset, (band, amount) in enumerate(band_totals(report.at_risk).items()):  # type: ignore[arg-type]
        sheet.cell(row=top + offset, column=1, value=str(band))
        sheet.cell(row=top + offset, column=2, value=amount).number_format = MONEY
    chart = BarChart()
    chart.title = "Money at risk by band"
    chart.y_axis.numFmt = "£#,##0"
    chart.add_data(Reference(sheet, min_col=2, min_row=top, max_row=top + len(Band) - 1), titles_from_data=False)
    chart.set_categories(Reference(sheet, min_col=1, min_row=top, max_row=top + len(Band) - 1))
    chart.legend = None
    sheet.add_chart(chart, f"D{top}")


def _notes(sheet, report: IfsReport, label: str) -> None:  # type: ignore[no-untyped-def]
    sheet["A1"] = f"Notes to the Infrastructure Funding Statement {label}"
    sheet["A1"].font = TITLE_FONT
    facts = [
        ("Reported year", f"{label}: 1 April {report.year} to 31 March {report.year + 1}"),
        ("As known at", f"{report.as_known_at.isoformat()} (entries recorded later are not counted)"),
        ("Produced by", f"s106-ledger {report.version}"),
        ("Start of year", report.start),
        ("End of year", report.end),
    ]
    row = 3
    for heading, value in [*facts, ("", ""), *DEFINITIONS]:
        sheet.cell(row=row, column=1, value=heading).font = Font(bold=True)
        cell = sheet.cell(row=row, column=2, value=value)
        if hasattr(value, "year"):
            cell.number_format = DATE
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 110
    sheet.freeze_panes = "A2"
