"""The public pages under load (issue 20 item 3): every kind of public page within 20 times
/health's p95, served as in production (`s106 serve --workers 2`, LEDGER_PUBLIC_PAGES=on).

    python -m bench.public --url sqlite:///bench-data/ledger-county.sqlite --size county

For each page: the first answer's time (computed, nothing kept yet), then 16 clients for a
few seconds (wrk if installed, else Python threads, the same for /health), its p95 and the
ratio to /health's. Then each download once: the latest statement and the three government
files. The rate limit is off for the run (one client is all of them here). `make bench`
runs it at every size (bench/run.py).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).parents[1]
#: Every page must answer within this many times /health's p95 (issue 20).
WITHIN = 20
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"p95_ms\\": %.3f, \\"requests\\": %d, \\"errors\\": %d}\\n",
    latency:percentile(95) / 1000, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def targets(url: str) -> dict[str, str]:
    """An address of each kind of public page in this ledger."""
    from ledger import create_app
    from ledger.public import queries
    from ledger.services.registry import Filters

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ENV": "development"})
    with app.extensions["ledger.sessions"]() as session:
        today = date.today()
        agreement = project = None
        # The newest agreements have had no money yet: go back until one has paid for a project.
        for page in range(1, 100):
            for row in queries.search_agreements(session, Filters(), page=page, page_size=50).rows:
                found = queries.agreement_page(session, row.reference, today=today)
                if found and found.projects and found.division:
                    agreement, project = found, found.projects[0].reference
                    break
            if agreement is not None:
                break
        assert agreement is not None and agreement.division is not None and project is not None
        years = queries.downloads(session, today=today).ifs_years
    app.extensions["ledger.engine"].dispose()
    return {
        "start page": "/public", "search": "/public/agreements?q=land&page=2",
        "agreement": f"/public/agreements/{quote(agreement.reference)}", "project": f"/public/projects/{quote(project)}",
        "divisions": "/public/divisions", "division": f"/public/divisions/{agreement.division.code}",
        "downloads page": "/public/data", "JSON figures": "/public/api/figures",
        "JSON agreement": f"/public/api/agreements/{quote(agreement.reference)}",
        "statement download": f"/public/data/ifs-{years[0]}.xlsx",
        "gov CSV download": "/public/data/developer-agreement-transaction.csv",
    }


DOWNLOADS = ("statement download", "gov CSV download")
#: Requests after the first before the load: each worker then has the page to hand.
WARM_UP = 5


def fetch(port: int, path: str, timeout: float) -> tuple[float, int, int]:
    """One GET: (seconds, status, bytes)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        return time.perf_counter() - started, response.status, len(body)
    finally:
        connection.close()


def python_load(port: int, path: str, seconds: float, clients: int) -> tuple[float, int, int]:
    """p95 in ms, requests and errors from ``clients`` threads with a connection each."""
    latencies: list[float] = []
    errors = [0]
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return latencies[int(len(latencies) * 0.95)] * 1000, len(latencies), errors[0]


def wrk_load(port: int, path: str, seconds: float, clients: int, script: Path) -> tuple[float, int, int]:
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "-s", str(script),
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    result = json.loads(out.split("JSON ", 1)[1].splitlines()[0])
    return result["p95_ms"], result["requests"], result["errors"]


def measure(url: str, *, seconds: float = 5, clients: int = 16) -> list[dict[str, object]]:
    """Rows: page, p95 in ms, ratio to /health's p95, first answer in seconds, within 20x."""
    pages = targets(url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"LEDGER_DATABASE_URL": url, "LEDGER_ENV": "development", "LEDGER_SECRET_KEY": "bench",
                        "LEDGER_PUBLIC_PAGES": "on", "LEDGER_PUBLIC_RATE_LIMIT": "0",
                        "LEDGER_COUNCIL_NAME": "Demo County Council"}
    server = subprocess.Popen([sys.executable, "-c", "from ledger.cli import main; main()", "serve", "--port",
                               str(port), "--workers", "2"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    use_wrk = shutil.which("wrk") is not None
    rows: list[dict[str, object]] = []
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "p95.lua"
            script.write_text(WRK_SCRIPT)

            def load(path: str) -> tuple[float, int, int]:
                return wrk_load(port, path, seconds, clients, script) if use_wrk else \
                    python_load(port, path, seconds, clients)

            # Both workers booted and answering before anything is timed.
            for _ in range(WARM_UP * 4):
                fetch(port, "/health", timeout=60)
            health = load("/health")[0]
            rows.append({"page": "/health", "p95_ms": health, "ratio": 1.0, "first_s": None, "within": True,
                         "note": "wrk" if use_wrk else "Python clients"})
            for name, path in pages.items():
                if name in DOWNLOADS:
                    rows.append(download_row(port, name, path))
                    continue
                # Each worker computes its own first answer: ask until both are likely to have.
                first, status, _ = fetch(port, path, timeout=600)
                for _ in range(WARM_UP):
                    fetch(port, path, timeout=600)
                p95, requests, errors = load(path)
                rows.append({"page": name, "p95_ms": p95, "ratio": p95 / health, "first_s": first,
                             "within": p95 <= WITHIN * health and errors == 0 and status == 200,
                             "note": f"{requests:,} requests, {errors} errors, status {status}"})
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def download_row(port: int, name: str, path: str) -> dict[str, object]:
    """One download's time, or why there was none (a worker past gunicorn's timeout is killed)."""
    started = time.perf_counter()
    try:
        seconds, status, size = fetch(port, path, timeout=600)
    except (OSError, http.client.HTTPException) as error:
        return {"page": name, "p95_ms": None, "ratio": None, "first_s": time.perf_counter() - started,
                "within": None, "note": f"no answer: {type(error).__name__}"}
    return {"page": name, "p95_ms": None, "ratio": None, "first_s": seconds, "within": None,
            "note": f"status {status}, {size:,} bytes"}


def format_row(row: dict[str, object]) -> str:
    p95 = f"{row['p95_ms']:.1f} ms" if row["p95_ms"] is not None else "-"
    ratio = f"{row['ratio']:.1f}x" if row["ratio"] is not None else "-"
    first = f"{row['first_s']:.2f} s" if row["first_s"] is not None else "-"
    verdict = {True: "yes", False: "NO", None: "-"}[row["within"]]  # type: ignore[index]
    return f"| {row['page']:<20} | {p95:>9} | {ratio:>6} | {first:>8} | {verdict:>7} | {row['note']}"


HEADER = f"| {'public page':<20} | {'p95':>9} | {'/health':>6} | {'first':>8} | {'in 20x':>7} | note"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a ledger's database URL (a demo of that size)")
    parser.add_argument("--seconds", type=float, default=5, help="load per page (default 5)")
    args = parser.parse_args(argv)
    rows = measure(args.url, seconds=args.seconds)
    print(HEADER)
    for row in rows:
        print(format_row(row))
    print("JSON " + json.dumps(rows))
    if any(row["within"] is False for row in rows):
        sys.exit(f"a public page is slower than {WITHIN}x /health's p95")


if __name__ == "__main__":
    main()


def add_to_table(table: Any, url: str, size: str, database: str) -> None:
    """`make bench`'s rows for the public pages of one ledger (bench/run.py's Table)."""
    for row in measure(url):
        if row["page"] == "/health":
            continue
        seconds = (row["p95_ms"] / 1000) if row["p95_ms"] is not None else row["first_s"]  # type: ignore[operator]
        if row["p95_ms"] is None:
            note = f"one answer: {row['note']}"
        else:
            verdict = "within" if row["within"] else "NOT within"
            note = (f"p95 {row['p95_ms']:.1f} ms, {row['ratio']:.1f}x /health's p95 ({verdict} {WITHIN}x); "
                    f"first answer {row['first_s']:.2f} s")
        table.add(f"public: {row['page']}", size, database, seconds, None, 0, note)  # type: ignore[arg-type]
