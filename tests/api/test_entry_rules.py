"""Entries dated after today, refusals that say the limit, and checking an entry without
recording it: through the API and the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.domain.errors import RuleViolated
from ledger.domain.vocab import EntryKind
from ledger.models import AuditEvent, Entry, Obligation
from ledger.services import SYSTEM, users
from ledger.services.entries import EntryRequest, check_entry, obligation_money
from tests.factories import make_ledger, post

OBLIGATION = "20/00001/FUL/1"
TODAY = "2026-11-30 12:00:00"
D = Decimal


@pytest.fixture
def api(any_app: Flask) -> Iterator[tuple[FlaskClient, dict[str, str]]]:
    """A client with an officer's token, on a ledger holding £1,000.00 of which £300.00 is
    allocated to PRJ-2."""
    with any_app.extensions["ledger.sessions"]() as session, freeze_time(TODAY):
        make_ledger(session)
        post(session, "receipt", "1000.00", date(2026, 1, 10), reference="R-1")
        post(session, "allocation", "300.00", date(2026, 2, 1), project="PRJ-2", reference="A-1")
        users.add_user(session, email="officer@test.s106", role="officer", password=None, actor=SYSTEM)
        token = users.create_token(session, email="officer@test.s106", actor=SYSTEM)
    yield any_app.test_client(), {"Authorization": f"Bearer {token}"}


def body(kind: str, amount: str, on: str, **extra: str) -> dict[str, str]:
    project = {"project_reference": "PRJ-1"} if kind in ("allocation", "deallocation", "spend", "transfer") else {}
    recipient = {"recipient": "Kent Academies Trust"} if kind == "transfer" else {}
    return {"kind": kind, "obligation_reference": OBLIGATION, "amount": amount, "occurred_on": on,
            "reason": "test"} | project | recipient | extra


def entries(app: Flask) -> int:
    with app.extensions["ledger.sessions"]() as session:
        return session.scalar(select(func.count()).select_from(Entry)) or 0


@pytest.mark.parametrize("kind", ["receipt", "spend", "transfer", "repayment", "opening-balance"])
def test_money_cannot_move_after_today(api: tuple[FlaskClient, dict[str, str]], any_app: Flask, kind: str) -> None:
    client, token = api
    before = entries(any_app)
    with freeze_time(TODAY):
        refused = client.post("/api/v1/entries", json=body(kind, "10.00", "2026-12-01"), headers=token)
        assert refused.status_code == 422
        assert refused.json["errors"] == [{"field": "occurred_on", "detail": "must be today or earlier"}]
        assert entries(any_app) == before
        assert client.post("/api/v1/entries", json=body(kind, "10.00", "2026-11-30"), headers=token).status_code == 201


def test_today_is_the_uk_day_so_late_on_30_june_utc_1_july_is_today(api: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = api
    with freeze_time("2026-06-30 23:30:00"):  # 00:30 on 1 July in London (BST)
        assert client.post("/api/v1/entries", json=body("receipt", "1.00", "2026-07-01"), headers=token).status_code == 201
        assert client.post("/api/v1/entries", json=body("receipt", "1.00", "2026-07-02"), headers=token).status_code == 422


@pytest.mark.parametrize("kind", ["allocation", "deallocation"])
def test_allocations_may_be_dated_ahead(api: tuple[FlaskClient, dict[str, str]], kind: str) -> None:
    client, token = api
    with freeze_time(TODAY):
        client.post("/api/v1/entries", json=body("allocation", "100.00", "2026-11-01"), headers=token)
        ahead = client.post("/api/v1/entries", json=body(kind, "50.00", "2027-04-01"), headers=token)
        assert ahead.status_code == 201, ahead.json
        today = client.get(f"/api/v1/obligations/{OBLIGATION.replace('/', '%2F')}/balance", headers=token).json
        then = client.get(f"/api/v1/obligations/{OBLIGATION.replace('/', '%2F')}/balance?on=2027-04-01",
                          headers=token).json
    assert today["allocated_unspent"] == "400.00"
    assert then["allocated_unspent"] == ("450.00" if kind == "allocation" else "350.00")


def test_an_allocation_dated_ahead_still_needs_the_money_on_its_date(api: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = api
    with freeze_time(TODAY):
        refused = client.post("/api/v1/entries", json=body("allocation", "700.01", "2027-04-01"), headers=token)
    assert refused.status_code == 422
    assert refused.json["type"].endswith("/rule-violated")
    assert {"field": "amount", "detail": "Allocation must be £700.00 or less: that is the money held on 1 April 2027 "
                                         "that is not allocated to a project"} in refused.json["errors"]


def test_a_refused_spend_names_the_invariant_and_the_most_it_could_be(api: tuple[FlaskClient, dict[str, str]],
                                                                     any_app: Flask) -> None:
    client, token = api
    before = entries(any_app)
    with freeze_time(TODAY):
        refused = client.post("/api/v1/entries", json=body("spend", "800.00", "2026-11-30"), headers=token)
    assert refused.status_code == 422
    assert refused.json["detail"] == ("allocated-within-held: on 30 November 2026 £300.00 would be allocated but "
                                      "only £200.00 held")
    assert refused.json["errors"] == [
        {"field": "amount", "detail": "allocated-within-held: on 30 November 2026 £300.00 would be allocated but "
                                      "only £200.00 held"},
        {"field": "amount", "detail": "Spend must be £700.00 or less: that is the money held on 30 November 2026 "
                                      "that is not allocated to another project"},
    ]
    assert entries(any_app) == before
    with freeze_time(TODAY):
        assert client.post("/api/v1/entries", json=body("spend", "700.00", "2026-11-30"), headers=token).status_code == 201


def test_checking_an_entry_says_what_recording_it_writes_and_writes_nothing(session_with_money: Session) -> None:
    session = session_with_money
    request = EntryRequest(kind=EntryKind.SPEND, obligation_reference=OBLIGATION, amount=D("250.00"),
                           occurred_on=date(2026, 11, 30), project_reference="PRJ-2", reference="INV-1",
                           reason="contractor's invoice")
    with freeze_time(TODAY):
        plan = check_entry(session, request)
        assert (plan.reference, plan.existing, plan.auto_allocation) == ("INV-1", None, D("0.00"))
        bigger = check_entry(session, replace(request, amount=D("400.00")))
        assert bigger.auto_allocation == D("100.00")
        with pytest.raises(RuleViolated) as refused:
            check_entry(session, replace(request, amount=D("1000.01")))
        assert refused.value.limit is not None
        assert (refused.value.limit.most, refused.value.limit.on) == (D("1000.00"), date(2026, 11, 30))
    assert session.scalar(select(func.count()).select_from(Entry)) == 2
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "record-spend")) == 0
    with freeze_time(TODAY):
        post(session, "spend", "250.00", date(2026, 11, 30), project="PRJ-2", reference="INV-1")
        again = check_entry(session, request)
    assert again.existing is not None and again.existing.reference == "INV-1"


def test_the_money_a_form_shows(session_with_money: Session) -> None:
    session = session_with_money
    with freeze_time(TODAY):
        post(session, "spend", "120.00", date(2026, 3, 1), project="PRJ-1")
        obligation = session.scalars(select(Obligation).where(Obligation.reference == OBLIGATION)).one()
        money = obligation_money(session, obligation, on=date(2026, 11, 30))
    b = money.balances
    assert (b.held, b.allocated_unspent, b.unallocated) == (D("880.00"), D("300.00"), D("580.00"))
    assert [(p.project, p.allocated, p.spent, p.unspent) for p in money.projects] == [
        ("PRJ-1", D("120.00"), D("120.00"), D("0.00")), ("PRJ-2", D("300.00"), D("0.00"), D("300.00"))]
    assert money.project_names == {"PRJ-1": "Project PRJ-1", "PRJ-2": "Project PRJ-2"}


@pytest.fixture
def session_with_money(session: Session) -> Session:
    with freeze_time(TODAY):
        make_ledger(session)
        post(session, "receipt", "1000.00", date(2026, 1, 10), reference="R-1")
        post(session, "allocation", "300.00", date(2026, 2, 1), project="PRJ-2", reference="A-1")
    return session
