"""The reused workbook cell (ledger/speed/reused_cells.py) leans on openpyxl's private
write-only sheet. These fail, saying what changed, if an openpyxl release breaks what it
relies on; and where the release is not one checked, tables take the plain path."""

from __future__ import annotations

import inspect
from datetime import date
from decimal import Decimal
from io import BytesIO

import openpyxl
from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell
from openpyxl.styles import PatternFill
from openpyxl.worksheet import _write_only

from ledger.speed.reused_cells import reuse_is_safe, styled_cells


def style(cell: Cell, *, number_format: str | None, fill: str | None) -> Cell:
    if number_format:
        cell.number_format = number_format
    if fill:
        cell.fill = PatternFill("solid", fgColor=fill)
    return cell


def written(reuse: bool) -> list[list[tuple[object, str, str | None]]]:
    """A table of money, dates and text, the fills changing from row to row, written with
    or without reuse and read back: (value, number format, fill colour) of every cell."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("table")
    cell = styled_cells(sheet, style, reuse=reuse)
    for row in range(1, 41):
        fill = "FFC7CE" if row % 3 == 0 else None
        sheet.append([cell(0, Decimal(row), "£#,##0.00", None),
                      cell(1, date(2024, 1, row % 28 + 1), "d mmmm yyyy", fill),
                      cell(2, f"S106/{row}", None, fill or "C6EFCE")])
    out = BytesIO()
    workbook.save(out)
    table = load_workbook(BytesIO(out.getvalue()))["table"]
    return [[(c.value.date() if hasattr(c.value, "date") else c.value, c.number_format,
              c.fill.fgColor.rgb if c.fill.fill_type else None) for c in row] for row in table.iter_rows()]


def test_this_openpyxl_writes_each_row_as_it_is_appended() -> None:
    """What reuse relies on: WriteOnlyWorksheet.append sends each row through a generator
    that writes it at once (_write_rows, _values_to_row). If this fails, openpyxl changed."""
    sheet = getattr(_write_only, "WriteOnlyWorksheet", None)
    assert sheet is not None, "openpyxl.worksheet._write_only.WriteOnlyWorksheet is gone"
    assert inspect.isgeneratorfunction(getattr(sheet, "_write_rows", None)), "_write_rows is no longer a generator"
    assert inspect.isgeneratorfunction(getattr(sheet, "_values_to_row", None)), "_values_to_row changed"
    assert reuse_is_safe(), (
        f"openpyxl {openpyxl.__version__} is not a release the reused cells were checked with, so reports "
        "take the plain path: if test_reused_cells_write_what_new_cells_write passes, add it to CHECKED_RELEASES")


def test_reused_cells_write_what_new_cells_write() -> None:
    reused, fresh = written(reuse=True), written(reuse=False)
    assert reused == fresh
    assert reused[9] == [(Decimal(10), "£#,##0.00", None), (date(2024, 1, 11), "d mmmm yyyy", None),
                         ("S106/10", "General", "00C6EFCE")]
    assert reused[11][1:] == [(date(2024, 1, 13), "d mmmm yyyy", "00FFC7CE"), ("S106/12", "General", "00FFC7CE")]


def test_an_unchecked_openpyxl_takes_the_plain_path() -> None:
    assert not reuse_is_safe(version="3.2.0")
    assert not reuse_is_safe(sheet=object)  # a write-only sheet without the row generator
    sheet = Workbook(write_only=True).create_sheet("table")
    plain = styled_cells(sheet, style, reuse=False)
    assert plain(0, 1, "0.00", None) is not plain(0, 2, "0.00", None)
    reused = styled_cells(sheet, style, reuse=True)
    assert reused(0, 1, "0.00", None) is reused(0, 2, "0.00", None)
