"""How refusals write dates for the people who read them: as council papers do."""

from __future__ import annotations

from datetime import date


def written_date(day: date) -> str:
    """``30 November 2026``: no leading zero, the month in words."""
    return f"{day.day} {day:%B %Y}"
