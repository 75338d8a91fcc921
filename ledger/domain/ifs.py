"""The section 106 report of the Infrastructure Funding Statement (SPEC §4; CIL Regulations
2010 Schedule 2 paragraph 3, DOMAIN.md §1.4) as plain records.

The service layer fills these from the ledger; the workbook writer only lays them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType

from ledger.domain.entry_kinds import IfsRole, with_totals
from ledger.domain.money import ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One figure of the summary, with its defined name, label and legal reference."""

    name: str
    label: str
    reference: str
    value: Decimal | int


#: Defined name, label and legal reference of each summary figure, in the order printed.
ITEMS: tuple[tuple[str, str, str], ...] = (
    ("s106_a_money_secured", "Money to be provided under planning obligations entered into in the year",
     "Sch 2 para 3(a)"),
    ("s106_b_money_received", "Money received under planning obligations in the year", "Sch 2 para 3(b)"),
    ("s106_c_received_before_unallocated", "Money received before the year and not allocated", "Sch 2 para 3(c)"),
    ("s106_d_affordable_housing_units", "Affordable housing units to be provided (obligations entered into in the year)",
     "Sch 2 para 3(d)(i)"),
    ("s106_d_school_places", "School places to be provided (obligations entered into in the year)",
     "Sch 2 para 3(d)(ii)"),
    ("s106_e_allocated_not_spent", "Money allocated but not spent at the end of the year", "Sch 2 para 3(e)"),
    ("s106_f_money_spent", "Money spent in the year, including money transferred to another person to spend",
     "Sch 2 para 3(f)"),
    ("s106_h_borrowing_repaid", "Money spent in the year on repaying money borrowed, including interest",
     "Sch 2 para 3(h)(ii)"),
    ("s106_h_monitoring_spent", "Money spent in the year on monitoring the delivery of planning obligations",
     "Sch 2 para 3(h)(iii)"),
    ("s106_i_money_retained", "Money retained at the end of the year (received in any year)", "Sch 2 para 3(i)"),
    ("s106_i_commuted_sums_retained", "Of which commuted sums for longer-term maintenance", "Sch 2 para 3(i)"),
    ("s106_money_repaid", "Money repaid to developers in the year", "not required (extra)"),
)

#: The figures of the year's money each IFS role feeds: an entry's amount is counted in every
#: figure of every role of its kind (entry_kinds.KindRule.ifs), where the figure's own
#: condition holds (services.ifs: the (h) lines count projects repaying borrowing and
#: monitoring fees only). (e) and (i) come from every kind's effects on allocated and held money.
ROLE_FIGURES: Mapping[IfsRole, tuple[str, ...]] = MappingProxyType({
    IfsRole.RECEIVED: ("s106_b_money_received",),
    IfsRole.SPENT: ("s106_f_money_spent",),
    IfsRole.SPENT_BY_AUTHORITY: ("s106_h_borrowing_repaid", "s106_h_monitoring_spent"),
    IfsRole.REPAID: ("s106_money_repaid",),
    IfsRole.OPENING: (),
})
if set(ROLE_FIGURES) != set(IfsRole) or not {n for names in ROLE_FIGURES.values() for n in names} <= {
        name for name, _, _ in ITEMS}:
    raise TypeError("ifs.ROLE_FIGURES must name figures of ITEMS for every IfsRole")


@dataclass(frozen=True, slots=True, kw_only=True)
class SecuredRow:
    agreement_reference: str
    agreement_type: str
    authority_code: str
    division_code: str | None
    signed_on: date
    obligation_reference: str
    purpose: str
    service: str
    amount: Decimal | None
    units: int | None
    unit_kind: str | None
    school_category: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MovementRow:
    """A receipt, spend, transfer or repayment in the year."""

    kind: str
    entry_reference: str
    occurred_on: date
    agreement_reference: str
    obligation_reference: str
    authority_code: str
    division_code: str | None
    purpose: str
    service: str
    project_reference: str | None
    project_name: str | None
    repays_borrowing: bool
    recipient: str | None
    amount: Decimal
    interest: Decimal | None
    deadline: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocatedRow:
    """Money allocated to a project from one obligation and not spent at the year end."""

    project_reference: str
    project_name: str
    service: str
    division_code: str | None
    obligation_reference: str
    agreement_reference: str
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class RetainedRow:
    agreement_reference: str
    obligation_reference: str
    authority_code: str
    division_code: str | None
    purpose: str
    service: str
    commuted_sum: bool
    held_at_start: Decimal
    held: Decimal
    allocated_unspent: Decimal
    unallocated: Decimal
    received_before_unallocated: Decimal
    earliest_deadline: date | None


@with_totals
@dataclass(frozen=True, slots=True, kw_only=True)
class AreaTotals:
    """Figures for one authority, one division or one service."""

    code: str
    name: str
    secured: Decimal = ZERO
    received: Decimal = ZERO
    spent: Decimal = ZERO
    transferred: Decimal = ZERO
    repaid: Decimal = ZERO
    retained: Decimal = ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    name: str
    expected: Decimal | int
    actual: Decimal | int

    @property
    def holds(self) -> bool:
        return self.expected == self.actual


@dataclass(frozen=True, slots=True, kw_only=True)
class IfsReport:
    year: int
    start: date
    end: date
    as_known_at: datetime
    version: str
    items: list[Item]
    secured: list[SecuredRow]
    received: list[MovementRow]
    allocated: list[AllocatedRow]
    spent: list[MovementRow]
    repaid: list[MovementRow]
    #: Opening balances dated in the year (SPEC 8.3): held money, never in (b).
    opening: list[MovementRow]
    retained: list[RetainedRow]
    at_risk: list[object]
    by_authority: list[AreaTotals]
    by_division: list[AreaTotals]
    by_service: list[AreaTotals]
    school_places_by_category: dict[str, int]
    checks: list[Check] = field(default_factory=list)

    def value(self, name: str) -> Decimal | int:
        return next(i.value for i in self.items if i.name == name)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.holds]
