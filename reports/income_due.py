"""The income-due report: what developers owe now, by whom, since when, and how each sum
was worked out. Rows in, CSV text or .xlsx bytes out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO
from typing import Any

from ledger.domain.money import ZERO
from reports.workbook import (
    COUNT,
    Column,
    ReportWorkbook,
    csv_text,
    day,
    money,
    set_widths,
    text,
    write_notes,
    write_table,
)

FIELDS = ("agreement_reference", "obligation_reference", "developer", "authority_code", "division_code", "reference",
          "trigger", "due_on", "amount", "paid", "outstanding", "days_outstanding", "overdue", "how_worked_out")
COLUMNS = [
    text("agreement_reference", "agreement_reference"), text("obligation_reference", "obligation_reference"),
    text("developer", "developer"), text("authority_code", "authority_code"), text("division_code", "division_code"),
    text("reference", "reference"), text("trigger", "trigger"), day("due_on", "due_on"),
    money("amount", "amount"), money("paid", "paid"), money("outstanding", "outstanding"),
    Column("days_outstanding", lambda r: r.days_outstanding, COUNT, 10), text("overdue", "overdue"),
    text("how_worked_out", "how_worked_out", 60),
]
COLUMNS[12] = Column("overdue", lambda r: r.overdue, None, 10, fill=lambda r: "FF7C80" if r.overdue else None)


def income_due_csv(rows: Sequence[Any]) -> str:
    """The rows as CSV: money as plain decimal strings, dates ISO."""
    return csv_text(rows, FIELDS)


def income_due_workbook(rows: Sequence[Any], *, as_of: date, version: str) -> bytes:
    workbook = ReportWorkbook(f"Income due at {as_of:%d %B %Y}")
    sheet = workbook.create_sheet("Income due")
    set_widths(sheet, [c.width for c in COLUMNS])
    write_table(sheet, COLUMNS, rows)
    outstanding = sum((r.outstanding or ZERO for r in rows), ZERO)
    overdue = sum((r.outstanding or ZERO for r in rows if r.overdue), ZERO)
    write_notes(workbook.create_sheet("Notes"), "Income due from developers", [
        ("As of", as_of.isoformat()), ("Outstanding", f"£{outstanding:,.2f}"),
        ("Overdue (over 30 days)", f"£{overdue:,.2f}"), ("Produced by", f"s106-ledger {version}"),
        ("Definitions", "An instalment falls due when its trigger is met (commencement, occupation of N dwellings, "
                        "a date, or an officer's record); its sum is worked out then, with the index values "
                        "published by that day, and never recalculated. Payments matched to it reduce what is due."),
    ], width=110, heading_width=24)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
