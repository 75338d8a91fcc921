"""The pages and API people open most, and the writes, under 16 clients (issue 17 item 3),
served as the README serves them (`s106 serve --workers 2`) with the response cache off.

    python -m bench.load --url sqlite:///bench-data/ledger-county.sqlite --size county --database sqlite

Reads: /health first, then each page (signed in as the demo officer) and each API answer
(a member's token), then /health again: p95, requests per second and the p95 as a multiple
of the lower of /health's two, PASS within 20x. Then one row with the cache on, for comparison. Writes: a 1p receipt and a 1p
spend per request, each with a reference of its own, through POST /api/v1/entries. Last, the
cost of keeping positions: receipts recorded one after another in-process by record_entry,
with ledger.services.kept.refresh and with a no-op in its place (a process of its own).
Writes stay in the ledger: a demo benchmarked again has those entries too.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).parents[1]
CLIENTS = 16
#: `s106 serve`'s workers, as the README serves it.
WORKERS = 2
SECONDS = 10
#: Every page and answer must be within this many times /health's p95 (issue 17).
WITHIN = 20
OFFICER = "officer@demo.s106.test"
PASSWORD = "demo-password"
#: The writes go to this many of the busiest obligations in turn, as officers write to many:
#: one obligation's lock would make 16 clients a queue, and thousands of 1p receipts on it
#: would make its every write and refresh heavier than a ledger's are.
SPREAD = 64
#: Money each one's project must have allocated and unspent: more than 16 clients can spend
#: on it in a run, so no spend needs an automatic allocation (rule 5).
PLENTY = Decimal("10.00")
#: GETs of each path before its load: both workers have run it once or more.
WARM_UP = 4
#: Where the JSON body's reference goes in the write script.
MARK = "BENCHMARK0MARK"

# Each wrk thread counts the answers whose status is not the one expected (a page that
# redirects to /login is no error to wrk); `done` adds up the threads' counts.
LUA_COUNTING = """
local threads = {}
local started = 0
function setup(thread)
  started = started + 1
  thread:set("id", started)
  table.insert(threads, thread)
end
function init(args)
  failed = 0
  n = 0
end
function response(status, headers, body)
  if status ~= __EXPECTED__ then failed = failed + 1 end
end
function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("failed") end
  local e = summary.errors
  io.write(string.format(
    'JSON {"p95_ms": %.3f, "requests": %d, "seconds": %.3f, "failed": %d, "socket_errors": %d}\\n',
    latency:percentile(95) / 1000, summary.requests, summary.duration / 1e6, failed,
    e.connect + e.read + e.write + e.timeout))
end
"""
LUA_WRITING = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {__BODIES__}
function request()
  n = n + 1
  local body = bodies[(id * 31 + n) % #bodies + 1]
  return wrk.format(nil, nil, nil, body[1] .. id .. "-" .. n .. body[2])
end
"""


def lua_string(value: str) -> str:
    """A Lua string literal of ASCII ``value`` (JSON as json.dumps writes it)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def read_script() -> str:
    return LUA_COUNTING.replace("__EXPECTED__", "200")


def entry_body(kind: str, *, obligation: str, project: str | None, on: date, prefix: str) -> tuple[str, str]:
    """A 1p entry's JSON body either side of its reference's end, which the script numbers."""
    body = {"kind": kind, "obligation_reference": obligation, "amount": "0.01", "occurred_on": on.isoformat(),
            "reason": "load benchmark", **({"project_reference": project} if project else {}),
            "reference": f"{prefix}{MARK}"}
    head, tail = json.dumps(body).split(MARK)
    return head, tail


def write_script(bodies: Iterable[tuple[str, str]]) -> str:
    """Each request a new entry (201) from one of ``bodies`` in turn (entry_body's halves),
    its reference ending in the thread's id and its count."""
    table = ", ".join(f"{{{lua_string(head)}, {lua_string(tail)}}}" for head, tail in bodies)
    return LUA_COUNTING.replace("__EXPECTED__", "201") + LUA_WRITING.replace("__BODIES__", table)


@dataclass(frozen=True, slots=True)
class Targets:
    """What the load asks for: as bench.ops.api_targets picks them, and where to write."""

    member_token: str
    officer_token: str
    division: str
    obligation: str
    #: Obligations and a project of each holding PLENTY: receipts and spends go there in turn.
    writes: tuple[tuple[str, str], ...]
    today: date


def write_targets(session: Any, today: date) -> tuple[tuple[str, str], ...]:
    """The SPREAD busiest obligations (by the ledger's own entries) with a project whose
    allocated unspent money is PLENTY, each with that project, read by replaying its history."""
    from sqlalchemy import text

    from ledger.domain import rules
    from ledger.services.entries import history

    busiest = session.execute(text(
        "SELECT e.obligation_id, o.reference FROM entries e JOIN obligations o ON o.id = e.obligation_id "
        "WHERE e.reference NOT LIKE 'BENCH-%' GROUP BY e.obligation_id, o.reference "
        "ORDER BY count(*) DESC, o.reference LIMIT 2000")).all()
    found: list[tuple[str, str]] = []
    for obligation_id, reference in busiest:
        money = rules.balances_at(rules.in_force(history(session, obligation_id)), today).by_project
        project, unspent = max(money.items(), key=lambda item: item[1], default=(None, Decimal(0)))
        if project is not None and unspent >= PLENTY:
            found.append((reference, project))
            if len(found) == SPREAD:
                break
    if not found:
        raise RuntimeError(f"no busy obligation has a project with {PLENTY} allocated and unspent")
    return tuple(found)


def targets(url: str) -> Targets:
    from bench.ops import api_targets
    from ledger import clock, create_app
    from ledger.services import SYSTEM, users

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ENV": "development"})
    today = clock.today()  # the service refuses money dated after the UK's today
    try:
        with app.extensions["ledger.sessions"]() as session:
            member_token, division, obligation = api_targets(session)
            officer_token = users.create_token(session, email=OFFICER, actor=SYSTEM)
            writes = write_targets(session, today)
    finally:
        app.extensions["ledger.engine"].dispose()
    return Targets(member_token, officer_token, division, obligation, writes, today)


def call(port: int, method: str, path: str, headers: dict[str, str] | None = None,
         body: str | None = None, timeout: float = 600) -> tuple[int, http.client.HTTPMessage, str]:
    """One request: status, headers and body text."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.msg, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def csrf_token(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if found is None:
        raise RuntimeError("the sign-in page has no csrf_token")
    return found.group(1)


def session_cookie(set_cookies: Iterable[str]) -> str:
    """The `session=...` pair to send back, from a response's Set-Cookie headers."""
    for header in set_cookies:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if "session" in cookie:
            return f"session={cookie['session'].value}"
    raise RuntimeError("no session cookie was set")


def sign_in(port: int, email: str = OFFICER, password: str = PASSWORD) -> str:
    """A signed-in session's Cookie header, as a browser signs in through /login."""
    _, headers, html = call(port, "GET", "/login")
    cookie = session_cookie(headers.get_all("Set-Cookie") or [])
    form = urlencode({"email": email, "password": password, "csrf_token": csrf_token(html)})
    status, headers, _ = call(port, "POST", "/login", {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}, form)
    if status != 302:
        raise RuntimeError(f"signing in as {email} answered {status}, not 302")
    return session_cookie(headers.get_all("Set-Cookie") or [])


@contextmanager
def served(url: str, *, cache_size: int = 0) -> Iterator[int]:
    """`s106 serve --workers 2` on a free port, answering /health; stopped however the block ends."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = os.environ | {"LEDGER_DATABASE_URL": url, "LEDGER_ENV": "development", "LEDGER_SECRET_KEY": "bench",
                        "LEDGER_RESPONSE_CACHE_SIZE": str(cache_size)}
    with tempfile.TemporaryFile("w+") as errors:
        server = subprocess.Popen([sys.executable, "-c", "from ledger.cli import main; main()", "serve", "--port",
                                   str(port), "--workers", str(WORKERS)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=errors)
        try:
            for _ in range(600):
                if server.poll() is not None:
                    errors.seek(0)
                    raise RuntimeError(f"s106 serve stopped: {errors.read()[-2000:]}")
                try:
                    if call(port, "GET", "/health", timeout=5)[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("s106 serve did not answer /health within a minute")
            # Both workers booted and answering before anything is timed.
            for _ in range(WARM_UP * 4):
                call(port, "GET", "/health")
            yield port
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wrk(port: int, path: str, script: str, headers: dict[str, str], *, seconds: float = SECONDS,
        clients: int = CLIENTS) -> dict[str, float]:
    """p95_ms, requests, seconds, failed (not the status expected) and socket_errors."""
    with tempfile.TemporaryDirectory() as folder:
        lua = Path(folder) / "load.lua"
        lua.write_text(script)
        # wrk's own timeout (2 s) would leave slow answers out of the percentiles.
        command = ["wrk", "-t2", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "300s",
                   "-s", str(lua), *(part for name, value in headers.items() for part in ("-H", f"{name}: {value}")),
                   f"http://127.0.0.1:{port}{path}"]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(out.split("JSON ", 1)[1].splitlines()[0])
    # A worker's time per request, from the throughput: workers / requests per second.
    settle(port, WORKERS * result["seconds"] / max(result["requests"], 1))
    return result


def settle(port: int, service: float) -> None:
    """Wait until the server has worked through what the last load left queued: wrk stops
    at its deadline, but the requests it sent are still answered, and would be timed as part
    of the next row. A /health is taken up after every request queued before it; then the
    other worker may still be on its last one, ``service`` seconds at most."""
    call(port, "GET", "/health")
    time.sleep(min(service, 60))


def pages(t: Targets) -> list[tuple[str, str]]:
    obligation = quote(t.obligation)
    return [("page /dashboard", "/dashboard"), ("page /divisions", "/divisions"),
            ("page /divisions/<code>", f"/divisions/{quote(t.division)}"),
            ("page /agreements?at_risk=1", "/agreements?at_risk=1"), ("page /at-risk", "/at-risk"),
            ("page /obligations/<ref>", f"/obligations/{obligation}"), ("page /income-due", "/income-due")]


def api_reads(t: Targets) -> list[tuple[str, str]]:
    return [("API division summary", f"/api/v1/divisions/{quote(t.division, safe='')}/summary"),
            ("API obligation balance", f"/api/v1/obligations/{quote(t.obligation, safe='')}/balance"),
            ("API money at risk", "/api/v1/at-risk"), ("API income due", "/api/v1/income-due")]


Row = dict[str, Any]


def load_row(name: str, result: dict[str, float], expected: int, floor: float | None = None) -> Row:
    """A row of bench/run.py's Table: time is the p95, floor /health's p95 (so ratio is the
    multiple of it), the note the throughput and every answer not as expected."""
    return {"operation": name, "seconds": result["p95_ms"] / 1000, "floor": floor,
            "per_second": result["requests"] / result["seconds"], "requests": result["requests"],
            "bad": result["failed"] + result["socket_errors"],
            "note": f"{result['requests'] / result['seconds']:,.0f} req/s; {result['requests']:,} requests, "
                    f"{result['failed']} not {expected}, {result['socket_errors']} socket errors"}


def within(row: Row) -> bool:
    return row["floor"] is not None and row["seconds"] <= WITHIN * row["floor"] and not row["bad"]


def reads(port: int, t: Targets, *, seconds: float, clients: int, only: Iterable[str] = ()) -> Iterator[Row]:
    """/health, each page and API answer (``only`` names those to run; all if empty), then
    /health again. Each is timed against the lower of the two /health p95s: on a shared
    machine /health has run at half its rate for a while, which would flatter every row
    timed against it."""
    script = read_script()
    health = load_row("/health", wrk(port, "/health", script, {}, seconds=seconds, clients=clients), 200)
    cookie = {"Cookie": sign_in(port)}
    bearer = {"Authorization": f"Bearer {t.member_token}"}
    measured = []
    for (name, path), headers in [*((page, cookie) for page in pages(t)), *((api, bearer) for api in api_reads(t))]:
        if only and name not in only:
            continue
        started = time.perf_counter()
        status, answer, _ = call(port, "GET", path, headers)
        first = time.perf_counter() - started
        if status != 200:  # a page that sends the officer to /login measures nothing
            measured.append(({"operation": name, "seconds": first, "floor": None, "per_second": None, "bad": 1,
                              "note": f"FAIL: not loaded, {path} answered {status} {answer.get('Location', '')}"},
                             None))
            continue
        for _ in range(WARM_UP):
            call(port, "GET", path, headers)
        measured.append((load_row(name, wrk(port, path, script, headers, seconds=seconds, clients=clients), 200),
                         first))
    again = load_row("/health, again", wrk(port, "/health", script, {}, seconds=seconds, clients=clients), 200)
    floor = min(health["seconds"], again["seconds"])
    yield health
    for row, first in measured:
        if first is not None:
            row["floor"] = floor
            verdict = "PASS" if within(row) else "FAIL"
            row["note"] = (f"{verdict} ({WITHIN}x): p95 {row['seconds'] * 1000:.1f} ms = {row['seconds'] / floor:.1f}"
                           f" x /health's (the lower of its two); {row['note']}; first answer {first:.2f} s")
        yield row
    yield again


def writes(port: int, url: str, t: Targets, *, seconds: float, clients: int) -> Iterator[Row]:
    """1p receipts, then 1p spends, each request a new entry; the entries found afterwards."""
    run = secrets.token_hex(4)  # references of their own, however often a ledger is benchmarked
    bearer = {"Authorization": f"Bearer {t.officer_token}"}
    for kind in ("receipt", "spend"):
        prefix = f"BENCH-{kind[0].upper()}-{run}-"
        bodies = [entry_body(kind, obligation=obligation, project=project if kind == "spend" else None, on=t.today,
                             prefix=prefix) for obligation, project in t.writes]
        result = wrk(port, "/api/v1/entries", write_script(bodies), bearer, seconds=seconds, clients=clients)
        row = load_row(f"API write: {kind}", result, 201)
        written = entries_named(url, kind, prefix)
        # A request under way when wrk stops is still written, and not counted by wrk.
        if written < result["requests"]:
            row["bad"] += result["requests"] - written
        verdict = "FAIL: writes refused or lost" if row["bad"] else "all written"
        row["note"] = (f"{verdict}; {row['note']}; {written:,} {kind}s written, to {len(t.writes)} obligations "
                       f"in turn{' (a project of each with money allocated)' if kind == 'spend' else ''}")
        yield row


def entries_named(url: str, kind: str, prefix: str) -> int:
    from sqlalchemy import func, select

    from ledger.db import make_engine
    from ledger.models import Entry

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(
                select(func.count()).where(Entry.kind == kind, Entry.reference.startswith(prefix))) or 0)
    finally:
        engine.dispose()


def keep_cost(url: str, obligations: list[str], seconds: float, *, on: date | None = None) -> dict[str, Any]:
    """Receipts recorded one after another through record_entry, to ``obligations`` in turn,
    each in a session of its own as a request has, with the kept positions refreshed as the
    code stands and with a no-op in place of the refresh: entries per second of each. The
    rounds take turns (ABBA), so a drift in the machine's load falls on both sides alike."""
    try:
        from ledger.services import kept
    except ImportError:
        return {"skipped": "ledger.services.kept does not exist yet: no comparison"}
    from sqlalchemy import select

    from ledger import clock, create_app
    from ledger.db import write_transaction
    from ledger.domain.vocab import EntryKind
    from ledger.models import Obligation
    from ledger.services import Actor
    from ledger.services.entries import EntryRequest, record_entry

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ENV": "development"})
    sessions = app.extensions["ledger.sessions"]
    actor = Actor(email=OFFICER, role="officer")
    run, today, refresh = secrets.token_hex(4), on or clock.today(), kept.refresh
    calls = [0]

    def no_op(session: Any, obligation_ids: Any) -> None:
        calls[0] += 1

    def put(function: Callable[..., Any]) -> None:
        """``function`` wherever ledger holds the refresh: `kept.refresh`, or a name imported from it."""
        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("ledger") and vars(module).get("refresh") in (refresh, no_op):
                module.refresh = function  # type: ignore[attr-defined]

    count = 0

    def round_of(side: str, budget: float) -> tuple[int, float]:
        nonlocal count
        put(no_op if side == "without" else refresh)
        entries, spent = 0, 0.0
        while spent < budget:
            count += 1
            started = time.perf_counter()
            with sessions() as session:
                record_entry(session, EntryRequest(
                    kind=EntryKind.RECEIPT, obligation_reference=obligations[count % len(obligations)],
                    amount=Decimal("0.01"), occurred_on=today, reason="keep-cost benchmark", reference=f"BENCH-K-{run}-{count}"), actor=actor)
            spent += time.perf_counter() - started
            entries += 1
        return entries, spent

    done = {"with": [0, 0.0], "without": [0, 0.0]}
    try:
        for side in ("with", "without"):  # warm up: statements compiled, pages read
            round_of(side, min(1, seconds / 4))
        for side in ("with", "without", "without", "with"):
            entries, spent = round_of(side, seconds / 4)
            done[side][0] += entries
            done[side][1] += spent
    finally:
        put(refresh)
        # The no-op left these obligations' kept positions behind their entries: put them right.
        with sessions() as session, write_transaction(session):
            refresh(session, session.scalars(select(Obligation.id).where(Obligation.reference.in_(obligations))))
        app.extensions["ledger.engine"].dispose()
    if not calls[0]:
        return {"skipped": "record_entry never called ledger.services.kept.refresh: the no-op replaced nothing"}
    return {side: {"entries": entries, "per_second": entries / spent} for side, (entries, spent) in done.items()}


def keep_cost_rows(url: str, obligations: list[str], seconds: float) -> list[Row]:
    """keep_cost in a process of its own, the only one where the refresh is a no-op. Time is
    the seconds an entry takes, the floor the same with the refresh a no-op."""
    name = "record_entry, keeping positions"
    out = subprocess.run([sys.executable, "-m", "bench.load", "--url", url, "--keep-cost", json.dumps(obligations),
                          "--seconds", str(seconds)], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        return [{"operation": name, "seconds": 0.0, "floor": None, "per_second": None, "bad": 1,
                 "note": f"FAIL: {out.stderr.strip().splitlines()[-1:]}"}]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if "skipped" in result:
        return [{"operation": name, "seconds": 0.0, "floor": None, "per_second": None, "bad": 0,
                 "note": f"skipped: {result['skipped']}"}]
    kept, plain = result["with"], result["without"]
    return [
        {"operation": name, "seconds": 1 / kept["per_second"], "floor": 1 / plain["per_second"],
         "per_second": kept["per_second"], "bad": 0,
         "note": f"{kept['per_second']:,.1f} entries/s keeping, {plain['per_second']:,.1f} without "
                 f"(ratio {plain['per_second'] / kept['per_second']:.2f}); {kept['entries']:,} and "
                 f"{plain['entries']:,} 1p receipts one after another, to {len(obligations)} obligations in turn"},
        {"operation": "record_entry, refresh a no-op", "seconds": 1 / plain["per_second"], "floor": None,
         "per_second": plain["per_second"], "bad": 0,
         "note": f"{plain['per_second']:,.1f} entries/s: the floor of the row above"},
    ]


def measure(url: str, *, seconds: float = SECONDS, clients: int = CLIENTS, keep_seconds: float = 20) -> Iterator[Row]:
    """Each row as it is measured: the reads with the cache off, the writes, one read with the
    cache on (for comparison: it helps only between writes, and officers write all day), the
    cost of keeping positions."""
    t = targets(url)
    with served(url, cache_size=0) as port:
        yield from reads(port, t, seconds=seconds, clients=clients)
        yield from writes(port, url, t, seconds=seconds, clients=clients)
    with served(url, cache_size=512) as port:
        for row in reads(port, t, seconds=seconds, clients=clients, only={"API division summary"}):
            yield {**row, "operation": f"{row['operation']}, cache on"}
    yield from keep_cost_rows(url, [obligation for obligation, _ in t.writes], keep_seconds)


def add_to_table(table: Any, url: str, size: str, database: str, *, seconds: float = SECONDS) -> list[Row]:
    """`make bench`'s rows for the pages, API and writes of one ledger (bench/run.py's Table)."""
    if shutil.which("wrk") is None:
        print("wrk not installed (apt-get install wrk): page and write load skipped", flush=True)
        return []
    rows = []
    for row in measure(url, seconds=seconds):
        table.add(row["operation"], size, database, row["seconds"], row["floor"], 0, row["note"])
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a ledger's database URL (a demo of that size)")
    parser.add_argument("--size", default="-", help="the demo's size, for the table (small, county, national)")
    parser.add_argument("--database", default="-", help="sqlite or postgresql, for the table")
    parser.add_argument("--seconds", type=float, default=SECONDS, help=f"load per row (default {SECONDS})")
    parser.add_argument("--keep-cost", metavar="OBLIGATIONS", help=argparse.SUPPRESS)  # a JSON list
    args = parser.parse_args(argv)
    if args.keep_cost:  # the child process of keep_cost_rows
        print(json.dumps(keep_cost(args.url, json.loads(args.keep_cost), args.seconds)))
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk not installed (apt-get install wrk)")
    from bench.run import Table

    table = Table()
    print(Table.header(), flush=True)
    rows = add_to_table(table, args.url, args.size, args.database, seconds=args.seconds)
    failed = [row["operation"] for row in rows if row["bad"] or row["note"].startswith("FAIL")]
    if failed:
        sys.exit(f"FAIL: {', '.join(failed)}")


if __name__ == "__main__":
    main()
