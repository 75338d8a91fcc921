"""A refused write is read by its constraint's name, on both engines, and becomes the domain
error that constraint stands for: only a natural key means "already exists"."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.db import write_transaction
from ledger.domain.errors import Conflict, InvalidInput
from ledger.models import (
    Agreement,
    Authority,
    Division,
    Entry,
    IndexValue,
    Instalment,
    Invoice,
    InvoicePayment,
    Obligation,
)
from ledger.services import SYSTEM, registry, users
from ledger.services.constraints import ALREADY_EXISTS, RULES, constraint_name, domain_error, violation
from tests.factories import OFFICER, make_ledger, make_places, post

NOW = datetime(2025, 1, 1, tzinfo=UTC)
AUDIT = {"created_by": "test", "created_at": NOW}


def refused(session: Session, write: Callable[[Session], object]) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, write_transaction(session):
        write(session)
        session.flush()
    return caught.value


def agreement(reference: str = "A-1", **extra: object) -> Agreement:
    values = {"reference": reference, "type": "section-106", "authority_code": "E07000105",
              "signed_on": date(2020, 1, 1), **AUDIT} | extra
    return Agreement(**values)


def entry(session: Session, reference: str, **extra: object) -> Entry:
    return Entry(kind="receipt", reference=reference, obligation_id=session.scalar(select(func.min(Obligation.id))), amount=Decimal("1.00"),
                 occurred_on=date(2020, 7, 1), reason="test", **AUDIT | extra)


def invoice(session: Session, reference: str) -> Invoice:
    return Invoice(reference=reference, instalment_id=session.scalar(select(func.min(Instalment.id))), due_on=date(2024, 1, 1),
                   issued_on=date(2024, 1, 1), base_amount=Decimal("10.00"), amount=Decimal("10.00"), index="none",
                   explanation="test", **AUDIT)


@pytest.fixture
def ledger(session: Session) -> Session:
    make_ledger(session)
    receipt = post(session, "receipt", "100.00", date(2020, 7, 1), reference="R-1")
    with write_transaction(session):
        obligation_id = receipt.obligation_id
        instalment = Instalment(reference="I-1", obligation_id=obligation_id, fixed_sum=Decimal("10.00"),
                                trigger_event="manual", index="none", **AUDIT)
        session.add(instalment)
        session.flush()
        first = invoice(session, "I-1/invoice")
        session.add(first)
        session.flush()
        session.add(InvoicePayment(invoice_id=first.id, entry_id=receipt.id, amount=Decimal("5.00"), **AUDIT))
        session.add(IndexValue(index="rpi", period=date(2024, 1, 1), value=Decimal("380.0"),
                               published_on=date(2024, 2, 1), **AUDIT))
    return session


NATURAL_KEYS: list[tuple[str, Callable[[Session], object], str]] = [
    ("uq_agreements_reference", lambda s: s.add(agreement("20/00001/FUL")), "reference"),
    ("uq_authorities_code", lambda s: s.add(Authority(code="E07000105", name="again", kind="district")), "code"),
    ("uq_entries_kind_reference", lambda s: s.add(entry(s, "R-1")), "reference"),
    ("uq_index_values_index_period_published_on",
     lambda s: s.add(IndexValue(index="rpi", period=date(2024, 1, 1), value=Decimal("381.0"),
                                published_on=date(2024, 2, 1), **AUDIT)), "published_on"),
    ("uq_invoices_instalment_id", lambda s: s.add(invoice(s, "I-1/second")), "instalment"),
    ("uq_invoice_payments_invoice_id_entry_id",
     lambda s: s.execute(insert(InvoicePayment).from_select(
         ["invoice_id", "entry_id", "amount", "created_by", "created_at"],
         select(InvoicePayment.invoice_id, InvoicePayment.entry_id, InvoicePayment.amount, InvoicePayment.created_by,
                InvoicePayment.created_at))),
     "entry_id"),
]


@pytest.mark.parametrize(("name", "write", "field"), NATURAL_KEYS, ids=[n for n, _, _ in NATURAL_KEYS])
def test_a_natural_key_means_already_exists_naming_the_field(
    ledger: Session, name: str, write: Callable[[Session], object], field: str,
) -> None:
    error = refused(ledger, write)
    assert constraint_name(error) == name
    refusal = domain_error(error)
    assert isinstance(refusal, Conflict)
    assert refusal.status == 409
    assert refusal.errors == {field: ["already exists"]}
    assert "already exists" in refusal.detail


def test_a_second_reversal_is_refused_as_the_rule_not_as_already_exists(ledger: Session) -> None:
    reversed_id = post(ledger, "receipt", "3.00", date(2020, 7, 2), reference="R-2").id
    with write_transaction(ledger):
        ledger.add(entry(ledger, "R-2/reversal", reverses=reversed_id))
    error = refused(ledger, lambda s: s.add(entry(s, "R-2/reversal-again", reverses=reversed_id)))
    assert constraint_name(error) == "uq_entries_reverses"
    refusal = domain_error(error)
    assert isinstance(refusal, Conflict)
    assert "already been reversed" in refusal.detail
    assert "already exists" not in refusal.detail


def test_a_foreign_key_is_a_422_naming_the_field_that_does_not_exist(ledger: Session) -> None:
    error = refused(ledger, lambda s: s.add(Division(code="nowhere", name="Nowhere", authority_code="E0000000")))
    assert constraint_name(error) == "fk_divisions_authority_code_authorities"
    refusal = domain_error(error)
    assert isinstance(refusal, InvalidInput)
    assert refusal.errors == {"authority_code": ["does not exist"]}


def test_a_foreign_key_among_several_is_named_where_the_engine_says_which(ledger: Session, database_url: str) -> None:
    error = refused(ledger, lambda s: s.add(agreement("A-9", division_code="nowhere")))
    refusal = domain_error(error)
    assert isinstance(refusal, InvalidInput)
    assert refusal.status == 422
    if database_url.startswith("postgresql"):
        assert constraint_name(error) == "fk_agreements_division_code_divisions"
        assert refusal.errors == {"division_code": ["does not exist"]}
    else:
        # SQLite does not say which foreign key failed: the ones the row gave a value to are named.
        assert violation(error).columns == ("authority_code", "division_code")
        assert set(refusal.errors) == {"authority_code", "division_code"}


def test_a_missing_value_is_a_422_naming_the_column(ledger: Session) -> None:
    error = refused(ledger, lambda s: s.add(Authority(code="E07000999", name=None, kind="district")))
    found = violation(error)
    assert (found.kind, found.table, found.columns, found.name) == ("not-null", "authorities", ("name",), None)
    refusal = domain_error(error)
    assert isinstance(refusal, InvalidInput)
    assert refusal.errors == {"name": ["required"]}


def test_an_id_already_taken_is_a_conflict_that_says_so(ledger: Session) -> None:
    error = refused(ledger, lambda s: s.execute(insert(Authority).values(id=1, code="E07000998", name="x", kind="d")))
    assert constraint_name(error) == "pk_authorities"
    refusal = domain_error(error)
    assert isinstance(refusal, Conflict)
    assert "id already in use" in refusal.detail
    assert refusal.errors == {}


def test_every_named_constraint_is_one_of_the_models() -> None:
    from ledger.services.constraints import _named_constraints

    assert set(ALREADY_EXISTS) | set(RULES) <= set(_named_constraints())


def test_registry_turns_a_race_lost_at_the_unique_key_into_a_409(
    session: Session, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As when another request inserts between the check and the insert: the check is skipped."""
    make_places(session)
    values = {"reference": "A-1", "type": "section-106", "authority_code": "E07000105", "signed_on": date(2020, 1, 1)}
    registry.create_agreement(session, values, actor=OFFICER)
    monkeypatch.setattr(registry, "_exists", lambda *_args: False)
    monkeypatch.setattr(registry, "_require", lambda *_args: None)
    with pytest.raises(Conflict) as caught:
        registry.create_agreement(session, values, actor=OFFICER)
    assert caught.value.errors == {"reference": ["already exists"]}
    with pytest.raises(InvalidInput) as missing:
        registry.create_division(session, {"code": "d", "name": "D", "authority_code": "E0000000"}, actor=OFFICER)
    assert missing.value.errors == {"authority_code": ["does not exist"]}


def test_the_api_answers_a_refusal_no_service_translated_with_a_409_not_a_500(
    any_app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_places(session)
    users.add_user(session, email="o@test.s106", role="officer", password=None, actor=SYSTEM)
    headers = {"Authorization": f"Bearer {users.create_token(session, email='o@test.s106', actor=SYSTEM)}"}
    body = {"reference": "A-1", "type": "section-106", "authority_code": "E07000105", "signed_on": "2020-01-01"}
    client = any_app.test_client()
    assert client.post("/api/v1/agreements", json=body, headers=headers).status_code == 201
    monkeypatch.setattr(registry, "_exists", lambda *_args: False)
    monkeypatch.setattr(registry, "_require", lambda *_args: None)
    monkeypatch.setattr(registry, "as_domain_errors", nullcontext)
    response = client.post("/api/v1/agreements", json=body, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["errors"] == [{"field": "reference", "detail": "already exists"}]
