"""Boundary schemas: marshmallow in (load) and out (dump). Unknown fields are refused.

Every field a client sends is checked to fit what stores it (ledger.domain.limits): text
its column's length and no control characters, whole numbers a 32-bit column, dates the
ledger's range. So a bad request is a 422 naming the field, never a database error."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import validate

from ledger.domain import limits
from ledger.domain.agreement_status import AgreementStatus
from ledger.domain.dates import EARLIEST_DATE, LATEST_DATE, MAX_REPAYMENT_YEARS
from ledger.domain.money import MoneyError, parse_money
from ledger.domain.vocab import (
    AgreementType,
    AuthorityKind,
    Band,
    EntryKind,
    Index,
    Purpose,
    RepaymentBasis,
    SchoolCategory,
    UnitKind,
)
from ledger.services.entries import REFERENCE_MAX_LENGTH as ENTRY_REFERENCE_MAX_LENGTH
from ledger.services.income import INSTALMENT_REFERENCE_MAX_LENGTH

# \Z, not $: `$` also matches before a final newline, which would let "education\n" through.
SLUG = validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*\Z", error="must be a lower-case slug such as education-primary")
#: Members of a division: a list, not a table, so its own limit.
MAX_MEMBERS = 100


def one_of(values: Any) -> validate.OneOf:
    return validate.OneOf([str(v) for v in values])


class Printable(validate.Validator):
    """Refuses control characters (but tab and line breaks in ``multiline`` text) and lone
    surrogates: PostgreSQL cannot store NUL, and neither engine a lone surrogate."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: str) -> str:
        problem = limits.unprintable(value, multiline=self.multiline)
        if problem:
            raise ma.ValidationError(problem)
        return value


#: Printable in the OpenAPI description (ECMAScript regular expressions, as JSON Schema has).
LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
PROSE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"


class Text(ma.fields.String):
    """A string that fits its column: at most ``max_length`` characters (at least
    ``min_length``), printable, on one line unless ``multiline``."""

    def __init__(self, *, max_length: int = limits.LINE, min_length: int | None = None, multiline: bool = False,
                 validate: Any = None, **kwargs: Any) -> None:
        extra = [] if validate is None else validate if isinstance(validate, list) else [validate]
        metadata = kwargs.pop("metadata", {})
        if not any(isinstance(v, ma.validate.Regexp) for v in extra):  # a slug's pattern says more
            metadata = {"pattern": PROSE_PATTERN if multiline else LINE_PATTERN} | metadata
        super().__init__(validate=[ma.validate.Length(min=min_length, max=max_length), Printable(multiline=multiline),
                                   *extra], metadata=metadata, **kwargs)


class Code(Text):
    """An authority or division code, a service slug: String(64) columns."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=limits.CODE, **kwargs)


class Reference(Text):
    """A natural reference, never empty: String(255), less what is built from it."""

    def __init__(self, *, max_length: int = limits.LINE, **kwargs: Any) -> None:
        super().__init__(min_length=1, max_length=max_length, **kwargs)


class Prose(Text):
    """Free text for a Text column (notes, reasons, triggers): line breaks allowed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=limits.PROSE, multiline=True, **kwargs)


class Link(ma.fields.URL):
    """A web address for a String(2048) column."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=[ma.validate.Length(max=limits.URL), Printable()], **kwargs)


class Whole(ma.fields.Integer):
    """A whole number, as a JSON number or in ASCII digits, that fits a 32-bit column:
    marshmallow's Integer alone reads "١٢", " 12 " and "1_000", and truncates 1.5 to 1."""

    default_error_messages = {"invalid": "Not a valid integer."}

    def __init__(self, *, minimum: int = 0, maximum: int = limits.INT32_MAX, validate: Any = None,
                 **kwargs: Any) -> None:
        extra = [] if validate is None else validate if isinstance(validate, list) else [validate]
        super().__init__(validate=[ma.validate.Range(min=minimum, max=maximum), *extra], **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and not re.fullmatch(r"-?[0-9]{1,20}", value):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-any-return]


DATE_RANGE = f"between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"
#: The range in the OpenAPI description, which has no minimum for a string: years 1900-2199.
YEARS_PATTERN = "^(19|2[01])[0-9][0-9]-"


class LedgerDate(ma.fields.Date):
    """An ISO date the ledger takes: from 1900-01-01 to 2199-12-31 (ledger.domain.dates).
    A completion in 9999 would put repayment deadlines past the calendar's end."""

    default_error_messages = {"range": f"must be {DATE_RANGE}"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"pattern": YEARS_PATTERN} | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day: date = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            raise self.make_error("range")
        return day


class Moment(ma.fields.AwareDateTime):
    """An ISO timestamp with a zone (as known at), on a day the ledger takes: its UTC time
    is then never beyond the calendar's ends."""

    default_error_messages = {"range": f"must be {DATE_RANGE}"}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": YEARS_PATTERN} | kwargs.pop("metadata", {})
        super().__init__(default_timezone=None, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment: datetime = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST_DATE <= moment.date() <= LATEST_DATE:
            raise self.make_error("range")
        return moment


class Money(ma.fields.String):
    """Pounds as a string with at most two decimals (SPEC rule 1); numbers are refused."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": r"^[0-9]{1,13}(\.[0-9]{1,2})?$", "example": "1234.50"} | kwargs.pop("metadata", {})
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:  # type: ignore[override]
        try:
            return parse_money(value)
        except MoneyError as error:
            raise ma.ValidationError(str(error)) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{value:.2f}"


class Schema(ma.Schema):
    # marshmallow says "Invalid input type." of a body that is JSON but not an object.
    error_messages = {"type": "must be a JSON object"}

    class Meta:
        ordered = True


class Filters(Schema):
    authority = Code(metadata={"description": "planning authority code"})
    division = Code(metadata={"description": "electoral division code"})
    purpose = Code(metadata={"description": "government contribution-purpose code"})
    service = Code(metadata={"description": "council service"})


class Authority(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = Code(required=True, min_length=1)
    name = Text(required=True, min_length=1)
    kind = ma.fields.String(required=True, validate=one_of(AuthorityKind))
    default_repayment_basis = ma.fields.String(
        validate=one_of(RepaymentBasis),
        metadata={"description": "terms an obligation created without its own takes (SPEC 8.2); default unknown"})
    default_repayment_years = Whole(allow_none=True, minimum=1, maximum=MAX_REPAYMENT_YEARS)


class AuthorityTerms(Schema):
    default_repayment_basis = ma.fields.String(required=True, validate=one_of(RepaymentBasis))
    default_repayment_years = Whole(allow_none=True, load_default=None, minimum=1, maximum=MAX_REPAYMENT_YEARS)
    reason = Prose(required=True, min_length=1)


class Division(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = Code(required=True, min_length=1)
    name = Text(required=True, min_length=1)
    authority_code = Code(required=True)
    members = ma.fields.List(Text(min_length=1), load_default=list, validate=validate.Length(max=MAX_MEMBERS))


class Agreement(Schema):
    id = ma.fields.Integer(dump_only=True)
    reference = Reference(required=True)
    type = ma.fields.String(required=True, validate=one_of(AgreementType))
    authority_code = Code(required=True)
    planning_application = Text(allow_none=True)
    site_name = Text(allow_none=True)
    division_code = Code(allow_none=True)
    signed_on = LedgerDate(allow_none=True, metadata={"description": "date entered into; required unless the "
                                                                     "agreement is proposed, which has none"})
    status = ma.fields.String(load_default=AgreementStatus.SIGNED.value, validate=one_of(AgreementStatus),
                              metadata={"description": "proposed (under negotiation: takes no entries and counts "
                                                       "in no statement figure) or signed (the default)"})
    varies = Text(allow_none=True)
    superseded_on = LedgerDate(allow_none=True)
    commencement_on = LedgerDate(allow_none=True)
    completion_on = LedgerDate(allow_none=True)
    dwellings = Whole(allow_none=True)
    developer = Text(allow_none=True)
    document_url = Link(allow_none=True)
    notes = Prose(allow_none=True)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)

    @ma.validates_schema(pass_original=True, skip_on_field_errors=False)
    def _signed_has_a_date(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        # Required unless proposed, in the words marshmallow uses for a missing field (it was
        # required before SPEC 8.7); alongside the other fields' errors, as a required field's is.
        if not isinstance(original, dict):
            return  # refused whole already
        if data.get("status", AgreementStatus.SIGNED) == AgreementStatus.SIGNED and original.get("signed_on") is None:
            raise ma.ValidationError({"signed_on": ["Missing data for required field."]})


class AgreementChanges(Schema):
    planning_application = Text(allow_none=True)
    site_name = Text(allow_none=True)
    division_code = Code(allow_none=True)
    superseded_on = LedgerDate(allow_none=True)
    commencement_on = LedgerDate(allow_none=True)
    completion_on = LedgerDate(allow_none=True)
    dwellings = Whole(allow_none=True)
    developer = Text(allow_none=True)
    document_url = Link(allow_none=True)
    notes = Prose(allow_none=True)
    status = ma.fields.String(validate=one_of(AgreementStatus),
                              metadata={"description": "signed, with signed_on, to sign a proposed agreement"})
    signed_on = LedgerDate(allow_none=True, metadata={"description": "the date a proposed agreement was signed"})
    reason = Prose(required=True, min_length=1)


class Obligation(Schema):
    id = ma.fields.Integer(dump_only=True)
    reference = Reference(required=True)
    agreement_reference = ma.fields.Function(lambda o: o.agreement.reference, dump_only=True)
    purpose = ma.fields.String(required=True, validate=one_of(Purpose))
    service = Code(required=True, validate=SLUG)
    amount = Money(allow_none=True, metadata={"description": "money secured in the deed (base value)"})
    units = Whole(allow_none=True)
    unit_kind = ma.fields.String(allow_none=True, validate=one_of(UnitKind))
    school_category = ma.fields.String(allow_none=True, validate=one_of(SchoolCategory))
    commuted_sum = ma.fields.Boolean(load_default=False)
    index = ma.fields.String(load_default="none", validate=one_of(Index))
    index_base_date = LedgerDate(allow_none=True)
    trigger = Prose(allow_none=True)
    repayment_years = Whole(
        allow_none=True, minimum=1, maximum=MAX_REPAYMENT_YEARS,
        metadata={"description": "1-30: required with basis receipt, completion or last-payment, empty with none "
                                 "and unknown"},
    )
    repayment_basis = ma.fields.String(
        allow_none=True, validate=one_of(RepaymentBasis),
        metadata={"description": "what the deadline counts from (SPEC 8.2); omitted with repayment_years, the "
                                 "authority's default terms"},
    )
    replaces = Reference(load_only=True, allow_none=True, metadata={
        "description": "a deed of variation's obligation: the obligation (of the agreement it varies) it replaces; "
                       "item (a) counts only the difference"})
    commitment_stops_clock = ma.fields.Boolean(load_default=False, metadata={
        "description": "the repayment clause is satisfied by committing the money: money committed by a receipt's "
                       "deadline is not at risk (SPEC 8.7)"})
    needs_review = ma.fields.Boolean(dump_only=True)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class Project(Schema):
    id = ma.fields.Integer(dump_only=True)
    reference = Reference(required=True)
    name = Text(required=True, min_length=1)
    service = Code(required=True, validate=SLUG)
    division_code = Code(allow_none=True)
    repays_borrowing = ma.fields.Boolean(load_default=False)
    needs_review = ma.fields.Boolean(dump_only=True)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class EntryIn(Schema):
    kind = ma.fields.String(required=True, validate=one_of(EntryKind))
    reference = Reference(
        max_length=ENTRY_REFERENCE_MAX_LENGTH,
        metadata={"description": "idempotency key, unique per kind; generated when omitted. Shorter than "
                                 "other references: its reversal's and auto-allocation's are built from it"},
    )
    obligation_reference = Reference(required=True)
    amount = Money(required=True)
    occurred_on = LedgerDate(required=True, metadata={"description": "the business date"})
    project_reference = Text(allow_none=True)
    recipient = Text(allow_none=True)
    interest = Money(allow_none=True)
    original_received_on = LedgerDate(allow_none=True, metadata={
        "description": "an opening-balance's original date of receipt, if known: its repayment deadline "
                       "counts from it (unknown without it); not after occurred_on"})
    reason = Prose(required=True, min_length=1)


class EntryOut(Schema):
    id = ma.fields.Integer()
    reference = ma.fields.String()
    kind = ma.fields.String()
    obligation_reference = ma.fields.Function(lambda e: e.obligation.reference)
    amount = Money()
    interest = Money(allow_none=True)
    occurred_on = ma.fields.Date()
    project_reference = ma.fields.Function(lambda e: e.project.reference if e.project else None)
    recipient = ma.fields.String(allow_none=True)
    original_received_on = ma.fields.Date(allow_none=True)
    reverses = ma.fields.Integer(allow_none=True)
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()
    reason = ma.fields.String()


class EntryQuery(Filters):
    kind = ma.fields.String(validate=one_of(EntryKind))
    obligation = Text()
    project = Text()


class Reversal(Schema):
    reason = Prose(required=True, min_length=1)


class BalanceQuery(Schema):
    on = LedgerDate(metadata={"description": "end of this date; default today"})
    as_known_at = Moment(metadata={"description": "ignore entries recorded after this moment"})


class ReceiptPosition(Schema):
    reference = ma.fields.String()
    received_on = ma.fields.Date()
    amount = Money()
    remaining = Money()
    allocated = Money()
    unallocated = Money()
    deadline = ma.fields.Date(allow_none=True)
    band = ma.fields.String()


class ProjectBalance(Schema):
    project_reference = ma.fields.String()
    allocated_unspent = Money()
    committed_unspent = Money(metadata={"description": "of the allocated-unspent money, what is committed"})


class Balance(Schema):
    obligation_reference = ma.fields.String()
    on = ma.fields.Date()
    received = Money()
    spent = Money()
    transferred = Money()
    repaid = Money()
    held = Money()
    allocated_unspent = Money()
    unallocated = Money()
    committed_unspent = Money(metadata={"description": "of the allocated-unspent money, what is committed"})
    projects = ma.fields.List(ma.fields.Nested(ProjectBalance))
    receipts = ma.fields.List(ma.fields.Nested(ReceiptPosition))


class AtRiskQuery(Filters):
    as_of = LedgerDate(metadata={"description": "default today"})
    as_known_at = Moment()
    band = ma.fields.String(validate=one_of(Band))


class AtRiskItem(Schema):
    agreement_reference = ma.fields.String()
    obligation_reference = ma.fields.String()
    authority_code = ma.fields.String()
    division_code = ma.fields.String(allow_none=True)
    purpose = ma.fields.String()
    service = ma.fields.String()
    receipt_reference = ma.fields.String()
    received_on = ma.fields.Date()
    deadline = ma.fields.Date(allow_none=True)
    remaining = Money()
    allocated = Money()
    unallocated = Money()
    band = ma.fields.String()


class SummaryQuery(Schema):
    on = LedgerDate(metadata={"description": "default today"})
    as_known_at = Moment()


class BandTotal(Schema):
    band = ma.fields.String()
    remaining = Money()


class DivisionSummary(Schema):
    division_code = ma.fields.Function(lambda s: s.division.code)
    name = ma.fields.Function(lambda s: s.division.name)
    members = ma.fields.Function(lambda s: s.division.members)
    on = ma.fields.Date()
    agreements = ma.fields.Integer()
    secured = Money()
    received = Money()
    spent = Money()
    transferred = Money()
    repaid = Money()
    held = Money()
    at_risk = ma.fields.Function(
        lambda s: [{"band": str(b), "remaining": f"{v:.2f}"} for b, v in s.at_risk.items()],
        metadata={"description": "remaining money by band"},
    )
    projects = ma.fields.List(ma.fields.Nested(Project))


class AuditEvent(Schema):
    id = ma.fields.Integer()
    at = ma.fields.DateTime()
    actor = ma.fields.String()
    action = ma.fields.String()
    outcome = ma.fields.String()
    target_type = ma.fields.String(allow_none=True)
    target_reference = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    before = ma.fields.Dict(allow_none=True)
    after = ma.fields.Dict(allow_none=True)
    count = ma.fields.Integer(metadata={"description": "refusals alike from one client in this event's minute"})
    client = ma.fields.String(allow_none=True, metadata={"description": "the client's address"})


class FieldError(Schema):
    field = ma.fields.String()
    location = ma.fields.String()
    detail = ma.fields.String()


class Problem(Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldError))


class ExactNumber(ma.fields.String):
    """A decimal that is not money (an index value, a share), sent as a string."""

    def __init__(self, *, places: int = 6, **kwargs: Any) -> None:
        self.places = places
        super().__init__(metadata={"pattern": r"^[0-9]+(\.[0-9]+)?$"} | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:  # type: ignore[override]
        # ASCII digits: `\d` would take other scripts' digits, which Decimal reads too.
        if not isinstance(value, str) or not re.fullmatch(rf"[0-9]{{1,9}}(\.[0-9]{{1,{self.places}}})?", value.strip()):
            raise ma.ValidationError(f"must be a string such as \"123.4\" with at most {self.places} decimals")
        return Decimal(value.strip())

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format(value, "f")


class IndexValueSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    index = ma.fields.String(required=True, validate=one_of([i for i in Index if i != Index.NONE]))
    period = LedgerDate(required=True, metadata={"description": "first day of the month or quarter"})
    value = ExactNumber(required=True, places=4)
    published_on = LedgerDate(required=True)
    provisional = ma.fields.Boolean(load_default=False)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class IndexQuery(Schema):
    index = ma.fields.String(validate=one_of(Index))


class InstalmentSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    reference = Reference(required=True, max_length=INSTALMENT_REFERENCE_MAX_LENGTH,
                          metadata={"description": "its invoice's reference is built from it"})
    obligation_reference = ma.fields.Function(lambda i: i.obligation.reference, dump_only=True)
    share = ExactNumber(allow_none=True, places=6, validate=validate.Range(min=Decimal(0), max=Decimal(1), min_inclusive=False),
                        metadata={"description": "fraction of the obligation, e.g. \"0.5\""})
    fixed_sum = Money(allow_none=True)
    trigger_event = ma.fields.String(required=True, validate=one_of(["commencement", "occupation", "date", "manual"]))
    trigger_dwellings = Whole(allow_none=True, minimum=1)
    trigger_on = LedgerDate(allow_none=True, metadata={"description": "date trigger, or when a manual one was met"})
    index = ma.fields.String(validate=one_of(Index), metadata={"description": "default: the obligation's"})
    base_date = LedgerDate(allow_none=True)
    floor = ma.fields.Boolean(load_default=False)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class MilestoneSchema(Schema):
    kind = ma.fields.String(required=True, validate=one_of(["commencement", "occupation", "completion"]))
    on = LedgerDate(required=True)
    occupied = Whole(minimum=1,
                                 metadata={"description": "occupation: dwellings occupied so far (cumulative)"})


class InvoiceSchema(Schema):
    id = ma.fields.Integer()
    reference = ma.fields.String()
    instalment_reference = ma.fields.Function(lambda i: i.instalment.reference)
    due_on = ma.fields.Date()
    issued_on = ma.fields.Date()
    base_amount = Money()
    amount = Money()
    index = ma.fields.String()
    base_period = ma.fields.Date(allow_none=True)
    base_value = ExactNumber(allow_none=True)
    base_published_on = ma.fields.Date(allow_none=True)
    trigger_period = ma.fields.Date(allow_none=True)
    trigger_value = ExactNumber(allow_none=True)
    trigger_published_on = ma.fields.Date(allow_none=True)
    floored = ma.fields.Boolean()
    explanation = ma.fields.String()


class IssueRequest(Schema):
    on = LedgerDate(metadata={"description": "issue what is due by this date; default today"})


class WaitingSchema(Schema):
    instalment = ma.fields.String()
    reason = ma.fields.String()


class IssueResult(Schema):
    issued = ma.fields.List(ma.fields.Nested(InvoiceSchema))
    waiting = ma.fields.List(ma.fields.Nested(WaitingSchema))


class PaymentIn(Schema):
    entry_id = Whole(required=True, minimum=1, metadata={"description": "id of the receipt that pays"})
    amount = Money(required=True)


class PaymentOut(Schema):
    id = ma.fields.Integer()
    entry_id = ma.fields.Integer()
    amount = Money()
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()


class IncomeDueQuery(Schema):
    as_of = LedgerDate()


class IncomeDueItem(Schema):
    agreement_reference = ma.fields.String()
    obligation_reference = ma.fields.String()
    developer = ma.fields.String(allow_none=True)
    authority_code = ma.fields.String()
    division_code = ma.fields.String(allow_none=True)
    reference = ma.fields.String()
    trigger = ma.fields.String()
    due_on = ma.fields.Date()
    amount = Money(allow_none=True)
    paid = Money()
    outstanding = Money(allow_none=True)
    days_outstanding = ma.fields.Integer()
    overdue = ma.fields.Boolean()
    how_worked_out = ma.fields.String()


class TermsIn(Schema):
    """Repayment terms in force from a date (SPEC 8.2)."""

    repayment_basis = ma.fields.String(required=True, validate=one_of(RepaymentBasis))
    repayment_years = Whole(allow_none=True, load_default=None, minimum=1, maximum=MAX_REPAYMENT_YEARS)
    in_force_from = LedgerDate(allow_none=True, load_default=None, metadata={
        "description": "the first day the terms apply; default: the day the variation was entered into"})
    variation = Reference(allow_none=True, load_default=None, metadata={
        "description": "the deed of variation that agreed them (it must vary the obligation's agreement)"})
    reason = Prose(required=True, min_length=1)


class VariationTermsIn(Schema):
    """What a deed of variation does to the repayment terms of the agreement it varies."""

    repayment_basis = ma.fields.String(required=True, validate=one_of(RepaymentBasis))
    repayment_years = Whole(allow_none=True, load_default=None, minimum=1, maximum=MAX_REPAYMENT_YEARS)
    obligations = ma.fields.List(Reference(), load_default=None, validate=validate.Length(min=1, max=1000),
                                 metadata={"description": "the varied agreement's obligations it applies to; "
                                                          "default all"})
    reason = Prose(required=True, min_length=1)


class TermsOut(Schema):
    """One entry of an obligation's terms history: the deed's own terms (in_force_from null),
    then each change in the order recorded."""

    in_force_from = ma.fields.Date(allow_none=True)
    repayment_basis = ma.fields.String()
    repayment_years = ma.fields.Integer(allow_none=True)
    variation = ma.fields.String(allow_none=True)
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()
    reason = ma.fields.String(allow_none=True)


class ObligationChanges(Schema):
    """What may be corrected of an obligation (services.registry.OBLIGATION_UPDATABLE): what it
    is for and its repayment terms as read from the deed, checked as a pair."""

    purpose = ma.fields.String(validate=one_of(Purpose))
    service = Code(validate=SLUG)
    trigger = Prose(allow_none=True)
    repayment_basis = ma.fields.String(validate=one_of(RepaymentBasis))
    repayment_years = Whole(allow_none=True, minimum=1, maximum=MAX_REPAYMENT_YEARS)
    reason = Prose(required=True, min_length=1)


class ProjectChanges(Schema):
    """What may be corrected of a project (services.registry.PROJECT_UPDATABLE)."""

    name = Text(min_length=1)
    service = Code(validate=SLUG)
    division_code = Code(allow_none=True)
    repays_borrowing = ma.fields.Boolean()
    reason = Prose(required=True, min_length=1)
