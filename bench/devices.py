"""What each speed device (ledger/speed) buys: operations run with it and without it.

    .venv/bin/python -m bench.devices   # the county ledger on SQLite, 5 rounds

Time: bench.ops ab runs an operation with and without the device in turn, in one process
(plain code put in the device's place), a round to warm up and then ``BENCH_ROUNDS`` (5)
in ABBA order, keeping the best of each side: the machine's noise only ever adds, and a
drift in its load falls on both sides alike. Wall-clock and CPU seconds are both kept: on a
machine loaded by other work compare the CPU seconds (on SQLite, where the database's work
is the process's own). Where a device is there to save memory, the memory a report's rows
hold once built is measured too, a process a side.

Needs the county ledger and government CSV files that ``BENCH_SIZES=county
BENCH_DATABASES=sqlite make bench`` leaves in bench-data; `make bench` runs this too, at
county size on each database.
"""

from __future__ import annotations

import json
import os

from bench.run import WORK, run_op

#: (device, operation timed with and without it, whether the memory its rows hold is compared
#: too (bench.ops held, one run a side: it does not vary), whether on SQLite only: ``+column``
#: changes nothing on PostgreSQL, and the import and the demo go to a new SQLite file each time).
COMPARISONS = (
    ("gc_pause", "import", False, True),
    ("gc_pause", "demo", False, True),
    ("gc_pause", "ifs", False, False),
    ("response_cache", "api", False, False),
    ("shared", "ifs", True, False),
    ("shared", "at-risk", True, False),
    ("unindexed", "ifs", False, True),
    ("unindexed", "at-risk", False, True),
    ("unindexed", "api", False, True),
    ("reused_cells", "writers", False, False),
)


def compare(url: str, database: str, rounds: int) -> list[dict[str, object]]:
    """Every comparison for this ledger: one row per thing measured."""
    rows = []
    for device, measure, memory, sqlite_only in COMPARISONS:
        if database != "sqlite" and sqlite_only:
            continue
        result, _ = run_op("-m", "bench.ops", "ab", "--url", url, "--device", device, "--measure", measure,
                           "--out", str(WORK / "devices.xlsx"), "--dir", str(WORK / "gov-county"),
                           "--repeat", str(rounds))
        held = {"with": None, "without": None}
        if memory:
            for side, flags in (("with", []), ("without", ["--without", device])):
                found, _ = run_op("-m", "bench.ops", "held", "--url", url, "--measure", measure, *flags)
                held[side] = found["held_mb"]
        seconds, cpu = result["seconds"], result["cpu_seconds"]
        for name in seconds["with"]:
            row = {"device": device, "measured": name, "database": database, "with_s": seconds["with"][name],
                   "without_s": seconds["without"][name], "with_cpu_s": cpu["with"][name],
                   "without_cpu_s": cpu["without"][name], "with_mb": held["with"], "without_mb": held["without"]}
            rows.append(row)
            print(format_row(row), flush=True)
    return rows


def header() -> str:
    return (f"| {'device':<14} | {'measured':<30} | {'database':<10} | {'with':>9} | {'without':>9} | "
            f"{'saves':>5} | {'CPU with':>9} | {'without':>9} | {'saves':>5} | {'held MB with':>12} | {'without':>7} |")


def format_row(row: dict) -> str:
    def seconds(value: float) -> str:
        return f"{value * 1000:>6.1f} ms" if row["without_s"] < 1 else f"{value:>7.2f} s"

    saves = 1 - row["with_s"] / row["without_s"]
    cpu_saves = 1 - row["with_cpu_s"] / row["without_cpu_s"]
    with_mb, without_mb = (f"{row[key]:.0f}" if row[key] else "-" for key in ("with_mb", "without_mb"))
    return (f"| {row['device']:<14} | {row['measured']:<30} | {row['database']:<10} | {seconds(row['with_s'])} | "
            f"{seconds(row['without_s'])} | {saves:>5.0%} | {seconds(row['with_cpu_s'])} | "
            f"{seconds(row['without_cpu_s'])} | {cpu_saves:>5.0%} | {with_mb:>12} | {without_mb:>7} |")


def main() -> None:
    ledger = WORK / "ledger-county.sqlite"
    if not ledger.exists() or not (WORK / "gov-county").exists():
        raise SystemExit("no county ledger in bench-data: run BENCH_SIZES=county BENCH_DATABASES=sqlite make bench")
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    print(f"Speed devices, county ledger on SQLite, best of {rounds} rounds", flush=True)
    print(header(), flush=True)
    rows = compare(f"sqlite:///{ledger}", "sqlite", rounds)
    (WORK / "devices.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
