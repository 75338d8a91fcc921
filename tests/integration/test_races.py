"""Sixteen requests at once through the API, on both engines: money is never matched twice,
nothing is created or invoiced twice, and a request that loses a race gets a 409 or 422,
never a 500. PostgreSQL runs them truly at once (row locks); SQLite one after another."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.domain.errors import Conflict
from ledger.models import Agreement, IndexValue, Instalment, Invoice, InvoicePayment, Obligation, Project
from ledger.services import SYSTEM, income, users
from tests.factories import OFFICER, make_ledger, make_obligation, post
from tests.threads import all_at_once, app_for_threads

THREADS = 16
OBLIGATION = "20/00001/FUL/1"
Call = tuple[str, str, dict[str, Any]]


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    with app_for_threads(database_url, THREADS) as application:
        yield application


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        yield session


@pytest.fixture
def headers(app: Flask) -> dict[str, str]:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="racer@test.s106", role="officer", password=None, actor=SYSTEM)
        return {"Authorization": f"Bearer {users.create_token(session, email='racer@test.s106', actor=SYSTEM)}"}


def race(app: Flask, headers: dict[str, str], calls: Sequence[Call]) -> list[tuple[int, Any]]:
    """Send every call from a thread of its own, all released together; (status, body) of each."""
    clients = [app.test_client() for _ in calls]

    def send(n: int) -> tuple[int, Any]:
        method, path, body = calls[n]
        response = clients[n].open(path, method=method, json=body, headers=headers)
        return response.status_code, response.get_json()

    return [(-1, repr(result)) if isinstance(result, BaseException) else result
            for result in all_at_once(len(calls), send)]


def statuses(results: list[tuple[int, Any]]) -> Counter[int]:
    return Counter(status for status, _ in results)


def count(session: Session, model: type, *where: Any) -> int:
    session.rollback()  # read afresh, after the racers committed
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def add_date_instalments(session: Session, obligation: str, references: Sequence[str], *, fixed_sum: str) -> None:
    for reference in references:
        income.add_instalment(session, obligation, {"reference": reference, "fixed_sum": Decimal(fixed_sum),
                                                    "trigger_event": "date", "trigger_on": date(2024, 1, 1)},
                              actor=OFFICER)


def test_one_receipt_matched_to_sixteen_invoices_at_once_is_never_matched_beyond_its_amount(
    app: Flask, db: Session, headers: dict[str, str],
) -> None:
    add_date_instalments(db, OBLIGATION, [f"I-{n:02}" for n in range(THREADS)], fixed_sum="1000.00")
    issued, _ = income.issue_invoices(db, today=date(2024, 6, 1), actor=OFFICER)
    assert len(issued) == THREADS
    receipt = post(db, "receipt", "1000.00", date(2024, 2, 1), reference="R-1")

    results = race(app, headers, [("POST", f"/api/v1/invoices/I-{n:02}/invoice/payments",
                                   {"entry_id": receipt.id, "amount": "300.00"}) for n in range(THREADS)])

    assert statuses(results) == {201: 3, 422: THREADS - 3}, results
    assert all("not yet matched" in body["detail"] for status, body in results if status == 422)
    db.rollback()
    matched = db.scalar(select(func.sum(InvoicePayment.amount)).where(InvoicePayment.entry_id == receipt.id))
    assert matched == Decimal("900.00")


def test_sixteen_receipts_matched_to_one_invoice_at_once_never_overpay_it(
    app: Flask, db: Session, headers: dict[str, str],
) -> None:
    add_date_instalments(db, OBLIGATION, ["I-ONE"], fixed_sum="1000.00")
    [invoice], _ = income.issue_invoices(db, today=date(2024, 6, 1), actor=OFFICER)
    receipts = [post(db, "receipt", "400.00", date(2024, 2, 1), reference=f"R-{n:02}") for n in range(THREADS)]

    results = race(app, headers, [("POST", "/api/v1/invoices/I-ONE/invoice/payments",
                                   {"entry_id": receipt.id, "amount": "400.00"}) for receipt in receipts])

    assert statuses(results) == {201: 2, 422: THREADS - 2}, results
    assert all("outstanding" in body["detail"] for status, body in results if status == 422)
    db.rollback()
    paid = db.scalar(select(func.sum(InvoicePayment.amount)).where(InvoicePayment.invoice_id == invoice.id))
    assert paid == Decimal("800.00")


CREATES: list[tuple[str, str, dict[str, Any], Any]] = [
    ("agreement", "/api/v1/agreements",
     {"reference": "21/00002/OUT", "type": "section-106", "authority_code": "E07000105", "signed_on": "2021-02-01"},
     Agreement.reference == "21/00002/OUT"),
    ("obligation", "/api/v1/agreements/20%2F00001%2FFUL/obligations",
     {"reference": "20/00001/FUL/9", "purpose": "highways", "service": "highways", "amount": "2500.00"},
     Obligation.reference == "20/00001/FUL/9"),
    ("project", "/api/v1/projects", {"reference": "PRJ-9", "name": "Junction works", "service": "highways"},
     Project.reference == "PRJ-9"),
    ("instalment", "/api/v1/obligations/20%2F00001%2FFUL%2F1/instalments",
     {"reference": "I-RACE", "fixed_sum": "10.00", "trigger_event": "manual"},
     Instalment.reference == "I-RACE"),
]


@pytest.mark.parametrize(("what", "path", "body", "stored"), CREATES, ids=[c[0] for c in CREATES])
def test_sixteen_creates_of_one_thing_at_once_make_one_and_fifteen_409s(
    app: Flask, db: Session, headers: dict[str, str], what: str, path: str, body: dict[str, Any], stored: Any,
) -> None:
    results = race(app, headers, [("POST", path, body)] * THREADS)

    assert statuses(results) == {201: 1, 409: THREADS - 1}, results
    assert all(b["errors"] == [{"field": "reference", "detail": "already exists"}] for s, b in results if s == 409)
    db.rollback()
    assert db.scalar(select(func.count()).where(stored)) == 1, what


INDEX_VALUE = {"index": "bcis-tpi", "period": "2024-01-01", "published_on": "2024-04-01"}


def test_sixteen_different_values_for_one_index_period_and_publication_make_one_and_fifteen_409s(
    app: Flask, db: Session, headers: dict[str, str],
) -> None:
    results = race(app, headers, [("POST", "/api/v1/index-values", INDEX_VALUE | {"value": f"{380 + n}.0"})
                                  for n in range(THREADS)])

    assert statuses(results) == {201: 1, 409: THREADS - 1}, results
    assert count(db, IndexValue) == 1


def test_sixteen_posts_of_the_same_index_value_at_once_all_succeed_and_store_it_once(
    app: Flask, db: Session, headers: dict[str, str],
) -> None:
    """Posting the same value again is accepted and changes nothing, however close together
    the posts come (SPEC rule 10's index values are entered by hand and by file)."""
    results = race(app, headers, [("POST", "/api/v1/index-values", INDEX_VALUE | {"value": "380.0"})] * THREADS)

    assert statuses(results) == {201: THREADS}, results
    assert len({body["id"] for _, body in results}) == 1
    assert count(db, IndexValue) == 1


def test_sixteen_issue_runs_at_once_issue_each_invoice_once(app: Flask, db: Session, headers: dict[str, str]) -> None:
    for n in (2, 3):
        make_obligation(db, reference=f"20/00001/FUL/{n}")
    for n in (1, 2, 3):
        add_date_instalments(db, f"20/00001/FUL/{n}", [f"I-{n}-{k}" for k in range(4)], fixed_sum="100.00")

    results = race(app, headers, [("POST", "/api/v1/invoices/issue", {"on": "2024-06-01"})] * THREADS)

    assert statuses(results) == {200: THREADS}, results
    issued = Counter(invoice["reference"] for _, body in results for invoice in body["issued"])
    assert sorted(issued) == sorted(f"I-{n}-{k}/invoice" for n in (1, 2, 3) for k in range(4))
    assert set(issued.values()) == {1}
    assert count(db, Invoice) == 12


def test_milestones_and_issue_runs_at_once_issue_each_invoice_once(
    app: Flask, db: Session, headers: dict[str, str],
) -> None:
    """A milestone locks its agreement then its obligations, an issue run the obligations:
    one order, so they wait for each other rather than deadlock or invoice twice."""
    make_obligation(db, reference="20/00001/FUL/2")
    for n in range(4):
        income.add_instalment(db, OBLIGATION, {"reference": f"I-C{n}", "fixed_sum": Decimal("100.00"),
                                               "trigger_event": "commencement", "index": "none"}, actor=OFFICER)
    add_date_instalments(db, "20/00001/FUL/2", [f"I-D{n}" for n in range(4)], fixed_sum="100.00")
    milestone = ("POST", "/api/v1/agreements/20%2F00001%2FFUL/milestones", {"kind": "commencement", "on": "2024-03-01"})
    issue = ("POST", "/api/v1/invoices/issue", {"on": "2024-06-01"})

    results = race(app, headers, [milestone, issue] * (THREADS // 2))

    assert statuses(results) == {201: THREADS // 2, 200: THREADS // 2}, results
    issued = Counter(invoice["reference"] for status, body in results
                     for invoice in (body if status == 201 else body["issued"]))
    assert sorted(issued) == sorted([f"I-C{n}/invoice" for n in range(4)] + [f"I-D{n}/invoice" for n in range(4)])
    assert set(issued.values()) == {1}
    assert count(db, Invoice) == 8


def test_sixteen_users_added_with_one_email_at_once_make_one_and_fifteen_conflicts(app: Flask, db: Session) -> None:
    sessions = [app.extensions["ledger.sessions"]() for _ in range(THREADS)]

    def add(n: int) -> str:
        try:
            users.add_user(sessions[n], email="twice@test.s106", role="member", password=None, actor=SYSTEM)
            return "created"
        except Conflict as conflict:
            return f"conflict on {', '.join(conflict.errors)}"
        finally:
            sessions[n].close()

    outcomes = [repr(o) if isinstance(o, BaseException) else o for o in all_at_once(THREADS, add)]
    assert Counter(outcomes) == {"created": 1, "conflict on email": THREADS - 1}, outcomes
