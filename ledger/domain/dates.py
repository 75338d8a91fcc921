"""Financial years and repayment deadlines (DOMAIN.md §1.1, §1.6, §4.3; SPEC rule 7)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date
from enum import StrEnum
from functools import lru_cache

from ledger.domain.vocab import BASES_WITH_YEARS

#: The dates the ledger takes (API, forms, imports): any business date of a planning
#: obligation falls well inside, and deadlines, bands and as-known-at moments worked out
#: from them stay far from the calendar's ends.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


class NoDeadline(StrEnum):
    """Why a receipt has no repayment date."""

    NONE = "no-deadline"  # the obligation has no time limit
    UNKNOWN = "unknown-deadline"  # terms unknown, or counted from a date not yet known


Deadline = date | NoDeadline


def financial_year_of(day: date) -> int:
    """The financial year a date falls in, named by its starting year (1 April to 31 March)."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_bounds(year: int) -> tuple[date, date]:
    """First and last day of financial year ``year``: 1 April ``year`` to 31 March ``year + 1``."""
    return date(year, 4, 1), date(year + 1, 3, 31)


def financial_year_label(year: int) -> str:
    """The label councils print for a financial year, e.g. ``2023/24``."""
    return f"{year}/{(year + 1) % 100:02d}"


def _beyond_the_calendar(year: int) -> date | None:
    """The calendar's first or last day when ``year`` is outside it, else None. Only bad
    data stored before dates were checked (a completion in 9999) gets there: a deadline
    then stays later than every real one instead of taking the page down."""
    if year > MAXYEAR:
        return date.max
    if year < MINYEAR:
        return date.min
    return None


def add_years(day: date, years: int) -> date:
    """Add whole years; 29 February lands on 28 February in a common year (SPEC rule 7).
    Past the calendar's end, the result is its last day (first, before its start)."""
    beyond = _beyond_the_calendar(day.year + years)
    if beyond is not None:
        return beyond
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@lru_cache(maxsize=4096)  # bands ask it twice per receipt, always of the same day
def add_months(day: date, months: int) -> date:
    """Add whole months, clamping to the last day of a shorter month (31 Jan + 1 = 28/29 Feb),
    and to the calendar's last (or first) day beyond its ends."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    beyond = _beyond_the_calendar(year)
    if beyond is not None:
        return beyond
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has at least 28 days")


def repayment_deadline(
    received_on: date | None,
    *,
    years: int | None,
    basis: str = "receipt",
    completion_on: date | None = None,
    last_received_on: date | None = None,
) -> Deadline:
    """The date by which a receipt must be spent or repaid (SPEC rule 7, SPEC 8.2).

    Unspent money is repayable ``years`` after receipt (basis ``receipt``, the usual
    clause: "the spend-by clock starts at receipt", DOMAIN.md §4.3), after the development
    completes (``completion``) or after the obligation's last receipt on or before the date
    asked about (``last-payment``: ``last_received_on``, which the caller works out with
    rules.last_received_on; without it the deadline is unknown, never one per receipt).
    Basis ``none`` has no time limit; ``unknown`` means the terms have not been read from
    the deed. A receipt whose date is not known (an opening balance without its original
    date), or a completion not yet reported, gives an unknown deadline. Null ``years`` on a
    basis that needs them is read as no time limit, as stored before SPEC 8.2.
    """
    if basis == "none":
        return NoDeadline.NONE
    if basis == "unknown":
        return NoDeadline.UNKNOWN
    if years is None:
        return NoDeadline.NONE
    if basis == "completion":
        start = completion_on
    elif basis == "last-payment":
        start = last_received_on
    else:
        start = received_on
    if start is None:
        return NoDeadline.UNKNOWN
    return add_years(start, years)


#: The longest time limit a deed sets that the ledger takes (SPEC 8.2).
MAX_REPAYMENT_YEARS = 30


def terms_errors(basis: str, years: int | None, *, years_field: str = "repayment_years") -> dict[str, list[str]]:
    """What is wrong with repayment terms (SPEC 8.2), by field: years from 1 to 30 go with
    ``receipt``, ``completion`` and ``last-payment`` and with no other basis."""
    if basis in BASES_WITH_YEARS:
        if years is None:
            return {years_field: [f"required with basis {basis}"]}
        if not 1 <= years <= MAX_REPAYMENT_YEARS:
            return {years_field: [f"must be from 1 to {MAX_REPAYMENT_YEARS}"]}
    elif years is not None:
        return {years_field: [f"must be empty with basis {basis}"]}
    return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Terms:
    """An obligation's repayment terms (SPEC 8.2) and the date they are in force from: None
    for the deed's own terms, in force from the start. The fields are named as the
    obligation's columns, so a deadline rule reads either."""

    repayment_basis: str
    repayment_years: int | None
    in_force_from: date | None = None


def terms_in_force(history: Iterable[Terms], *, on: date) -> Terms:
    """The terms in force at the end of ``on`` (SPEC 8.2: terms change from a date, by a deed
    of variation). ``history`` starts with the deed's own terms and goes on with each change
    in the order it was recorded: of those in force from ``on`` or earlier, the one that came
    into force last wins, and of two from the same date, the one recorded last."""
    current: Terms | None = None
    for terms in history:
        starts = terms.in_force_from or date.min
        if starts <= on and (current is None or starts >= (current.in_force_from or date.min)):
            current = terms
    if current is None:
        raise ValueError("a terms history starts with the deed's own terms, in force from the start")
    return current
