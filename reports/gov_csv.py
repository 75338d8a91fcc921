"""Write the three CSV files of the government developer-contributions format (current
`reference` headers), UTF-8 without BOM, as planning.data.gov.uk collects them. The values
are written exactly as stored, never prefixed against spreadsheet formulas: this is data
for the national pipeline, not a file to open in a spreadsheet (docs/REPORTS.md)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

AGREEMENT_FIELDS = ("reference", "name", "developer-agreement-type", "planning-application", "document-url",
                    "notes", "organisation", "entry-date", "start-date", "end-date")
CONTRIBUTION_FIELDS = ("reference", "name", "developer-agreement", "contribution-purpose", "amount", "units",
                       "notes", "organisation", "entry-date", "start-date", "end-date")
TRANSACTION_FIELDS = ("reference", "name", "developer-agreement-contribution", "contribution-funding-status",
                      "amount", "units", "notes", "organisation", "entry-date", "start-date", "end-date")
FILES = {
    "developer-agreement.csv": AGREEMENT_FIELDS,
    "developer-agreement-contribution.csv": CONTRIBUTION_FIELDS,
    "developer-agreement-transaction.csv": TRANSACTION_FIELDS,
}


def write_gov_csv(directory: Path, *, agreements: Sequence[dict[str, str]],
                  contributions: Sequence[dict[str, str]], transactions: Sequence[dict[str, str]]) -> list[Path]:
    """Write the three files into ``directory`` (created if needed); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for (name, fields), rows in zip(FILES.items(), (agreements, contributions, transactions), strict=True):
        path = directory / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            # Every field quoted: a carriage return inside a value (not in the "\n" line
            # terminator, so QUOTE_MINIMAL would leave it bare) must not split its row.
            writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n", quoting=csv.QUOTE_ALL)
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
    return written
