"""Tables of SPEC §2. Columns and relationships only: the rules live in ledger.domain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ledger.db_types import ExactDecimal, Pence, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        Decimal: Pence(),
        datetime: UTCDateTime(),
        str: String(255),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Authority(Base):
    __tablename__ = "authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str]
    kind: Mapped[str] = mapped_column(String(32))
    # Terms an obligation created without its own takes (SPEC 8.2): unknown until the
    # council says what its deeds usually provide.
    default_repayment_basis: Mapped[str] = mapped_column(String(32), default="unknown",
                                                         server_default=text("'unknown'"))
    default_repayment_years: Mapped[int | None]


class Division(Base):
    __tablename__ = "divisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str]
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), index=True)
    members: Mapped[list[str]] = mapped_column(default=list)


class Agreement(Base):
    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint("(status = 'signed' AND signed_on IS NOT NULL) OR (status = 'proposed' AND signed_on IS NULL)",
                        name="status_signed_on"),
        # A division's agreements signed by a day, and its proposed ones (no signing), are
        # counted from the index alone.
        Index("ix_agreements_division_code_signed_on", "division_code", "signed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(unique=True)
    type: Mapped[str] = mapped_column(String(64))
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), index=True)
    planning_application: Mapped[str | None]
    site_name: Mapped[str | None]
    division_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"))
    # None while the agreement is proposed (SPEC 8.7).
    signed_on: Mapped[date | None] = mapped_column(index=True)
    varies: Mapped[str | None] = mapped_column(ForeignKey("agreements.reference"))
    superseded_on: Mapped[date | None]
    commencement_on: Mapped[date | None]
    completion_on: Mapped[date | None]
    dwellings: Mapped[int | None]
    developer: Mapped[str | None]
    document_url: Mapped[str | None] = mapped_column(String(2048))
    notes: Mapped[str | None] = mapped_column(Text)
    # Set on placeholders an import made for rows that named an agreement it did not have.
    needs_review: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    # Proposed (a planning application under negotiation) or signed (SPEC 8.7).
    status: Mapped[str] = mapped_column(String(16), default="signed", server_default=text("'signed'"))
    # When a proposed agreement was recorded as signed: a statement as known before then
    # leaves it out. None for one recorded signed from the start (its created_at says when).
    signed_recorded_at: Mapped[datetime | None]

    obligations: Mapped[list[Obligation]] = relationship(
        back_populates="agreement", order_by="Obligation.id"
    )


class AgreementHistory(Base):
    """An agreement's details as they stood before one correction: who changed them, when
    and why. A statement reproduced as known at an earlier moment reads the details from
    here (services.known_details). Append-only like the ledger (0006 triggers)."""

    __tablename__ = "agreement_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    changed_at: Mapped[datetime]
    changed_by: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)
    planning_application: Mapped[str | None]
    site_name: Mapped[str | None]
    division_code: Mapped[str | None] = mapped_column(String(64))
    superseded_on: Mapped[date | None]
    commencement_on: Mapped[date | None]
    completion_on: Mapped[date | None]
    dwellings: Mapped[int | None]
    developer: Mapped[str | None]
    document_url: Mapped[str | None] = mapped_column(String(2048))
    notes: Mapped[str | None] = mapped_column(Text)


class Obligation(Base):
    __tablename__ = "obligations"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(unique=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(64), index=True)
    service: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal | None]
    units: Mapped[int | None]
    unit_kind: Mapped[str | None] = mapped_column(String(64))
    school_category: Mapped[str | None] = mapped_column(String(32))
    commuted_sum: Mapped[bool] = mapped_column(default=False)
    index: Mapped[str] = mapped_column(String(32), default="none")
    index_base_date: Mapped[date | None]
    trigger: Mapped[str | None] = mapped_column(Text)
    repayment_years: Mapped[int | None]
    repayment_basis: Mapped[str] = mapped_column(String(32), default="receipt")
    # The obligation of an earlier agreement this one (of a deed of variation) replaces (SPEC 8.1).
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("obligations.id"))
    # The deed's repayment clause is satisfied by committing the money (SPEC 8.7): money
    # committed by a receipt's deadline is not at risk.
    commitment_stops_clock: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    needs_review: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str]
    created_at: Mapped[datetime]

    agreement: Mapped[Agreement] = relationship(back_populates="obligations")


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    service: Mapped[str] = mapped_column(String(64), index=True)
    division_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"), index=True)
    repays_borrowing: Mapped[bool] = mapped_column(default=False)
    needs_review: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str]
    created_at: Mapped[datetime]


class Entry(Base):
    """One immutable ledger entry. The database refuses UPDATE and DELETE (0001 triggers)."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("kind", "reference"),
        Index("ix_entries_obligation_id_occurred_on", "obligation_id", "occurred_on"),
        # Newest first, ties (an import's entries share its moment) by id: the dashboard's
        # latest entries are the index's last rows, with no sort of the tied thousands.
        Index("ix_entries_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str]
    kind: Mapped[str] = mapped_column(String(32))
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"))
    amount: Mapped[Decimal]
    interest: Mapped[Decimal | None]
    occurred_on: Mapped[date]
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    recipient: Mapped[str | None]
    # An opening balance's date of receipt, where known: its deadline counts from it (SPEC 8.3).
    original_received_on: Mapped[date | None]
    # Unique: an entry can be reversed once (SPEC rule 2), enforced by the database too.
    reverses: Mapped[int | None] = mapped_column(ForeignKey("entries.id"), unique=True)
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)

    obligation: Mapped[Obligation] = relationship()
    project: Mapped[Project | None] = relationship()


class IncomeDue(Base):
    """Money a developer has become liable to pay and the council has not yet received
    (the government format's `secured` status: the trigger has been met)."""

    __tablename__ = "income_due"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(unique=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), index=True)
    amount: Mapped[Decimal | None]
    due_on: Mapped[date]
    source: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str]
    created_at: Mapped[datetime]


class IndexValue(Base):
    """One published value of an index series; a revision is a new row, the old one kept."""

    __tablename__ = "index_values"
    __table_args__ = (UniqueConstraint("index", "period", "published_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    index: Mapped[str] = mapped_column(String(32))
    period: Mapped[date]
    value: Mapped[Decimal] = mapped_column(ExactDecimal())
    published_on: Mapped[date]
    provisional: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str]
    created_at: Mapped[datetime]


class Instalment(Base):
    """Part of an obligation that falls due when its trigger is met."""

    __tablename__ = "instalments"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(unique=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), index=True)
    share: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    fixed_sum: Mapped[Decimal | None]
    trigger_event: Mapped[str] = mapped_column(String(32))
    trigger_dwellings: Mapped[int | None]
    trigger_on: Mapped[date | None]
    index: Mapped[str] = mapped_column(String(32), default="none")
    base_date: Mapped[date | None]
    floor: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str]
    created_at: Mapped[datetime]

    obligation: Mapped[Obligation] = relationship()


class Occupation(Base):
    """A site's report of how many dwellings are occupied, cumulatively, at a date."""

    __tablename__ = "occupations"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    reported_on: Mapped[date]
    occupied: Mapped[int]
    created_by: Mapped[str]
    created_at: Mapped[datetime]


class Invoice(Base):
    """An instalment that fell due, with the figure worked out and the index values used,
    so the sum can be shown and reproduced: never recalculated once issued."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(unique=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalments.id"), unique=True)
    due_on: Mapped[date]
    issued_on: Mapped[date]
    base_amount: Mapped[Decimal]
    amount: Mapped[Decimal]
    index: Mapped[str] = mapped_column(String(32))
    base_period: Mapped[date | None]
    base_value: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    base_published_on: Mapped[date | None]
    trigger_period: Mapped[date | None]
    trigger_value: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    trigger_published_on: Mapped[date | None]
    floored: Mapped[bool] = mapped_column(default=False)
    explanation: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str]
    created_at: Mapped[datetime]

    instalment: Mapped[Instalment] = relationship()


class InvoicePayment(Base):
    """Part or all of a receipt matched to the invoice it pays."""

    __tablename__ = "invoice_payments"
    __table_args__ = (UniqueConstraint("invoice_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    amount: Mapped[Decimal]
    created_by: Mapped[str]
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    role: Mapped[str] = mapped_column(String(32))
    division_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"))
    password_hash: Mapped[str | None] = mapped_column(String(512))
    # Carried in the web session cookie and compared on every request: moving it on (signing
    # out, a new password, disabling) ends every copy of every session the user had.
    session_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Set with a temporary password an admin chose: the web sends the user to /account until
    # they choose their own (ledger.web.auth).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Moved on at most every few minutes (services.users.LAST_USE_PRECISION), not per request.
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class SignInThrottle(Base):
    """Failed sign-ins counted for one client address or one account (services.users)."""

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(unique=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    blocked_until: Mapped[datetime | None]


class AuditEvent(Base):
    """Every write and every refused request: who, when, what, before and after.
    Append-only like the ledger, but for one thing: a refusal counted per client and minute
    (``aggregate_key`` set) has its ``count`` moved on by the same refusal again in that
    minute (0007 triggers allow exactly that)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str]
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_reference: Mapped[str | None]
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    client: Mapped[str | None] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    aggregate_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)


class LedgerRevision(Base):
    """One row counting committed changes to the ledger's tables, moved on by database
    triggers (0006) whoever writes, so a read computed at one revision can be served again
    until the next change. Its row lock is also the ledger's commit lock (ledger.db.lock_ledger)."""

    __tablename__ = "ledger_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger)


class ImportRun(Base):
    """One committed import: who ran it, on what, and what became of the source's rows and
    money (services.import_runs). Written in the import's own transaction, so an import that
    fails or is killed leaves no run. Append-only (0009 triggers)."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str]
    format: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    committed: Mapped[bool]
    #: Per file and status: rows and money (decimal strings) in the source, imported, already
    #: in the ledger and rejected (importers.plan.SummaryLine).
    summary: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: Records created, by kind of record.
    created: Mapped[dict[str, Any]]
    warnings: Mapped[int]
    rejections: Mapped[int]
    opening_balances: Mapped[int]
    opening_balance_money: Mapped[Decimal]
    #: Money moved (rows of every status but agreements and secured contributions).
    source_money: Mapped[Decimal]
    imported_money: Mapped[Decimal]
    unchanged_money: Mapped[Decimal]
    rejected_money: Mapped[Decimal]


class ImportIssueRecord(Base):
    """One warning or rejection of an import run, with the row it is about."""

    __tablename__ = "import_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(64))
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int]
    reference: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None]
    field: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


class FinanceImport(Base):
    """One import of a finance-system export (issue 19): who, when, which file and mapping,
    and what became of its rows. Append-only (0011 triggers)."""

    __tablename__ = "finance_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str]
    source: Mapped[str] = mapped_column(Text)
    mapping: Mapped[str] = mapped_column(Text)
    rows: Mapped[int]
    added: Mapped[int]
    unchanged: Mapped[int]
    out_of_scope: Mapped[int]
    rejected: Mapped[int]
    balances: Mapped[int]
    #: The mapping's matching settings; the latest import's are in force.
    tolerance_days: Mapped[int]
    remittance_parts: Mapped[int]


class FinanceCostCode(Base):
    """What a finance cost code holds, as a mapping said at an import: section 106 money of
    an obligation, a service or a project. The latest row of a code is the one in force."""

    __tablename__ = "finance_cost_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str]
    import_id: Mapped[int] = mapped_column(ForeignKey("finance_imports.id"), index=True)
    created_at: Mapped[datetime]


class FinanceTransaction(Base):
    """One row of a finance export, kept whether or not its cost code holds section 106
    money. ``amount`` is money into the section 106 pot (the mapping's sign convention
    applied); ``key`` makes re-importing the same row add nothing (importers.finance)."""

    __tablename__ = "finance_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("finance_imports.id"), index=True)
    line: Mapped[int]
    posted_on: Mapped[date] = mapped_column(index=True)
    amount: Mapped[Decimal]
    cost_code: Mapped[str] = mapped_column(String(64), index=True)
    reference: Mapped[str | None]
    description: Mapped[str | None] = mapped_column(Text)
    transaction_id: Mapped[str | None]
    in_scope: Mapped[bool]
    created_at: Mapped[datetime]


class ReconciliationDecision(Base):
    """An officer's decision on one finance transaction: confirm the match proposed, reject
    it, or match it by hand to ledger entries. The latest decision of a transaction is the
    one in force; none is ever changed (0011 triggers)."""

    __tablename__ = "reconciliation_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("finance_transactions.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    entry_ids: Mapped[list[int]] = mapped_column(JSON)
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class BalanceAssertion(Base):
    """That a cost code, obligation or service held ``amount`` at the end of ``held_on``, as the
    finance system shows it: checked against the ledger's own figure. Append-only."""

    __tablename__ = "balance_assertions"
    __table_args__ = (UniqueConstraint("scope", "code", "held_on", "amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    code: Mapped[str]
    held_on: Mapped[date]
    amount: Mapped[Decimal]
    import_id: Mapped[int | None] = mapped_column(ForeignKey("finance_imports.id"))
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class AssertionResolution(Base):
    """A note that settles a failing balance assertion: it no longer shows as failing."""

    __tablename__ = "assertion_resolutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    assertion_id: Mapped[int] = mapped_column(ForeignKey("balance_assertions.id"), index=True)
    note: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str]
    created_at: Mapped[datetime]


class RepaymentTerms(Base):
    """Repayment terms an obligation takes from a date (SPEC 8.2), usually agreed by a deed of
    variation (``variation_id``): who recorded them, when and why. The obligation's own
    columns keep the deed's terms, in force until the first of these. Append-only (0013
    triggers): a mistake is corrected by recording the right terms from the same date."""

    __tablename__ = "repayment_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), index=True)
    in_force_from: Mapped[date]
    repayment_basis: Mapped[str] = mapped_column(String(32))
    repayment_years: Mapped[int | None]
    variation_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), index=True)
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)

    obligation: Mapped[Obligation] = relationship()
    variation: Mapped[Agreement | None] = relationship()


# A deed of variation's links, read by the agreement page's chain of variations (SPEC 8.1,
# 8.2): the agreements that vary this one, the obligation one replaces and those that
# replace it, an obligation's changes of terms and the changes a deed of variation agreed.
Agreement.varied_by = relationship(  # type: ignore[attr-defined]
    Agreement, foreign_keys=[Agreement.varies], order_by=[Agreement.signed_on, Agreement.id], viewonly=True)
Obligation.replaced = relationship(  # type: ignore[attr-defined]
    Obligation, foreign_keys=[Obligation.replaces_id], remote_side=[Obligation.id], viewonly=True)
Obligation.replaced_by = relationship(  # type: ignore[attr-defined]
    Obligation, foreign_keys=[Obligation.replaces_id], order_by=Obligation.id, viewonly=True)
Obligation.terms_changes = relationship(  # type: ignore[attr-defined]
    RepaymentTerms, order_by=RepaymentTerms.id, viewonly=True)
Agreement.terms_agreed = relationship(  # type: ignore[attr-defined]
    RepaymentTerms, foreign_keys=[RepaymentTerms.variation_id], order_by=RepaymentTerms.id, viewonly=True)


class Review(Base):
    """An officer's review of an obligation's money at risk (SPEC 8.7): what is being done,
    who owns it, when it is next looked at. Append-only (0012 triggers): a later review
    supersedes it, and the history stays."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_obligation_id_id", "obligation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"))
    status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    owner_email: Mapped[str]
    next_review_on: Mapped[date] = mapped_column(index=True)
    created_by: Mapped[str]
    created_at: Mapped[datetime]

    obligation: Mapped[Obligation] = relationship()


class Notification(Base):
    """One email to one user (SPEC 8.7): claimed under its unique (user, kind, period) before
    it is sent, so two runs never send it twice; a failed send is retried by the next run.
    ``items`` names what it told the user (alert_key), so nothing is told twice."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: The run's date (s106 notify send --as-of).
    period: Mapped[date]
    subject: Mapped[str] = mapped_column(Text)
    #: sending, sent, failed, or superseded (failed, and a later message carried its news).
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=1)
    #: What a digest covers: from the previous digest (or the account's creation) to the run.
    since: Mapped[datetime | None]
    until: Mapped[datetime | None]
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class NotificationPreference(Base):
    """A user's choice to receive a kind of notification or not; a kind with no row is on."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool]
    changed_at: Mapped[datetime]


class KeptObligationPosition(Base):
    """An obligation's money after every entry in force, kept by ledger.services.kept in the
    transaction of each write that changes it (issue 17): the pages read these instead of
    replaying the entries. The replay in ledger.domain stays the definition (`s106 check`)."""

    __tablename__ = "kept_obligation_positions"
    # A division's page sums its obligations' rows from this index alone on PostgreSQL (an
    # index-only scan of a few pages), where it looked each one up through its agreement.
    __table_args__ = (Index("ix_kept_obligation_positions_division_agreement", "division_code", "agreement_id",
                            postgresql_include=["obligation_id", "signed_on", "service", "secured", "received",
                                                "spent", "transferred", "repaid"]),)

    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), primary_key=True)
    division_code: Mapped[str | None] = mapped_column(String(64))
    #: The obligation's agreement, its signing and the obligation's service, copied: the
    #: division's page groups and filters these rows without reading the obligations.
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    signed_on: Mapped[date | None]
    service: Mapped[str] = mapped_column(String(64))
    #: The obligation's sum if its agreement is signed, else nothing (division totals' "secured").
    secured: Mapped[Decimal]
    received: Mapped[Decimal]
    spent: Mapped[Decimal]
    transferred: Mapped[Decimal]
    repaid: Mapped[Decimal]
    held: Mapped[Decimal]
    #: Allocated and not yet spent or transferred (U), and of that what is committed (C).
    allocated: Mapped[Decimal]
    committed: Mapped[Decimal]
    #: The last date these positions can change on by themselves: the latest entry's date, a
    #: change of terms in force from a later date, the agreement's signing. Asked about an
    #: earlier date, the reader works that obligation out from its entries instead.
    settled_from: Mapped[date | None] = mapped_column(index=True)


class KeptReceiptPosition(Base):
    """A receipt with money remaining after every entry in force (rule 8), with its deadline
    under the terms in force last (rule 7, SPEC 8.2): the at-risk reads' rows."""

    __tablename__ = "kept_receipt_positions"
    __table_args__ = (Index("ix_kept_receipt_positions_division_code_deadline", "division_code", "deadline"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), index=True)
    division_code: Mapped[str | None] = mapped_column(String(64))
    #: None with a reason (no-deadline or unknown-deadline, domain.dates.NoDeadline).
    deadline: Mapped[date | None] = mapped_column(index=True)
    no_deadline: Mapped[str | None] = mapped_column(String(32))
    remaining: Mapped[Decimal]
    allocated: Mapped[Decimal]
    committed: Mapped[Decimal]


class KeptProjectPosition(Base):
    """What an obligation's money did for one project after every entry in force: spent on
    it, transferred for it and allocated to it unspent. A division's page sums these over its
    agreements' obligations, where it summed every entry that named a project."""

    __tablename__ = "kept_project_positions"
    __table_args__ = (Index("ix_kept_project_positions_division_project", "division_code", "project_id",
                            postgresql_include=["obligation_id", "spent", "transferred", "allocated"]),)

    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    #: The obligation's division (its kept row's), copied: a division's page reads its rows by it.
    division_code: Mapped[str | None] = mapped_column(String(64))
    spent: Mapped[Decimal]
    transferred: Mapped[Decimal]
    #: Allocated and not yet spent or transferred (SPEC rule 4's U, for this project).
    allocated: Mapped[Decimal]


class KeptDivisionPosition(Base):
    """A division's totals after every entry in force: the sums of its obligations' kept
    positions, moved by the same writes ('' is the key of agreements in no division)."""

    __tablename__ = "kept_division_positions"

    division_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    secured: Mapped[Decimal]
    received: Mapped[Decimal]
    spent: Mapped[Decimal]
    transferred: Mapped[Decimal]
    repaid: Mapped[Decimal]
    held: Mapped[Decimal]
    allocated: Mapped[Decimal]
    committed: Mapped[Decimal]
    #: Receipts with money remaining, and their money with a deadline (the pages' whole list
    #: sums these 1,500 rows rather than every deadline's), with none, or one not yet known.
    receipts: Mapped[int]
    dated: Mapped[Decimal] = mapped_column(server_default=text("0"))
    no_deadline: Mapped[Decimal]
    unknown_deadline: Mapped[Decimal]


class KeptDeadlineTotal(Base):
    """The money of the kept receipt positions falling due on each date: the dashboard's
    bands and months are sums over a few thousand dates, not over every receipt."""

    __tablename__ = "kept_deadline_totals"

    deadline: Mapped[date] = mapped_column(primary_key=True)
    remaining: Mapped[Decimal]
    receipts: Mapped[int]


class KeptUrgentObligation(Base):
    """An obligation's money overdue, red or amber (deadline within ``amber_months`` of the
    day in kept_urgent_state), kept for that day: written afresh on the first read of a new
    day (services.kept_urgent.ensure) and moved by every write in between, so the dashboard,
    the divisions and the reviews panel read sums, not every receipt."""

    __tablename__ = "kept_urgent_obligations"

    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    division_code: Mapped[str | None] = mapped_column(String(64))
    money: Mapped[Decimal] = mapped_column(index=True)
    earliest_deadline: Mapped[date]


class KeptUrgentAgreement(Base):
    """An agreement with an obligation in kept_urgent_obligations, with its signing date
    copied: the agreements list with money at risk walks this table's index newest first
    rather than every agreement (at national size the newest 25,000 hold none). Moved with
    its obligations' rows, and rewritten when the agreement is corrected (kept.refresh_agreement)."""

    __tablename__ = "kept_urgent_agreements"

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    #: Whether the agreement has a signing date: those without sort last, as on the list. A
    #: column of its own so one ascending index serves the newest-first order on both databases.
    dated: Mapped[bool]
    signed_on: Mapped[date | None]

    __table_args__ = (Index("ix_kept_urgent_agreements_newest", "dated", "signed_on", "agreement_id"),)


class KeptUrgentDivision(Base):
    """Each division's urgent money for the day of kept_urgent_state ('' for no division)."""

    __tablename__ = "kept_urgent_divisions"

    division_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    money: Mapped[Decimal]
    obligations: Mapped[int]


class KeptUrgentState(Base):
    """The day (and amber band) the kept urgent money is for: one row."""

    __tablename__ = "kept_urgent_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date]
    amber_months: Mapped[int]
    #: How many agreements are kept urgent (rows of kept_urgent_agreements).
    agreements: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class KeptInvoiceOutstanding(Base):
    """An invoice not yet fully paid, with what its receipts have paid (reversed receipts pay
    nothing): income due reads these few rows, not every invoice and payment ever made."""

    __tablename__ = "kept_invoices_outstanding"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    due_on: Mapped[date] = mapped_column(index=True)
    paid: Mapped[Decimal]
    #: The invoice's amount less what was paid.
    outstanding: Mapped[Decimal]
