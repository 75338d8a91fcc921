"""`make bench`: s106-ledger against floors measured in the same run, on the same data.

Prints one table: operation, size, database, time, floor, ratio to floor, peak memory; and
at county size a second: what each speed device (ledger/speed) buys (bench/devices.py).
Sizes and databases: BENCH_SIZES=small,county,national and BENCH_DATABASES=sqlite,postgresql
(the defaults). PostgreSQL is a throwaway server started for the run (tests/postgres.py).
Every operation runs in a process of its own, so its peak memory (max RSS) is its own.
At every size, the pages and API under 16 clients and the writes (bench/load.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).parents[1]
WORK = ROOT / "bench-data"
PYTHON = sys.executable
IMPORT_ROWS = {"small": 10_000, "county": 100_000, "national": 500_000}


def run_op(*args: str, env: dict[str, str] | None = None) -> tuple[dict[str, object], float]:
    """Run one operation in its own process: (its JSON result, its peak memory in MB).
    Output goes to files, not pipes, so a long traceback cannot block the child."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([PYTHON, *args], stdout=out, stderr=err, text=True, cwd=ROOT,
                                   env=env or os.environ.copy())
        _, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{args[:3]} failed: {errors.strip().splitlines()[-1:] or errors}")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


class Table:
    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def add(self, operation: str, size: str, database: str, seconds: float, floor: float | None, memory: float,
            note: str = "") -> None:
        row = {"operation": operation, "size": size, "database": database, "seconds": seconds, "floor": floor,
               "ratio": (seconds / floor) if floor else None, "peak_mb": memory, "note": note}
        self.rows.append(row)
        print(self.format(row), flush=True)

    @staticmethod
    def header() -> str:
        return (f"| {'operation':<32} | {'size':<8} | {'database':<10} | {'time':>9} | {'floor':>9} | "
                f"{'ratio':>6} | {'peak MB':>7} | note")

    @staticmethod
    def format(row: dict[str, object]) -> str:
        floor = duration(row["floor"]) if row["floor"] else "-"  # type: ignore[arg-type]
        ratio = f"{row['ratio']:.2f}" if row["ratio"] else "-"
        return (f"| {row['operation']:<32} | {row['size']:<8} | {row['database']:<10} | "
                f"{duration(row['seconds']):>9} | {floor:>9} | {ratio:>6} | {row['peak_mb']:>7.0f} | {row['note']}")


def duration(seconds: float) -> str:
    """Seconds to two places; under a second, milliseconds (a request's p95 is a few)."""
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def sqlite_url(name: str) -> str:
    path = WORK / f"{name}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def postgres_database(server: str, name: str) -> str:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    from bench.cli import add_to_table as cli_startup
    from bench.devices import compare as compare_devices
    from bench.devices import format_row as format_device
    from bench.devices import header as device_header
    from bench.figures import add_to_table as figures_table
    from bench.load import add_to_table as page_load
    from bench.public import add_to_table as public_pages

    sizes = os.environ.get("BENCH_SIZES", "small,county,national").split(",")
    databases = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
    WORK.mkdir(exist_ok=True)
    table = Table()
    devices: list[dict[str, object]] = []
    print(f"s106-ledger benchmarks: sizes {', '.join(sizes)}; databases {', '.join(databases)}; "
          f"{os.cpu_count()} cores", flush=True)
    print(Table.header(), flush=True)
    cli_startup(table)
    with ExitStack() as stack:
        server = None
        if "postgresql" in databases:
            sys.path.insert(0, str(ROOT))
            from tests.postgres import postgres_server

            server = stack.enter_context(postgres_server())
        for size in sizes:
            synthetic = WORK / f"gov-{size}"
            if not (synthetic / "developer-agreement-transaction.csv").exists():
                from bench.synthetic_gov_csv import write_synthetic_gov_csv

                write_synthetic_gov_csv(synthetic, transactions=IMPORT_ROWS[size])
            for database in databases:
                url = sqlite_url(f"ledger-{size}") if database == "sqlite" else postgres_database(server, f"bench_{size}")
                generated, memory = run_op("-m", "bench.ops", "generate", "--url", url, "--scale", size)
                table.add("demo generation", size, database, generated["seconds"], None, memory,  # type: ignore[arg-type]
                          f"{generated['entries']:,} entries, {generated['obligations']:,} obligations")
                out = str(WORK / f"ifs-{size}-{database}.xlsx")
                ours, memory = run_op("-m", "bench.ops", "ifs", "--url", url, "--out", out)
                floor, _ = run_op("-m", "bench.ops", "ifs-floor", "--url", url, "--cells", str(ours["cells"]),
                                  "--out", str(WORK / "floor.xlsx"))
                table.add("IFS full workbook 2023/24", size, database, ours["seconds"], floor["seconds"], memory,  # type: ignore[arg-type]
                          f"{ours['cells']:,} cells")
                ours, memory = run_op("-m", "bench.ops", "at-risk", "--url", url)
                floor, _ = run_op("-m", "bench.ops", "at-risk-floor", "--url", url)
                table.add("at-risk report", size, database, ours["seconds"], floor["seconds"], memory,  # type: ignore[arg-type]
                          f"{ours['rows']:,} receipts from {floor['rows']:,} entries")
                if database == databases[0]:
                    exported = WORK / f"export-{size}"
                    run_op("-m", "bench.ops", "export", "--url", url, "--dir", str(exported))
                # The statement's figures alone, the ledger's against the pandas peer's (issue 17).
                figures_table(table, size, database, url, WORK / f"export-{size}")
                import_url = sqlite_url(f"import-{size}") if database == "sqlite" else postgres_database(
                    server, f"import_{size}")
                ours, memory = run_op("-m", "bench.ops", "import", "--url", import_url, "--dir", str(synthetic))
                floor, _ = run_op("-m", "bench.ops", "import-floor", "--url", import_url, "--dir", str(synthetic))
                table.add("gov CSV import", size, database, ours["seconds"], floor["seconds"], memory,  # type: ignore[arg-type]
                          f"{ours['rows']:,} rows, {ours['rows_per_second']:,.0f} rows/s")
                public_pages(table, url, size, database)
                # The pages, API and writes under 16 clients, cache off (issue 17).
                page_load(table, url, size, database)
                if size == "county":
                    print(device_header(), flush=True)
                    devices.extend(compare_devices(url, database, int(os.environ.get("BENCH_ROUNDS", "5"))))
    (WORK / "results.json").write_text(json.dumps(table.rows, indent=1, default=str))
    (WORK / "devices.json").write_text(json.dumps(devices, indent=1))
    print("\n" + "\n".join([Table.header(), *(Table.format(r) for r in table.rows)]))
    if devices:  # what each speed device buys (bench/devices.py)
        print("\n" + "\n".join([device_header(), *(format_device(r) for r in devices)]))


if __name__ == "__main__":
    main()
