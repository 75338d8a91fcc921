"""Who is told what by email (SPEC 8.7, issue 16): the kinds of message, who may receive
each, which receipts crossed into an alert band, and what has not been said before.

A councillor's digest covers what happened in their division since their previous digest.
An officer's alert names each receipt in the "due within 12 months" or "past repayment
date" band on the run's date that has not been alerted in that band before; reviews due
and invoices overdue are likewise named once each. Nothing here reads a clock or a table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from ledger.domain.dates import Deadline
from ledger.domain.money import ZERO
from ledger.domain.rules import band_for
from ledger.domain.vocab import Band, Role


class NotificationKind(StrEnum):
    DIVISION_DIGEST = "division-digest"
    AT_RISK_ALERT = "at-risk-alert"
    REVIEWS_DUE = "reviews-due"
    INVOICES_OVERDUE = "invoices-overdue"


#: Each kind as its receiver chooses it on their account page.
KIND_LABELS = {
    NotificationKind.DIVISION_DIGEST: "A digest of your division: proposed and signed agreements, money received "
                                      "and spent, and money that became due for repayment soon",
    NotificationKind.AT_RISK_ALERT: "Receipts that move into \u201cdue within 12 months\u201d or past their "
                                    "repayment date",
    NotificationKind.REVIEWS_DUE: "Reviews of money at risk that have come due",
    NotificationKind.INVOICES_OVERDUE: "Invoices to developers that are overdue",
}
OFFICER_KINDS = (NotificationKind.AT_RISK_ALERT, NotificationKind.REVIEWS_DUE, NotificationKind.INVOICES_OVERDUE)
#: The bands an alert is about, most urgent first (SPEC 8.7).
ALERT_BANDS = (Band.OVERDUE, Band.RED)


def kinds_for(role: str, *, division_code: str | None) -> tuple[NotificationKind, ...]:
    """The kinds a user may receive: a councillor with a division its digest; officers and
    admins the alerts."""
    if role == Role.MEMBER:
        return (NotificationKind.DIVISION_DIGEST,) if division_code else ()
    return OFFICER_KINDS


def chosen(role: str, *, division_code: str | None,
           preferences: Mapping[str, bool]) -> tuple[NotificationKind, ...]:
    """The kinds a user receives: those their role may, less those they turned off (a kind
    they never chose about is on)."""
    return tuple(kind for kind in kinds_for(role, division_code=division_code) if preferences.get(kind, True))


def crossed_into(deadline: Deadline, *, since: date, on: date, red_months: int = 12,
                 amber_months: int = 24) -> Band | None:
    """The alert band a receipt's money moved into after ``since`` and by ``on``, or None.
    Bands count as ``band_for`` does: money enters "due within 12 months" on the day its
    deadline is twelve months ahead, and is past its date the day after the deadline."""
    now = band_for(deadline, as_of=on, red_months=red_months, amber_months=amber_months)
    if now not in ALERT_BANDS:
        return None
    before = band_for(deadline, as_of=since, red_months=red_months, amber_months=amber_months)
    if before == now or (before == Band.OVERDUE and now == Band.RED):
        return None
    return now


def alert_key(what: str, band: str | None = None) -> str:
    """How a notification records what it named: a receipt in a band, a review, an invoice."""
    return f"{what}@{band}" if band else what


def not_said_before(keys: Iterable[str], said: Iterable[str]) -> list[str]:
    """``keys`` that no earlier notification named, in their order, each once."""
    done = set(said)
    found = []
    for key in keys:
        if key not in done:
            found.append(key)
            done.add(key)
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementNews:
    reference: str
    site_name: str | None
    developer: str | None
    signed_on: date | None
    #: Money the obligations secure (signed) or ask for (proposed).
    money: Decimal
    obligations: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MoneyNews:
    """An entry recorded in the period: a receipt, or spend or a transfer on a project."""

    kind: str
    reference: str
    obligation_reference: str
    agreement_reference: str
    occurred_on: date
    amount: Decimal
    project: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BandNews:
    """A receipt's money at risk: in an alert band on the run's date."""

    obligation_reference: str
    agreement_reference: str
    receipt_reference: str
    deadline: date | None
    remaining: Decimal
    band: Band
    division_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest:
    """What happened in a division from ``since`` (the previous digest, or the account's
    creation) until ``until``."""

    division_code: str
    division_name: str
    since: datetime
    until: datetime
    proposed: list[AgreementNews]
    signed: list[AgreementNews]
    receipts: list[MoneyNews]
    spend: list[MoneyNews]
    moved: list[BandNews]

    @property
    def is_empty(self) -> bool:
        return not (self.proposed or self.signed or self.receipts or self.spend or self.moved)

    @property
    def received(self) -> Decimal:
        return sum((r.amount for r in self.receipts), ZERO)

    @property
    def spent(self) -> Decimal:
        return sum((s.amount for s in self.spend), ZERO)

    @property
    def moved_money(self) -> Decimal:
        return sum((m.remaining for m in self.moved), ZERO)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 receipt``, ``2 receipts``."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"
