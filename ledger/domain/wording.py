"""How refusals write dates for the people who read them: as council papers do."""

from __future__ import annotations

from datetime import date

#: The months in English whatever the machine's locale (strftime's %B follows it).
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def written_date(day: date) -> str:
    """``30 November 2026``: no leading zero, the month in words."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
