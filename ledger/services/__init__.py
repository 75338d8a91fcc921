"""The service layer: the only code that opens write transactions. HTTP, CLI and importers
call these functions and never commit themselves."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who is acting: stamped on every entry and audit event."""

    email: str
    role: str
    division_code: str | None = None


SYSTEM = Actor(email="system", role="admin")
