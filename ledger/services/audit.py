"""Audit events: every write and every refused request (SPEC §2)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.db import write_transaction
from ledger.models import AuditEvent, Base
from ledger.services import Actor


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def snapshot(row: Base | None, *, exclude: Sequence[str] = ("password_hash", "token_hash")) -> dict[str, Any] | None:
    """A JSON-safe copy of a row's columns, for the before/after of an audit event."""
    if row is None:
        return None
    return {
        column.key: _plain(getattr(row, column.key))
        for column in row.__table__.columns  # type: ignore[attr-defined]
        if column.key not in exclude
    }


def record(
    session: Session,
    *,
    actor: Actor | str,
    action: str,
    target_type: str | None = None,
    target_reference: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
    outcome: str = "ok",
) -> AuditEvent:
    """Add an audit event to the caller's transaction."""
    event = AuditEvent(
        at=clock.now(),
        actor=actor.email if isinstance(actor, Actor) else actor,
        action=action,
        outcome=outcome,
        target_type=target_type,
        target_reference=target_reference,
        reason=reason,
        before=json.loads(json.dumps(before, default=_plain)) if before else None,
        after=json.loads(json.dumps(after, default=_plain)) if after else None,
    )
    session.add(event)
    return event


def record_refusal(session: Session, *, actor: str, action: str, reason: str) -> None:
    """Log a refused request in a transaction of its own, since the request writes nothing."""
    with write_transaction(session):
        record(session, actor=actor, action=action, outcome="refused", reason=reason)


def list_events(session: Session, *, offset: int, limit: int) -> tuple[list[AuditEvent], int]:
    from sqlalchemy import func

    total = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    rows = session.scalars(
        select(AuditEvent).order_by(AuditEvent.id.desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total
