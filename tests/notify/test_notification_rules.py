"""The pure rules of who is told what (ledger.domain.notifications): which receipts crossed
into an alert band since a date, what was said before, which kinds a user receives."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ledger.domain.dates import NoDeadline
from ledger.domain.notifications import NotificationKind, alert_key, chosen, crossed_into, not_said_before
from ledger.domain.vocab import Band

DEADLINE = date(2025, 6, 1)


@pytest.mark.parametrize(("since", "on", "band"), [
    (date(2024, 5, 1), date(2024, 5, 31), None),            # still amber on the 31st
    (date(2024, 5, 1), date(2024, 6, 1), Band.RED),         # twelve months ahead: red that day
    (date(2024, 6, 1), date(2024, 6, 2), None),             # red since before: not news
    (date(2024, 6, 1), date(2025, 6, 1), None),             # the deadline day itself is still red
    (date(2024, 6, 1), date(2025, 6, 2), Band.OVERDUE),     # past it the next day
    (date(2024, 1, 1), date(2025, 6, 2), Band.OVERDUE),     # amber to past in one step: the worse band
    (date(2025, 6, 2), date(2025, 7, 1), None),
], ids=["amber", "into-red", "red-already", "deadline-day", "into-overdue", "amber-to-overdue", "overdue-already"])
def test_money_crosses_into_a_band_on_the_day_band_for_counts(since: date, on: date, band: Band | None) -> None:
    assert crossed_into(DEADLINE, since=since, on=on) == band


def test_money_without_a_dated_deadline_never_crosses() -> None:
    for deadline in (NoDeadline.NONE, NoDeadline.UNKNOWN):
        assert crossed_into(deadline, since=date(2020, 1, 1), on=date(2030, 1, 1)) is None


def test_each_receipt_is_told_once_in_each_band() -> None:
    red, overdue = alert_key("OB|R-1", Band.RED), alert_key("OB|R-1", Band.OVERDUE)
    assert red == "OB|R-1@red"
    assert not_said_before([red, alert_key("OB|R-2", Band.RED), red], said=[]) == [red, "OB|R-2@red"]
    assert not_said_before([red, overdue], said=[red]) == [overdue]
    assert not_said_before([red], said=[red, overdue]) == []


def test_a_user_receives_the_kinds_of_their_role_they_did_not_turn_off() -> None:
    officer_kinds = (NotificationKind.AT_RISK_ALERT, NotificationKind.REVIEWS_DUE, NotificationKind.INVOICES_OVERDUE)
    assert chosen("officer", division_code=None, preferences={}) == officer_kinds
    assert chosen("admin", division_code=None, preferences={"at-risk-alert": False}) == officer_kinds[1:]
    assert chosen("member", division_code="ashford", preferences={}) == (NotificationKind.DIVISION_DIGEST,)
    assert chosen("member", division_code=None, preferences={}) == ()
    assert chosen("member", division_code="ashford", preferences={"division-digest": False}) == ()



def test_a_moment_in_a_message_is_dated_by_its_day_in_the_uk() -> None:
    from ledger import mail

    # 23:30 UTC on 31 May is 00:30 on 1 June in London (BST); a business date is itself.
    dated = mail._environment.from_string("{{ moment | long_date }}, {{ day | long_date }}")
    assert dated.render(moment=datetime(2024, 5, 31, 23, 30, tzinfo=UTC), day=date(2024, 5, 31)) == \
        "1 June 2024, 31 May 2024"
