"""The IFS workbook: an IfsReport in, .xlsx bytes out (SPEC §4). No database, no Flask.
Written in openpyxl's write-only mode, so a national statement streams out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName

from ledger.domain.dates import financial_year_label
from ledger.domain.entry_kinds import TOTALS
from ledger.domain.ifs import IfsReport, dependence_line
from ledger.domain.reconcile import year_end_lines
from ledger.domain.vocab import BAND_LABELS, Band, service_label
from reports.at_risk import BAND_FILLS, at_risk_columns, band_totals
from reports.ifs_sections import ITEM_COLUMNS, SECTION_SHEETS, project_totals
from reports.workbook import (
    COUNT,
    DATE,
    MONEY,
    POUNDS,
    SHORT_DATE,
    TITLE_FONT,
    TOTAL_FONT,
    Column,
    ReportWorkbook,
    cell,
    council_name,
    day,
    fitted_widths,
    money,
    named,
    service_column,
    set_widths,
    text,
    words_of,
    wrapped_height,
    write_sheet_table,
    write_table,
)


class Edition(StrEnum):
    """Which statement a workbook is (SPEC 8.5): what the council publishes, or everything."""

    PUBLIC = "public"
    INTERNAL = "internal"


#: The item lists of paragraph 3(g) and (h)(i), each a table a councillor can read.
ALLOCATED_ITEMS = "Items allocated (g)"
SPENT_ITEMS = "Items spent (h)(i)"
SHEETS = ("Summary", ALLOCATED_ITEMS, SPENT_ITEMS, "Secured", "Received", "Allocated", "Spent", "Retained",
          "At risk", "By authority", "By division", "Non-monetary", *SECTION_SHEETS, "Checks", "Notes")
#: What a council publishes: no money at risk, no row-level detail with repayment deadlines.
PUBLIC_SHEETS = ("Summary", ALLOCATED_ITEMS, SPENT_ITEMS, "Non-monetary", *SECTION_SHEETS, "Checks", "Notes")
#: The statement's figures alone, without the rows behind them (bench/figures.py times this).
FIGURES_ONLY = ("Summary",)
UNIT_ITEMS = {"s106_d_affordable_housing_units", "s106_d_school_places"}
#: Definitions the public edition leaves out with the columns and sheets they explain.
INTERNAL_DEFINITIONS = {"Repayment deadline", "At risk"}

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


def sheets_of(edition: Edition | str) -> tuple[str, ...]:
    """The sheets of an edition, in order."""
    return PUBLIC_SHEETS if Edition(edition) is Edition.PUBLIC else SHEETS


def build_ifs_workbook(report: IfsReport, *, edition: Edition | str = Edition.INTERNAL,
                       council: str | None = None) -> bytes:
    """The committee workbook for one reported year, as bytes (for a download)."""
    buffer = BytesIO()
    write_ifs_workbook(report, buffer, edition=edition, council=council)
    return buffer.getvalue()


def write_ifs_workbook(report: IfsReport, out: str | Path | BinaryIO, *, edition: Edition | str = Edition.INTERNAL,
                       council: str | None = None, sheets: Sequence[str] | None = None) -> None:
    """The committee workbook for one reported year, written to a file: a national
    workbook is tens of megabytes, not worth holding twice in memory. ``council`` is
    LEDGER_COUNCIL_NAME; without it the titles name the ledger's authorities. ``sheets``
    (FIGURES_ONLY, say) writes only those of the edition's sheets, in the edition's order."""
    edition = Edition(edition)
    written = sheets_of(edition)
    if sheets is not None:
        if unknown := sorted(set(sheets) - set(written)):
            raise ValueError(f"the {edition} edition has no sheets {unknown}")
        written = tuple(name for name in written if name in sheets)
    label = financial_year_label(report.year)
    council = council_name(council, [a.name for a in report.by_authority if a.code])
    workbook = ReportWorkbook(f"{council}: Infrastructure Funding Statement {label} ({edition} edition)")
    authorities = {a.code: a.name for a in report.by_authority if a.code}
    divisions = {d.code: d.name for d in report.by_division if d.code}
    writers: dict[str, Callable[[Any], None]] = {
        "Summary": lambda sheet: _summary(workbook, sheet, report, label, council, edition),
        ALLOCATED_ITEMS: lambda sheet: _allocated_items(sheet, report),
        SPENT_ITEMS: lambda sheet: _spent_items(sheet, report),
        "Secured": lambda sheet: _printed_table(sheet, [
            text("Agreement", "agreement_reference", 16), words_of("Type", "agreement_type", 16),
            named("Authority", "authority_code", authorities, 26), named("Division", "division_code", divisions, 22),
            day("Signed on", "signed_on"), text("Obligation", "obligation_reference", 20), service_column(),
            money("Amount secured", "amount"), Column("Units", lambda r: r.units, COUNT, 8),
            words_of("Unit kind", "unit_kind", 16),
        ], [words_of("Purpose", "purpose", 20), text("School category", "school_category")], report.secured),
        "Received": lambda sheet: _printed_table(sheet, [
            text("Entry", "entry_reference", 16), day("Date", "occurred_on"),
            text("Obligation", "obligation_reference", 20), named("Authority", "authority_code", authorities, 26),
            named("Division", "division_code", divisions, 22), service_column(), money("Amount", "amount"),
            money("Of which interest", "interest"), day("Repayment deadline", "deadline"),
        ], [text("Kind", "kind", 10), text("Agreement", "agreement_reference"), words_of("Purpose", "purpose", 20)],
            report.received),
        "Allocated": lambda sheet: _printed_table(sheet, [
            text("Project", "project_reference", 14), text("Item of infrastructure", "project_name", 36), service_column(),
            named("Division", "division_code", divisions, 22), text("Obligation", "obligation_reference", 20),
            text("Agreement", "agreement_reference", 16), money("Allocated, not spent", "amount"),
        ], [], report.allocated),
        "Spent": lambda sheet: _printed_table(sheet, [
            text("Entry", "entry_reference", 16), day("Date", "occurred_on"), text("Kind", "kind", 10),
            text("Obligation", "obligation_reference", 20), named("Division", "division_code", divisions, 22),
            service_column(), text("Project", "project_reference", 14), text("Item of infrastructure", "project_name", 36),
            text("Recipient", "recipient", 20), money("Amount", "amount"),
        ], [text("Agreement", "agreement_reference"), named("Authority", "authority_code", authorities, 26),
            words_of("Purpose", "purpose", 20), text("Repays borrowing", "repays_borrowing", 10)], report.spent),
        "Retained": lambda sheet: _printed_table(sheet, [
            text("Obligation", "obligation_reference", 20), named("Authority", "authority_code", authorities, 26),
            named("Division", "division_code", divisions, 22), service_column(),
            money("Held at 1 April", "held_at_start"), money("Held at 31 March", "held"),
            money("Allocated, not spent", "allocated_unspent"), money("Unallocated", "unallocated"),
            money("Received before the year, unallocated", "received_before_unallocated"),
            day("Earliest deadline", "earliest_deadline"),
        ], [text("Agreement", "agreement_reference"), words_of("Purpose", "purpose", 20),
            text("Commuted sum", "commuted_sum", 10)], report.retained),
        "At risk": lambda sheet: _at_risk_sheet(sheet, report, authorities, divisions),
        "By authority": lambda sheet: write_sheet_table(sheet, AREA_COLUMNS, report.by_authority),
        "By division": lambda sheet: write_sheet_table(sheet, AREA_COLUMNS, report.by_division),
        "Non-monetary": lambda sheet: _non_monetary(sheet, report, authorities, divisions),
        "Checks": lambda sheet: _checks(sheet, report, sheets_of(edition)),
        "Notes": lambda sheet: _notes(sheet, report, label, council, edition),
    } | {name: lambda sheet, write=write: write(workbook, sheet, report, detailed=edition is Edition.INTERNAL)
         for name, write in SECTION_SHEETS.items()}
    for name in written:
        writers[name](workbook.create_sheet(name, one_page=name == "Summary"))
    workbook.save(out)


def _printed_table(sheet, printed: Sequence[Column], others: Sequence[Column], rows: Sequence[Any]) -> None:  # type: ignore[no-untyped-def]
    """A detail sheet: every column in the sheet, the ``printed`` ones first and alone in the
    print area, so a page of A4 landscape shows them at a legible size."""
    end = write_sheet_table(sheet, [*printed, *others], rows)
    if others:
        sheet.print_area = f"A1:{get_column_letter(len(printed))}{max(end - 1, 1)}"


def _titled_table(sheet, titles: Sequence[str], columns: Sequence[Column], rows: Sequence[Any]) -> int:  # type: ignore[no-untyped-def]
    """A table under title lines, its header frozen and repeated on every printed page."""
    set_widths(sheet, fitted_widths(columns, rows))
    first = len(titles) + 2
    sheet.freeze_panes = f"A{first + 1}"
    for index, title in enumerate(titles):
        sheet.append([cell(sheet, title, font=TITLE_FONT if index == 0 else None)])
    sheet.append([])
    sheet.print_title_rows = f"{first}:{first}"
    return write_table(sheet, columns, rows, first_row=first, filtered=False)


def _allocated_items(sheet, report: IfsReport) -> None:  # type: ignore[no-untyped-def]
    rows = project_totals(report.allocated, lambda r: {"amount": r.amount})
    _titled_table(sheet, [
        "Item (g): money allocated and not spent, by item of infrastructure",
        f"Planning obligation money allocated to each item and not spent at 31 March {report.year + 1} "
        "(Schedule 2 paragraph 3(g)).",
    ], [*ITEM_COLUMNS, Column("Allocated, not spent", lambda r: r["amount"], MONEY, 16, True)], rows)


def _spent_items(sheet, report: IfsReport) -> None:  # type: ignore[no-untyped-def]
    def amounts(row: Any) -> dict[str, Decimal]:
        return {"transferred" if row.kind == "transfer" else "spent": row.amount, "total": row.amount}

    rows = project_totals(report.spent, amounts)
    _titled_table(sheet, [
        "Item (h)(i): money spent, by item of infrastructure",
        f"Planning obligation money spent on each item from 1 April {report.year} to 31 March {report.year + 1}, "
        "including money transferred to another person to spend (Schedule 2 paragraph 3(h)(i)).",
    ], [*ITEM_COLUMNS, Column("Spent", lambda r: r.get("spent"), MONEY, 16, True),
        Column("Transferred to spend", lambda r: r.get("transferred"), MONEY, 16, True),
        Column("Total", lambda r: r["total"], MONEY, 16, True)], rows)


def _non_monetary(sheet, report: IfsReport, authorities: Mapping[str, str], divisions: Mapping[str, str]) -> None:  # type: ignore[no-untyped-def]
    """One row per agreement, units by kind in separate columns, each totalled: homes are
    never added to school places. School places by category follow the table."""
    by_agreement: dict[str, dict[str, Any]] = {}
    for row in report.secured:
        if row.units:
            line = by_agreement.setdefault(row.agreement_reference, {
                "agreement": row.agreement_reference, "authority": authorities.get(row.authority_code, row.authority_code),
                "division": divisions.get(row.division_code or "", row.division_code), "signed_on": row.signed_on})
            kind = row.unit_kind if row.unit_kind in ("affordable-housing-units", "school-places") else "other"
            line[kind] = line.get(kind, 0) + row.units
    write_sheet_table(sheet, [
        Column("Agreement", lambda r: r["agreement"], None, 18), Column("Authority", lambda r: r["authority"], None, 40),
        Column("Division", lambda r: r["division"], None, 34), Column("Signed on", lambda r: r["signed_on"], SHORT_DATE, 13),
        Column("Affordable housing units", lambda r: r.get("affordable-housing-units"), COUNT, 10, True),
        Column("School places", lambda r: r.get("school-places"), COUNT, 10, True),
        Column("Other units", lambda r: r.get("other"), COUNT, 10),
    ], list(by_agreement.values()))
    sheet.append([])
    sheet.append([cell(sheet, "Item (d)(ii): school places by category", font=TOTAL_FONT)])
    for category, places in sorted(report.school_places_by_category.items()):
        sheet.append([cell(sheet, category), cell(sheet, places, number_format=COUNT)])


def _checks(sheet, report: IfsReport, sheets: Sequence[str]) -> None:  # type: ignore[no-untyped-def]
    def check_format(check: object) -> str:
        name = str(getattr(check, "name", ""))
        return COUNT if "school places" in name or "units" in name else MONEY

    write_sheet_table(sheet, [
        Column("Reconciliation", lambda c: c.name, None, 90), Column("Expected", lambda c: c.expected, check_format),
        Column("Actual", lambda c: c.actual, check_format), Column("Holds", lambda c: "Yes" if c.holds else "NO", None, 8),
    ], [c for c in report.checks if c.internal_sheet is None or c.internal_sheet in sheets], total_label=None)
    if report.reconciliation is not None:
        sheet.append([])
        sheet.append([cell(sheet, "Reconciliation with the finance ledger at the year end", font=TOTAL_FONT)])
        for line in year_end_lines(report.reconciliation):
            sheet.append([cell(sheet, line, wrap=True)])


def _summary(workbook: ReportWorkbook, sheet, report: IfsReport, label: str, council: str,  # type: ignore[no-untyped-def]
             edition: Edition) -> None:
    """One page: the figures in whole pounds (the cells keep the pence), then the money by
    service with its totals, then a chart of it, all within the four columns of the tables."""
    # The longest item label (80 characters) prints on one line in 70 width units.
    widths = [70, 20, 18, 18]
    set_widths(sheet, widths)
    first = 5
    sheet.freeze_panes = f"A{first + 1}"
    sheet.append([cell(sheet, f"{council}: Infrastructure Funding Statement {label}", font=TITLE_FONT)])
    sheet.append([cell(sheet, f"Section 106 planning obligations, 1 April {report.year} to 31 March "
                              f"{report.year + 1}. {edition.capitalize()} edition.")])
    sheet.append([cell(sheet, f"Ledger as known at {report.as_known_at:%d %B %Y %H:%M} UTC; s106-ledger "
                              f"{report.version}. Amounts in whole pounds; the cells hold the pence.")])
    sheet.append([cell(sheet, dependence_line(report.data_quality), font=TOTAL_FONT)])  # SPEC 8.4's one line
    write_table(sheet, [
        Column("Item", lambda i: i.label, None), Column("Legal reference", lambda i: i.reference, None),
        Column("Value", lambda i: i.value, lambda i: COUNT if i.name in UNIT_ITEMS else POUNDS),
    ], report.items, first_row=first, total_label=None, filtered=False)
    sheet.print_title_rows = f"{first}:{first}"
    for offset, item in enumerate(report.items, start=1):
        workbook.defined_names[item.name] = DefinedName(item.name, attr_text=f"Summary!$C${first + offset}")
    row = first + len(report.items) + 1
    sheet.append([])
    sheet.append([cell(sheet, "Section 106 money by service", font=TOTAL_FONT)])
    top = row + 2
    services = sorted(report.by_service, key=lambda a: service_label(a.code))
    end = write_table(sheet, [
        Column("Service", lambda a: service_label(a.code), None),
        Column("Received in the year", lambda a: a.received, POUNDS, total=True),
        Column("Spent in the year", lambda a: a.spent + a.transferred, POUNDS, total=True),
        Column("Retained at 31 March", lambda a: a.retained, POUNDS, total=True),
    ], services, first_row=top, filtered=False)
    chart = BarChart()
    chart.type = "bar"  # horizontal bars: the service names read across, not slanted
    chart.title = f"Section 106 money by service, {label}"
    chart.x_axis.title = None
    chart.y_axis.numFmt = "£#,##0"
    chart.y_axis.majorGridlines = None
    data_rows = max(len(services), 1)
    chart.add_data(Reference(sheet, min_col=2, max_col=4, min_row=top, max_row=top + data_rows), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=top + data_rows))
    chart.legend.position = "b"
    # Below the tables and no wider than their four columns (about 0.19 cm a width unit),
    # so the one printed page is as wide as the tables.
    chart.width = round(sum(widths) * 0.19, 1)
    chart.height = 4 + 0.45 * data_rows
    sheet.add_chart(chart, f"A{end + 1}")


def _at_risk_sheet(sheet, report: IfsReport, authorities: Mapping[str, str],  # type: ignore[no-untyped-def]
                   divisions: Mapping[str, str]) -> None:
    end = write_sheet_table(sheet, at_risk_columns(authorities, divisions), report.at_risk)
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


def _notes(sheet, report: IfsReport, label: str, council: str, edition: Edition) -> None:  # type: ignore[no-untyped-def]
    widths = [34, 110]
    set_widths(sheet, widths)
    sheet.freeze_panes = "A2"  # before any row, as a write-only sheet needs
    sheet.append([cell(sheet, f"Notes to the Infrastructure Funding Statement {label}", font=TITLE_FONT)])
    sheet.append([])
    other = Edition.INTERNAL if edition is Edition.PUBLIC else Edition.PUBLIC
    facts = [
        ("Council", council),
        ("Reported year", f"{label}: 1 April {report.year} to 31 March {report.year + 1}"),
        ("Edition", f"{edition.capitalize()} edition: sheets {', '.join(sheets_of(edition))}. The {other} edition has "
                    f"sheets {', '.join(sheets_of(other))}." + (
                        " This edition shows no money at risk and no repayment deadlines."
                        if edition is Edition.PUBLIC else "")),
        ("As known at", f"{report.as_known_at.isoformat()} (entries recorded later are not counted)"),
        ("Produced by", f"s106-ledger {report.version}"),
        ("Start of year", report.start),
        ("End of year", report.end),
        ("Names", "Authorities, divisions and services are shown by name; the references of agreements, "
                  "obligations, entries and projects are the ledger's own."),
    ]
    definitions = [d for d in DEFINITIONS if edition is Edition.INTERNAL or d[0] not in INTERNAL_DEFINITIONS]
    row = 2
    for heading, value in [*facts, ("", ""), *definitions]:
        row += 1
        sheet.row_dimensions[row].height = max(wrapped_height(str(value), widths[1]), wrapped_height(heading, widths[0]))
        sheet.append([cell(sheet, heading, font=Font(bold=True), wrap=True),
                      cell(sheet, value, number_format=DATE if hasattr(value, "year") else None, wrap=True)])
