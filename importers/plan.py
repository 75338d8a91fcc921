"""What an import intends to write: plain records built by the importers (no database),
handed to one service call that writes them in one transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind

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
    repayment_years: int | None = 10
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
    authorities: dict[str, str] = field(default_factory=dict)
    agreements: list[AgreementPlan] = field(default_factory=list)
    obligations: list[ObligationPlan] = field(default_factory=list)
    entries: list[EntryPlan] = field(default_factory=list)
    dues: list[DuePlan] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    #: Every source row that carries money or a record, for the summary.
    sources: list[SourceRow] = field(default_factory=list)

    def reject(self, source: SourceRow, field_name: str, reason: str) -> None:
        self.issues.append(ImportIssue(source=source, field=field_name, reason=reason))

    def warn(self, source: SourceRow, field_name: str, reason: str) -> None:
        self.issues.append(ImportIssue(source=source, field=field_name, reason=reason, severity=WARNING))

    @property
    def rejected(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == REJECTED]

    @property
    def warnings(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == WARNING]


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
