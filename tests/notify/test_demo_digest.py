"""Issue 16's closing check: on the demo county, `s106 notify send --dry-run` prints the
digest the councillor of a division with a proposed agreement would get."""

from __future__ import annotations

from datetime import date

from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from ledger import create_app
from ledger.demo import generate
from ledger.models import Agreement, Notification, User
from tests.notify.conftest import BASE_URL, REAL_TIME

TODAY = date(2026, 11, 28)


def test_the_demo_councillor_would_be_told_of_the_proposed_agreement(sqlite_url: str) -> None:
    app: Flask = create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "SECRET_KEY": "test", "ENV": "testing",
                             "BASE_URL": BASE_URL})
    with app.extensions["ledger.sessions"]() as session:
        generate(session, scale="small", seed=106, today=TODAY)
        member = session.scalars(select(User).where(User.role == "member")).one()
        [proposed] = session.scalars(select(Agreement).where(Agreement.status == "proposed")).all()
        assert proposed.division_code == member.division_code and proposed.signed_on is None
    with freeze_time("2026-11-28 07:00:00", ignore=REAL_TIME):
        result = app.test_cli_runner().invoke(args=["ledger", "notify", "send", "--dry-run"])
    assert result.exit_code == 0, result.output
    digest = result.output[result.output.index("To: Member <member@demo.s106.test>"):]
    digest = digest[:digest.index("-" * 72)]
    assert "Subject: Ashford Central: developer contributions since 30 August 2026" in digest
    assert "PROPOSED AGREEMENTS (1)" in digest
    assert ("- 26/P0144/OUT, Land north of the bypass, Ashford Central: asks for £1,195,984.80 in 3 obligations "
            "from Demo Homes Ltd") in digest
    assert f"{BASE_URL}/agreements/26/P0144/OUT" in digest
    with app.extensions["ledger.sessions"]() as session:
        assert session.scalars(select(Notification)).all() == []
    app.extensions["ledger.engine"].dispose()
