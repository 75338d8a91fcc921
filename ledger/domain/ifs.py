"""The Infrastructure Funding Statement as plain records: the section 106 report (SPEC §4;
CIL Regulations 2010 Schedule 2 paragraph 3, DOMAIN.md §1.4) of planning obligations only,
and the money of CIL (paragraph 1) and section 278 (paragraph 4) agreements apart (SPEC 8.1).

The service layer fills these from the ledger; the workbook writer only lays them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType

from ledger.domain.entry_kinds import IfsRole, with_totals
from ledger.domain.money import ZERO, format_money
from ledger.domain.reconcile import YearEnd
from ledger.domain.vocab import AgreementClass


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


#: The CIL report's figures the ledger can know (SPEC 8.1; Schedule 2 paragraph 1, DOMAIN.md §1.2).
#: Letters follow paragraph 1: (e) is CIL spend only, money passed to others is (i).
CIL_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("cil_b_receipts", "CIL receipts in the year", "Sch 2 para 1(b)"),
    ("cil_c_received_before_unallocated", "CIL received before the year and not allocated at its end",
     "Sch 2 para 1(c)"),
    ("cil_e_expenditure", "CIL spent in the year", "Sch 2 para 1(e)"),
    ("cil_f_allocated_not_spent", "CIL allocated and not spent at the end of the year", "Sch 2 para 1(f)"),
    ("cil_i_passed_to_others", "CIL passed to another body in the year", "Sch 2 para 1(i)"),
    ("cil_l_retained", "CIL retained at the end of the year (received in any year)", "Sch 2 para 1(l)"),
)

#: Paragraph 1 items that need records this ledger does not keep.
CIL_NOT_RECORDED: tuple[tuple[str, str], ...] = (
    ("Sch 2 para 1(a)", "Total value of CIL set out in demand notices issued in the year"),
    ("Sch 2 para 1(g)(iii)", "CIL spent on administrative expenses (regulation 61), and as a share of CIL collected"),
    ("Sch 2 para 1(i)(i), (j), (k)", "The neighbourhood portion: CIL passed to parish councils (regulations 59A and "
     "59B), spent or recovered under regulations 59E and 59F, and notices served under regulation 59E"),
)

#: Section 278 highway agreements' money (SPEC 8.1; Schedule 2 paragraph 4, DOMAIN.md §1.5),
#: each balance as the section 106 item of the same letter.
S278_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("s278_a_money_secured", "Money to be provided under section 278 agreements entered into in the year",
     "Sch 2 para 4(a)"),
    ("s278_b_money_received", "Money received under section 278 agreements in the year", "Sch 2 para 4"),
    ("s278_f_money_spent", "Money spent in the year under section 278 agreements, including money transferred",
     "Sch 2 para 4(b)"),
    ("s278_i_money_retained", "Section 278 money retained at the end of the year", "Sch 2 para 4"),
)


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
    #: A deed of variation's obligation: the obligation it replaces and that one's amount (SPEC 8.1).
    replaces_reference: str | None = None
    replaced_amount: Decimal | None = None

    @property
    def counted_amount(self) -> Decimal | None:
        """What (a) counts: a variation counts only what it changes, so money secured by the
        varied agreement is not counted twice; a decrease is negative."""
        if self.replaces_reference is None:
            return self.amount
        return (self.amount or ZERO) - (self.replaced_amount or ZERO)

    @property
    def explanation(self) -> str:
        if self.replaces_reference is None:
            return ""
        change = self.counted_amount or ZERO
        was = format_money(self.replaced_amount or ZERO)
        if change < ZERO:
            return (f"Replaces {self.replaces_reference} ({was}): the variation reduces the money secured, "
                    f"counted as a decrease of {format_money(-change)}")
        return f"Replaces {self.replaces_reference} ({was}): only the increase of {format_money(change)} is counted"


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
    #: A detail sheet the check reads that not every edition holds (the public one has no
    #: money-at-risk sheet): the check is printed only where that sheet is.
    internal_sheet: str | None = None

    @property
    def holds(self) -> bool:
        return self.expected == self.actual


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassReport:
    """The year's money of the CIL or section 278 agreements (SPEC 8.1), with the rows behind it."""

    agreement_class: AgreementClass
    items: list[Item]
    secured: list[SecuredRow]
    received: list[MovementRow]
    allocated: list[AllocatedRow]
    #: Spend and transfers to other bodies.
    spent: list[MovementRow]
    repaid: list[MovementRow]
    opening: list[MovementRow]
    retained: list[RetainedRow]

    def value(self, name: str) -> Decimal | int:
        return next(i.value for i in self.items if i.name == name)


@dataclass(frozen=True, slots=True, kw_only=True)
class FlaggedRow:
    """An obligation or project flagged for review (or a placeholder an import made), with the
    money the statement counts on it: held at the year end (for a project, allocated and not
    spent) and what left it in the year. Money received and still held is counted once."""

    what: str
    reference: str
    agreement_reference: str | None
    agreement_class: str | None
    reason: str
    held: Decimal
    out_in_year: Decimal

    @property
    def amount(self) -> Decimal:
        return self.held + self.out_in_year


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownDeadlineRow:
    """Money of a receipt (or opening balance) held at the year end whose repayment date is unknown."""

    entry_reference: str
    kind: str
    occurred_on: date
    obligation_reference: str
    agreement_reference: str
    agreement_class: str
    remaining: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class DataQuality:
    """What the statement's figures rest on that a person has still to confirm (SPEC 8.4). The
    sections may overlap (an opening balance without its date of receipt has an unknown
    deadline), so their totals are stated apart, never added."""

    #: Obligations flagged needs-review (their own flag or their agreement's) and projects so flagged.
    needs_review: list[FlaggedRow]
    #: Opening balances dated in the year: held money whose receipts are not in the ledger.
    opening: list[MovementRow]
    unknown_deadlines: list[UnknownDeadlineRow]
    #: Obligations an import made for transactions naming a contribution it did not have.
    placeholders: list[FlaggedRow]

    def totals(self) -> dict[str, Decimal]:
        """Each section's money, by its title on the Data quality sheet."""
        return {
            DATA_QUALITY_SECTIONS[0]: sum((r.amount for r in self.needs_review), ZERO),
            DATA_QUALITY_SECTIONS[1]: sum((r.amount for r in self.opening), ZERO),
            DATA_QUALITY_SECTIONS[2]: sum((r.remaining for r in self.unknown_deadlines), ZERO),
            DATA_QUALITY_SECTIONS[3]: sum((r.amount for r in self.placeholders), ZERO),
        }


DATA_QUALITY_SECTIONS = (
    "Money on obligations, agreements and projects flagged needs-review",
    "Opening balances dated in the year",
    "Money held at the year end whose repayment date is unknown",
    "Money on placeholder obligations made by an import",
)


def dependence_line(quality: DataQuality) -> str:
    """The Summary's one line: whether the figures rest on flagged data, and how much money."""
    flagged = [(title, total) for title, total in quality.totals().items() if total != ZERO]
    if not flagged:
        return "The figures do not depend on any data flagged on the Data quality sheet."
    parts = "; ".join(f"{title.lower()}: {format_money(total)}" for title, total in flagged)
    return f"The figures depend on data flagged on the Data quality sheet ({parts})."


@dataclass(frozen=True, slots=True, kw_only=True)
class IfsReport:
    """The statement: the section 106 report's figures and rows (planning obligations only),
    the CIL and section 278 money apart, and what the figures rest on (Data quality)."""

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
    cil: ClassReport
    s278: ClassReport
    data_quality: DataQuality
    checks: list[Check] = field(default_factory=list)
    #: Whether the year agrees with the finance ledger (issue 19): stated on the Checks sheet.
    reconciliation: YearEnd | None = None

    def value(self, name: str) -> Decimal | int:
        """The figure with this defined name, of any class (``s106_*``, ``cil_*``, ``s278_*``)."""
        return next(i.value for i in (*self.items, *self.cil.items, *self.s278.items) if i.name == name)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.holds]
