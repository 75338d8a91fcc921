"""The at-risk report: receipts with money remaining, by repayment deadline (SPEC §6).
Rows in, CSV text or .xlsx bytes out. No database, no Flask."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from ledger.domain.money import ZERO
from ledger.domain.reviews import STATUS_LABELS
from ledger.domain.vocab import BAND_LABELS, Band, service_label
from reports.workbook import (
    MONEY,
    Column,
    ReportWorkbook,
    cell,
    csv_text,
    day,
    money,
    named,
    service_column,
    set_widths,
    text,
    words_of,
    write_notes,
    write_sheet_table,
)

#: The at-risk fields, in the order SPEC §6 fixes for the CSV and the API.
FIELDS = ("agreement_reference", "obligation_reference", "authority_code", "division_code", "purpose", "service",
          "receipt_reference", "received_on", "deadline", "remaining", "allocated", "unallocated", "band")
MONEY_FIELDS = {"remaining", "allocated", "unallocated"}
DATE_FIELDS = {"received_on", "deadline"}

BAND_FILLS = {
    Band.OVERDUE: "C00000", Band.RED: "FF7C80", Band.AMBER: "FFC000", Band.GREEN: "A9D08E",
    Band.UNKNOWN_DEADLINE: "D9D9D9", Band.NO_DEADLINE: "F2F2F2",
}
#: Each field's heading in a workbook, in words (the CSV and the API keep the field names).
HEADINGS = {
    "agreement_reference": "Agreement", "obligation_reference": "Obligation", "authority_code": "Authority",
    "division_code": "Division", "purpose": "Purpose", "service": "Service", "receipt_reference": "Receipt",
    "received_on": "Received on", "deadline": "Repayment deadline", "remaining": "Remaining",
    "allocated": "Allocated", "unallocated": "Unallocated", "band": "Band",
}
#: The latest review of each row's obligation (issue 16), after the SPEC columns, when the
#: caller gives the reviews: its status, note, owner and next review date.
REVIEW_FIELDS = ("review_status", "review_note", "review_owner", "next_review_on")
REVIEW_HEADINGS = {"review_status": "Latest review", "review_note": "Review note", "review_owner": "Review owner",
                   "next_review_on": "Next review"}


class _Reviewed:
    """An at-risk row with its obligation's latest review (None in each field if it has none)."""

    __slots__ = ("_row", "next_review_on", "review_note", "review_owner", "review_status")

    def __init__(self, row: Any, review: Any | None) -> None:
        self._row = row
        self.review_status = review.status if review else None
        self.review_note = review.note if review else None
        self.review_owner = review.owner_email if review else None
        self.next_review_on = review.next_review_on if review else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def with_reviews(rows: Sequence[Any], reviews: Mapping[str, Any]) -> list[Any]:
    """The rows, each with the latest review (status, note, owner_email, next_review_on) of
    its obligation, ``reviews`` being those reviews by obligation reference."""
    return [_Reviewed(row, reviews.get(row.obligation_reference)) for row in rows]


def review_columns() -> list[Column]:
    return [Column(REVIEW_HEADINGS["review_status"], lambda r: STATUS_LABELS.get(r.review_status, r.review_status),
                   None, 22),
            text(REVIEW_HEADINGS["review_note"], "review_note", 40), text(REVIEW_HEADINGS["review_owner"], "review_owner", 26),
            day(REVIEW_HEADINGS["next_review_on"], "next_review_on")]


def at_risk_columns(authorities: Mapping[str, str] | None = None,
                    divisions: Mapping[str, str] | None = None) -> list[Column]:
    """The at-risk columns for people: authorities, divisions and services by name (the code
    where no name is given), purposes in words, the band in words and coloured by its band."""
    by_field = {
        "authority_code": named(HEADINGS["authority_code"], "authority_code", authorities or {}, 24),
        "division_code": named(HEADINGS["division_code"], "division_code", divisions or {}, 22),
        "service": service_column(), "purpose": words_of(HEADINGS["purpose"], "purpose"),
        "band": Column(HEADINGS["band"], lambda r: BAND_LABELS[Band(r.band)], None, 16,
                       fill=lambda r: BAND_FILLS[Band(r.band)]),
    }
    return [by_field.get(f) or (money(HEADINGS[f], f) if f in MONEY_FIELDS else day(HEADINGS[f], f)
                                if f in DATE_FIELDS else text(HEADINGS[f], f, 20)) for f in FIELDS]


def band_totals(rows: Sequence[Any]) -> dict[Band, Decimal]:
    """Money remaining in each band, every band listed, most urgent first."""
    totals = dict.fromkeys(Band, ZERO)
    for row in rows:
        totals[Band(row.band)] += row.remaining
    return totals


def at_risk_csv(rows: Sequence[Any], reviews: Mapping[str, Any] | None = None) -> str:
    """The rows as CSV with the SPEC columns; money as plain decimal strings, dates ISO. Given
    ``reviews`` (by obligation reference), each row's latest review follows (REVIEW_FIELDS)."""
    if reviews is None:
        return csv_text(rows, FIELDS)
    return csv_text(with_reviews(rows, reviews), FIELDS + REVIEW_FIELDS)


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


def at_risk_workbook(rows: Sequence[Any], *, as_of: date, version: str, council: str | None = None,
                     authorities: Mapping[str, str] | None = None, divisions: Mapping[str, str] | None = None,
                     reviews: Mapping[str, Any] | None = None) -> bytes:
    """The at-risk workbook: every row banded and coloured, then totals by band, authority,
    division and service, with a chart of money by band. Written in write-only mode, each
    sheet printing one page wide (ReportWorkbook), its columns as wide as their values.
    ``authorities`` and ``divisions`` name the codes the rows carry; given ``reviews`` (by
    obligation reference), each row shows its obligation's latest review."""
    heading = f"Money at risk at {as_of:%d %B %Y}"
    workbook = ReportWorkbook(f"{council}: {heading}" if council else heading)
    sheet = workbook.create_sheet("At risk")
    if reviews is None:
        write_sheet_table(sheet, at_risk_columns(authorities, divisions), rows)
    else:
        write_sheet_table(sheet, at_risk_columns(authorities, divisions) + review_columns(), with_reviews(rows, reviews))

    by_band = workbook.create_sheet("By band")
    set_widths(by_band, [20, 18])
    by_band.freeze_panes = "A2"
    by_band.append([cell(by_band, "band", font=Font(bold=True)), cell(by_band, "remaining", font=Font(bold=True))])
    for band, amount in band_totals(rows).items():
        by_band.append([cell(by_band, BAND_LABELS[band], fill=BAND_FILLS[band]), cell(by_band, amount, number_format=MONEY)])
    by_band.append([cell(by_band, "Total", font=Font(bold=True)),
                    cell(by_band, sum((r.remaining for r in rows), ZERO), number_format=MONEY, font=Font(bold=True))])
    chart = BarChart()
    chart.title = f"Money remaining by band at {as_of:%d %B %Y}"
    chart.y_axis.numFmt = "£#,##0"
    chart.legend = None
    chart.add_data(Reference(by_band, min_col=2, min_row=2, max_row=len(Band) + 1), titles_from_data=False)
    chart.set_categories(Reference(by_band, min_col=1, min_row=2, max_row=len(Band) + 1))
    by_band.add_chart(chart, "D2")

    group_columns = [
        Column("name", lambda g: g["name"], None, 30),
        *(Column(BAND_LABELS.get(f, f), lambda g, f=f: g[f], MONEY, 16, True)
          for f in ("remaining", "allocated", "unallocated", "overdue", "red", "amber")),
    ]
    authority_names, division_names = authorities or {}, divisions or {}
    for title, key in (("By authority", lambda r: authority_names.get(r.authority_code, r.authority_code)),
                       ("By division", lambda r: division_names.get(r.division_code, r.division_code)),
                       ("By service", lambda r: service_label(r.service))):
        write_sheet_table(workbook.create_sheet(title), group_columns, _grouped(rows, key))

    lines = [
        ("As of", as_of),
        ("Produced by", f"s106-ledger {version}"),
        ("Bands", "Past repayment date: the deadline is before the as-of date (not called overdue: the clause "
                  "may need a request from the developer, or a variation may have extended it); due within 12 "
                  "months; due within 24 months; later; no repayment date; repayment date not yet known (terms "
                  "not yet read from the deed, completion not yet reported, or an opening balance without its "
                  "date of receipt)."),
        ("Remaining", "Money of the receipt still held. Outflows use the receipts with the earliest deadlines "
                      "first; allocated money is taken to be the earliest-deadline money."),
        ("Committed", "Where a deed's repayment clause is satisfied by committing the money, money committed to a "
                      "project by the receipt's deadline is not at risk: it is left out of remaining, allocated and "
                      "every band's total (a receipt with nothing else remaining has no row). Committed money is "
                      "taken to be the earliest-deadline allocated money; the obligation's balance shows it."),
    ]
    if reviews is not None:
        lines.append(("Latest review", "The obligation's latest review: what is being done about its money, who owns "
                                       "it and when it is next looked at. Blank where it has never been reviewed."))
    write_notes(workbook.create_sheet("Notes"), "Money at risk of repayment to developers", lines, width=110)

    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
