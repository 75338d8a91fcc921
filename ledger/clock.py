"""The one place that reads the clock; domain rules take dates as parameters."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the UK, where the council's business day is reckoned."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/London")).date()
