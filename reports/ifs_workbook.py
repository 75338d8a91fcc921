"""The IFS workbook: an IfsReport in, .xlsx bytes out (SPEC §4). No database, no Flask.
Written in openpyxl's write-only mode, so a national statement streams out."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.workbook.defined_name import DefinedName

from ledger.domain.dates import financial_year_label
from ledger.domain.entry_kinds import TOTALS
from ledger.domain.ifs import IfsReport
from ledger.domain.vocab import BAND_LABELS, Band
from reports.at_risk import AT_RISK_COLUMNS, BAND_FILLS, band_totals
from reports.ifs_sections import SECTION_SHEETS
from reports.workbook import (
    COUNT,
    DATE,
    MONEY,
    TITLE_FONT,
    TOTAL_FONT,
    Column,
    cell,
    day,
    money,
    set_up_printing,
    set_widths,
    text,
    write_table,
)

SHEETS = ("Summary", "Secured", "Received", "Allocated", "Spent", "Retained", "At risk", "By authority",
          "By division", "Non-monetary", *SECTION_SHEETS, "Checks", "Notes")
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
    ("At risk", "Money remaining at 31 March by repayment deadline band: past repayment date, red (within 12 months), "
     "amber (within 24 months), green, no deadline, deadline unknown."),
    ("Reversals", "Corrections are reversal entries; a reversed entry and its reversal are both left out. "
     "Entries recorded after the as-known-at moment are ignored, so the statement can be reproduced."),
)

MOVEMENT_COLUMNS = [
    text("Entry", "entry_reference", 22), day("Date", "occurred_on"), text("Kind", "kind", 10),
    text("Agreement", "agreement_reference"), text("Obligation", "obligation_reference", 20),
    text("Authority", "authority_code", 12), text("Division", "division_code"), text("Purpose", "purpose"),
    text("Service", "service"),
]
AREA_COLUMNS = [
    text("Code", "code", 14), text("Name", "name", 32), money("Secured", "secured"),
    *(money(total.capitalize(), total) for total in TOTALS), money("Retained", "retained"),
]


def build_ifs_workbook(report: IfsReport) -> bytes:
    """The committee workbook for one reported year, as bytes (for a download)."""
    buffer = BytesIO()
    write_ifs_workbook(report, buffer)
    return buffer.getvalue()


def write_ifs_workbook(report: IfsReport, out: str | Path | BinaryIO) -> None:
    """The committee workbook for one reported year, written to a file: a national
    workbook is tens of megabytes, not worth holding twice in memory."""
    workbook = Workbook(write_only=True)
    label = financial_year_label(report.year)
    sheets = {name: workbook.create_sheet(name) for name in SHEETS}
    for name, sheet in sheets.items():
        set_up_printing(sheet, f"Infrastructure Funding Statement {label}: {name}")
    _summary(workbook, sheets["Summary"], report, label)
    _table(sheets["Secured"], [
        text("Agreement", "agreement_reference"), text("Type", "agreement_type"), text("Authority", "authority_code", 12),
        text("Division", "division_code"), day("Signed on", "signed_on"), text("Obligation", "obligation_reference", 20),
        text("Purpose", "purpose"), text("Service", "service"), money("Amount secured", "amount"),
        Column("Units", lambda r: r.units, COUNT, 8), text("Unit kind", "unit_kind"),
        text("School category", "school_category"),
    ], report.secured)
    _table(sheets["Received"], [*MOVEMENT_COLUMNS, money("Amount", "amount"), money("Of which interest", "interest"),
                                day("Repayment deadline", "deadline")], report.received)
    _table(sheets["Allocated"], [
        text("Project", "project_reference", 22), text("Item of infrastructure", "project_name", 40),
        text("Service", "service"), text("Division", "division_code"), text("Obligation", "obligation_reference", 20),
        text("Agreement", "agreement_reference"), money("Allocated, not spent", "amount"),
    ], report.allocated)
    _by_project(sheets["Allocated"], "Item (g): allocated and not spent, by item of infrastructure",
                [(r.project_reference, r.project_name, r.amount) for r in report.allocated])
    _table(sheets["Spent"], [
        *MOVEMENT_COLUMNS, text("Project", "project_reference", 22), text("Item of infrastructure", "project_name", 40),
        text("Repays borrowing", "repays_borrowing"), text("Recipient", "recipient"), money("Amount", "amount"),
    ], report.spent)
    _by_project(sheets["Spent"], "Item (h)(i): spent (including transferred), by item of infrastructure",
                [(r.project_reference or "", r.project_name or "", r.amount) for r in report.spent])
    _table(sheets["Retained"], [
        text("Agreement", "agreement_reference"), text("Obligation", "obligation_reference", 20),
        text("Authority", "authority_code", 12), text("Division", "division_code"), text("Purpose", "purpose"),
        text("Service", "service"), text("Commuted sum", "commuted_sum"),
        money("Held at 1 April", "held_at_start"), money("Held at 31 March", "held"),
        money("Allocated, not spent", "allocated_unspent"), money("Unallocated", "unallocated"),
        money("Received before the year, unallocated", "received_before_unallocated"),
        day("Earliest deadline", "earliest_deadline"),
    ], report.retained)
    _at_risk_sheet(sheets["At risk"], report)
    _table(sheets["By authority"], AREA_COLUMNS, report.by_authority)
    _table(sheets["By division"], AREA_COLUMNS, report.by_division)
    _table(sheets["Non-monetary"], [
        text("Agreement", "agreement_reference"), text("Authority", "authority_code", 12),
        text("Division", "division_code"), day("Signed on", "signed_on"), text("Obligation", "obligation_reference", 20),
        text("Unit kind", "unit_kind", 24), Column("Units", lambda r: r.units, COUNT, 8, True),
        text("School category", "school_category"),
    ], [r for r in report.secured if r.units])
    sheet = sheets["Non-monetary"]
    sheet.append([])
    sheet.append([cell(sheet, "Item (d)(ii): school places by category", font=TOTAL_FONT)])
    for category, places in sorted(report.school_places_by_category.items()):
        sheet.append([cell(sheet, category), cell(sheet, places, number_format=COUNT)])

    for name, write in SECTION_SHEETS.items():  # CIL, Section 278, Data quality
        write(workbook, sheets[name], report)

    def check_format(check: object) -> str:
        name = str(getattr(check, "name", ""))
        return COUNT if "school places" in name or "units" in name else MONEY

    _table(sheets["Checks"], [
        Column("Reconciliation", lambda c: c.name, None, 70), Column("Expected", lambda c: c.expected, check_format, 18),
        Column("Actual", lambda c: c.actual, check_format, 18),
        Column("Holds", lambda c: "Yes" if c.holds else "NO", None, 8),
    ], report.checks, total_label=None)
    _notes(sheets["Notes"], report, label)
    workbook.save(out)


def _table(sheet, columns: list[Column], rows: list[object], *, total_label: str | None = "Total") -> int:  # type: ignore[no-untyped-def]
    set_widths(sheet, [c.width for c in columns])
    return write_table(sheet, columns, rows, total_label=total_label)


def _summary(workbook: Workbook, sheet, report: IfsReport, label: str) -> None:  # type: ignore[no-untyped-def]
    set_widths(sheet, [22, 80, 20, 36])
    first = 4
    sheet.freeze_panes = f"A{first + 1}"
    sheet.append([cell(sheet, f"Infrastructure Funding Statement {label}: section 106 report", font=TITLE_FONT)])
    sheet.append([cell(sheet, f"Reported year 1 April {report.year} to 31 March {report.year + 1}. Ledger as known "
                       f"at {report.as_known_at:%d %B %Y %H:%M} UTC. s106-ledger {report.version}.")])
    sheet.append([])
    write_table(sheet, [
        Column("Legal reference", lambda i: i.reference, None), Column("Item", lambda i: i.label, None),
        Column("Value", lambda i: i.value, lambda i: COUNT if i.name in UNIT_ITEMS else MONEY),
        Column("Defined name", lambda i: i.name, None),
    ], report.items, first_row=first, total_label=None, filtered=False)
    sheet.print_title_rows = f"{first}:{first}"
    for offset, item in enumerate(report.items, start=1):
        workbook.defined_names[item.name] = DefinedName(item.name, attr_text=f"Summary!$C${first + offset}")
    row = first + len(report.items) + 1
    sheet.append([])
    sheet.append([cell(sheet, "By service", font=TITLE_FONT)])
    top = row + 2
    end = write_table(sheet, [
        Column("Service", lambda a: a.code, None), money("Received in the year", "received", total=False),
        Column("Spent in the year", lambda a: a.spent + a.transferred, MONEY),
        money("Retained at 31 March", "retained", total=False),
    ], report.by_service, first_row=top, total_label=None, filtered=False)
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
    sheet.add_chart(chart, f"A{end + 1}")


def _by_project(sheet, title: str, rows: list[tuple[str, str, Decimal]]) -> None:  # type: ignore[no-untyped-def]
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for reference, name, amount in rows:
        totals[(reference, name)] += amount
    sheet.append([])
    sheet.append([cell(sheet, title, font=TOTAL_FONT)])
    for (reference, name), amount in sorted(totals.items()):
        sheet.append([cell(sheet, reference), cell(sheet, name), cell(sheet, amount, number_format=MONEY)])


def _at_risk_sheet(sheet, report: IfsReport) -> None:  # type: ignore[no-untyped-def]
    end = _table(sheet, AT_RISK_COLUMNS, report.at_risk)
    sheet.append([])
    sheet.append([cell(sheet, "Money remaining at 31 March by band", font=TOTAL_FONT)])
    top = end + 2
    for band, amount in band_totals(report.at_risk).items():  # type: ignore[arg-type]
        sheet.append([cell(sheet, BAND_LABELS[band], fill=BAND_FILLS[band]), cell(sheet, amount, number_format=MONEY)])
    chart = BarChart()
    chart.title = "Money at risk by band"
    chart.y_axis.numFmt = "£#,##0"
    chart.add_data(Reference(sheet, min_col=2, min_row=top, max_row=top + len(Band) - 1), titles_from_data=False)
    chart.set_categories(Reference(sheet, min_col=1, min_row=top, max_row=top + len(Band) - 1))
    chart.legend = None
    sheet.add_chart(chart, f"D{top}")


def _notes(sheet, report: IfsReport, label: str) -> None:  # type: ignore[no-untyped-def]
    set_widths(sheet, [40, 110])
    sheet.freeze_panes = "A2"  # before any row, as a write-only sheet needs
    sheet.append([cell(sheet, f"Notes to the Infrastructure Funding Statement {label}", font=TITLE_FONT)])
    sheet.append([])
    facts = [
        ("Reported year", f"{label}: 1 April {report.year} to 31 March {report.year + 1}"),
        ("As known at", f"{report.as_known_at.isoformat()} (entries recorded later are not counted)"),
        ("Produced by", f"s106-ledger {report.version}"),
        ("Start of year", report.start),
        ("End of year", report.end),
    ]
    for heading, value in [*facts, ("", ""), *DEFINITIONS]:
        sheet.append([cell(sheet, heading, font=Font(bold=True)),
                      cell(sheet, value, number_format=DATE if hasattr(value, "year") else None, wrap=True)])
