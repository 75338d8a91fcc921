"""The at-risk report: receipts with money remaining, by repayment deadline (SPEC §6).
Rows in, CSV text or .xlsx bytes out. No database, no Flask."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from io import BytesIO, StringIO
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill

from ledger.domain.money import ZERO
from ledger.domain.vocab import Band
from reports.workbook import DATE, MONEY, TITLE_FONT, Column, day, money, set_up_printing, text, write_table

#: The at-risk fields, in the order SPEC §6 fixes for the CSV and the API.
FIELDS = ("agreement_reference", "obligation_reference", "authority_code", "division_code", "purpose", "service",
          "receipt_reference", "received_on", "deadline", "remaining", "allocated", "unallocated", "band")
MONEY_FIELDS = {"remaining", "allocated", "unallocated"}
DATE_FIELDS = {"received_on", "deadline"}

AT_RISK_COLUMNS = [
    money(f, f) if f in MONEY_FIELDS else day(f, f) if f in DATE_FIELDS else text(f, f) for f in FIELDS
]
BAND_FILLS = {
    Band.OVERDUE: "C00000", Band.RED: "FF7C80", Band.AMBER: "FFC000", Band.GREEN: "A9D08E",
    Band.UNKNOWN_DEADLINE: "D9D9D9", Band.NO_DEADLINE: "F2F2F2",
}


def band_totals(rows: Sequence[Any]) -> dict[Band, Decimal]:
    """Money remaining in each band, every band listed, most urgent first."""
    totals = dict.fromkeys(Band, ZERO)
    for row in rows:
        totals[Band(row.band)] += row.remaining
    return totals


def at_risk_csv(rows: Sequence[Any]) -> str:
    """The rows as CSV with the SPEC columns; money as plain decimal strings, dates ISO."""
    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in rows:
        values = []
        for field in FIELDS:
            value = getattr(row, field)
            if value is None:
                values.append("")
            elif isinstance(value, Decimal):
                values.append(f"{value:.2f}")
            elif isinstance(value, date):
                values.append(value.isoformat())
            else:
                values.append(str(value))
        writer.writerow(values)
    return buffer.getvalue()


def _grouped(rows: Sequence[Any], key: Callable[[Any], str]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"remaining": ZERO, "allocated": ZERO, "unallocated": ZERO, "overdue": ZERO, "red": ZERO,
                 "amber": ZERO})
    for row in rows:
        group = groups[key(row) or "(none recorded)"]
        for field in ("remaining", "allocated", "unallocated"):
            group[field] += getattr(row, field)
        if row.band in (Band.OVERDUE, Band.RED, Band.AMBER):
            group[str(row.band)] += row.remaining
    return [{"name": name} | values for name, values in sorted(groups.items())]


def at_risk_workbook(rows: Sequence[Any], *, as_of: date, version: str) -> bytes:
    """The at-risk workbook: every row banded and coloured, then totals by band, authority,
    division and service, with a chart of money by band."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "At risk"
    write_table(sheet, AT_RISK_COLUMNS, rows)
    for row_number, row in enumerate(rows, start=2):
        fill = PatternFill("solid", fgColor=BAND_FILLS[Band(row.band)])
        sheet.cell(row=row_number, column=len(FIELDS)).fill = fill

    by_band = workbook.create_sheet("By band")
    by_band["A1"], by_band["B1"] = "band", "remaining"
    for cell in (by_band["A1"], by_band["B1"]):
        cell.font = Font(bold=True)
    for offset, (band, amount) in enumerate(band_totals(rows).items(), start=2):
        by_band.cell(row=offset, column=1, value=str(band)).fill = PatternFill("solid", fgColor=BAND_FILLS[band])
        by_band.cell(row=offset, column=2, value=amount).number_format = MONEY
    by_band.cell(row=len(Band) + 2, column=1, value="Total").font = Font(bold=True)
    total = by_band.cell(row=len(Band) + 2, column=2, value=sum((r.remaining for r in rows), ZERO))
    total.number_format, total.font = MONEY, Font(bold=True)
    by_band.column_dimensions["A"].width, by_band.column_dimensions["B"].width = 20, 18
    by_band.freeze_panes = "A2"
    chart = BarChart()
    chart.title = f"Money remaining by band at {as_of:%d %B %Y}"
    chart.y_axis.numFmt = "£#,##0"
    chart.legend = None
    chart.add_data(Reference(by_band, min_col=2, min_row=2, max_row=len(Band) + 1), titles_from_data=False)
    chart.set_categories(Reference(by_band, min_col=1, min_row=2, max_row=len(Band) + 1))
    by_band.add_chart(chart, "D2")

    group_columns = [
        Column("name", lambda g: g["name"], None, 30),
        *(Column(f, lambda g, f=f: g[f], MONEY, 16, True)
          for f in ("remaining", "allocated", "unallocated", "overdue", "red", "amber")),
    ]
    for title, key in (("By authority", lambda r: r.authority_code), ("By division", lambda r: r.division_code),
                       ("By service", lambda r: r.service)):
        write_table(workbook.create_sheet(title), group_columns, _grouped(rows, key))

    notes = workbook.create_sheet("Notes")
    notes["A1"] = "Money at risk of repayment to developers"
    notes["A1"].font = TITLE_FONT
    lines = [
        ("As of", as_of),
        ("Produced by", f"s106-ledger {version}"),
        ("Bands", "overdue: deadline before the as-of date; red: within 12 months; amber: within 24 months; "
                  "green: later; no-deadline; unknown-deadline (counts from completion, not yet reported)."),
        ("Remaining", "Money of the receipt still held. Outflows use the receipts with the earliest deadlines "
                      "first; allocated money is taken to be the earliest-deadline money."),
    ]
    for offset, (heading, value) in enumerate(lines, start=3):
        notes.cell(row=offset, column=1, value=heading).font = Font(bold=True)
        cell = notes.cell(row=offset, column=2, value=value)
        if isinstance(value, date):
            cell.number_format = DATE
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width = 16, 110

    for name in workbook.sheetnames:
        set_up_printing(workbook[name], f"Money at risk at {as_of:%d %B %Y}: {name}")
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
