"""Shared openpyxl layout for report workbooks, written in write-only mode so a national
report streams out without holding every cell in memory: tables with frozen headers,
filters, widths, council number formats and committee print set-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from ledger.domain.vocab import service_label
from ledger.speed.reused_cells import styled_cells

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

MONEY = "£#,##0.00"
#: Whole pounds, for a page a councillor reads: the cell keeps the exact value.
POUNDS = "£#,##0"
CENT = Decimal("0.01")
COUNT = "#,##0"
DATE = "d mmmm yyyy"
#: Dates in table columns: "30 Sep 2024" prints in 11 characters, "30 September 2024" in 17.
SHORT_DATE = "d mmm yyyy"
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


def words(slug: str | None) -> str | None:
    """A vocabulary slug as words: "section-106" is "Section 106"."""
    return slug.replace("-", " ").capitalize() if slug else slug


def words_of(heading: str, attribute: str, width: int = 18) -> Column:
    value_of = attrgetter(attribute)
    return Column(heading, lambda r: words(value_of(r)), None, width)


def named(heading: str, attribute: str, names: Mapping[str, str], width: int = 22) -> Column:
    """A column showing the name of the code a row carries (the code where none is known)."""
    code_of = attrgetter(attribute)

    def name(row: Any) -> str | None:
        code = code_of(row)
        return names.get(code, code) if code else None

    return Column(heading, name, None, width)


def service_column(width: int = 24) -> Column:
    """The row's service by its name (vocab.SERVICE_LABELS)."""
    return Column("Service", lambda r: service_label(r.service), None, width)


def day(heading: str, attribute: str) -> Column:
    return Column(heading, attrgetter(attribute), SHORT_DATE, 13)


#: Characters of padding a printed column needs beyond its longest value (cell margins, and
#: digits and capitals a little wider than the average character the width unit counts).
_PADDING = 2
#: Narrowest column: a wrapped heading still shows a word.
_NARROWEST = 6


def fitted_widths(columns: Sequence[Column], rows: Sequence[Any]) -> list[int]:
    """Column widths that print every value of these rows: text as long as its longest value
    up to the column's width (a longer one is cut at the cell edge, the cell keeps it), money
    and counts as wide as their largest value or total, so no cell prints as ``###`` whatever
    the column's width says. A heading wraps, so only its longest word sets a minimum."""
    widths = []
    for column in columns:
        words = max(len(word) for word in column.heading.split()) + _PADDING
        values = [v for v in map(column.value, rows) if v is not None]
        if column.format in (MONEY, POUNDS, COUNT) or (values and isinstance(values[0], int | Decimal)
                                                       and not isinstance(values[0], bool)):
            largest = sum((abs(v) for v in values), Decimal(0)) if column.total else max(map(abs, values), default=0)
            shown = f"£{largest:,.2f}" if column.format != COUNT else f"{largest:,}"
            widths.append(max(len(shown) + _PADDING + 1, words, _NARROWEST))  # +1: a minus sign
        elif column.format in (SHORT_DATE, DATE) or callable(column.format):
            widths.append(max(column.width, words))
        else:
            longest = max((len(plain(v)) if isinstance(v, str) else len(str(plain(v))) for v in values), default=0)
            widths.append(max(min(longest + _PADDING, column.width), words, _NARROWEST))
    return widths


def heading_height(columns: Sequence[Column], widths: Sequence[int]) -> float:
    """Points a header row of wrapped headings needs at these widths (15 points a line)."""
    lines = 1
    for column, width in zip(columns, widths, strict=True):
        line, count = 0, 1
        for word in column.heading.split():
            if line and line + 1 + len(word) > width - _PADDING:
                count, line = count + 1, len(word)
            else:
                line += (1 if line else 0) + len(word)
        lines = max(lines, count)
    return 15.0 * lines


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


def wrapped_height(text: str, width: int) -> float:
    """Points a cell of wrapped text needs in a column this wide (15 points a line), set as
    the row's height so that a printed page never overlaps one row with the next."""
    per_line = max(int(width * 1.1) - 2, 10)  # text averages narrower than the digits a width unit counts
    return 15.0 * max(1, sum(-(-max(len(part), 1) // per_line) for part in text.split("\n")))


def write_notes(sheet: WriteOnlyWorksheet, title: str, lines: Sequence[tuple[str, Any]], *, width: int,
                heading_width: int = 16) -> None:
    """A Notes sheet: a title, then one row per (heading, text), each row as tall as its
    wrapped text so that printed rows never overlap."""
    set_widths(sheet, [heading_width, width])
    sheet.append([cell(sheet, title, font=TITLE_FONT)])
    sheet.append([])
    for row, (heading, value) in enumerate(lines, start=3):
        sheet.row_dimensions[row].height = wrapped_height(str(value), width)
        sheet.append([cell(sheet, heading, font=TOTAL_FONT),
                      cell(sheet, value, number_format=DATE if isinstance(value, date) else None, wrap=True)])


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
    set_widths_of = sheet.column_dimensions
    widths = [(set_widths_of[letter].width if letter in set_widths_of else None) or c.width
              for letter, c in ((get_column_letter(i), c) for i, c in enumerate(columns, start=1))]
    sheet.row_dimensions[first_row].height = heading_height(columns, widths)
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


def write_sheet_table(sheet: WriteOnlyWorksheet, columns: Sequence[Column], rows: Sequence[Any], **options: Any) -> int:
    """A sheet that is one table: widths fitted to the rows (set before the first row, as a
    write-only sheet needs), then the table; ``options`` as write_table takes them."""
    set_widths(sheet, fitted_widths(columns, rows))
    return write_table(sheet, columns, rows, **options)


def set_up_printing(sheet: WriteOnlyWorksheet, title: str, *, one_page: bool = False) -> None:
    """Landscape A4 with narrow margins, fit to one page wide (and one page tall with
    ``one_page``), the title in the header and page numbers below. A write-only sheet writes
    its fit-to-page flag before its first row: call this first (ReportWorkbook does)."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 1 if one_page else 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.25, footer=0.25)
    sheet.print_options.gridLines = False
    # "&" starts a header code ("&P" is the page number): a council's "&" is written "&&".
    sheet.oddHeader.center.text = title.replace("&", "&&")
    sheet.oddFooter.right.text = "Page &P of &N"


class ReportWorkbook(Workbook):
    """A write-only workbook whose every sheet is set up for printing as it is created, headed
    "{heading}: {sheet name}": set-up made after a write-only sheet's rows loses its fit to
    the page (the at-risk workbook once printed 704 pages showing 5 of its 13 columns)."""

    def __init__(self, heading: str) -> None:
        super().__init__(write_only=True)
        self.heading = heading

    def create_sheet(self, title: str | None = None, index: int | None = None, *,  # type: ignore[override]
                     one_page: bool = False) -> WriteOnlyWorksheet:
        sheet = super().create_sheet(title, index)
        set_up_printing(sheet, f"{self.heading}: {title}", one_page=one_page)
        return sheet

    def save(self, filename: Any) -> None:
        # A page header is written after the rows: set again here, every sheet's header is
        # the workbook's, whatever a sheet's writer set.
        for sheet in self.worksheets:
            sheet.oddHeader.center.text = f"{self.heading}: {sheet.title}".replace("&", "&&")
        super().save(filename)


def council_name(configured: str | None, authority_names: Sequence[str]) -> str:
    """The council a statement is from (SPEC 8.6): LEDGER_COUNCIL_NAME, or without it the
    ledger's authorities: one or two by name, more as the first and how many others."""
    if configured and configured.strip():
        return configured.strip()
    names = sorted(set(authority_names))
    if len(names) <= 2:
        return " and ".join(names) or "Council"
    return f"{names[0]} and {len(names) - 1} other authorities"


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
