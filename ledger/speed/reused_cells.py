"""One reusable styled cell per table column, for write-only workbooks.

Buys: at county size, the rows read once, the at-risk workbook (6,293 receipts) written in
1.10 s of CPU instead of 1.48 s (26% less; 32% in another run), the IFS workbook in 2.08 s
instead of 2.51 s (17%; 4% in another run: most of its cells are unstyled text, which
openpyxl takes as plain values anyway). ``python -m bench.devices``.
Costs: it leans on how openpyxl's write-only sheet works inside (the private module
openpyxl.worksheet._write_only): each appended row is written out before ``append``
returns, so a cell can carry the next row's value. Where the installed openpyxl is not a
release this was checked with, or its write-only sheet is not of the shape checked
(reuse_is_safe), tables get a new cell for each styled value, as without the device, and
tests/unit/test_reused_cells.py fails saying so until the new release is checked.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import openpyxl
from openpyxl.cell import Cell, WriteOnlyCell

try:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
except ImportError:  # a private module: gone or moved, the plain path is taken
    WriteOnlyWorksheet = None  # type: ignore[assignment,misc]

#: openpyxl releases whose write-only sheet tests/unit/test_reused_cells.py has checked.
CHECKED_RELEASES = ("3.1.",)

#: (column index, value, number format, fill colour) -> a cell holding the value so styled.
CellMaker = Callable[[int, Any, "str | None", "str | None"], Cell]


def reuse_is_safe(version: str = openpyxl.__version__, sheet: type | None = WriteOnlyWorksheet) -> bool:
    """Whether this openpyxl writes each row of a write-only sheet as it is appended: a
    checked release, whose sheet sends each row through its row-writing generator."""
    return (version.startswith(CHECKED_RELEASES)
            and inspect.isgeneratorfunction(getattr(sheet, "_write_rows", None))
            and inspect.isgeneratorfunction(getattr(sheet, "_values_to_row", None)))


def styled_cells(sheet: Any, style: Callable[..., Cell], *, reuse: bool | None = None) -> CellMaker:
    """A function giving a cell of ``sheet`` for a table column, holding a value with a
    number format and fill, styled by ``style(cell, number_format=..., fill=...)``.

    The cell is one kept per column and style and given each row's value in turn, when
    ``reuse`` (by default: when reuse_is_safe()); otherwise a new cell each time. Append
    each row as soon as its cells are made: a reused cell holds only the latest value."""
    if reuse is None:
        reuse = reuse_is_safe()
    if not reuse:
        def fresh(index: int, value: Any, number_format: str | None, fill: str | None) -> Cell:
            return style(WriteOnlyCell(sheet, value=value), number_format=number_format, fill=fill)
        return fresh
    kept: dict[tuple[int, str | None, str | None], Cell] = {}

    def holding(index: int, value: Any, number_format: str | None, fill: str | None) -> Cell:
        key = (index, number_format, fill)
        cell = kept.get(key)
        if cell is None:
            cell = kept[key] = style(_ReusedCell(sheet, row=1, column=1), number_format=number_format, fill=fill)
        cell.value = value
        return cell

    return holding


class _ReusedCell(Cell):
    """openpyxl tries a cell as a value before taking it as a cell, and builds an error
    message naming it on the way: keep that name cheap, it is asked for once per cell."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "reused cell"
