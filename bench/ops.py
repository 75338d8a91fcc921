"""One benchmark operation, run in a process of its own so its peak memory can be read.
Prints a JSON object with the elapsed seconds (and anything else worth reporting)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text


def _app(url: str):  # type: ignore[no-untyped-def]
    from ledger import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ENV": "development"})


#: The national ledger: 100,000 agreements across 300 planning authorities (Kent's twelve
#: districts, then invented towns). Only the benchmarks need one so big: `s106 demo` offers
#: the small and county scales.
NATIONAL = {"agreements": 100_000, "authorities": 300}


def generate(url: str, scale: str) -> dict[str, object]:
    """The demo ledger: small or county as `s106 demo` makes them, or national."""
    from ledger.demo import Scale
    from ledger.demo import generate as make
    from ledger.migrate import upgrade

    app = _app(url)
    upgrade(app.extensions["ledger.engine"])
    started = time.perf_counter()
    with app.extensions["ledger.sessions"]() as session:
        counts = make(session, scale=Scale("national", **NATIONAL) if scale == "national" else scale, seed=106,
                      today=date(2026, 11, 28))
    return {"seconds": time.perf_counter() - started, **counts}


def ifs(url: str, year: int, out: str, collector: str) -> dict[str, object]:
    """The IFS as `s106 report ifs` makes it: the cyclic collector paused, unless ``collector``
    is "running" (what the pause saves is the difference)."""
    from contextlib import nullcontext

    from ledger.gc_pause import gc_paused
    from ledger.services.ifs import ifs_report
    from reports.ifs_workbook import write_ifs_workbook

    app = _app(url)
    started = time.perf_counter()
    with app.extensions["ledger.sessions"]() as session, (gc_paused() if collector == "paused" else nullcontext()):
        report = ifs_report(session, year=year)
        write_ifs_workbook(report, out)
    elapsed = time.perf_counter() - started
    # The cells of the detail tables (rows x columns per sheet), for the floor to write as many.
    cells = (len(report.secured) * 12 + len(report.received) * 12 + len(report.allocated) * 7
             + len(report.spent) * 14 + len(report.retained) * 13 + len(report.at_risk) * 13
             + (len(report.by_authority) + len(report.by_division)) * 8 + len(report.checks) * 4)
    return {"seconds": elapsed, "cells": cells}


def ifs_floor(url: str, cells: int, out: str) -> dict[str, object]:
    """One SQL aggregation pass over every entry, then as many cells written write-only."""
    from openpyxl import Workbook

    app = _app(url)
    started = time.perf_counter()
    with app.extensions["ledger.engine"].connect() as connection:
        totals = connection.execute(text(
            "SELECT obligation_id, kind, sum(amount) FROM entries GROUP BY obligation_id, kind")).fetchall()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("floor")
    width = 12
    row = [Decimal("1.00")] * width
    for _ in range(cells // width):
        sheet.append(row)
    workbook.save(out)
    return {"seconds": time.perf_counter() - started, "groups": len(totals)}


def at_risk(url: str) -> dict[str, object]:
    from ledger.services.balances import at_risk as rows

    app = _app(url)
    started = time.perf_counter()
    with app.extensions["ledger.sessions"]() as session:
        found = rows(session, as_of=date(2026, 11, 28))
    return {"seconds": time.perf_counter() - started, "rows": len(found)}


def at_risk_floor(url: str) -> dict[str, object]:
    """Every entry read once, in deadline order (receipt date plus the repayment period)."""
    app = _app(url)
    started = time.perf_counter()
    count = 0
    with app.extensions["ledger.engine"].connect() as connection:
        result = connection.execution_options(yield_per=20_000).execute(text(
            "SELECT e.obligation_id, e.id, e.kind, e.amount, e.occurred_on, o.repayment_years "
            "FROM entries e JOIN obligations o ON o.id = e.obligation_id "
            "ORDER BY o.repayment_years, e.occurred_on, e.id"))
        for _ in result:
            count += 1
    return {"seconds": time.perf_counter() - started, "rows": count}


def writers(url: str, out: str, repeat: int) -> dict[str, object]:
    """The report writers alone, on rows read once: best of ``repeat`` runs each (what a
    change to reports/ costs, without the reads' noise; run it at two commits to compare)."""
    from ledger.gc_pause import gc_paused
    from ledger.services.balances import at_risk as at_risk_rows
    from ledger.services.ifs import ifs_report
    from reports.at_risk import at_risk_csv, at_risk_workbook
    from reports.ifs_workbook import write_ifs_workbook

    app = _app(url)
    with app.extensions["ledger.sessions"]() as session:
        report = ifs_report(session, year=2023)
        rows = at_risk_rows(session, as_of=date(2026, 11, 28))
    jobs = {"ifs_workbook": lambda: write_ifs_workbook(report, out),
            "at_risk_workbook": lambda: at_risk_workbook(rows, as_of=date(2026, 11, 28), version="bench"),
            "at_risk_csv": lambda: at_risk_csv(rows)}
    best = dict.fromkeys(jobs, float("inf"))
    with gc_paused():
        for _ in range(repeat):
            for name, job in jobs.items():
                started = time.perf_counter()
                job()
                best[name] = min(best[name], time.perf_counter() - started)
    return {"seconds": best, "at_risk_rows": len(rows)}


def import_csv(url: str, directory: str) -> dict[str, object]:
    from importers.gov_csv import plan_gov_csv
    from ledger.gc_pause import gc_paused
    from ledger.migrate import upgrade
    from ledger.services import SYSTEM
    from ledger.services.imports import apply_import

    app = _app(url)
    upgrade(app.extensions["ledger.engine"])
    started = time.perf_counter()
    with app.extensions["ledger.sessions"]() as session, gc_paused():  # as `s106 import` runs it
        result = apply_import(session, plan_gov_csv(Path(directory)), actor=SYSTEM)
    elapsed = time.perf_counter() - started
    rows = sum(line.rows for line in result.summary if line.file == "developer-agreement-transaction.csv")
    return {"seconds": elapsed, "rows": rows, "rows_per_second": rows / elapsed}


def import_floor(url: str, directory: str) -> dict[str, object]:
    """The transaction rows read with csv and inserted with one executemany into a bare table."""
    app = _app(url)
    engine = app.extensions["ledger.engine"]
    started = time.perf_counter()
    with (Path(directory) / "developer-agreement-transaction.csv").open(encoding="utf-8") as handle:
        rows = [{"reference": r[0], "contribution": r[1], "status": r[2], "amount": r[3], "day": r[4]}
                for r in list(csv.reader(handle))[1:]]
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bench_floor"))
        connection.execute(text("CREATE TABLE bench_floor (reference varchar(255), contribution varchar(255), "
                                "status varchar(32), amount varchar(32), day varchar(32))"))
        connection.execute(text("INSERT INTO bench_floor VALUES (:reference, :contribution, :status, :amount, :day)"),
                           rows)
    return {"seconds": time.perf_counter() - started, "rows": len(rows)}


def export(url: str, directory: str) -> dict[str, object]:
    from ledger.services.exports import gov_csv_rows
    from reports.gov_csv import write_gov_csv

    app = _app(url)
    started = time.perf_counter()
    with app.extensions["ledger.sessions"]() as session:
        rows = gov_csv_rows(session)
    write_gov_csv(Path(directory), agreements=rows.agreements, contributions=rows.contributions,
                  transactions=rows.transactions)
    return {"seconds": time.perf_counter() - started, "rows": len(rows.transactions)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("operation")
    parser.add_argument("--url")
    parser.add_argument("--scale")
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--out")
    parser.add_argument("--dir")
    parser.add_argument("--cells", type=int)
    parser.add_argument("--collector", choices=["paused", "running"], default="paused")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    result = {
        "generate": lambda: generate(args.url, args.scale),
        "ifs": lambda: ifs(args.url, args.year, args.out, args.collector),
        "ifs-floor": lambda: ifs_floor(args.url, args.cells, args.out),
        "at-risk": lambda: at_risk(args.url),
        "at-risk-floor": lambda: at_risk_floor(args.url),
        "import": lambda: import_csv(args.url, args.dir),
        "import-floor": lambda: import_floor(args.url, args.dir),
        "export": lambda: export(args.url, args.dir),
        "writers": lambda: writers(args.url, args.out, args.repeat),
    }[args.operation]()
    json.dump(result, sys.stdout, default=str)


if __name__ == "__main__":
    main()
