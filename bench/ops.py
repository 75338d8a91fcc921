"""One benchmark operation, run in a process of its own so its peak memory can be read.
Prints a JSON object with the elapsed seconds (and anything else worth reporting)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger import create_app

#: Speed devices (ledger/speed) this run goes without: see go_without.
WITHOUT: set[str] = set()
DEVICES = ("gc_pause", "response_cache", "shared", "unindexed", "reused_cells")


def _app(url: str) -> Flask:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ENV": "development",
                      "RESPONSE_CACHE_SIZE": 0 if "response_cache" in WITHOUT else 512})
    go_without(WITHOUT)
    return app


class _Unshared:
    """Shared's stand-in: every value kept as the driver made it."""

    def __call__(self, value: object) -> object:
        return value


def _stand_ins() -> dict[str, tuple[object, object]]:
    """Each replaceable speed device and the plain code put in its place."""
    from functools import partial

    from ledger.speed import reused_cells, shared, unindexed

    return {
        "shared": (shared.Shared, _Unshared),
        "unindexed": (unindexed.Unindexed, lambda column: column),
        "reused_cells": (reused_cells.styled_cells, partial(reused_cells.styled_cells, reuse=False)),
    }


def _replace(old: object, new: object) -> int:
    """Put ``new`` wherever ledger.services and reports hold ``old``; how many places."""
    from importlib import import_module

    for user in ("ledger.services.ifs", "ledger.services.positions", "reports.workbook"):
        import_module(user)  # loaded first, so that their names are replaced too
    replaced = 0
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith(("ledger.services", "reports")):
            for name, value in list(vars(module).items()):
                if value is old:
                    setattr(module, name, new)
                    replaced += 1
    return replaced


def go_without(devices: set[str]) -> None:
    """Put plain code in place of these speed devices wherever ledger and reports hold them,
    so a run shows what each buys. The collector pause and the response cache are switched
    by collector_paused and the app's cache size."""
    for device, (device_object, stand_in) in _stand_ins().items():
        if device in devices and not _replace(device_object, stand_in):
            raise RuntimeError(f"{device} is used nowhere in ledger.services or reports: nothing to go without")


@contextmanager
def switched_off(device: str) -> Iterator[None]:
    """The block run without ``device`` (the response cache: see ab), then with it again."""
    stand_ins = _stand_ins()
    WITHOUT.add(device)
    if device in stand_ins:
        _replace(*stand_ins[device])
    try:
        yield
    finally:
        WITHOUT.discard(device)
        if device in stand_ins:
            _replace(*reversed(stand_ins[device]))


def collector_paused():  # type: ignore[no-untyped-def]
    """The cyclic collector paused, as the CLI commands run (unless the run goes without it)."""
    from ledger.speed.gc_pause import gc_paused

    return nullcontext() if "gc_pause" in WITHOUT else gc_paused()


def generate(url: str, scale: str) -> dict[str, object]:
    """The demo ledger at one of `s106 demo`'s scales."""
    from ledger.demo import generate as make
    from ledger.migrate import upgrade

    app = _app(url)
    upgrade(app.extensions["ledger.engine"])
    started = time.perf_counter()
    with app.extensions["ledger.sessions"]() as session:
        counts = make(session, scale=scale, seed=106, today=date(2026, 11, 28))
    return {"seconds": time.perf_counter() - started, **counts}


def ifs(url: str, year: int, out: str) -> dict[str, object]:
    """The IFS as `s106 report ifs` makes it, the cyclic collector paused."""
    from ledger.services.ifs import ifs_report
    from reports.ifs_workbook import write_ifs_workbook

    app = _app(url)
    started = time.perf_counter()
    with app.extensions["ledger.sessions"]() as session, collector_paused():
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
    with collector_paused():
        for _ in range(repeat):
            for name, job in jobs.items():
                started = time.perf_counter()
                job()
                best[name] = min(best[name], time.perf_counter() - started)
    return {"seconds": best, "at_risk_rows": len(rows)}


def import_csv(url: str, directory: str) -> dict[str, object]:
    from importers.gov_csv import plan_gov_csv
    from ledger.migrate import upgrade
    from ledger.services import SYSTEM
    from ledger.services.imports import apply_import

    app = _app(url)
    upgrade(app.extensions["ledger.engine"])
    started = time.perf_counter()
    with app.extensions["ledger.sessions"]() as session, collector_paused():  # as `s106 import` runs it
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


def held(url: str, measure: str) -> dict[str, object]:
    """The memory a report's rows hold once built: Python's allocations during the build
    (tracemalloc) still live at its end, the rows among them."""
    import tracemalloc

    from ledger.services.balances import at_risk
    from ledger.services.ifs import ifs_report

    app = _app(url)
    with app.extensions["ledger.sessions"]() as session, collector_paused():
        tracemalloc.start()
        started = time.perf_counter()
        report = ifs_report(session, year=2023) if measure == "ifs" else at_risk(session, as_of=date(2026, 11, 28))
        elapsed = time.perf_counter() - started
        held_bytes = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    return {"seconds": elapsed, "held_mb": held_bytes / 2**20, "kind": type(report).__name__}


class Stopwatch:
    """Wall-clock and CPU seconds of named blocks. The process's CPU time is what to compare
    on a machine loaded by other work: waiting for a core adds to the wall clock only (on
    SQLite the database's work is this process's; on PostgreSQL it is not)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def timing(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.wall[name], self.cpu[name] = time.perf_counter() - wall, time.process_time() - cpu


def api_targets(session: Session) -> tuple[str, str, str]:
    """A member's token for the API benchmarks, the division with the most agreements and
    the obligation with the most entries: the heaviest answers the cache keeps."""
    from ledger.domain.errors import Conflict
    from ledger.services import SYSTEM, users

    with suppress(Conflict):  # a ledger kept from an earlier run has the user already
        users.add_user(session, email="bench@bench.test", role="member", password=None, actor=SYSTEM)
    token = users.create_token(session, email="bench@bench.test", actor=SYSTEM)
    division = session.execute(text(
        "SELECT division_code FROM agreements GROUP BY division_code ORDER BY count(*) DESC LIMIT 1")).scalar()
    # Not counting the load benchmark's writes (bench/load.py): a ledger benchmarked again reads the same.
    obligation = session.execute(text(
        "SELECT o.reference FROM entries e JOIN obligations o ON o.id = e.obligation_id "
        "WHERE e.reference NOT LIKE 'BENCH-%' GROUP BY o.reference ORDER BY count(*) DESC, o.reference LIMIT 1")).scalar()
    return token, division, obligation


def ab(url: str, device: str, measure: str, out: str, directory: str, repeat: int) -> dict[str, object]:
    """``measure`` with and without ``device`` in turn, in one process: a round to warm up,
    then ``repeat`` rounds in ABBA order (so a drift in the machine's load falls on both
    sides alike). The best wall-clock and CPU seconds of each side, per thing measured."""
    import gc
    import tempfile
    from statistics import median

    from importers.gov_csv import plan_gov_csv
    from ledger.migrate import upgrade
    from ledger.services import SYSTEM
    from ledger.services.balances import at_risk
    from ledger.services.ifs import ifs_report
    from ledger.services.imports import apply_import
    from reports.at_risk import at_risk_workbook
    from reports.ifs_workbook import write_ifs_workbook

    app = _app(url)
    sessions = app.extensions["ledger.sessions"]

    def ifs_workbook(clock: Stopwatch, app: Flask) -> None:
        with clock.timing("IFS workbook"), sessions() as session, collector_paused():
            write_ifs_workbook(ifs_report(session, year=2023), out)

    def at_risk_report(clock: Stopwatch, app: Flask) -> None:
        with clock.timing("at-risk report"), sessions() as session:
            at_risk(session, as_of=date(2026, 11, 28))

    def gov_csv_import(clock: Stopwatch, app: Flask) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            target = _app(f"sqlite:///{scratch}/import.sqlite")
            upgrade(target.extensions["ledger.engine"])
            # As `s106 import` runs it.
            with clock.timing("gov CSV import"), target.extensions["ledger.sessions"]() as session, collector_paused():
                apply_import(session, plan_gov_csv(Path(directory)), actor=SYSTEM)
            target.extensions["ledger.engine"].dispose()

    def demo_generation(clock: Stopwatch, app: Flask) -> None:
        from ledger.demo import generate as make

        with tempfile.TemporaryDirectory() as scratch:
            target = _app(f"sqlite:///{scratch}/demo.sqlite")
            upgrade(target.extensions["ledger.engine"])
            # As `s106 demo` runs it.
            with clock.timing("demo generation"), target.extensions["ledger.sessions"]() as session, \
                    collector_paused():
                make(session, scale="county", seed=106, today=date(2026, 11, 28))
            target.extensions["ledger.engine"].dispose()

    def api(clock: Stopwatch, app: Flask) -> None:
        """The busiest division's summary and the obligation with most entries, each asked 20
        times in a row through the app (no server or network between), as a dashboard asks
        between writes: the median of a request."""
        client = app.test_client()
        for name, path in paths:
            requests = []
            for _ in range(20):
                request = Stopwatch()
                with request.timing(name):
                    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200, response.data
                requests.append(request)
            clock.wall[name] = median(r.wall[name] for r in requests)
            clock.cpu[name] = median(r.cpu[name] for r in requests)

    def report_writers(clock: Stopwatch, app: Flask) -> None:
        with clock.timing("IFS workbook, writer only"):
            write_ifs_workbook(report, out)
        with clock.timing("at-risk workbook, writer only"):
            at_risk_workbook(rows, as_of=date(2026, 11, 28), version="bench")

    measures = {"ifs": ifs_workbook, "at-risk": at_risk_report, "import": gov_csv_import, "demo": demo_generation,
                "api": api, "writers": report_writers}
    served = {"with": app, "without": app}
    if measure == "api":
        uncached = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ENV": "development",
                               "RESPONSE_CACHE_SIZE": 0})
        if device != "response_cache":  # the other devices' work is done on every request
            served["with"] = uncached
        served["without"] = uncached
        with sessions() as session:
            token, division, obligation = api_targets(session)
        paths = (("division summary", f"/api/v1/divisions/{division}/summary?on=2026-11-28"),
                 ("obligation balance", f"/api/v1/obligations/{quote(obligation, safe='')}/balance?on=2026-11-28"))
    if measure == "writers":
        with sessions() as session:
            report, rows = ifs_report(session, year=2023), at_risk(session, as_of=date(2026, 11, 28))

    best: dict[str, dict[str, dict[str, float]]] = {"seconds": {"with": {}, "without": {}},
                                                   "cpu_seconds": {"with": {}, "without": {}}}

    def run(side: str, *, kept: bool = True) -> None:
        gc.collect()
        clock = Stopwatch()
        with switched_off(device) if side == "without" else nullcontext():
            measures[measure](clock, served[side])
        if not kept:
            return
        for kind, found in (("seconds", clock.wall), ("cpu_seconds", clock.cpu)):
            for name, seconds in found.items():
                best[kind][side][name] = min(best[kind][side].get(name, float("inf")), seconds)

    for side in ("with", "without"):  # warm up: statements compiled, pages cached
        run(side, kept=False)
    for round_number in range(repeat):
        for side in ("with", "without") if round_number % 2 == 0 else ("without", "with"):
            run(side)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("operation")
    parser.add_argument("--url")
    parser.add_argument("--scale")
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--out")
    parser.add_argument("--dir")
    parser.add_argument("--cells", type=int)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--device", choices=DEVICES)
    parser.add_argument("--measure", choices=["ifs", "at-risk", "import", "demo", "api", "writers"])
    parser.add_argument("--without", action="append", choices=DEVICES, default=[],
                        help="a speed device (ledger/speed) to run without; may be repeated")
    args = parser.parse_args()
    WITHOUT.update(args.without)
    result = {
        "generate": lambda: generate(args.url, args.scale),
        "ifs": lambda: ifs(args.url, args.year, args.out),
        "ifs-floor": lambda: ifs_floor(args.url, args.cells, args.out),
        "at-risk": lambda: at_risk(args.url),
        "at-risk-floor": lambda: at_risk_floor(args.url),
        "import": lambda: import_csv(args.url, args.dir),
        "import-floor": lambda: import_floor(args.url, args.dir),
        "export": lambda: export(args.url, args.dir),
        "writers": lambda: writers(args.url, args.out, args.repeat),
        "held": lambda: held(args.url, args.measure),
        "ab": lambda: ab(args.url, args.device, args.measure, args.out, args.dir, args.repeat),
    }[args.operation]()
    json.dump(result, sys.stdout, default=str)


if __name__ == "__main__":
    main()
