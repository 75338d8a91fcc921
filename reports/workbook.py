"""Shared openpyxl layout for report workbooks, written in write-only mode so a national
report streams out without holding every cell in memory: tables with frozen headers,
filters, widths, council number formats and committee print set-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ledger.speed.reused_cells import styled_cells

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

MONEY = "£#,##0.00"
CENT = Decimal("0.01")
COUNT = "#,##0"
DATE = "d mmmm yyyy"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
TOTAL_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table: heading, how to get the value from a row, its format (or a
    function of the row giving one), width, whether it is totalled, and an optional fill."""

    heading: str
    value: Callable[[Any], Any]
    format: str | Callable[[Any], str | None] | None = None
    width: int = 16
    total: bool = False
    fill: Callable[[Any], str | None] | None = None


def money(heading: str, attribute: str, *, total: bool = True) -> Column:
    return Column(heading, attrgetter(attribute), MONEY, 16, total)


def text(heading: str, attribute: str, width: int = 18) -> Column:
    return Column(heading, attrgetter(attribute), None, max(width, len(heading) + 2))


def day(heading: str, attribute: str) -> Column:
    return Column(heading, attrgetter(attribute), DATE, 17)


#: Types a cell takes as they are (the common case, checked first: millions of cells).
_AS_THEY_ARE = frozenset({str, Decimal, int, date, datetime, type(None)})
#: A leading character that makes a spreadsheet program read typed or imported text as a
#: formula (OWASP "CSV Injection": =, +, -, @, tab, carriage return).
FORMULA_START = frozenset("=+-@\t\r")
#: Text a workbook must write as an explicit string cell: openpyxl would write text starting
#: "=" as a formula and "#N/A" and the other error codes as error values.
_NOT_PLAIN_TEXT = FORMULA_START | {"#"}


def plain(value: Any) -> Any:
    """Cell value: Decimal stays exact (openpyxl writes it as a number), enums as text."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or isinstance(value, int | Decimal | date | datetime | str):
        return value
    return str(value)


def cell(sheet: WriteOnlyWorksheet, value: Any, *, number_format: str | None = None, font: Font | None = None,
         fill: str | None = None, wrap: bool = False) -> WriteOnlyCell:
    """A cell for a value. Text is a string cell whatever it starts with: openpyxl would write
    text starting "=" as a formula and "#N/A" as an error value, so such text is set back to
    a string and marked as text (quotePrefix, as a typed apostrophe marks it), so that editing
    the cell in a spreadsheet program keeps it text too. The value itself is unchanged."""
    value = plain(value)
    written = _styled(WriteOnlyCell(sheet, value=value), number_format=number_format, font=font, fill=fill,
                      wrap=wrap)
    if isinstance(value, str) and value[:1] in _NOT_PLAIN_TEXT:
        written.data_type = "s"
        written.quotePrefix = True
    return written


def _styled(written: Cell, *, number_format: str | None = None, font: Font | None = None, fill: str | None = None,
            wrap: bool = False) -> Cell:
    if number_format:
        written.number_format = number_format
    if font:
        written.font = font
    if fill:
        written.fill = PatternFill("solid", fgColor=fill)
    if wrap:
        written.alignment = WRAP
    return written


def set_widths(sheet: WriteOnlyWorksheet, widths: Sequence[int]) -> None:
    """Column widths: a write-only sheet takes them before its first row."""
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def write_table(
    sheet: WriteOnlyWorksheet, columns: Sequence[Column], rows: Iterable[Any], *, first_row: int = 1,
    total_label: str | None = "Total", filtered: bool = True,
) -> int:
    """Append a header and rows (the sheet's next row must be ``first_row``); filter the
    rows, freeze the header when it is the first row, and add a total row (numbers, not
    formulas) for columns marked ``total``. Returns the number of the row after the table."""
    if first_row == 1:
        # A write-only sheet writes its view before its rows: freeze the header first.
        sheet.freeze_panes = "A2"
        sheet.print_title_rows = "1:1"
    sheet.append([cell(sheet, c.heading, font=HEADER_FONT, fill="1F4E78", wrap=True) for c in columns])
    totals = [Decimal(0) for _ in columns]
    styled = styled_cells(sheet, _styled)
    # Per column: how to get the value, its fixed format or a function giving one, its fill.
    specs = [(index, c.value, None if callable(c.format) else c.format, c.format if callable(c.format) else None,
              c.fill, c.total) for index, c in enumerate(columns)]
    row_number = first_row
    for row in rows:
        row_number += 1
        cells = []
        for index, value_of, fixed_format, format_of, fill_of, total in specs:
            value = value_of(row)
            if value.__class__ not in _AS_THEY_ARE:
                value = plain(value)
            number_format = format_of(row) if format_of else fixed_format
            fill = fill_of(row) if fill_of else None
            if value.__class__ is str and value and value[0] in _NOT_PLAIN_TEXT:
                cells.append(cell(sheet, value, number_format=number_format, fill=fill))
            elif value is not None and (number_format or fill):
                cells.append(styled(index, value, number_format, fill))
            else:  # unstyled values go in as they are: openpyxl makes cells of them itself
                cells.append(value)
            if total and value is not None:
                totals[index] += value
        sheet.append(cells)
    if filtered:
        sheet.auto_filter.ref = f"A{first_row}:{get_column_letter(len(columns))}{row_number}"
    if total_label and any(c.total for c in columns):
        row_number += 1
        sheet.append([
            cell(sheet, total_label if index == 0 else (totals[index] if c.total else None),
                 number_format=(c.format if isinstance(c.format, str) else COUNT) if c.total else None,
                 font=TOTAL_FONT)
            for index, c in enumerate(columns)
        ])
    return row_number + 1


def set_up_printing(sheet: WriteOnlyWorksheet, title: str) -> None:
    """Landscape A4, fit to one page wide, the sheet name in the header, page numbers below."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = False
    sheet.oddHeader.center.text = title
    sheet.oddFooter.right.text = "Page &P of &N"


def spreadsheet_value(value: Any) -> Any:
    """A value for a CSV that people open in a spreadsheet program (write it with
    csv.QUOTE_NONNUMERIC): money and counts stay numbers, so "-5.00" is still a number;
    dates ISO; yes/no; text starting with a formula character gets a leading apostrophe
    (OWASP "CSV Injection"), so the program shows it instead of running it."""
    if value.__class__ is not str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int | Decimal):
            return value.quantize(CENT) if isinstance(value, Decimal) else value
        value = value.isoformat() if isinstance(value, date) else str(value)
    return "'" + value if value and value[0] in FORMULA_START else value


def csv_text(rows: Iterable[Any], fields: Sequence[str]) -> str:
    """Rows as CSV with these fields, for people to open in a spreadsheet program. Text is
    quoted, so no separator or line break inside it can start a new cell; each value as
    spreadsheet_value makes it."""
    import csv
    from io import StringIO

    buffer = StringIO()
    # QUOTE_NONNUMERIC quotes what is not a number: the text, never the money or counts.
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(fields)
    for row in rows:
        writer.writerow([spreadsheet_value(getattr(row, field)) for field in fields])
    return buffer.getvalue()
