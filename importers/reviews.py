"""Reviews of money at risk from a CSV file (`s106 reviews import`): one review a row, with
the columns obligation_reference, status, note, owner_email and next_review_on (header
case, spaces and punctuation ignored). A status is its slug or its words ("Spend planned");
a date is ISO or UK (DD/MM/YYYY), as importers.read.parse_date declares. Every problem is
kept with its line and field; the service refuses the file whole if there is any."""

from __future__ import annotations

from pathlib import Path

from importers.read import ImportRefused, header_key, parse_date, read_csv
from ledger.domain.reviews import STATUS_LABELS, ReviewStatus
from ledger.services.reviews import ReviewRow, RowProblem

COLUMNS = ("obligation_reference", "status", "note", "owner_email", "next_review_on")
#: A status as written in a spreadsheet: its slug or its words, any case.
_STATUSES = {header_key(s): s.value for s in ReviewStatus} | {
    header_key(label): status.value for status, label in STATUS_LABELS.items()}


def read_reviews(path: Path) -> tuple[list[ReviewRow], list[RowProblem]]:
    """The reviews in a CSV file and the problems found reading it. Raises
    importers.read.ImportRefused for a file that cannot be read at all, or lacks a column."""
    headers, rows = read_csv(path)
    position = {header_key(h): i for i, h in enumerate(headers)}
    missing = [c for c in COLUMNS if header_key(c) not in position]
    if missing:
        raise ImportRefused(f"{path.name}: no column {', '.join(missing)} (the columns are {', '.join(COLUMNS)})")
    found: list[ReviewRow] = []
    problems: list[RowProblem] = []
    for line, cells in rows:
        def cell(name: str, cells: list[str] = cells) -> str:
            index = position[header_key(name)]
            return cells[index].strip() if index < len(cells) else ""

        status_text, date_text = cell("status"), cell("next_review_on")
        status = _STATUSES.get(header_key(status_text), status_text)
        next_review_on = None
        if date_text:
            try:
                next_review_on = parse_date(date_text)
            except ValueError as error:
                problems.append(RowProblem(line=line, field="next_review_on", value=date_text, reason=str(error)))
        found.append(ReviewRow(line=line, obligation_reference=cell("obligation_reference"), status=status,
                               note=cell("note"), owner_email=cell("owner_email"), next_review_on=next_review_on))
    return found, problems
