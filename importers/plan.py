"""What an import intends to write: plain records built by the importers (no database),
handed to one service call that writes them in one transaction."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from ledger.domain import limits
from ledger.domain.entry_kinds import PROJECT_KINDS
from ledger.domain.limits import CODE, INT32_MAX, LINE, URL
from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind
from ledger.services.entries import REFERENCE_MAX_LENGTH as ENTRY_REFERENCE_MAX_LENGTH

#: A planned record: an agreement, obligation, entry or income due.
R = TypeVar("R")

REJECTED = "rejected"
WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRow:
    """Where a planned record came from: file, line, reference, status and money."""

    file: str
    line: int
    reference: str
    status: str
    amount: Decimal | None = None

    def describe(self) -> str:
        return f"{self.file} line {self.line}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportIssue:
    """A refused row (``rejected``) or a note about a row that was taken (``warning``)."""

    source: SourceRow
    field: str
    reason: str
    severity: str = REJECTED
    #: A short, stable name for what happened (``opening-balance``, ``negative-amount``), by
    #: which the summary counts issues; the field's name where the call gives none.
    kind: str = ""

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", self.field)


@dataclass(kw_only=True)
class AgreementPlan:
    reference: str
    type: str
    authority_code: str
    signed_on: date
    planning_application: str | None = None
    site_name: str | None = None
    document_url: str | None = None
    notes: str | None = None
    superseded_on: date | None = None
    needs_review: bool = False
    source: SourceRow | None = None


@dataclass(kw_only=True)
class ObligationPlan:
    reference: str
    agreement_reference: str
    purpose: str
    service: str
    amount: Decimal | None = None
    units: int | None = None
    unit_kind: str | None = None
    school_category: str | None = None
    commuted_sum: bool = False
    trigger: str | None = None
    #: The terms the file gives (SPEC 8.2). A basis of None: the file gives none, and the
    #: import takes the authority's default, or unknown with a warning (services.imports).
    repayment_basis: str | None = None
    repayment_years: int | None = None
    needs_review: bool = False
    source: SourceRow | None = None


@dataclass(kw_only=True)
class EntryPlan:
    kind: EntryKind
    reference: str
    obligation_reference: str
    amount: Decimal
    occurred_on: date
    source: SourceRow
    project_reference: str | None = None
    recipient: str | None = None


#: How an import marks what it made for rows naming a record the files do not hold: the
#: notes of a placeholder agreement, the trigger of a placeholder obligation (the IFS Data
#: quality sheet finds them by it).
PLACEHOLDER = "placeholder:"


@dataclass(kw_only=True)
class DuePlan:
    reference: str
    obligation_reference: str
    amount: Decimal | None
    due_on: date
    source: SourceRow


@dataclass(kw_only=True)
class ImportPlan:
    """Everything one import would write, and every row it already refused."""

    label: str
    #: Which importer made it: "gov-csv" or "tracker" (the import history records it).
    format: str = "gov-csv"
    authorities: dict[str, str] = field(default_factory=dict)
    agreements: list[AgreementPlan] = field(default_factory=list)
    obligations: list[ObligationPlan] = field(default_factory=list)
    entries: list[EntryPlan] = field(default_factory=list)
    dues: list[DuePlan] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    #: Every source row that carries money or a record, for the summary.
    sources: list[SourceRow] = field(default_factory=list)
    #: Rows taken that record nothing of their own (units without money, a zero amount),
    #: each with the obligation it belongs to: already in the ledger when that one is.
    noted: list[tuple[SourceRow, str]] = field(default_factory=list)
    #: Bring in an opening balance where a contribution's outflows exceed its recorded
    #: receipts, rather than refuse them (SPEC 8.3: the government CSV importer).
    opening_balances: bool = False

    def reject(self, source: SourceRow, field_name: str, reason: str, *, kind: str = "") -> None:
        self.issues.append(ImportIssue(source=source, field=field_name, reason=reason, kind=kind))

    def warn(self, source: SourceRow, field_name: str, reason: str, *, kind: str = "") -> None:
        self.issues.append(ImportIssue(source=source, field=field_name, reason=reason, severity=WARNING, kind=kind))

    @property
    def rejected(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == REJECTED]

    def refuse_unstorable(self) -> None:
        """Refuse every planned record holding a value no column can keep (a reference or
        name longer than its column, or than what is built from it leaves room for; a NUL; a
        count past 32 bits), and every record that hangs on a refused one, each into the
        rejects report with its row. PostgreSQL would otherwise refuse the whole import with
        a database error; SQLite would keep what the API refuses."""
        # An authority whose code does not fit is not made; its agreements are refused below.
        self.authorities = {code: name for code, name in self.authorities.items()
                            if limits.text_problem(code, max_length=CODE) is None}
        self.agreements, refused_agreements = self._keep_storable(self.agreements, AGREEMENT_LIMITS, "agreement")
        self.obligations, refused = self._keep_storable(self.obligations, OBLIGATION_LIMITS, "obligation",
                                                        hangs_on=("agreement_reference", refused_agreements))
        placeholder_projects = {o.reference for o in self.obligations if len(default_project_name(o.reference)) > LINE}

        def project_name_fits(entry: EntryPlan) -> tuple[str, str] | None:
            if entry.kind in PROJECT_KINDS and not entry.project_reference \
                    and entry.obligation_reference in placeholder_projects:
                return ("obligation_reference", "the project made for this entry would have a name longer than "
                        f"{LINE} characters: give the obligation a shorter reference")
            return None

        self.entries, _ = self._keep_storable(self.entries, ENTRY_LIMITS, "entry",
                                              hangs_on=("obligation_reference", refused), also=project_name_fits)
        self.dues, _ = self._keep_storable(self.dues, DUE_LIMITS, "income due",
                                           hangs_on=("obligation_reference", refused))

    def _keep_storable(
        self, records: list[R], checks: tuple[tuple[str, int | None, bool], ...], what: str, *,
        hangs_on: tuple[str, dict[str, str]] | None = None,
        also: Callable[[R], tuple[str, str] | None] | None = None,
    ) -> tuple[list[R], dict[str, str]]:
        """The records that fit their columns and do not hang on a refused one (``hangs_on``:
        the attribute naming it, and the refused references with why); each other one goes
        into the rejects report. Returns the kept ones, and why each refused one was, by
        reference (for the records that hang on these)."""
        kept: list[R] = []
        refused: dict[str, str] = {}
        for record in records:
            problem = _first_problem(record, checks)
            if problem is None and hangs_on is not None:
                attribute, refused_parents = hangs_on
                parent = getattr(record, attribute)
                if parent in refused_parents:
                    problem = (attribute, f"refused with {refused_parents[parent]}")
            if problem is None and also is not None:
                problem = also(record)
            if problem is None:
                kept.append(record)
                continue
            reference = getattr(record, "reference", None)
            if reference is not None:
                refused[reference] = f"{what} {_shown(reference)}: {problem[1]}"
            if record.source is not None:  # type: ignore[attr-defined]
                self.reject(record.source, *problem)  # type: ignore[attr-defined]
        return kept, refused

    @property
    def warnings(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == WARNING]


def default_project_reference(obligation_reference: str) -> str:
    """The project an import makes for an entry that names none (services.imports)."""
    return f"{obligation_reference}/project"


def default_project_name(obligation_reference: str) -> str:
    """That project's name: the longer of what is built from the obligation's reference."""
    return f"Not recorded: imported for {obligation_reference}"


#: (attribute, longest, one line): what each planned record's text must fit (ledger.models).
AGREEMENT_LIMITS = (("reference", LINE, True), ("authority_code", CODE, True), ("type", CODE, True),
                    ("planning_application", LINE, False), ("site_name", LINE, False),
                    ("document_url", URL, False), ("notes", None, False))
OBLIGATION_LIMITS = (("reference", LINE, True), ("purpose", CODE, True), ("service", CODE, True),
                     ("unit_kind", CODE, True), ("school_category", CODE, True), ("trigger", None, False),
                     ("units", INT32_MAX, False), ("repayment_years", INT32_MAX, False))
ENTRY_LIMITS = (("reference", ENTRY_REFERENCE_MAX_LENGTH, True), ("project_reference", LINE, True),
                ("recipient", LINE, False))
DUE_LIMITS = (("reference", LINE, True),)
# What no engine stores in text: NUL (PostgreSQL) and lone surrogates.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _first_problem(record: object, checks: tuple[tuple[str, int | None, bool], ...]) -> tuple[str, str] | None:
    """(attribute, why) of the first value of ``record`` that does not fit, or None.
    References and codes (one line) take no control characters; other text no NUL."""
    for name, longest, one_line in checks:
        value = getattr(record, name)
        if value is None:
            continue
        if isinstance(value, int):
            if longest is not None and value > longest:
                return name, f"{value} is more than the ledger can count"
            continue
        problem = limits.unprintable(value) if one_line else None
        if problem is None and _UNSTORABLE.search(value):
            problem = "must not contain a NUL character"
        if problem is None and longest is not None and len(value) > longest:
            problem = f"must be at most {longest} characters long, not {len(value)}"
        if problem:
            return name, f"{name} {problem}"
    return None


def _shown(reference: str) -> str:
    """A reference as a reason quotes it: a long one cut short."""
    return repr(reference if len(reference) <= 40 else reference[:37] + "...")


@dataclass(kw_only=True)
class SummaryLine:
    """Rows and money of one file and status: source = imported + unchanged + rejected."""

    file: str
    status: str
    rows: int = 0
    source: Decimal = ZERO
    imported_rows: int = 0
    imported: Decimal = ZERO
    unchanged_rows: int = 0
    unchanged: Decimal = ZERO
    rejected_rows: int = 0
    rejected: Decimal = ZERO

    @property
    def adds_up(self) -> bool:
        return (self.rows == self.imported_rows + self.unchanged_rows + self.rejected_rows
                and self.source == self.imported + self.unchanged + self.rejected)


def summarise(sources: list[SourceRow], *, rejected: set[SourceRow], unchanged: set[SourceRow]) -> list[SummaryLine]:
    """Per file and status, what the source held and where each row went."""
    lines: dict[tuple[str, str], SummaryLine] = {}
    for row in sources:
        line = lines.get((row.file, row.status))
        if line is None:
            line = lines[(row.file, row.status)] = SummaryLine(file=row.file, status=row.status)
        money = abs(row.amount) if row.amount is not None else ZERO
        line.rows += 1
        line.source += money
        # Hashing a row costs: skip it when nobody was refused or already there (a first import).
        if rejected and row in rejected:
            line.rejected_rows += 1
            line.rejected += money
        elif unchanged and row in unchanged:
            line.unchanged_rows += 1
            line.unchanged += money
        else:
            line.imported_rows += 1
            line.imported += money
    return [lines[k] for k in sorted(lines)]


def group_by_file(issues: list[ImportIssue]) -> dict[str, list[ImportIssue]]:
    grouped: dict[str, list[ImportIssue]] = defaultdict(list)
    for issue in issues:
        grouped[issue.source.file].append(issue)
    return grouped
