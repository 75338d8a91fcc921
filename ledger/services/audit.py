"""Audit events: every write and every refused request (SPEC §2)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger import clock
from ledger.db import write_transaction
from ledger.domain import limits
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


#: Column sizes (models.AuditEvent); reason is Text, capped so no request can store a novel.
ACTOR_SIZE, ACTION_SIZE, TARGET_SIZE, CLIENT_SIZE, REASON_SIZE = 255, 64, 255, 64, 2000
TRUNCATED = "…"
ANONYMOUS = "anonymous"


def bounded(text: str | None, size: int, *, multiline: bool = False) -> str | None:
    """``text`` as either engine stores it: control characters (but tab and line breaks
    when ``multiline``) and lone surrogates written as escapes (limits.printable; PostgreSQL
    refuses NUL, neither engine takes a lone surrogate), then cut to ``size`` characters,
    the cut marked with an ellipsis. A refused request may have held anything."""
    if text is None:
        return None
    text = limits.printable(text, multiline=multiline)
    if len(text) <= size:
        return text
    return text[: size - len(TRUNCATED)] + TRUNCATED


def _storable(value: Any) -> Any:
    """A JSON value (before, after) with every string, key or value, made printable."""
    if isinstance(value, str):
        return limits.printable(value, multiline=True)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _json(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return _storable(json.loads(json.dumps(value, default=_plain))) if value else None


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
    client: str | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction."""
    event = AuditEvent(
        at=clock.now(),
        actor=bounded(actor.email if isinstance(actor, Actor) else actor, ACTOR_SIZE),
        action=bounded(action, ACTION_SIZE),
        outcome=outcome,
        target_type=bounded(target_type, ACTION_SIZE),
        target_reference=bounded(target_reference, TARGET_SIZE),
        reason=bounded(reason, REASON_SIZE, multiline=True),
        before=_json(before),
        after=_json(after),
        client=bounded(client, CLIENT_SIZE),
        count=1,
    )
    session.add(event)
    return event


def count_refusal(
    session: Session,
    *,
    actor: str,
    action: str,
    reason: str,
    client: str | None,
    target_reference: str | None = None,
) -> None:
    """Count a refused request in the caller's transaction: the first refusal of its kind from
    one client in a minute adds a row, the rest move that row's ``count`` on.

    A row's kind is its minute, client, actor and reason, and its action unless the actor
    is anonymous: what an anonymous caller asks for is theirs to vary, so their refusals in a
    minute share one row whatever they asked (the row keeps the first action and target).
    So nobody can add more than a few rows a minute from one address.

    One statement, INSERT ... ON CONFLICT (aggregate_key) DO UPDATE, on both engines: on
    PostgreSQL the unique key makes concurrent refusals wait for each other's row and count
    on it, never insert twice or lose a count (a look-up and then a write would race);
    SQLite runs writers one at a time anyway. The 0007 triggers let such a row change its
    count, upwards, and nothing else."""
    now = clock.now()
    values = {
        "actor": bounded(actor, ACTOR_SIZE), "action": bounded(action, ACTION_SIZE),
        "reason": bounded(reason, REASON_SIZE, multiline=True), "client": bounded(client, CLIENT_SIZE),
    }
    grouped = [now.strftime("%Y-%m-%dT%H:%M"), values["client"] or "", values["actor"], values["reason"]]
    if actor != ANONYMOUS:
        grouped.append(values["action"])
    key = hashlib.sha256("\n".join(grouped).encode()).hexdigest()
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[session.get_bind().dialect.name]
    statement = insert(AuditEvent).values(
        **values, at=now, outcome="refused", target_reference=bounded(target_reference, TARGET_SIZE),
        count=1, aggregate_key=key,
    ).on_conflict_do_update(index_elements=[AuditEvent.aggregate_key], set_={"count": AuditEvent.count + 1})
    session.execute(statement)


def record_refusal(
    session: Session,
    *,
    actor: str,
    action: str,
    reason: str,
    client: str | None = None,
    target_reference: str | None = None,
) -> None:
    """Count a refused request in a transaction of its own, since the request writes nothing."""
    with write_transaction(session):
        count_refusal(session, actor=actor, action=action, reason=reason, client=client,
                      target_reference=target_reference)


#: The zone the audit log's dates are read in: a day is a UK day, BST or not.
UK = ZoneInfo("Europe/London")


@dataclass(frozen=True, slots=True)
class EventFilters:
    """What the audit log can be narrowed to. ``actor`` and ``target_reference`` match text
    anywhere in the field, ignoring case; ``since`` and ``until`` are UK days, both kept."""

    actor: str | None = None
    target_type: str | None = None
    target_reference: str | None = None
    since: date | None = None
    until: date | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.actor:
            found.append(AuditEvent.actor.icontains(self.actor, autoescape=True))
        if self.target_type:
            found.append(AuditEvent.target_type == self.target_type)
        if self.target_reference:
            found.append(AuditEvent.target_reference.icontains(self.target_reference, autoescape=True))
        if self.since:
            found.append(AuditEvent.at >= uk_midnight(self.since))
        if self.until:
            found.append(AuditEvent.at < uk_midnight(self.until + timedelta(days=1)))
        return found


def uk_midnight(day: date) -> datetime:
    """The moment a UK day starts, in UTC (23:00 the day before while BST is in force)."""
    return datetime.combine(day, time(), UK).astimezone(UTC)


def list_events(session: Session, *, offset: int, limit: int,
                filters: EventFilters | None = None) -> tuple[list[AuditEvent], int]:
    """One page of the events matching ``filters``, newest first, and how many match."""
    conditions = (filters or EventFilters()).conditions()
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    rows = session.scalars(
        select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def target_types(session: Session) -> list[str]:
    """The kinds of record the log names, for its filter."""
    return sorted(session.scalars(
        select(AuditEvent.target_type).where(AuditEvent.target_type.is_not(None)).distinct()))
