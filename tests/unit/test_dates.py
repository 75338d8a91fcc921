from datetime import date

import pytest

from ledger.domain.dates import (
    NoDeadline,
    add_months,
    add_years,
    financial_year_bounds,
    financial_year_label,
    financial_year_of,
    repayment_deadline,
)


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(2024, 3, 31), 2023), (date(2024, 4, 1), 2024), (date(2024, 1, 1), 2023), (date(2024, 12, 31), 2024)],
    ids=["31-march-ends-the-year", "1-april-starts-the-next", "january", "december"],
)
def test_financial_year_runs_from_1_april_to_31_march(day: date, year: int) -> None:
    assert financial_year_of(day) == year


def test_financial_year_bounds_and_label() -> None:
    assert financial_year_bounds(2023) == (date(2023, 4, 1), date(2024, 3, 31))
    assert financial_year_label(2023) == "2023/24"
    assert financial_year_label(1999) == "1999/00"


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [(date(2020, 2, 29), 10, date(2030, 2, 28)), (date(2020, 2, 29), 4, date(2024, 2, 29)),
     (date(2021, 3, 31), 10, date(2031, 3, 31))],
    ids=["leap-day-to-common-year", "leap-day-to-leap-year", "ordinary"],
)
def test_adding_years_moves_29_february_to_28_february(day: date, years: int, expected: date) -> None:
    assert add_years(day, years) == expected


def test_adding_months_clamps_to_month_end() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 11, 15), 14) == date(2026, 1, 15)


def test_receipt_becomes_repayable_ten_years_after_receipt() -> None:
    assert repayment_deadline(date(2015, 6, 1), years=10) == date(2025, 6, 1)


def test_leap_day_receipt_is_repayable_on_28_february() -> None:
    assert repayment_deadline(date(2016, 2, 29), years=10) == date(2026, 2, 28)


def test_completion_basis_counts_from_completion() -> None:
    assert repayment_deadline(date(2015, 6, 1), years=10, basis="completion",
                              completion_on=date(2019, 9, 30)) == date(2029, 9, 30)


def test_completion_basis_without_completion_is_unknown() -> None:
    assert repayment_deadline(date(2015, 6, 1), years=10, basis="completion") is NoDeadline.UNKNOWN


def test_no_time_limit_means_no_deadline() -> None:
    assert repayment_deadline(date(2015, 6, 1), years=None) is NoDeadline.NONE


@pytest.mark.parametrize(("day", "written"), [
    (date(2026, 1, 1), "1 January 2026"),
    (date(2024, 2, 29), "29 February 2024"),
    (date(2025, 9, 30), "30 September 2025"),
    (date(2026, 12, 31), "31 December 2026"),
])
def test_dates_are_written_as_council_papers_write_them(day: date, written: str) -> None:
    from ledger.domain.wording import written_date

    assert written_date(day) == written


def test_every_month_is_written_in_english_as_strftime_writes_it_in_the_c_locale() -> None:
    from ledger.domain.wording import written_date

    for month in range(1, 13):
        day = date(2026, month, 9)
        assert written_date(day) == f"9 {day:%B} 2026"
