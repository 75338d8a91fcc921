"""How much of each real council's money the government CSV import takes (issue 14 item 5).

    python -m bench.real_files [DIR ...]

For each council folder (default: every one in tests/data/gov-csv), a dry run into a fresh
SQLite file: the transaction file's money in the source, imported, already in the ledger and
rejected, the opening balances brought in, and the rejections counted by kind. Prints a
Markdown table (docs/IMPORTING.md "Real files" is its output)."""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from importers.gov_csv import TRANSACTION_FILE, plan_gov_csv
from ledger.db import make_engine
from ledger.domain.money import ZERO, format_money
from ledger.migrate import upgrade
from ledger.services import SYSTEM
from ledger.services.imports import ImportResult, apply_import

DATA = Path(__file__).parents[1] / "tests" / "data" / "gov-csv"


@dataclass
class Measure:
    """One council's transaction money, where it went, and why rows were refused."""

    council: str
    rows: int = 0
    source: Decimal = ZERO
    imported: Decimal = ZERO
    rejected: Decimal = ZERO
    rejected_rows: int = 0
    #: Rejected rows another row of their reference replaces: their money is in that row.
    superseded: Decimal = ZERO
    opening_balances: Decimal = ZERO
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def rejected_share(self) -> Decimal:
        """The share of the money refused, beside superseded rows."""
        return (self.rejected - self.superseded) / self.source if self.source else ZERO


def measure(council: str, result: ImportResult) -> Measure:
    found = Measure(council=council, opening_balances=result.opening_balance_money)
    for line in result.summary:
        if line.file == TRANSACTION_FILE:
            found.rows += line.rows
            found.source += line.source
            found.imported += line.imported + line.unchanged
            found.rejected += line.rejected
            found.rejected_rows += line.rejected_rows
    found.reasons.update(i.kind for i in result.rejected)
    found.superseded = sum((i.source.amount or ZERO for i in result.rejected
                            if i.kind == "superseded" and i.source.file == TRANSACTION_FILE), ZERO)
    return found


def measure_directory(directory: Path) -> Measure:
    """A dry run of ``directory``'s files into a fresh SQLite file."""
    from sqlalchemy.orm import Session

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/ledger.sqlite")
        upgrade(engine)
        with Session(engine) as session:
            result = apply_import(session, plan_gov_csv(directory), actor=SYSTEM, dry_run=True)
        engine.dispose()
    return measure(directory.name, result)


def table(measures: list[Measure]) -> list[str]:
    out = ["| council | rows | money in source | imported | opening balances | rejected | of which superseded "
           "| share refused | rejections by kind (all three files) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for m in measures:
        reasons = ", ".join(f"{kind} {n}" for kind, n in sorted(m.reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        out.append(f"| {m.council} | {m.rows:,} | {format_money(m.source)} | {format_money(m.imported)} | "
                   f"{format_money(m.opening_balances)} | {format_money(m.rejected)} ({m.rejected_rows:,} rows) | "
                   f"{format_money(m.superseded)} | "
                   f"{m.rejected_share:.2%} | {reasons or 'none'} |")
    return out


def main(argv: list[str]) -> None:
    directories = [Path(a) for a in argv] or sorted(p for p in DATA.iterdir() if p.is_dir())
    for line in table([measure_directory(d) for d in directories]):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
