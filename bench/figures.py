"""The IFS figures alone, the ledger's and the pandas peer's, like for like (issue 17 item 5).

Both write the Summary sheet and nothing else: the ledger its statement (ifs_report, every
reconciliation checked) as `Summary` only (reports/ifs_workbook.py FIGURES_ONLY), the peer
(bench/pandas_peer.py --figures-only) the same figures from the exported government CSVs.
Each runs in a process of its own (bench/run.py run_op); the two Summary sheets are then read
back and compared figure by figure. The full workbook is timed against its cell-writing
floor by bench/run.py ("IFS full workbook").

    python -m bench.figures ledger --url URL --out OUT.xlsx [--year 2023]
    python -m bench.figures table --url URL --exported DIR --size county --database sqlite
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from bench.run import WORK, Table, run_op

YEAR = 2023
#: The title over the money by service on both Summary sheets.
SERVICE_TITLE = "Section 106 money by service"


def ledger_figures(url: str, year: int, out: str) -> dict[str, object]:
    """The ledger's figures-only path: the statement computed and checked as for the full
    workbook, written as its Summary sheet alone, the collector paused as `s106 report` runs."""
    from bench.ops import _app, collector_paused
    from ledger.services.ifs import ifs_report
    from reports.ifs_workbook import FIGURES_ONLY, write_ifs_workbook

    app = _app(url)
    started = time.perf_counter()
    with app.extensions["ledger.sessions"]() as session, collector_paused():
        write_ifs_workbook(ifs_report(session, year=year), out, sheets=FIGURES_ONLY)
    return {"seconds": time.perf_counter() - started}


def _exact(value: object) -> Decimal | None:
    """A cell's number as the decimal it was written as (a cell holds a binary float)."""
    return None if value is None else Decimal(str(value))


def read_summary(path: str | Path) -> dict[str, Decimal | None]:
    """A Summary sheet's figures, by the defined name of each figure's cell, and its money by
    service, as ``service <name> received|spent|retained``."""
    workbook = load_workbook(path)
    found: dict[str, Decimal | None] = {}
    for name, defined in workbook.defined_names.items():
        for title, coordinate in defined.destinations:
            found[name] = _exact(workbook[title][coordinate.replace("$", "")].value)
    rows = list(workbook["Summary"].iter_rows(values_only=True))
    title = next(number for number, row in enumerate(rows) if row[0] == SERVICE_TITLE)
    for row in rows[title + 2:]:
        if row[0] in (None, "Total"):
            break
        for column, value in zip(("received", "spent", "retained"), row[1:4], strict=True):
            found[f"service {row[0]} {column}"] = _exact(value)
    return found


def by_service_label(peer: dict[str, Decimal | None]) -> dict[str, Decimal | None]:
    """The peer's figures with each service named as the ledger names it (the peer writes its code)."""
    from ledger.domain.vocab import service_label

    named = {}
    for key, value in peer.items():
        if key.startswith("service "):
            code, column = key.removeprefix("service ").rsplit(" ", 1)
            key = f"service {service_label(code)} {column}"
        named[key] = value
    return named


def differences(ledger: dict[str, Decimal | None], peer: dict[str, Decimal | None]) -> list[tuple[str, object, object, str]]:
    """Each figure the two sheets do not agree on: (name, ledger's value, peer's value, why the
    peer's differs, or "" where it is defined as the ledger's and so should not)."""
    from bench.pandas_peer import NOT_ALIKE  # here: pandas stays out of the ledger's process

    peer = by_service_label(peer)
    return [(name, ledger.get(name), peer.get(name), NOT_ALIKE.get(name, ""))
            for name in sorted(ledger.keys() | peer.keys()) if ledger.get(name) != peer.get(name)]


#: The peer's runs on each export, figures only and with rows: it reads the files once per
#: size, whichever databases the ledger's figures are timed on.
PEER_RUNS: dict[Path, dict[str, tuple[dict[str, object], float, Path]]] = {}


def _run_peer(exported: Path) -> dict[str, tuple[dict[str, object], float, Path]]:
    runs = {}
    for mode, flags in (("figures", ["--figures-only"]), ("rows", [])):
        out = WORK / f"peer-{exported.name}-{mode}.xlsx"
        result, memory = run_op("bench/pandas_peer.py", str(exported), str(YEAR), str(out), *flags)
        runs[mode] = (result, memory, out)
    return runs


def add_to_table(table: Table, size: str, database: str, url: str, exported: Path) -> None:
    """The ledger's figures only against the peer's (ratio ledger/peer in the floor column),
    the peer with rows behind its figures, and the figures compared item by item: each
    difference is printed with both values, and counted in the row's note."""
    from bench.pandas_peer import NOT_ALIKE

    WORK.mkdir(exist_ok=True)
    first = exported not in PEER_RUNS
    if first:
        PEER_RUNS[exported] = _run_peer(exported)
    (peer, peer_memory, peer_out), (with_rows, rows_memory, _) = PEER_RUNS[exported].values()
    out = WORK / f"ifs-figures-{size}-{database}.xlsx"
    ours, memory = run_op("-m", "bench.figures", "ledger", "--url", url, "--year", str(YEAR), "--out", str(out))
    ledger, peer_figures = read_summary(out), read_summary(peer_out)
    found = differences(ledger, peer_figures)
    unexpected = [d for d in found if not d[3]]
    for name, ledger_value, peer_value, why in found:
        print(f"  {database} {size}: {name} differs: ledger {ledger_value}, peer {peer_value} "
              f"({why or 'defined alike: a defect'})", flush=True)
    alike = len(ledger.keys() - NOT_ALIKE.keys())
    if first:
        table.add("pandas peer: figures only", size, "csv files", peer["seconds"], None, peer_memory,  # type: ignore[arg-type]
                  "the Summary sheet from the exported CSVs")
        table.add("pandas peer: figures + rows", size, "csv files", with_rows["seconds"], None,  # type: ignore[arg-type]
                  rows_memory, "2 detail sheets: not like for like with the full workbook's 12")
    table.add(f"IFS figures only {YEAR}/{(YEAR + 1) % 100:02d}", size, database, ours["seconds"],  # type: ignore[arg-type]
              peer["seconds"], memory,  # type: ignore[arg-type]
              f"floor: the peer's figures only; differ: {len(unexpected)} of {alike} defined alike, "
              f"{len(found) - len(unexpected)} of {len(NOT_ALIKE)} not")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("operation", choices=("ledger", "table"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--year", type=int, default=YEAR)
    parser.add_argument("--out")
    parser.add_argument("--exported", type=Path)
    parser.add_argument("--size", default="county")
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args()
    if args.operation == "ledger":
        print(json.dumps(ledger_figures(args.url, args.year, args.out)))
    else:
        table = Table()
        print(Table.header(), flush=True)
        add_to_table(table, args.size, args.database, args.url, args.exported)


if __name__ == "__main__":
    main()
