"""A division's report for councillors and residents: the projects its developer
contributions paid for, money per agreement and per service (services.division_report).
Report in, CSV text or .xlsx bytes out. No database, no Flask."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from typing import Any

from ledger.domain.vocab import service_label
from reports.workbook import (
    Column,
    ReportWorkbook,
    csv_text,
    money,
    named,
    service_column,
    text,
    write_notes,
    write_sheet_table,
)

#: One CSV for the three tables: ``table`` says which a row is from (project, agreement, service).
CSV_FIELDS = ("table", "reference", "name", "service", "project_division", "secured", "received", "spent",
              "transferred", "repaid", "held", "allocated_unspent")
MONEY_FIELDS = ("secured", "received", "spent", "transferred", "repaid", "held")


@dataclass(frozen=True, slots=True, kw_only=True)
class CsvRow:
    table: str
    reference: str | None = None
    name: str | None = None
    service: str | None = None
    project_division: str | None = None
    secured: Decimal | None = None
    received: Decimal | None = None
    spent: Decimal | None = None
    transferred: Decimal | None = None
    repaid: Decimal | None = None
    held: Decimal | None = None
    allocated_unspent: Decimal | None = None


def _money_of(group: Any) -> dict[str, Decimal]:
    return {field: getattr(group, field) for field in MONEY_FIELDS}


def division_csv(report: Any, *, divisions: Mapping[str, str]) -> str:
    """The report as one CSV: projects, then agreements, then services; names not codes."""
    rows = [
        *(CsvRow(table="project", reference=p.reference, name=p.name, service=service_label(p.service),
                 project_division=divisions.get(p.division_code, p.division_code), spent=p.spent,
                 transferred=p.transferred, allocated_unspent=p.allocated_unspent) for p in report.projects),
        *(CsvRow(table="agreement", reference=a.reference, name=a.site_name, **_money_of(a))
          for a in report.agreements),
        *(CsvRow(table="service", service=service_label(s.service), **_money_of(s)) for s in report.services),
    ]
    return csv_text(rows, CSV_FIELDS)


def _money_columns(*, secured: bool = True) -> list[Column]:
    return [money(heading, field) for heading, field in (
        ("Secured", "secured"), ("Received", "received"), ("Spent", "spent"), ("Transferred", "transferred"),
        ("Repaid", "repaid"), ("Held", "held")) if secured or field != "secured"]


def division_workbook(report: Any, *, divisions: Mapping[str, str], version: str) -> bytes:
    """The report as a workbook printing on A4: Projects, Agreements, By service, Notes."""
    name = report.division.name
    workbook = ReportWorkbook(f"{name}: developer contributions at {report.on:%d %B %Y}")
    write_sheet_table(workbook.create_sheet("Projects"), [
        text("Project", "reference", 14), text("Name", "name", 40), service_column(),
        named("Project's division", "division_code", divisions, 22), money("Spent", "spent"),
        money("Transferred", "transferred"), money("Allocated, not yet spent", "allocated_unspent"),
    ], report.projects)
    write_sheet_table(workbook.create_sheet("Agreements"), [
        text("Agreement", "reference", 20), text("Site", "site_name", 30), *_money_columns(),
    ], report.agreements)
    write_sheet_table(workbook.create_sheet("By service"), [service_column(), *_money_columns()], report.services)

    lines = [
        ("As of", report.on),
        ("Produced by", f"s106-ledger {version}"),
        ("Projects", "Projects paid for, or allocated money, from the obligations of agreements in this division, "
                     "wherever the project is. A project also paid for from elsewhere shows only this division's "
                     "money."),
        ("Held", "Money received and not spent, transferred or repaid: received - spent - transferred - repaid."),
        ("Transferred", "Money passed to another body (a parish council, say) to spend on the project."),
    ]
    write_notes(workbook.create_sheet("Notes"), f"Developer contributions in {name}", lines, width=100)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
