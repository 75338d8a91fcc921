"""Boundary schemas: marshmallow in (load) and out (dump). Unknown fields are refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import validate

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

SLUG = validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", error="must be a lower-case slug such as education-primary")
REFERENCE = validate.Length(min=1, max=255)


def one_of(values: Any) -> validate.OneOf:
    return validate.OneOf([str(v) for v in values])


class Money(ma.fields.String):
    """Pounds as a string with at most two decimals (SPEC rule 1); numbers are refused."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": r"^\d+(\.\d{1,2})?$", "example": "1234.50"} | kwargs.pop("metadata", {})
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:  # type: ignore[override]
        try:
            return parse_money(value)
        except MoneyError as error:
            raise ma.ValidationError(str(error)) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{value:.2f}"


class Schema(ma.Schema):
    class Meta:
        ordered = True


class Filters(Schema):
    authority = ma.fields.String(metadata={"description": "planning authority code"})
    division = ma.fields.String(metadata={"description": "electoral division code"})
    purpose = ma.fields.String(metadata={"description": "government contribution-purpose code"})
    service = ma.fields.String(metadata={"description": "council service"})


class Authority(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    kind = ma.fields.String(required=True, validate=one_of(AuthorityKind))


class Division(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    authority_code = ma.fields.String(required=True)
    members = ma.fields.List(ma.fields.String(validate=validate.Length(min=1)), load_default=list)


class Agreement(Schema):
    id = ma.fields.Integer(dump_only=True)
    reference = ma.fields.String(required=True, validate=REFERENCE)
    type = ma.fields.String(required=True, validate=one_of(AgreementType))
    authority_code = ma.fields.String(required=True)
    planning_application = ma.fields.String(allow_none=True)
    site_name = ma.fields.String(allow_none=True)
    division_code = ma.fields.String(allow_none=True)
    signed_on = ma.fields.Date(required=True, metadata={"description": "date entered into"})
    varies = ma.fields.String(allow_none=True)
    superseded_on = ma.fields.Date(allow_none=True)
    commencement_on = ma.fields.Date(allow_none=True)
    completion_on = ma.fields.Date(allow_none=True)
    dwellings = ma.fields.Integer(allow_none=True, validate=validate.Range(min=0))
    developer = ma.fields.String(allow_none=True)
    document_url = ma.fields.URL(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class AgreementChanges(Schema):
    planning_application = ma.fields.String(allow_none=True)
    site_name = ma.fields.String(allow_none=True)
    division_code = ma.fields.String(allow_none=True)
    superseded_on = ma.fields.Date(allow_none=True)
    commencement_on = ma.fields.Date(allow_none=True)
    completion_on = ma.fields.Date(allow_none=True)
    dwellings = ma.fields.Integer(allow_none=True, validate=validate.Range(min=0))
    developer = ma.fields.String(allow_none=True)
    document_url = ma.fields.URL(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    reason = ma.fields.String(required=True, validate=validate.Length(min=1))


class Obligation(Schema):
    id = ma.fields.Integer(dump_only=True)
    reference = ma.fields.String(required=True, validate=REFERENCE)
    agreement_reference = ma.fields.Function(lambda o: o.agreement.reference, dump_only=True)
    purpose = ma.fields.String(required=True, validate=one_of(Purpose))
    service = ma.fields.String(required=True, validate=SLUG)
    amount = Money(allow_none=True, metadata={"description": "money secured in the deed (base value)"})
    units = ma.fields.Integer(allow_none=True, validate=validate.Range(min=0))
    unit_kind = ma.fields.String(allow_none=True, validate=one_of(UnitKind))
    school_category = ma.fields.String(allow_none=True, validate=one_of(SchoolCategory))
    commuted_sum = ma.fields.Boolean(load_default=False)
    index = ma.fields.String(load_default="none", validate=one_of(Index))
    index_base_date = ma.fields.Date(allow_none=True)
    trigger = ma.fields.String(allow_none=True)
    repayment_years = ma.fields.Integer(
        allow_none=True, load_default=10, validate=validate.Range(min=1, max=100),
        metadata={"description": "null means no time limit"},
    )
    repayment_basis = ma.fields.String(load_default="receipt", validate=one_of(RepaymentBasis))
    needs_review = ma.fields.Boolean(dump_only=True)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class Project(Schema):
    id = ma.fields.Integer(dump_only=True)
    reference = ma.fields.String(required=True, validate=REFERENCE)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    service = ma.fields.String(required=True, validate=SLUG)
    division_code = ma.fields.String(allow_none=True)
    repays_borrowing = ma.fields.Boolean(load_default=False)
    needs_review = ma.fields.Boolean(dump_only=True)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class EntryIn(Schema):
    kind = ma.fields.String(required=True, validate=one_of(EntryKind))
    reference = ma.fields.String(
        validate=REFERENCE,
        metadata={"description": "idempotency key, unique per kind; generated when omitted"},
    )
    obligation_reference = ma.fields.String(required=True, validate=REFERENCE)
    amount = Money(required=True)
    occurred_on = ma.fields.Date(required=True, metadata={"description": "the business date"})
    project_reference = ma.fields.String(allow_none=True)
    recipient = ma.fields.String(allow_none=True)
    interest = Money(allow_none=True)
    reason = ma.fields.String(required=True, validate=validate.Length(min=1))


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
    reverses = ma.fields.Integer(allow_none=True)
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()
    reason = ma.fields.String()


class EntryQuery(Filters):
    kind = ma.fields.String(validate=one_of(EntryKind))
    obligation = ma.fields.String()
    project = ma.fields.String()


class Reversal(Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1))


class BalanceQuery(Schema):
    on = ma.fields.Date(metadata={"description": "end of this date; default today"})
    as_known_at = ma.fields.AwareDateTime(
        default_timezone=None, metadata={"description": "ignore entries recorded after this moment"}
    )


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
    projects = ma.fields.List(ma.fields.Nested(ProjectBalance))
    receipts = ma.fields.List(ma.fields.Nested(ReceiptPosition))


class AtRiskQuery(Filters):
    as_of = ma.fields.Date(metadata={"description": "default today"})
    as_known_at = ma.fields.AwareDateTime()
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
    on = ma.fields.Date(metadata={"description": "default today"})
    as_known_at = ma.fields.AwareDateTime()


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
        super().__init__(metadata={"pattern": r"^\d+(\.\d+)?$"} | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:  # type: ignore[override]
        import re

        if not isinstance(value, str) or not re.fullmatch(rf"\d{{1,9}}(\.\d{{1,{self.places}}})?", value.strip()):
            raise ma.ValidationError(f"must be a string such as \"123.4\" with at most {self.places} decimals")
        return Decimal(value.strip())

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format(value, "f")


class IndexValueSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    index = ma.fields.String(required=True, validate=one_of([i for i in Index if i != Index.NONE]))
    period = ma.fields.Date(required=True, metadata={"description": "first day of the month or quarter"})
    value = ExactNumber(required=True, places=4)
    published_on = ma.fields.Date(required=True)
    provisional = ma.fields.Boolean(load_default=False)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class IndexQuery(Schema):
    index = ma.fields.String(validate=one_of(Index))


class InstalmentSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    reference = ma.fields.String(required=True, validate=REFERENCE)
    obligation_reference = ma.fields.Function(lambda i: i.obligation.reference, dump_only=True)
    share = ExactNumber(allow_none=True, places=6, validate=validate.Range(min=Decimal(0), max=Decimal(1), min_inclusive=False),
                        metadata={"description": "fraction of the obligation, e.g. \"0.5\""})
    fixed_sum = Money(allow_none=True)
    trigger_event = ma.fields.String(required=True, validate=one_of(["commencement", "occupation", "date", "manual"]))
    trigger_dwellings = ma.fields.Integer(allow_none=True, validate=validate.Range(min=1))
    trigger_on = ma.fields.Date(allow_none=True, metadata={"description": "date trigger, or when a manual one was met"})
    index = ma.fields.String(validate=one_of(Index), metadata={"description": "default: the obligation's"})
    base_date = ma.fields.Date(allow_none=True)
    floor = ma.fields.Boolean(load_default=False)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class MilestoneSchema(Schema):
    kind = ma.fields.String(required=True, validate=one_of(["commencement", "occupation", "completion"]))
    on = ma.fields.Date(required=True)
    occupied = ma.fields.Integer(validate=validate.Range(min=1),
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
    on = ma.fields.Date(metadata={"description": "issue what is due by this date; default today"})


class WaitingSchema(Schema):
    instalment = ma.fields.String()
    reason = ma.fields.String()


class IssueResult(Schema):
    issued = ma.fields.List(ma.fields.Nested(InvoiceSchema))
    waiting = ma.fields.List(ma.fields.Nested(WaitingSchema))


class PaymentIn(Schema):
    entry_id = ma.fields.Integer(required=True, metadata={"description": "id of the receipt that pays"})
    amount = Money(required=True)


class PaymentOut(Schema):
    id = ma.fields.Integer()
    entry_id = ma.fields.Integer()
    amount = Money()
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()


class IncomeDueQuery(Schema):
    as_of = ma.fields.Date()


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
