"""`s106 check` (issue 17), the installed command run as a subprocess on a small demo ledger,
on SQLite and PostgreSQL: it agrees with a ledger as written; a kept row a penny out is
named, with its division, and exits 1; `--repair` works the kept rows out again, after which
it agrees."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import Row, text

from ledger.db import make_engine
from tests.conftest import make_test_app
from tests.test_cli import S106

AGREE = "kept positions agree with the entries: every obligation, receipt, project and division"


def s106(args: list[str], url: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"LEDGER_DATABASE_URL": url, "LEDGER_ENV": "development"}
    return subprocess.run([*S106, *args], env=env, capture_output=True, text=True, timeout=300)


def with_demo(url: str) -> str:
    application = make_test_app(url)
    with freeze_time("2026-11-28 12:00:00"):
        result = application.test_cli_runner().invoke(args=["ledger", "demo", "--scale", "small", "--seed", "5"])
    application.extensions["ledger.engine"].dispose()
    assert result.exit_code == 0, result.output
    return url


@pytest.fixture
def demo_url(database_url: str) -> str:
    return with_demo(database_url)


def run_sql(url: str, sql: str, parameters: dict[str, object] | None = None) -> list[Row[Any]]:
    """One statement on the ledger at ``url``, committed, as a write that kept a wrong row
    would have: its rows, if any."""
    engine = make_engine(url)
    with engine.begin() as connection:
        result = connection.execute(text(sql), parameters or {})
        rows = list(result.all()) if result.returns_rows else []
    engine.dispose()
    return rows


def assert_repair_agrees(url: str) -> None:
    """`--repair` still reports what it found, and a check afterwards agrees."""
    assert s106(["check", "--repair"], url).returncode == 1
    again = s106(["check"], url)
    assert (again.returncode, again.stdout.strip()) == (0, AGREE)


def corrupt_one_held(url: str) -> tuple[str, str]:
    """Add a penny to one obligation's kept money held and to its division's, with raw UPDATEs,
    as a write that kept a wrong position would: (its reference, its division)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        obligation_id, reference, division = connection.execute(text(
            "SELECT k.obligation_id, o.reference, k.division_code FROM kept_obligation_positions k "
            "JOIN obligations o ON o.id = k.obligation_id WHERE k.held > 0 AND k.division_code IS NOT NULL "
            "ORDER BY k.obligation_id LIMIT 1")).one()
        # Money is stored in pence: one more is a penny.
        connection.execute(text("UPDATE kept_obligation_positions SET held = held + 1 WHERE obligation_id = :id"),
                           {"id": obligation_id})
        connection.execute(text("UPDATE kept_division_positions SET held = held + 1 WHERE division_code = :code"),
                           {"code": division})
    engine.dispose()
    return reference, division


def test_check_agrees_names_a_penny_out_and_repairs_it(demo_url: str) -> None:
    agreed = s106(["check"], demo_url)
    assert agreed.returncode == 0, agreed.stderr
    assert agreed.stdout.strip() == AGREE

    reference, division = corrupt_one_held(demo_url)
    found = s106(["check"], demo_url)
    assert found.returncode == 1, found.stderr
    lines = found.stdout.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"obligation {reference}: kept ") and "held" in lines[0]
    assert lines[1].startswith(f"division {division}: kept ") and "held" in lines[1]
    assert "2 differences between the kept positions and the entries" in found.stderr

    repaired = s106(["check", "--repair"], demo_url)
    assert repaired.returncode == 1  # it still reports what it found before repairing
    assert f"obligation {reference}" in repaired.stdout
    assert "kept positions worked out again from the entries" in repaired.stderr
    again = s106(["check"], demo_url)
    assert (again.returncode, again.stdout.strip()) == (0, AGREE)


def test_check_names_the_obligation_of_a_kept_receipt_gone_missing(sqlite_url: str) -> None:
    url = with_demo(sqlite_url)
    engine = make_engine(url)
    with engine.begin() as connection:
        reference = connection.execute(text(
            "SELECT o.reference FROM kept_receipt_positions k JOIN obligations o ON o.id = k.obligation_id "
            "ORDER BY k.entry_id LIMIT 1")).scalar_one()
        connection.execute(text("DELETE FROM kept_receipt_positions WHERE entry_id = "
                                "(SELECT min(entry_id) FROM kept_receipt_positions)"))
    engine.dispose()
    found = s106(["check"], url)
    assert found.returncode == 1
    assert found.stdout.startswith(f"obligation {reference}: kept receipts ")


def test_check_names_a_project_kept_a_penny_short_and_repairs_it(sqlite_url: str) -> None:
    url = with_demo(sqlite_url)
    engine = make_engine(url)
    with engine.begin() as connection:
        obligation_id, reference = connection.execute(text(
            "SELECT k.obligation_id, o.reference FROM kept_project_positions k JOIN obligations o "
            "ON o.id = k.obligation_id WHERE k.spent > 0 ORDER BY k.obligation_id, k.project_id LIMIT 1")).one()
        connection.execute(text(
            "UPDATE kept_project_positions SET spent = spent - 1 WHERE obligation_id = :id AND project_id = "
            "(SELECT min(project_id) FROM kept_project_positions WHERE obligation_id = :id AND spent > 0)"),
            {"id": obligation_id})
    engine.dispose()
    found = s106(["check"], url)
    assert found.returncode == 1
    assert found.stdout.startswith(f"obligation {reference}: kept projects "), found.stdout
    assert_repair_agrees(url)


def test_check_names_kept_rows_that_carry_the_wrong_service_or_division(sqlite_url: str) -> None:
    """The kept rows a division's page reads by division carry copies: a wrong one is named."""
    url = with_demo(sqlite_url)
    first, second = run_sql(url, "SELECT o.id, o.reference FROM kept_project_positions k JOIN obligations o "
                                 "ON o.id = k.obligation_id GROUP BY o.id, o.reference ORDER BY o.id LIMIT 2")
    run_sql(url, "UPDATE kept_obligation_positions SET service = 'libraries-wrong' WHERE obligation_id = :id",
            {"id": first.id})
    run_sql(url, "UPDATE kept_project_positions SET division_code = 'elsewhere' WHERE obligation_id = :id",
            {"id": second.id})
    # An obligation with no money yet has its row too: the division's page lists its service.
    [empty] = run_sql(url, "SELECT o.id, o.reference FROM obligations o JOIN kept_obligation_positions k "
                           "ON k.obligation_id = o.id WHERE k.secured = 0 AND k.received = 0 AND NOT EXISTS "
                           "(SELECT 1 FROM kept_project_positions p WHERE p.obligation_id = o.id) ORDER BY o.id LIMIT 1")
    run_sql(url, "DELETE FROM kept_obligation_positions WHERE obligation_id = :id", {"id": empty.id})
    found = s106(["check"], url)
    assert found.returncode == 1
    lines = found.stdout.strip().splitlines()
    assert len(lines) == 3, lines
    assert f"obligation {empty.reference}: no kept positions; the rules give nothing, receipts none" in found.stdout
    assert any(line.startswith(f"obligation {first.reference}: kept with ") and "service libraries-wrong" in line
               for line in lines), lines
    assert lines[-1].startswith(f"obligation {second.reference}: its projects' kept rows are in division elsewhere")
    assert_repair_agrees(url)
