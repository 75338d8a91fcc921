"""Notifications by email (SPEC 8.7): `s106 notify send` composes each user's messages for
the run's date, then sends them one by one.

Never twice: a message is claimed first, as a ``notifications`` row unique per user, kind
and date, committed before it is sent; a run that finds the row (sent, or being sent by
another run) leaves it alone, so re-running the same day sends nothing and two runs at once
send each message once. A failed send is recorded as failed and reported; the next run
claims it again (the same day) or carries its news (a later day: a digest covers the time
since the previous digest *sent*, an alert names what no *sent* alert named), and the
failed row is then marked superseded. A claim left by a run that died mid-send is retried
after STALE_CLAIM: the one case where a message could reach someone twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from urllib.parse import quote

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger import clock, mail
from ledger.db import write_transaction
from ledger.domain.agreement_status import AgreementStatus
from ledger.domain.entry_kinds import IfsRole, kinds_in
from ledger.domain.errors import InvalidInput
from ledger.domain.money import ZERO
from ledger.domain.notifications import (
    ALERT_BANDS,
    KIND_LABELS,
    AgreementNews,
    BandNews,
    Digest,
    MoneyNews,
    NotificationKind,
    alert_key,
    chosen,
    crossed_into,
    kinds_for,
    not_said_before,
    plural,
)
from ledger.domain.reviews import STATUS_LABELS
from ledger.domain.vocab import BAND_LABELS, Band
from ledger.models import (
    Agreement,
    Division,
    Entry,
    Notification,
    NotificationPreference,
    Obligation,
    Project,
    Review,
    User,
)
from ledger.services import Actor, audit
from ledger.services.audit import UK, uk_midnight
from ledger.services.balances import AtRiskRow, at_risk
from ledger.services.income import income_due
from ledger.services.ledger_rows import in_force_condition
from ledger.services.registry import Filters

#: A claim older than this, still "sending", was left by a run that died: it is sent again.
STALE_CLAIM = timedelta(hours=1)
#: At most this many items are listed in one message; the rest are counted, with a link.
LISTED = 50
SENDING, SENT, FAILED, SUPERSEDED = "sending", "sent", "failed", "superseded"


class Mailer(Protocol):
    def send(self, message: mail.EmailMessage) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """One message composed for one user: what it says and what it covers."""

    user_id: int
    email: str
    name: str
    kind: NotificationKind
    period: date
    subject: str
    text: str
    html: str
    since: datetime | None = None
    until: datetime | None = None
    items: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RunSummary:
    as_of: date
    sent: list[Outgoing] = field(default_factory=list)
    #: Messages that failed in this run, with why.
    failed: list[tuple[Outgoing, str]] = field(default_factory=list)
    #: Messages of this date another run holds or already sent.
    skipped: int = 0
    #: Sent in this run after failing before.
    retried: int = 0


# -- preferences -----------------------------------------------------------------------------
def preferences(session: Session, user_id: int) -> dict[str, bool]:
    """The kinds a user has chosen about: on or off (a kind not listed is on)."""
    return dict(session.execute(select(NotificationPreference.kind, NotificationPreference.enabled)
                                .where(NotificationPreference.user_id == user_id)).all())


def choices(session: Session, email: str) -> list[tuple[NotificationKind, str, bool]]:
    """Each kind a user may receive, in words, and whether they receive it."""
    user = _user(session, email)
    chosen_now = preferences(session, user.id)
    return [(kind, KIND_LABELS[kind], chosen_now.get(kind, True))
            for kind in kinds_for(user.role, division_code=user.division_code)]


def set_preferences(session: Session, email: str, receive: Iterable[str], *, actor: Actor) -> list[NotificationKind]:
    """Receive exactly the kinds in ``receive`` of those the user may receive; audited with
    the before and after. Returns the kinds now received."""
    wanted = set(receive)
    with write_transaction(session):
        user = _user(session, email)
        allowed = kinds_for(user.role, division_code=user.division_code)
        unknown = sorted(wanted - set(allowed))
        if unknown:
            raise InvalidInput(f"kinds: {', '.join(unknown)} cannot be chosen",
                               errors={"kinds": [f"{k} is not a kind this account receives" for k in unknown]})
        before = preferences(session, user.id)
        now = clock.now()
        rows = {p.kind: p for p in session.scalars(select(NotificationPreference)
                                                   .where(NotificationPreference.user_id == user.id))}
        for kind in allowed:
            row = rows.get(kind) or NotificationPreference(user_id=user.id, kind=kind.value, enabled=True,
                                                           changed_at=now)
            if row.id is None or row.enabled != (kind in wanted):
                row.enabled, row.changed_at = kind in wanted, now
                session.add(row)
        session.flush()
        audit.record(session, actor=actor, action="set-notification-preferences", target_type="users",
                     target_reference=user.email, before={"receives": sorted(k for k in allowed if before.get(k, True))},
                     after={"receives": sorted(k for k in allowed if k in wanted)})
        return [k for k in allowed if k in wanted]


def _user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise InvalidInput(f"no user {email}", errors={"email": ["no such user"]})
    return user


# -- composing ---------------------------------------------------------------------------------
def _link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + quote(path, safe="/?=&")


def _sent(session: Session, user_id: int, kind: str) -> list[Notification]:
    return list(session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.kind == kind, Notification.status == SENT)
        .order_by(Notification.id)))


def _held(session: Session, user_id: int, kind: str, period: date, *, now: datetime) -> bool:
    """Whether this message is sent already, or being sent by a run that is still alive."""
    found = session.scalar(select(Notification).where(
        Notification.user_id == user_id, Notification.kind == kind, Notification.period == period))
    return found is not None and (found.status == SENT or (found.status == SENDING
                                                           and found.claimed_at > now - STALE_CLAIM))


def compose(session: Session, *, as_of: date, base_url: str, red_months: int = 12,
            amber_months: int = 24) -> tuple[list[Outgoing], int]:
    """Every message due on ``as_of`` that is neither sent nor being sent, and how many are.
    Writes nothing (``--dry-run`` prints these)."""
    now = clock.now()
    until = min(now, uk_midnight(as_of + timedelta(days=1)))
    users = list(session.scalars(select(User).where(User.disabled_at.is_(None)).order_by(User.id)))
    chosen_by_user = {u.id: chosen(u.role, division_code=u.division_code, preferences=preferences(session, u.id))
                      for u in users}
    wanted = {(u.id, kind) for u in users for kind in chosen_by_user[u.id]}
    held = {key for key in wanted if _held(session, *key, as_of, now=now)}
    due = wanted - held
    need_alerts = any(kind != NotificationKind.DIVISION_DIGEST for _, kind in due)
    risk = at_risk(session, as_of=as_of, red_months=red_months, amber_months=amber_months) if need_alerts else []
    shared = _Shared(risk=risk, as_of=as_of, base_url=base_url, red_months=red_months, amber_months=amber_months)
    found = []
    for user in users:
        for kind in chosen_by_user[user.id]:
            if (user.id, kind) not in due:
                continue
            composed = COMPOSERS[kind](session, user, shared, until)
            if composed is not None:
                found.append(composed)
    return found, len(held)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Shared:
    """What every message of a run is composed from."""

    risk: list[AtRiskRow]
    as_of: date
    base_url: str
    red_months: int
    amber_months: int

    def link(self, path: str) -> str:
        return _link(self.base_url, path)


def _outgoing(user: User, kind: NotificationKind, shared: _Shared, *, subject: str, template: str,
              items: list[str], since: datetime | None = None, until: datetime | None = None,
              **context: object) -> Outgoing:
    text, html = mail.render(template, subject=subject, name=user.name, link=shared.link, as_of=shared.as_of,
                             band_labels=BAND_LABELS, listed=LISTED, **context)
    return Outgoing(user_id=user.id, email=user.email, name=user.name, kind=kind, period=shared.as_of,
                    subject=subject, text=text, html=html, since=since, until=until, items=items)


def division_digest(session: Session, user: User, shared: _Shared, until: datetime) -> Outgoing | None:
    """A councillor's digest: what happened in their division since their previous digest
    was sent (the first: since their account was created). None if nothing did."""
    previous = _sent(session, user.id, NotificationKind.DIVISION_DIGEST)
    since = previous[-1].until if previous and previous[-1].until else user.created_at
    assert user.division_code is not None
    digest = digest_of(session, user.division_code, since=since, until=until, on=shared.as_of,
                       red_months=shared.red_months, amber_months=shared.amber_months)
    if digest.is_empty:
        return None
    day = since.astimezone(UK)
    subject = f"{digest.division_name}: developer contributions since {day.day} {day:%B %Y}"
    return _outgoing(user, NotificationKind.DIVISION_DIGEST, shared, subject=subject, template="division_digest",
                     items=[], since=since, until=until, digest=digest)


def digest_of(session: Session, division_code: str, *, since: datetime, until: datetime, on: date,
              red_months: int = 12, amber_months: int = 24) -> Digest:
    """What happened in a division from ``since`` to ``until`` (as the ledger recorded it):
    agreements proposed and signed, money received and spent, and money that moved into
    "due within 12 months" or past its repayment date between ``since``'s day and ``on``."""
    division = session.scalar(select(Division).where(Division.code == division_code))
    assert division is not None
    here = Agreement.division_code == division_code
    recorded = func.coalesce(Agreement.signed_recorded_at, Agreement.created_at)
    secured = (select(Obligation.agreement_id, func.count().label("n"), func.sum(Obligation.amount).label("money"))
               .group_by(Obligation.agreement_id).subquery())

    def agreements(status: AgreementStatus, moment: object) -> list[AgreementNews]:
        rows = session.execute(
            select(Agreement, secured.c.n, secured.c.money).outerjoin(secured, secured.c.agreement_id == Agreement.id)
            .where(here, Agreement.status == status.value, moment > since, moment <= until)  # type: ignore[operator]
            .order_by(Agreement.reference))
        return [AgreementNews(reference=a.reference, site_name=a.site_name, developer=a.developer,
                              signed_on=a.signed_on, money=money or ZERO, obligations=n or 0)
                for a, n, money in rows]

    def money(kinds: frozenset[str]) -> list[MoneyNews]:
        rows = session.execute(
            select(Entry.kind, Entry.reference, Obligation.reference, Agreement.reference, Entry.occurred_on,
                   Entry.amount, Project.name)
            .join(Obligation, Entry.obligation_id == Obligation.id).join(Agreement, Obligation.agreement_id == Agreement.id)
            .outerjoin(Project, Entry.project_id == Project.id)
            .where(here, Entry.kind.in_(sorted(kinds)), Entry.created_at > since, Entry.created_at <= until,
                   in_force_condition(None))
            .order_by(Entry.occurred_on, Entry.id))
        return [MoneyNews(kind=k, reference=r, obligation_reference=o, agreement_reference=a, occurred_on=d,
                          amount=amount, project=p) for k, r, o, a, d, amount, p in rows]

    since_day = since.astimezone(UK).date()
    moved = []
    for row in at_risk(session, as_of=on, filters=Filters(division=division_code), red_months=red_months,
                       amber_months=amber_months):
        band = crossed_into(row.deadline, since=since_day, on=on, red_months=red_months,
                            amber_months=amber_months) if row.deadline else None
        if band is not None:
            moved.append(_band_news(row, band))
    return Digest(division_code=division_code, division_name=division.name, since=since, until=until,
                  proposed=agreements(AgreementStatus.PROPOSED, Agreement.created_at),
                  signed=agreements(AgreementStatus.SIGNED, recorded),
                  receipts=money(kinds_in(IfsRole.RECEIVED)), spend=money(kinds_in(IfsRole.SPENT)),
                  moved=sorted(moved, key=lambda m: (m.deadline or date.max, m.receipt_reference)))


def _band_news(row: AtRiskRow, band: Band) -> BandNews:
    return BandNews(obligation_reference=row.obligation_reference, agreement_reference=row.agreement_reference,
                    receipt_reference=row.receipt_reference, deadline=row.deadline, remaining=row.remaining,
                    band=band, division_code=row.division_code)


def _said(session: Session, user_id: int, kind: str) -> set[str]:
    return {item for n in _sent(session, user_id, kind) for item in n.items}


def at_risk_alert(session: Session, user: User, shared: _Shared, until: datetime) -> Outgoing | None:
    """An officer's alert: each receipt in "due within 12 months" or past its repayment date
    on the run's date that no alert sent to them named in that band."""
    in_band = {alert_key(f"{r.obligation_reference}|{r.receipt_reference}", r.band): r
               for r in shared.risk if r.band in ALERT_BANDS}
    new = not_said_before(in_band, _said(session, user.id, NotificationKind.AT_RISK_ALERT))
    if not new:
        return None
    news = sorted((_band_news(in_band[k], in_band[k].band) for k in new),
                  key=lambda n: (ALERT_BANDS.index(n.band), n.deadline or date.max, n.receipt_reference))
    bands = {n.band for n in news}
    words = " or ".join(BAND_LABELS[b].lower() for b in ALERT_BANDS[::-1] if b in bands)
    subject = f"Money at risk: {plural(len(news), 'receipt')} now {words}"
    return _outgoing(user, NotificationKind.AT_RISK_ALERT, shared, subject=subject, template="at_risk_alert",
                     items=new, news=news, total=sum((n.remaining for n in news), ZERO))


def reviews_due(session: Session, user: User, shared: _Shared, until: datetime) -> Outgoing | None:
    """An officer's reminder of each review whose next review date has come, once each."""
    latest = select(func.max(Review.id)).group_by(Review.obligation_id)
    rows = session.execute(
        select(Review, Obligation.reference, Agreement.reference).join(Obligation, Review.obligation_id == Obligation.id)
        .join(Agreement, Obligation.agreement_id == Agreement.id)
        .where(Review.id.in_(latest), Review.next_review_on <= shared.as_of)
        .order_by(Review.next_review_on, Obligation.reference)).all()
    by_key = {alert_key(f"review:{review.id}"): (review, obligation, agreement) for review, obligation, agreement in rows}
    new = not_said_before(by_key, _said(session, user.id, NotificationKind.REVIEWS_DUE))
    if not new:
        return None
    due = [by_key[k] for k in new]
    subject = f"{plural(len(due), 'review')} of money at risk due"
    return _outgoing(user, NotificationKind.REVIEWS_DUE, shared, subject=subject, template="reviews_due",
                     items=new, due=due, status_labels=STATUS_LABELS, mine=user.email)


def invoices_overdue(session: Session, user: User, shared: _Shared, until: datetime) -> Outgoing | None:
    """An officer's alert of each invoice to a developer that has become overdue, once each."""
    overdue = {alert_key(f"invoice:{r.reference}"): r for r in income_due(session, today=shared.as_of) if r.overdue}
    new = not_said_before(overdue, _said(session, user.id, NotificationKind.INVOICES_OVERDUE))
    if not new:
        return None
    rows = [overdue[k] for k in new]
    subject = f"{plural(len(rows), 'invoice')} to developers overdue"
    return _outgoing(user, NotificationKind.INVOICES_OVERDUE, shared, subject=subject, template="invoices_overdue",
                     items=new, rows=rows, total=sum((r.outstanding or ZERO for r in rows), ZERO))

COMPOSERS = {
    NotificationKind.DIVISION_DIGEST: division_digest,
    NotificationKind.AT_RISK_ALERT: at_risk_alert,
    NotificationKind.REVIEWS_DUE: reviews_due,
    NotificationKind.INVOICES_OVERDUE: invoices_overdue,
}


# -- sending -----------------------------------------------------------------------------------
def _claim(session: Session, out: Outgoing, *, now: datetime) -> tuple[int, bool] | None:
    """Claim ``out`` for this run: its row, and whether it failed before. None if another
    run holds it or sent it. The unique (user, kind, period) decides a race."""
    content = {"subject": out.subject, "since": out.since, "until": out.until, "items": out.items,
               "claimed_at": now, "status": SENDING, "error": None}
    try:
        with write_transaction(session):
            found = session.scalar(select(Notification).where(
                Notification.user_id == out.user_id, Notification.kind == out.kind.value,
                Notification.period == out.period))
            if found is None:
                row = Notification(user_id=out.user_id, kind=out.kind.value, period=out.period, attempts=1, **content)
                session.add(row)
                session.flush()
                return row.id, False
            if found.status == SENT or (found.status == SENDING and found.claimed_at > now - STALE_CLAIM):
                return None
            # Only if no other run claimed it since it was read.
            claimed = session.execute(
                update(Notification).where(Notification.id == found.id, Notification.status == found.status,
                                           Notification.attempts == found.attempts)
                .values(attempts=found.attempts + 1, **content))
            return (found.id, True) if claimed.rowcount == 1 else None  # type: ignore[attr-defined]
    except IntegrityError:
        return None


def _finish(session: Session, row_id: int, out: Outgoing, *, error: str | None) -> None:
    with write_transaction(session):
        if error is None:
            session.execute(update(Notification).where(Notification.id == row_id)
                            .values(status=SENT, sent_at=clock.now(), error=None))
            # Its news is carried here: a digest covers from the last one sent, an alert
            # names what none sent named.
            session.execute(update(Notification).where(
                Notification.user_id == out.user_id, Notification.kind == out.kind.value,
                Notification.status == FAILED, Notification.period < out.period).values(status=SUPERSEDED))
        else:
            session.execute(update(Notification).where(Notification.id == row_id)
                            .values(status=FAILED, error=error[:2000]))


def send(session: Session, outgoing: Sequence[Outgoing], *, mailer: Mailer, sender: str, as_of: date,
         already: int = 0) -> RunSummary:
    """Claim, send and record each message; a failure is recorded and the rest go on."""
    summary = RunSummary(as_of=as_of, skipped=already)
    for out in outgoing:
        claim = _claim(session, out, now=clock.now())
        if claim is None:
            summary.skipped += 1
            continue
        row_id, failed_before = claim
        message = mail.build_message(sender=sender, to=out.email, subject=out.subject, text=out.text, html=out.html,
                                     sent_at=clock.now())
        try:
            mailer.send(message)
        except mail.MailFailed as failure:
            _finish(session, row_id, out, error=str(failure))
            summary.failed.append((out, str(failure)))
            continue
        _finish(session, row_id, out, error=None)
        summary.sent.append(out)
        summary.retried += failed_before
    return summary


def failures(session: Session) -> list[Notification]:
    """Messages whose last attempt failed and that no later message carried."""
    return list(session.scalars(select(Notification).where(Notification.status == FAILED)
                                .order_by(Notification.period, Notification.id)))
