"""Runs of `s106 notify send` at once (a cron job and someone running it by hand) send each
message once: each is claimed under the notifications table's unique (user, kind, period)
before it is sent, and only the run that claimed it sends it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from ledger import mail
from ledger.models import Notification
from ledger.services import notify
from tests.notify.conftest import BASE_URL, REAL_TIME, SENDER, SmtpServer
from tests.notify.world import build
from tests.threads import all_at_once, app_for_threads

RUNS = 8


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    with app_for_threads(database_url, RUNS) as application:
        build(application)
        yield application


def test_runs_at_once_send_each_message_once(app: Flask, smtp: SmtpServer) -> None:
    sessions = app.extensions["ledger.sessions"]
    with freeze_time("2024-06-01 07:00:00", ignore=REAL_TIME):
        with sessions() as session:
            outgoing, _ = notify.compose(session, as_of=notify.clock.today(), base_url=BASE_URL)
        assert len(outgoing) == 6

        def run(_: int) -> notify.RunSummary:
            mailer = mail.SmtpMailer(mail.parse_smtp_url(smtp.url))
            with sessions() as session:
                try:
                    return notify.send(session, outgoing, mailer=mailer, sender=SENDER, as_of=outgoing[0].period)
                finally:
                    mailer.close()

        summaries = all_at_once(RUNS, run)
    assert all(isinstance(s, notify.RunSummary) for s in summaries), summaries
    assert sum(len(s.sent) for s in summaries) == 6  # type: ignore[union-attr]
    assert sum(s.skipped for s in summaries) == 6 * (RUNS - 1)  # type: ignore[union-attr]
    received = sorted((str(m["To"]), str(m["Subject"])) for m in smtp.inbox.messages)
    assert len(received) == len(set(received)) == 6
    with sessions() as session:
        assert [r.status for r in session.scalars(select(Notification))] == ["sent"] * 6
