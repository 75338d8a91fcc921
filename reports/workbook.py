"""Shared openpyxl layout for report workbooks: tables with frozen headers, filters,
widths, council number formats and committee print set-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

MONEY = "£#,##0.00"
COUNT = "#,##0"
DATE = "d mmmm yyyy"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
TOTAL_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table: heading, how to get the value from a row, and its format."""

    heading: str
    value: Callable[[Any], Any]
    format: str | None = None
    width: int | None = None
    total: bool = False


def money(heading: str, attribute: str, *, total: bool = True) -> Column:
    return Column(heading, lambda r: getattr(r, attribute), MONEY, 16, total)


def text(heading: str, attribute: str, width: int | None = None) -> Column:
    return Column(heading, lambda r: getattr(r, attribute), None, width)


def day(heading: str, attribute: str) -> Column:
    return Column(heading, lambda r: getattr(r, attribute), DATE, 17)


def plain(value: Any) -> Any:
    """Cell value: Decimal stays exact (openpyxl writes it as a number), enums as text."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or isinstance(value, int | Decimal | date | datetime | str):
        return value
    return str(value)


def write_table(
    sheet: Worksheet, columns: Sequence[Column], rows: Iterable[Any], *, first_row: int = 1,
    total_label: str | None = "Total",
) -> int:
    """Write a header and rows starting at ``first_row``; freeze the header, filter the rows,
    and add a total row (numbers, not formulas) for columns marked ``total``. Returns the
    next free row."""
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=first_row, column=index, value=column.heading)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [max(len(c.heading) + 2, c.width or 10) for c in columns]
    totals = [Decimal(0) for _ in columns]
    row_number = first_row
    for row in rows:
        row_number += 1
        for index, column in enumerate(columns):
            value = plain(column.value(row))
            cell = sheet.cell(row=row_number, column=index + 1, value=value)
            if column.format:
                cell.number_format = column.format
            if column.total and value is not None:
                totals[index] += value
            if column.width is None and value is not None:
                widths[index] = min(max(widths[index], len(str(value)) + 2), 60)
    last_data_row = row_number
    sheet.auto_filter.ref = f"A{first_row}:{get_column_letter(len(columns))}{max(last_data_row, first_row)}"
    if first_row == 1:
        sheet.freeze_panes = "A2"
        sheet.print_title_rows = "1:1"
    if total_label and any(c.total for c in columns):
        row_number += 1
        sheet.cell(row=row_number, column=1, value=total_label).font = TOTAL_FONT
        for index, column in enumerate(columns):
            if column.total:
                cell = sheet.cell(row=row_number, column=index + 1, value=totals[index])
                cell.number_format, cell.font = column.format or COUNT, TOTAL_FONT
    for index, width in enumerate(widths, start=1):
        current = sheet.column_dimensions[get_column_letter(index)].width or 0
        sheet.column_dimensions[get_column_letter(index)].width = max(width, current)
    return row_number + 2


def set_up_printing(sheet: Worksheet, title: str) -> None:
    """Landscape A4, fit to one page wide, header row repeated, sheet name in the header."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = False
    sheet.oddHeader.center.text = title
    sheet.oddFooter.right.text = "Page &P of &N"
