"""The load benchmark's parts (bench/load.py): the wrk scripts' bodies, signing in as a
browser does, the table's rows; and, where wrk is installed, a second of each load against
a live server, every write found in the ledger afterwards."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from bench import load
from bench.run import Table, duration
from ledger.models import Obligation
from ledger.services import SYSTEM, kept, users
from ledger.services.entries import obligation_money
from tests.factories import make_ledger, post


@pytest.fixture
def port(app: Flask) -> Iterator[int]:
    """The app on loopback, as the load sees a server; an officer who may sign in, and money."""
    with app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        users.add_user(session, email=load.OFFICER, role="officer", password=load.PASSWORD, actor=SYSTEM)
        post(session, "receipt", "500.00", date(2024, 1, 1))
        post(session, "allocation", "200.00", date(2024, 1, 2), project="PRJ-1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        number = s.getsockname()[1]
    server = make_server("127.0.0.1", number, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield number
    server.shutdown()


def test_each_write_body_is_json_with_its_own_reference() -> None:
    head, tail = load.entry_body("spend", obligation='20/00001/"FUL"/1', project="PRJ-1", on=date(2026, 12, 1),
                                 prefix="BENCH-S-ab12-")
    body = json.loads(f"{head}3-17{tail}")
    assert body == {"kind": "spend", "obligation_reference": '20/00001/"FUL"/1', "amount": "0.01",
                    "occurred_on": "2026-12-01", "reason": "load benchmark", "project_reference": "PRJ-1",
                    "reference": "BENCH-S-ab12-3-17"}
    script = load.write_script([(head, tail), ("{", "}")])
    assert f"{{{load.lua_string(head)}, {load.lua_string(tail)}}}, {{\"{{\", \"}}\"}}" in script
    assert "status ~= 201" in script
    assert "status ~= 200" in load.read_script()


def test_lua_strings_escape_quotes_and_backslashes() -> None:
    assert load.lua_string('{"a": "b\\\\c"}') == '"{\\"a\\": \\"b\\\\\\\\c\\"}"'


def test_signing_in_gives_the_cookie_a_page_needs(port: int) -> None:
    cookie = load.sign_in(port)
    assert cookie.startswith("session=")
    assert load.call(port, "GET", "/dashboard", {"Cookie": cookie})[0] == 200
    status, headers, _ = load.call(port, "GET", "/dashboard")
    assert status == 302 and "/login" in headers["Location"]


def test_a_wrong_password_is_no_session(port: int) -> None:
    with pytest.raises(RuntimeError, match="answered 401"):
        load.sign_in(port, password="not the password")


def test_rows_read_as_multiples_of_health() -> None:
    table = Table()
    health = load.load_row("/health", {"p95_ms": 2.0, "requests": 900, "seconds": 1.0, "failed": 0,
                                       "socket_errors": 0}, 200)
    page = load.load_row("page /dashboard", {"p95_ms": 50.0, "requests": 90, "seconds": 1.0, "failed": 1,
                                             "socket_errors": 0}, 200, health["seconds"])
    assert not load.within(page)  # 25x, and an answer not a 200
    assert load.within({**page, "seconds": 0.03, "bad": 0})
    table.add(page["operation"], "county", "sqlite", page["seconds"], page["floor"], 0, page["note"])
    assert table.rows[0]["ratio"] == pytest.approx(25)
    line = Table.format(table.rows[0])
    assert "50.0 ms" in line and "2.0 ms" in line and "25.00" in line and "1 not 200" in line
    assert (duration(2.5), duration(0.0123)) == ("2.50 s", "12.3 ms")


def test_writes_go_where_a_project_has_money_allocated(app: Flask) -> None:
    with app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        post(session, "receipt", "500.00", date(2024, 1, 1))
        with pytest.raises(RuntimeError, match="no busy obligation"):
            load.write_targets(session, date(2025, 1, 1))
        post(session, "allocation", "9.99", date(2024, 1, 2), project="PRJ-2")
        post(session, "allocation", str(load.PLENTY), date(2024, 1, 2), project="PRJ-1")
        assert load.write_targets(session, date(2025, 1, 1)) == (("20/00001/FUL/1", "PRJ-1"),)


def test_keeping_positions_is_timed_with_and_without_and_left_as_the_rules_give(app: Flask) -> None:
    with app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
    result = load.keep_cost(app.config["DATABASE_URL"], ["20/00001/FUL/1"], 0.4, on=date(2025, 1, 1))
    assert result["with"]["entries"] > 0 and result["without"]["entries"] > 0, result
    assert result["with"]["per_second"] > 0 and result["without"]["per_second"] > 0
    with app.extensions["ledger.sessions"]() as session:
        # The receipts recorded with the refresh a no-op are in the kept positions all the same.
        assert kept.differences(session) == []
        received = obligation_money(session, session.scalar(select(Obligation)), on=date(2025, 1, 1)).balances.received
    assert received >= Decimal("0.01") * (result["with"]["entries"] + result["without"]["entries"])


# CI installs wrk (.ci/run): there the test runs, never skips.
@pytest.mark.skipif(shutil.which("wrk") is None and not os.environ.get("CI"),
                    reason="wrk not installed (apt-get install wrk)")
def test_a_second_of_load_reads_pages_and_writes_every_entry(app: Flask, port: int) -> None:
    url = app.config["DATABASE_URL"]
    with app.extensions["ledger.sessions"]() as session:
        token = users.create_token(session, email=load.OFFICER, actor=SYSTEM)
    targets = load.Targets(member_token=token, officer_token=token, division="ashford-central",
                           obligation="20/00001/FUL/1", writes=(("20/00001/FUL/1", "PRJ-1"),),
                           today=date(2025, 1, 1))
    rows = list(load.reads(port, targets, seconds=1, clients=2, only={"page /dashboard", "API obligation balance"}))
    assert [r["operation"] for r in rows] == ["/health", "page /dashboard", "API obligation balance",
                                              "/health, again"]
    assert all(r["per_second"] > 0 and r["bad"] == 0 for r in rows), rows
    # Each answer is timed against the lower of /health's two p95s, before and after them.
    assert {r["floor"] for r in rows[1:3]} == {min(rows[0]["seconds"], rows[3]["seconds"])}
    rows = list(load.writes(port, url, targets, seconds=1, clients=2))
    assert [r["operation"] for r in rows] == ["API write: receipt", "API write: spend"]
    assert all(r["bad"] == 0 and r["note"].startswith("all written") for r in rows), rows
    with app.extensions["ledger.sessions"]() as session:
        money = obligation_money(session, session.scalar(select(Obligation)), on=date(2025, 1, 1))
    receipts, spends = (r["requests"] for r in rows)
    assert money.balances.received - Decimal("500.00") >= Decimal("0.01") * receipts > 0
    assert money.balances.spent >= Decimal("0.01") * spends > 0
