"""The IFS workbook's CIL, Section 278 and Data quality sheets (SPEC 8.1, 8.4): an IfsReport in,
rows of a write-only sheet out. Each sheet sets its page up before its first row; each
figure keeps its workbook-scoped defined name on the cell that holds it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName

from ledger.domain.dates import financial_year_label
from ledger.domain.ifs import (
    CIL_NOT_RECORDED,
    DATA_QUALITY_SECTIONS,
    ClassReport,
    IfsReport,
    Item,
    dependence_line,
)
from ledger.domain.vocab import service_label
from reports.workbook import (
    MONEY,
    TITLE_FONT,
    TOTAL_FONT,
    Column,
    cell,
    day,
    money,
    set_widths,
    text,
    wrapped_height,
    write_table,
)

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

#: Column widths shared by every table of these sheets: money always falls in column C.
WIDTHS = (24, 48, 18, 18, 22, 22, 22)

FIGURE_COLUMNS = [
    Column("Legal reference", lambda i: i.reference, None), Column("Item", lambda i: i.label, None),
    Column("Value", lambda i: i.value, MONEY),
]
RECEIVED_COLUMNS = [
    text("Entry", "entry_reference"), text("Obligation", "obligation_reference"), money("Amount", "amount"),
    day("Date", "occurred_on"), text("Agreement", "agreement_reference"), text("Service", "service"),
]
SPENT_COLUMNS = [
    text("Entry", "entry_reference"), Column("Item of infrastructure", lambda m: m.project_name or m.project_reference),
    money("Amount", "amount"), day("Date", "occurred_on"), text("Kind", "kind"), text("Recipient", "recipient"),
    text("Obligation", "obligation_reference"),
]
ALLOCATED_COLUMNS = [
    text("Project", "project_reference"), text("Item of infrastructure", "project_name"),
    money("Allocated, not spent", "amount"), text("Obligation", "obligation_reference"),
    text("Agreement", "agreement_reference"),
]
RETAINED_COLUMNS = [
    text("Obligation", "obligation_reference"), text("Agreement", "agreement_reference"),
    money("Held at 31 March", "held"), money("Held at 1 April", "held_at_start"),
    money("Allocated, not spent", "allocated_unspent"),
    money("Received before the year, unallocated", "received_before_unallocated"),
]
SECURED_COLUMNS = [
    text("Obligation", "obligation_reference"), Column("Explanation", lambda r: r.explanation or r.purpose),
    Column("Counted in (a)", lambda r: r.counted_amount, MONEY, total=True), day("Signed on", "signed_on"),
    text("Agreement", "agreement_reference"), money("Amount secured", "amount"),
]
FLAGGED_COLUMNS = [
    text("Obligation or project", "reference"), text("Reason", "reason"), money("Money counted", "amount"),
    money("Held at 31 March", "held"), money("Left in the year", "out_in_year"),
    text("Agreement", "agreement_reference"), text("Class", "agreement_class"),
]
UNKNOWN_DEADLINE_COLUMNS = [
    text("Entry", "entry_reference"), text("Obligation", "obligation_reference"),
    money("Remaining at 31 March", "remaining"), day("Date", "occurred_on"), text("Agreement", "agreement_reference"),
    text("Class", "agreement_class"), text("Kind", "kind"),
]


class _Sheet:
    """A write-only sheet and the number of the next row to write (defined names need it)."""

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self.sheet, self.row = sheet, 1

    def line(self, *values: Any, font: Any = None, wrap: bool = False) -> None:
        if wrap:  # as tall as its wrapped text, so printed rows never overlap
            self.sheet.row_dimensions[self.row].height = max(
                wrapped_height(str(v), width) for v, width in zip(values, WIDTHS, strict=False) if v is not None)
        self.sheet.append([cell(self.sheet, v, font=font, wrap=wrap,
                                number_format=MONEY if isinstance(v, Decimal) else None) for v in values])
        self.row += 1

    def table(self, title: str, columns: Sequence[Column], rows: Sequence[Any]) -> None:
        self.line()
        self.line(title, font=TOTAL_FONT)
        if not rows:
            self.line("None in this year.")
            return
        self.row = write_table(self.sheet, columns, rows, first_row=self.row, filtered=False)


def _start(sheet: WriteOnlyWorksheet, report: IfsReport, title: str) -> _Sheet:
    label = financial_year_label(report.year)
    set_widths(sheet, WIDTHS)  # its page is set up as the workbook made it (workbook.ReportWorkbook)
    sheet.freeze_panes = "A3"  # the title stays in view; a write-only sheet takes it before any row
    written = _Sheet(sheet)
    written.line(f"Infrastructure Funding Statement {label}: {title}", font=TITLE_FONT)
    written.line(f"Reported year 1 April {report.year} to 31 March {report.year + 1}.")
    return written


def _figures(workbook: Workbook, written: _Sheet, items: list[Item]) -> None:
    """The figures with their legal references and labels, each value cell named."""
    written.line()
    first = written.row
    written.row = write_table(written.sheet, FIGURE_COLUMNS, items, first_row=first, total_label=None,
                              filtered=False)
    # A sheet name with a space must be quoted in a reference.
    where = f"'{written.sheet.title}'"
    for offset, item in enumerate(items, start=1):
        workbook.defined_names[item.name] = DefinedName(item.name, attr_text=f"{where}!$C${first + offset}")


def project_totals(rows: Sequence[Any], amount_of: Callable[[Any], Mapping[str, Decimal]]) -> list[dict[str, Any]]:
    """Amounts by item of infrastructure (project), by the item's name."""
    totals: dict[tuple[str, str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        key = (row.project_name or "(no item of infrastructure recorded)", row.project_reference or "", row.service)
        for field, amount in amount_of(row).items():
            totals[key][field] += amount
    return [{"name": name, "reference": reference, "service": service_label(service)} | amounts
            for (name, reference, service), amounts in sorted(totals.items())]


ITEM_COLUMNS = [
    Column("Item of infrastructure", lambda r: r["name"], None, 48),
    Column("Project", lambda r: r["reference"], None, 36), Column("Service", lambda r: r["service"], None, 44),
]


def _items(written: _Sheet, section: ClassReport) -> None:
    """What the money went to, by item of infrastructure: what a published statement lists
    (paragraphs 1 and 4 ask for summaries and items, not each payment)."""
    def spent(row: Any) -> dict[str, Decimal]:
        return {"transferred" if row.kind == "transfer" else "spent": row.amount, "total": row.amount}

    written.table("Spent and passed to other bodies in the year, by item of infrastructure", [
        *ITEM_COLUMNS, Column("Spent", lambda r: r.get("spent"), MONEY, 16, True),
        Column("Passed to other bodies", lambda r: r.get("transferred"), MONEY, 16, True),
        Column("Total", lambda r: r["total"], MONEY, 16, True)], project_totals(section.spent, spent))
    written.table("Allocated and not spent at 31 March, by item of infrastructure", [
        *ITEM_COLUMNS, Column("Allocated, not spent", lambda r: r["amount"], MONEY, 16, True)],
        project_totals(section.allocated, lambda r: {"amount": r.amount}))


def _rows(written: _Sheet, section: ClassReport, *, detailed: bool) -> None:
    if not detailed:
        _items(written, section)
        return
    written.table("Receipts in the year", RECEIVED_COLUMNS, section.received)
    written.table("Spent and passed to other bodies in the year", SPENT_COLUMNS, section.spent)
    if section.repaid:
        written.table("Repaid in the year", RECEIVED_COLUMNS, section.repaid)
    written.table("Allocated and not spent at 31 March, by item of infrastructure", ALLOCATED_COLUMNS,
                  section.allocated)
    written.table("Retained at 31 March", RETAINED_COLUMNS, section.retained)


def write_cil(workbook: Workbook, sheet: WriteOnlyWorksheet, report: IfsReport, *, detailed: bool = True) -> None:
    """The CIL report (Schedule 2 paragraph 1): the items the ledger can know, those it cannot;
    ``detailed``, every payment behind them, else the money by item of infrastructure."""
    written = _start(sheet, report, "CIL report (Schedule 2 paragraph 1)")
    _figures(workbook, written, report.cil.items)
    written.line()
    written.line("Items of paragraph 1 not recorded in this ledger", font=TOTAL_FONT)
    for reference, item in CIL_NOT_RECORDED:
        written.line(reference, item, "not recorded in this ledger", wrap=True)
    _rows(written, report.cil, detailed=detailed)


def write_s278(workbook: Workbook, sheet: WriteOnlyWorksheet, report: IfsReport, *, detailed: bool = True) -> None:
    """Section 278 highway agreements (Schedule 2 paragraph 4); ``detailed`` as for CIL."""
    written = _start(sheet, report, "section 278 highway agreements (Schedule 2 paragraph 4)")
    _figures(workbook, written, report.s278.items)
    written.table("Section 278 agreements entered into in the year", SECURED_COLUMNS, report.s278.secured)
    _rows(written, report.s278, detailed=detailed)


def write_data_quality(workbook: Workbook, sheet: WriteOnlyWorksheet, report: IfsReport, *,
                       detailed: bool = True) -> None:
    """What the figures rest on that a person has still to confirm (SPEC 8.4)."""
    quality = report.data_quality
    written = _start(sheet, report, "data quality")
    written.line(dependence_line(quality))  # one line, running on across the empty cells beside it
    written.line()
    for title, total in quality.totals().items():
        written.line(title, None, total)
    tables: list[tuple[str, Sequence[Column], Sequence[Any]]] = [
        (DATA_QUALITY_SECTIONS[0], FLAGGED_COLUMNS, quality.needs_review),
        (DATA_QUALITY_SECTIONS[1], RECEIVED_COLUMNS, quality.opening),
        (DATA_QUALITY_SECTIONS[2], UNKNOWN_DEADLINE_COLUMNS, quality.unknown_deadlines),
        (DATA_QUALITY_SECTIONS[3], FLAGGED_COLUMNS, quality.placeholders),
    ]
    for title, columns, rows in tables:
        if rows and not detailed and columns is UNKNOWN_DEADLINE_COLUMNS:
            # The public edition shows no repayment dates: it counts these receipts (SPEC 8.5).
            written.line()
            written.line(title, font=TOTAL_FONT)
            written.line(f"{len(rows):,} receipts, listed in the internal edition.", None,
                         sum((r.remaining for r in rows), Decimal(0)))
            continue
        written.table(title, columns, rows)


#: Each sheet this module writes, by name, in workbook order.
SECTION_SHEETS: dict[str, Callable[..., None]] = {
    "CIL": write_cil, "Section 278": write_s278, "Data quality": write_data_quality,
}
