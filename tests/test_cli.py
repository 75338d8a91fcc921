"""The command line, through Flask's runner and through the installed `s106` script."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from ledger.db import make_engine
from ledger.domain import rules
from ledger.domain.vocab import Band
from ledger.models import Agreement, Entry, Obligation
from ledger.services import balances, users
from ledger.services.entries import history
from tests.conftest import make_test_app

S106 = [sys.executable, "-c", "from ledger.cli import main; main()"]


def run_s106(args: list[str], database: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"LEDGER_DATABASE_URL": f"sqlite:///{database}", "LEDGER_ENV": "development"}
    return subprocess.run([*S106, *args], env=env, capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore[call-overload]


def test_init_users_and_tokens_through_the_console_script(tmp_path: Path) -> None:
    database = tmp_path / "ledger.sqlite"
    assert run_s106(["init-db"], database).returncode == 0
    added = run_s106(["users", "add", "--email", "Officer@Kent.gov.uk", "--role", "officer"], database,
                     input="correct horse\ncorrect horse\n")
    assert added.returncode == 0, added.stderr
    assert "added officer officer@kent.gov.uk" in added.stdout
    created = run_s106(["tokens", "create", "--email", "officer@kent.gov.uk"], database)
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("s106_") and " " not in token
    app = make_test_app(f"sqlite:///{database}")
    response = app.test_client().get("/api/v1/agreements", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_errors_exit_non_zero_with_one_line(tmp_path: Path) -> None:
    database = tmp_path / "ledger.sqlite"
    run_s106(["init-db"], database)
    unknown = run_s106(["tokens", "create", "--email", "nobody@kent.gov.uk"], database)
    assert unknown.returncode != 0
    assert unknown.stderr.strip().count("\n") == 0
    assert "nobody@kent.gov.uk" in unknown.stderr
    bad_role = run_s106(["users", "add", "--email", "x@kent.gov.uk", "--role", "king", "--password", "12345678"], database)
    assert bad_role.returncode != 0
    no_schema = run_s106(["tokens", "create", "--email", "a@b.c"], tmp_path / "empty.sqlite")
    assert no_schema.returncode != 0
    assert len(no_schema.stderr.strip().splitlines()) == 1


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite'}"
    result = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True,
                            cwd=Path(__file__).parents[1])
    assert result.returncode != 0
    assert "LEDGER_SECRET_KEY" in result.stderr


def demo_snapshot(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(select(Entry.__table__).order_by(Entry.id))]
        rows += [tuple(r) for r in connection.execute(select(Obligation.__table__).order_by(Obligation.id))]
        rows += [tuple(r) for r in connection.execute(select(Agreement.__table__).order_by(Agreement.id))]
    engine.dispose()
    return rows


@freeze_time("2026-11-28 12:00:00")
def test_demo_same_seed_same_data_and_a_living_ledger(tmp_path: Path, sqlite_template: Path) -> None:
    urls = []
    for name in ("one", "two"):
        path = tmp_path / f"{name}.sqlite"
        shutil.copy(sqlite_template, path)
        urls.append(f"sqlite:///{path}")
        app = make_test_app(urls[-1])
        result = app.test_cli_runner().invoke(args=["ledger", "demo", "--scale", "small", "--seed", "7"])
        assert result.exit_code == 0, result.output
        assert "150 agreements" in result.output
    assert demo_snapshot(urls[0]) == demo_snapshot(urls[1])

    app = make_test_app(urls[0])
    with app.extensions["ledger.sessions"]() as session:
        divisions = {a.division_code for a in session.scalars(select(Agreement))}
        assert len(divisions) > 40
        kinds = Counter(session.scalars(select(Entry.kind)))
        assert set(kinds) == {"receipt", "allocation", "spend", "transfer", "repayment"}
        for obligation_id in session.scalars(select(Obligation.id)):
            assert rules.invariant_violations(rules.in_force(history(session, obligation_id))) == []
        bands = Counter(row.band for row in balances.at_risk(session, as_of=date(2026, 11, 28)))
    assert bands[Band.OVERDUE] and bands[Band.RED] and bands[Band.AMBER] and bands[Band.GREEN]

    again = app.test_cli_runner().invoke(args=["ledger", "demo"])
    assert again.exit_code != 0
    assert "empty ledger" in again.output


def test_demo_differs_with_another_seed(app: Flask) -> None:
    runner = app.test_cli_runner()
    with freeze_time("2026-11-28"):
        assert runner.invoke(args=["ledger", "demo", "--seed", "1"]).exit_code == 0
    with app.extensions["ledger.sessions"]() as session:
        first = session.scalars(select(Agreement.site_name).order_by(Agreement.id).limit(5)).all()
    assert len(set(first)) > 1


def test_the_demo_offers_the_scales_spec_names(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["ledger", "demo", "--help"])
    assert result.exit_code == 0
    assert "small: 150 agreements; county: 3,000 agreements; national: 100,000 agreements" in " ".join(result.output.split())
    refused = app.test_cli_runner().invoke(args=["ledger", "demo", "--scale", "planet"])
    assert refused.exit_code == 2 and "'planet' is not one of 'small', 'county', 'national'" in refused.output


#: Every command group and command, as `s106 --help` lists them: each module of ledger/cli
#: adds its own, and none may go missing.
COMMANDS = {
    "authorities": ["set-terms"], "backup": None, "check": None, "demo": None, "init-db": None, "serve": None,
    "export": ["gov-csv"], "import": ["gov-csv", "tracker"], "index": ["import"], "invoices": ["issue"],
    "report": ["at-risk", "ifs", "income-due", "reconciliation"], "tokens": ["create", "list", "revoke"],
    "users": ["add", "list", "set", "unlock"], "notify": ["send"], "reviews": ["import"],
    "reconcile": ["assert", "demo-export", "import", "status"],
}


def test_every_command_is_there() -> None:
    import click

    from ledger.cli import ledger_cli

    found = {name: sorted(command.commands) if isinstance(command, click.Group) else None
             for name, command in ledger_cli.commands.items()}
    assert found == COMMANDS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_gunicorn_and_answers_health(tmp_path: Path) -> None:
    database = tmp_path / "ledger.sqlite"
    run_s106(["init-db"], database)
    port = _free_port()
    env = os.environ | {"LEDGER_DATABASE_URL": f"sqlite:///{database}", "LEDGER_ENV": "development"}
    server = subprocess.Popen([*S106, "serve", "--port", str(port), "--workers", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = b""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    body = response.read()
                    break
            except OSError:
                time.sleep(0.1)
        assert b'"status": "ok"' in body or b'"status":"ok"' in body
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("command", [["init-db"], ["users", "add", "--help"], ["tokens", "create", "--help"],
                                     ["demo", "--help"], ["serve", "--help"]])
def test_commands_are_also_reachable_through_flask(app: Flask, command: list[str]) -> None:
    result = app.test_cli_runner().invoke(args=["ledger", *command])
    assert result.exit_code == 0, result.output


def test_serve_refuses_production_without_a_secret_key_but_other_commands_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite'}"
    init = subprocess.run([*S106, "init-db"], env=env, capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    serve = subprocess.run([*S106, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60)
    assert serve.returncode != 0
    assert "LEDGER_SECRET_KEY" in serve.stderr and len(serve.stderr.strip().splitlines()) == 1


@freeze_time("2026-11-28 12:00:00")
def test_demo_county_has_realistic_income_due(app: Flask) -> None:
    from ledger.services.income import income_due

    assert app.test_cli_runner().invoke(args=["ledger", "demo", "--scale", "small"]).exit_code == 0
    with app.extensions["ledger.sessions"]() as session:
        rows = income_due(session, today=date(2026, 11, 28))
    assert rows, "the demo has money due"
    assert all(r.outstanding and r.outstanding > 0 for r in rows)
    assert any(r.overdue for r in rows) and any(r.days_outstanding < 400 for r in rows)
    assert all("occupation of" in r.trigger for r in rows)


def test_backup_is_a_consistent_copy_that_opens(database_url: str, tmp_path: Path) -> None:
    import shutil as shell

    from sqlalchemy import create_engine, text

    if database_url.startswith("postgresql") and shell.which("pg_dump") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pg_dump is required under CI=true (it comes with the postgresql package)")
        pytest.skip("pg_dump not installed")
    app = make_test_app(database_url)
    with app.extensions["ledger.sessions"]() as session:
        from tests.factories import make_ledger, post

        make_ledger(session)
        post(session, "receipt", "12.34", date(2024, 1, 1))
    out = tmp_path / ("backup.sqlite" if database_url.startswith("sqlite") else "backup.dump")
    result = app.test_cli_runner().invoke(args=["ledger", "backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    if database_url.startswith("sqlite"):
        engine = create_engine(f"sqlite:///{out}")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT sum(amount) FROM entries")).scalar() == 1234
        engine.dispose()
    else:
        listing = subprocess.run(["pg_restore", "--list", str(out)], capture_output=True, text=True)
        assert "TABLE DATA public entries" in listing.stdout
    again = app.test_cli_runner().invoke(args=["ledger", "backup", "--out", str(out)])
    assert again.exit_code != 0 and "already exists" in again.output
    app.extensions["ledger.engine"].dispose()


def test_users_are_listed_changed_disabled_and_unlocked(app: Flask) -> None:
    from ledger.models import AuditEvent

    runner = app.test_cli_runner()

    def s106(*args: str, **kwargs: Any) -> Any:
        result = runner.invoke(args=["ledger", *args], **kwargs)
        assert result.exit_code == 0, result.output
        return result.output

    with freeze_time("2026-01-05 10:00:00"):
        s106("users", "add", "--email", "o@kent.gov.uk", "--role", "officer", "--password", "correct horse")
        s106("users", "add", "--email", "m@kent.gov.uk", "--role", "member", "--password", "correct horse")
        assert s106("users", "set", "o@kent.gov.uk", "--role", "admin").strip() == (
            "o@kent.gov.uk: admin, division -, enabled")
        assert "disabled" in s106("users", "set", "m@kent.gov.uk", "--disable")
        assert s106("users", "list").splitlines() == [
            "m@kent.gov.uk\tmember\t-\tdisabled\tpassword set", "o@kent.gov.uk\tadmin\t-\tenabled\tpassword set"]
        assert "new password" in s106("users", "set", "m@kent.gov.uk", "--enable", "--password-prompt",
                                      input="battery staple\nbattery staple\n")
        assert "cleared" in s106("users", "unlock", "m@kent.gov.uk")
        nothing = runner.invoke(args=["ledger", "users", "set", "m@kent.gov.uk"])
        assert nothing.exit_code != 0 and "nothing to change" in nothing.output
        unknown = runner.invoke(args=["ledger", "users", "set", "x@kent.gov.uk", "--role", "member"])
        assert unknown.exit_code != 0 and "x@kent.gov.uk" in unknown.output
    with app.extensions["ledger.sessions"]() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        user = users.get_user(session, "m@kent.gov.uk")
    assert actions == ["create-user", "create-user", "change-user", "change-user", "change-user", "unlock-user"]
    assert user.session_version == 2 and user.disabled_at is None


def test_tokens_are_created_with_an_expiry_listed_and_revoked(app: Flask) -> None:
    runner = app.test_cli_runner()
    with freeze_time("2026-01-05 10:00:00"):
        runner.invoke(args=["ledger", "users", "add", "--email", "o@kent.gov.uk", "--role", "officer",
                            "--password", "correct horse"])
        created = runner.invoke(args=["ledger", "tokens", "create", "o@kent.gov.uk", "--expires-in-days", "7"])
        assert created.exit_code == 0, created.output
        token = created.output.strip().splitlines()[-1]
        runner.invoke(args=["ledger", "tokens", "create", "--email", "o@kent.gov.uk"])
        client = app.test_client()
        assert client.get("/api/v1/agreements", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        listed = runner.invoke(args=["ledger", "tokens", "list", "--email", "o@kent.gov.uk"]).output.splitlines()
        assert listed[1].split("\t") == ["1", token[:10], "o@kent.gov.uk", "active", "created 2026-01-05 10:00",
                                         "expires 2026-01-12 10:00", "last used 2026-01-05 10:00"]
        assert listed[0].split("\t")[5] == "expires 2027-01-05 10:00"
        revoked = runner.invoke(args=["ledger", "tokens", "revoke", token[:10]])
        assert revoked.exit_code == 0 and "revoked token 1" in revoked.output
        assert client.get("/api/v1/agreements", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert "\trevoked\t" in runner.invoke(args=["ledger", "tokens", "list"]).output
        assert runner.invoke(args=["ledger", "tokens", "revoke", "999"]).exit_code != 0
        too_long = runner.invoke(args=["ledger", "tokens", "create", "o@kent.gov.uk", "--expires-in-days", "3651"])
        assert too_long.exit_code != 0
    with freeze_time("2027-01-05 10:00:00"):  # the other token, made for the default 365 days
        assert runner.invoke(args=["ledger", "tokens", "list"]).output.splitlines()[0].split("\t")[3] == "expired"
