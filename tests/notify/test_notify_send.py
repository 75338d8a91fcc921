"""`s106 notify send` against a real SMTP server (aiosmtpd, tests/notify/conftest.py): the
messages it received, with their plain text and HTML parts, links and amounts in pounds;
nothing sent twice; a failed send recorded, reported and retried; each user's choices kept;
--dry-run sending and recording nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from click.testing import Result
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from ledger import create_app
from ledger.models import Notification
from ledger.services import SYSTEM, notify
from tests.factories import post
from tests.notify.conftest import BASE_URL, REAL_TIME, SmtpServer, parts
from tests.notify.world import CLERK, COUNCILLOR, GONE, QUIET, build, settings


@pytest.fixture
def app(database_url: str, smtp: SmtpServer) -> Iterator[Flask]:
    application = create_app(settings(database_url, smtp.url))
    build(application)
    yield application
    application.extensions["ledger.engine"].dispose()


def send(app: Flask, moment: str, *args: str) -> Result:
    with freeze_time(moment, ignore=REAL_TIME):
        return app.test_cli_runner().invoke(args=["ledger", "notify", "send", *args])


def rows(app: Flask) -> list[Notification]:
    with app.extensions["ledger.sessions"]() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_councillors_get_their_divisions_digest_and_officers_their_alerts(app: Flask, smtp: SmtpServer) -> None:
    result = send(app, "2024-06-01 07:00:00")
    assert result.exit_code == 0, result.output
    assert "6 sent (0 after failing before), 0 failed" in result.output
    inbox = smtp.inbox
    assert {str(m["To"]) for m in inbox.messages} == {COUNCILLOR, CLERK, QUIET}
    assert inbox.to(GONE) == []

    [digest] = inbox.to(COUNCILLOR)
    assert digest["Subject"] == "Ashford Central: developer contributions since 1 May 2024"
    assert digest["From"] == "s106-ledger <ledger@example.gov.uk>"
    text, html = parts(digest)
    for words in ("24/00009/OUT, Land at Station Road: asks for £250,000.00 in 1 obligation from Acme Homes",
                  "MONEY RECEIVED: £12,345.67 in 1 payment", "20 May 2024: £12,345.67 for obligation 20/00001/FUL/2",
                  "MONEY SPENT: £2,000.50", "on Project PRJ-1",
                  "£1,000.00 of payment R-1 (obligation 20/00001/FUL/1): due within 12 months, repayment date 1 June 2025",
                  f"{BASE_URL}/agreements/24/00009/OUT", f"{BASE_URL}/obligations/20/00001/FUL/1",
                  f"{BASE_URL}/divisions/ashford-central", f"{BASE_URL}/account"):
        assert words in text, words
    # R-1 was recorded before the councillor's account: not news to them.
    assert "£1,000.00 for obligation" not in text
    assert f'<a href="{BASE_URL}/agreements/24/00009/OUT">24/00009/OUT</a>' in html
    assert "<strong>£250,000.00</strong>" in html and "<strong>£12,345.67</strong>" in html
    assert f'href="{BASE_URL}/divisions/ashford-central"' in html

    subjects = {m["Subject"] for m in inbox.to(CLERK)}
    assert subjects == {"Money at risk: 1 receipt now due within 12 months", "1 review of money at risk due",
                        "1 invoice to developers overdue"}
    alert = next(m for m in inbox.to(CLERK) if m["Subject"].startswith("Money at risk"))
    text, html = parts(alert)
    assert ("On 1 June 2024, 1 receipt holding £1,000.00 is due within 12 months or past the repayment date, and no "
            "earlier email told you so.") in text
    assert "£1,000.00 of R-1 (obligation 20/00001/FUL/1), repayment date 1 June 2025" in text
    assert f'<a href="{BASE_URL}/obligations/20/00001/FUL/1">20/00001/FUL/1</a>' in html
    invoice = next(m for m in inbox.to(CLERK) if "invoice" in m["Subject"])
    assert "20/00001/FUL/1/A/invoice: £10,000.00 due 1 April 2024" in parts(invoice)[0]
    review = next(m for m in inbox.to(CLERK) if "review" in m["Subject"])
    assert f"{BASE_URL}/obligations/20/00001/FUL/1/reviews/new" in parts(review)[0]
    # The officer who wants no at-risk alerts gets the other two.
    assert {m["Subject"] for m in inbox.to(QUIET)} == subjects - {"Money at risk: 1 receipt now due within 12 months"}

    recorded = rows(app)
    assert len(recorded) == 6 and {r.status for r in recorded} == {"sent"}
    assert {(r.kind, r.period) for r in recorded if r.user_id == recorded[0].user_id} == {
        ("division-digest", date(2024, 6, 1))}


def test_rerunning_the_same_day_sends_nothing_and_the_next_day_only_news(app: Flask, smtp: SmtpServer) -> None:
    assert send(app, "2024-06-01 07:00:00").exit_code == 0
    again = send(app, "2024-06-01 19:00:00")
    assert again.exit_code == 0 and "0 sent (0 after failing before), 0 failed, 6 already sent" in again.output
    assert len(smtp.inbox.messages) == 6 and len(rows(app)) == 6
    # Nothing happened since: no digest, and no alert names what one already named.
    assert "0 sent" in send(app, "2024-06-02 07:00:00").output
    with app.extensions["ledger.sessions"]() as session, freeze_time("2024-06-05 10:00:00", ignore=REAL_TIME):
        post(session, "receipt", "750.25", date(2024, 6, 5), reference="R-3")
    assert send(app, "2024-06-06 07:00:00").exit_code == 0
    [_, second] = smtp.inbox.to(COUNCILLOR)
    assert second["Subject"] == "Ashford Central: developer contributions since 1 June 2024"
    text = parts(second)[0]
    assert "MONEY RECEIVED: £750.25 in 1 payment" in text and "£12,345.67" not in text and "24/00009/OUT" not in text
    assert len(smtp.inbox.messages) == 7
    # A year on, R-1 is past its repayment date: a new band, so a new alert (not to QUIET).
    send(app, "2025-06-02 07:00:00")
    [overdue] = [m for m in smtp.inbox.to(CLERK) if "past repayment date" in m["Subject"]]
    assert overdue["Subject"] == "Money at risk: 1 receipt now past repayment date"
    assert "PAST REPAYMENT DATE" in parts(overdue)[0]
    assert not [m for m in smtp.inbox.to(QUIET) if m["Subject"].startswith("Money at risk")]


def test_a_failed_send_is_recorded_reported_and_retried(app: Flask, smtp: SmtpServer) -> None:
    assert send(app, "2024-06-01 07:00:00").exit_code == 0
    with app.extensions["ledger.sessions"]() as session, freeze_time("2024-06-10 10:00:00", ignore=REAL_TIME):
        post(session, "receipt", "750.25", date(2024, 6, 10), reference="R-3")
    smtp.stop()
    failed = send(app, "2024-06-10 11:00:00")
    assert failed.exit_code == 1
    assert f"FAILED division-digest to {COUNCILLOR}: ConnectionRefusedError" in failed.output
    assert "0 sent (0 after failing before), 1 failed" in failed.output
    [row] = [r for r in rows(app) if r.period == date(2024, 6, 10)]
    assert (row.status, row.attempts, row.sent_at) == ("failed", 1, None) and "ConnectionRefusedError" in row.error

    smtp.start()  # the same day: the failed message is claimed again and sent
    retried = send(app, "2024-06-10 12:00:00")
    assert retried.exit_code == 0 and "1 sent (1 after failing before), 0 failed" in retried.output
    [row] = [r for r in rows(app) if r.period == date(2024, 6, 10)]
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)
    assert "£750.25" in parts(smtp.inbox.to(COUNCILLOR)[-1])[0]

    with app.extensions["ledger.sessions"]() as session, freeze_time("2024-06-12 10:00:00", ignore=REAL_TIME):
        post(session, "receipt", "99.99", date(2024, 6, 12), reference="R-4")
    smtp.stop()
    assert send(app, "2024-06-12 11:00:00").exit_code == 1
    smtp.start()  # the next day's run carries the failed digest's news
    assert send(app, "2024-06-13 07:00:00").exit_code == 0
    latest = smtp.inbox.to(COUNCILLOR)[-1]
    assert latest["Subject"] == "Ashford Central: developer contributions since 10 June 2024"
    assert "£99.99" in parts(latest)[0] and "£750.25" not in parts(latest)[0]
    statuses = {r.period: r.status for r in rows(app) if r.kind == "division-digest"}
    assert statuses == {date(2024, 6, 1): "sent", date(2024, 6, 10): "sent", date(2024, 6, 12): "superseded",
                        date(2024, 6, 13): "sent"}


def test_a_dry_run_prints_what_would_be_sent_and_sends_and_records_nothing(app: Flask, smtp: SmtpServer) -> None:
    result = send(app, "2024-06-01 07:00:00", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"To: Jo Bloggs <{COUNCILLOR}>" in result.output
    assert "Subject: Ashford Central: developer contributions since 1 May 2024" in result.output
    assert "asks for £250,000.00" in result.output
    assert "6 message(s) would be sent, 0 already sent or being sent; nothing sent or recorded" in result.output
    assert smtp.inbox.messages == [] and rows(app) == []
    assert "6 sent" in send(app, "2024-06-01 08:00:00").output


def test_a_user_who_turns_a_kind_off_stops_receiving_it(app: Flask, smtp: SmtpServer) -> None:
    with app.extensions["ledger.sessions"]() as session:
        assert [(k, on) for k, _, on in notify.choices(session, COUNCILLOR)] == [("division-digest", True)]
        notify.set_preferences(session, COUNCILLOR, [], actor=SYSTEM)
        assert [(k, on) for k, _, on in notify.choices(session, COUNCILLOR)] == [("division-digest", False)]
    send(app, "2024-06-01 07:00:00")
    assert smtp.inbox.to(COUNCILLOR) == [] and len(smtp.inbox.messages) == 5


def test_the_as_of_date_is_the_runs_date(app: Flask, smtp: SmtpServer) -> None:
    # On 31 May 2024 R-1 is a day short of "due within 12 months": no at-risk alert yet.
    result = send(app, "2024-06-03 07:00:00", "--as-of", "2024-05-31")
    assert result.exit_code == 0, result.output
    assert not [m for m in smtp.inbox.messages if m["Subject"].startswith("Money at risk")]
    assert {r.period for r in rows(app)} == {date(2024, 5, 31)}


def test_sending_without_smtp_settings_is_refused(sqlite_url: str) -> None:
    application = create_app(settings(sqlite_url, "") | {"SMTP_URL": None})
    result = application.test_cli_runner().invoke(args=["ledger", "notify", "send"])
    assert result.exit_code == 1 and "set LEDGER_SMTP_URL and LEDGER_MAIL_FROM" in result.output
    bad = create_app(settings(sqlite_url, "http://mail.example.gov.uk")).test_cli_runner()
    result = bad.invoke(args=["ledger", "notify", "send"])
    assert result.exit_code == 1 and "must start smtp://, smtp+starttls:// or smtps://" in result.output
