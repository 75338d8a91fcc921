"""The domain's guards against values no request should bring: dates past the calendar's
end (stored before dates were checked), digits of other scripts, text no column can keep."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.domain import limits
from ledger.domain.dates import LATEST_DATE, NoDeadline, add_months, add_years, repayment_deadline
from ledger.domain.entries import LedgerEntry
from ledger.domain.money import MoneyError, parse_money, parse_money_lenient
from ledger.domain.rules import band_for, consumption_order
from ledger.domain.vocab import Band, EntryKind


@pytest.mark.parametrize(("day", "years", "expected"), [
    (date(9999, 12, 31), 10, date.max),
    (date(9995, 6, 1), 10, date.max),
    (date(5, 6, 1), -10, date.min),
    (date(2020, 2, 29), 10, date(2030, 2, 28)),
], ids=["completion-in-9999", "just-past-the-end", "before-the-start", "ordinary"])
def test_adding_years_past_the_calendar_gives_its_last_day(day: date, years: int, expected: date) -> None:
    assert add_years(day, years) == expected


def test_adding_months_past_the_calendar_gives_its_last_day() -> None:
    assert add_months(date(9999, 6, 30), 24) == date.max
    assert add_months(date(1, 3, 31), -3) == date.min
    assert add_months(date(9999, 11, 30), 1) == date(9999, 12, 30)


def test_a_completion_in_9999_gives_a_deadline_later_than_every_real_one() -> None:
    deadline = repayment_deadline(date(2020, 1, 1), years=10, basis="completion", completion_on=date(9999, 12, 31))
    assert deadline == date.max
    assert band_for(deadline, as_of=date(2024, 1, 1)) is Band.GREEN
    receipt = LedgerEntry(id=1, kind=EntryKind.RECEIPT, amount=Decimal("10.00"), occurred_on=date(2020, 1, 1))
    real = consumption_order(receipt, date(2030, 1, 1))
    assert real < consumption_order(receipt, deadline) < consumption_order(receipt, NoDeadline.UNKNOWN)


def test_the_ledger_date_range_keeps_deadlines_inside_the_calendar() -> None:
    # The longest repayment period an obligation may have is 100 years (api.schemas).
    assert add_years(LATEST_DATE, 100) < date.max
    assert add_months(LATEST_DATE, 24 + 100 * 12) < date.max


@pytest.mark.parametrize("text", ["١٢٣.٤٥", "\uff11\uff12.\uff10\uff10", "12.٤٥", "1_000.00"],
                         ids=["arabic-indic", "fullwidth", "mixed", "underscore"])
def test_money_is_read_in_ascii_digits_only(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_money(text)
    with pytest.raises(MoneyError):
        parse_money_lenient(text)


@pytest.mark.parametrize("text", ["1e3", "Infinity", "-NaN", "1" * 14, "+.", "--5"])
def test_published_amounts_are_plain_numbers_of_at_most_thirteen_digits(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_money_lenient(text)


def test_the_largest_amount_is_taken_on_both_paths() -> None:
    assert parse_money("9999999999999.99") == parse_money_lenient("£9,999,999,999,999.99") == Decimal("9999999999999.99")
    assert parse_money_lenient("+.5") == Decimal("0.50")


@pytest.mark.parametrize(("text", "multiline", "problem"), [
    ("a\x00b", False, "control character (U+0000 at position 2)"),
    ("\ud800", False, "lone surrogate (U+D800 at position 1)"),
    ("line\nbreak", False, "control character (U+000A at position 5)"),
    ("tab\there", False, "control character (U+0009 at position 4)"),
    ("esc\x1b[31m", True, "control character (U+001B at position 4)"),
    ("next\x85line", True, "control character (U+0085 at position 5)"),
    ("del\x7f", True, "control character (U+007F at position 4)"),
], ids=["nul", "surrogate", "newline-in-a-line", "tab-in-a-line", "escape", "c1", "delete"])
def test_unprintable_text_is_named(text: str, multiline: bool, problem: str) -> None:
    assert limits.unprintable(text, multiline=multiline) == f"must not contain a {problem}"


def test_prose_keeps_tabs_and_line_breaks_and_any_script() -> None:
    assert limits.unprintable("First line\r\n\tsecond — £5, ١٢٣, 🏫", multiline=True) is None
    assert limits.unprintable("Ashford — £5 🏫") is None


def test_text_longer_than_its_column_is_named() -> None:
    assert limits.text_problem("x" * 64, max_length=limits.CODE) is None
    assert limits.text_problem("x" * 65, max_length=limits.CODE) == "must be at most 64 characters long, not 65"
