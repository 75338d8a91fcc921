"""Indexation and payment triggers (SPEC rules 10-11; DOMAIN.md §4.1-4.2).

A = B x C / D: the sum payable is the base sum in the deed times the index for the period
of the trigger over the index for the period of the base date, rounded half-up to the
penny, optionally never below the base sum. Index values are entered by users (BCIS is
licensed) and revised: each value carries its publication date, and a calculation uses
the latest value published by the moment it is made, so an issued figure never changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ledger.domain.money import PENNY


class TriggerEvent(StrEnum):
    COMMENCEMENT = "commencement"
    OCCUPATION = "occupation"
    DATE = "date"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexPoint:
    """One published value of an index series for a period (first day of month or quarter)."""

    index: str
    period: date
    value: Decimal
    published_on: date
    provisional: bool = False


class IndexMissing(LookupError):
    """No value of the series covers the date as known at the moment."""


#: How often each series is published. BCIS tender price indices come quarterly; RPI, CPI
#: and the BCIS general building cost index monthly.
QUARTERLY = frozenset({"bcis-tpi", "pubsec", "roadcon"})


def period_of(index: str, on: date) -> date:
    """The first day of the month, or of the quarter, that ``on`` falls in."""
    if index in QUARTERLY:
        return date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)
    return on.replace(day=1)


def value_for(points: Iterable[IndexPoint], *, index: str, on: date, known_on: date) -> IndexPoint:
    """The value of ``index`` for the period containing ``on``, in its latest revision
    published on or before ``known_on``. A missing period is an error, never a guess from
    a neighbouring one."""
    period = period_of(index, on)
    candidates = [p for p in points if p.index == index and p.period == period and p.published_on <= known_on]
    if not candidates:
        raise IndexMissing(f"no {index} value for {period:%B %Y} published by {known_on:%d %B %Y}")
    return max(candidates, key=lambda p: (p.published_on, not p.provisional))


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexedAmount:
    """A worked figure, kept with the values it used so it can be shown and reproduced."""

    base_amount: Decimal
    amount: Decimal
    base_point: IndexPoint | None = None
    trigger_point: IndexPoint | None = None
    floored: bool = False

    def explain(self) -> str:
        if self.base_point is None or self.trigger_point is None:
            return f"£{self.base_amount:,.2f}, not indexed"
        text = (f"£{self.base_amount:,.2f} x {self.trigger_point.index} {self.trigger_point.value} "
                f"({self.trigger_point.period:%b %Y}) / {self.base_point.value} ({self.base_point.period:%b %Y})")
        return f"{text} = £{self.amount:,.2f}" + (" (floored at the base sum)" if self.floored else "")


def indexed_amount(base_amount: Decimal, *, base: IndexPoint | None, trigger: IndexPoint | None,
                   floor: bool = False) -> IndexedAmount:
    """A = B x C / D, half-up to the penny; with ``floor``, never less than B."""
    if base is None or trigger is None:
        return IndexedAmount(base_amount=base_amount, amount=base_amount)
    exact = base_amount * trigger.value / base.value
    amount = exact.quantize(PENNY, rounding=ROUND_HALF_UP)
    floored = floor and amount < base_amount
    return IndexedAmount(base_amount=base_amount, amount=base_amount if floored else amount, base_point=base,
                         trigger_point=trigger, floored=floored)


@dataclass(frozen=True, slots=True, kw_only=True)
class Milestones:
    """What the site has reported: commencement, occupations (cumulative), completion."""

    commencement_on: date | None = None
    occupations: tuple[tuple[date, int], ...] = ()
    completion_on: date | None = None


def trigger_date(event: TriggerEvent, milestones: Milestones, *, dwellings: int | None = None,
                 fixed_on: date | None = None) -> date | None:
    """The date an instalment's trigger was met, or None while it has not been.

    Commencement: the day the site commenced. Occupation of N dwellings: the date of the
    first report whose cumulative occupations reach N. A fixed date: that date. Manual:
    the date an officer recorded (``fixed_on``).
    """
    if event is TriggerEvent.COMMENCEMENT:
        return milestones.commencement_on
    if event is TriggerEvent.OCCUPATION:
        if dwellings is None:
            return None
        reached = [on for on, occupied in milestones.occupations if occupied >= dwellings]
        return min(reached) if reached else None
    return fixed_on


def is_met(event: TriggerEvent, milestones: Milestones, *, today: date, dwellings: int | None = None,
           fixed_on: date | None = None) -> bool:
    met = trigger_date(event, milestones, dwellings=dwellings, fixed_on=fixed_on)
    return met is not None and met <= today


def instalment_base(*, obligation_amount: Decimal | None, share: Decimal | None, fixed_sum: Decimal | None) -> Decimal:
    """An instalment's base sum: a fixed sum, or a share of the obligation's base amount."""
    if fixed_sum is not None:
        return fixed_sum
    if share is None or obligation_amount is None:
        raise ValueError("an instalment needs a fixed sum, or a share of an obligation with an amount")
    return (obligation_amount * share).quantize(PENNY, rounding=ROUND_HALF_UP)
