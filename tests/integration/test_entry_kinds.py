"""Every kind of entry through every path, parametrised over the entry-kind table: a new
kind is walked through all of them by adding its row to ledger.domain.entry_kinds.KINDS.

What a kind needs recorded before it (money held, an allocation) and what it should do
(which balance, status, IFS figure and label) are read from the table's own facts."""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from importers.gov_csv import TRANSACTION_FILE, plan_gov_csv
from ledger.domain.entry_kinds import ADDS, KIND_RULES, KINDS, NONE, TAKES, KindRule, contradictions, signed
from ledger.domain.ifs import ITEMS, ROLE_FIGURES
from ledger.domain.vocab import EntryKind
from ledger.models import Entry
from ledger.services import SYSTEM, users
from ledger.services.exports import gov_csv_rows
from ledger.services.ifs import ifs_report
from ledger.services.imports import apply_import
from reports.gov_csv import write_gov_csv
from tests.factories import (
    OFFICER,
    make_agreement,
    make_obligation,
    make_places,
    make_project,
    post,
    write_gov_files,
)

D = Decimal
OBLIGATION = "20/00001/FUL/1"
PROJECT = "PRJ-1"
#: Earlier entries fall in the financial year before the one the kind's own entry falls in.
BEFORE, ON = date(2022, 6, 1), date(2023, 6, 1)
AMOUNT = D("100.00")
#: What each kind it needs is recorded with: enough for the kind's own amount.
NEEDED_AMOUNT = {ADDS: D("1000.00"), NONE: D("500.00")}
KIND_IDS = [rule.kind.value for rule in KINDS]
kinds = pytest.mark.parametrize("rule", KINDS, ids=KIND_IDS)


def _first(test: Any) -> KindRule:
    return next(rule for rule in KINDS if test(rule))


#: A kind that brings money in on its own, one that allocates held money to a project, and
#: one that commits a project's allocated money.
INFLOW = _first(lambda r: r.held == ADDS and r.allocated == NONE and not r.project and not r.recipient)
ALLOCATING = _first(lambda r: r.allocated == ADDS and r.held == NONE)
COMMITTING = _first(lambda r: r.committed == ADDS)


def needs(rule: KindRule) -> list[KindRule]:
    """The kinds to record first, in order: money held for a kind that takes it or allocates
    it (U <= H), an allocation for a kind that takes a project's money or commits it
    (C_p <= U_p), a commitment for a kind that releases committed money."""
    direct = [*([INFLOW] if rule.held == TAKES or rule.allocated == ADDS else []),
              *([ALLOCATING] if rule.allocated == TAKES or rule.committed == ADDS else []),
              *([COMMITTING] if rule.committed == TAKES else [])]
    found: list[KindRule] = []
    for needed in direct:
        for each in [*needs(needed), needed]:
            if each not in found:
                found.append(each)
    return found


def body(rule: KindRule, *, amount: Decimal, on: date, reference: str) -> dict[str, str]:
    """An entry of this kind as the API takes it, with what the kind must name."""
    return {"kind": rule.kind.value, "obligation_reference": OBLIGATION, "amount": str(amount),
            "occurred_on": on.isoformat(), "reason": "walking every kind", "reference": reference,
            **({"project_reference": PROJECT} if rule.project else {}),
            **({"recipient": "Kent Highways"} if rule.recipient else {}),
            **({"interest": "1.00"} if rule.interest else {})}


def record(session: Session, rule: KindRule, *, amount: Decimal, on: date, reference: str) -> Entry:
    values = body(rule, amount=amount, on=on, reference=reference)
    extra = {k: D(values[k]) if k == "interest" else values[k] for k in ("recipient", "interest") if k in values}
    return post(session, rule.kind.value, str(amount), on, obligation=OBLIGATION,
                project=values.get("project_reference"), reference=reference, **extra)


def make_world(session: Session) -> None:
    """One obligation for monitoring fees and a project repaying borrowing: so an amount
    with the (h) role counts in both (h) lines."""
    make_places(session)
    make_agreement(session, signed_on=date(2020, 6, 1))
    make_obligation(session, reference=OBLIGATION, purpose="monitoring-fees", service="monitoring")
    make_project(session, reference=PROJECT, service="monitoring", repays_borrowing=True)


def record_needs(session: Session, rule: KindRule) -> None:
    for n, needed in enumerate(needs(rule)):
        record(session, needed, amount=NEEDED_AMOUNT[needed.held], on=BEFORE, reference=f"NEED-{n}")


# -- the table ---------------------------------------------------------------------------------
def test_the_table_has_one_consistent_row_per_kind() -> None:
    assert set(KIND_RULES) == set(EntryKind)
    assert len(KINDS) == len(EntryKind)
    assert contradictions(KINDS) == []


def test_a_table_without_a_kind_or_contradicting_itself_is_refused() -> None:
    assert contradictions(KINDS[:-1])
    assert contradictions((*KINDS, KINDS[0]))
    assert contradictions(tuple(replace(rule, total=None) for rule in KINDS))


def test_the_walk_starts_from_the_tables_own_facts() -> None:
    """Each kind's needs are recordable with nothing before them, or only with earlier needs."""
    assert needs(INFLOW) == []
    assert needs(ALLOCATING) == [INFLOW]
    for rule in KINDS:
        for n, needed in enumerate(needs(rule)):
            assert set(needs(needed)) <= set(needs(rule)[:n])


# -- the API -----------------------------------------------------------------------------------
@pytest.fixture
def officer_token(app: Flask) -> dict[str, str]:
    with app.extensions["ledger.sessions"]() as session:
        make_world(session)
        users.add_user(session, email="officer@kent.gov.uk", role="officer", password="correct horse", actor=SYSTEM)
        token = users.create_token(session, email="officer@kent.gov.uk", actor=SYSTEM)
    return {"Authorization": f"Bearer {token}"}


def balance(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/obligations/20%2F00001%2FFUL%2F1/balance?on=2024-12-31", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json  # type: ignore[no-any-return]


def project_money(found: dict[str, Any]) -> Decimal:
    return sum((D(p["allocated_unspent"]) for p in found["projects"] if p["project_reference"] == PROJECT), D(0))


@kinds
def test_the_api_records_each_kind_with_its_effects(
    client: FlaskClient, officer_token: dict[str, str], rule: KindRule
) -> None:
    for n, needed in enumerate(needs(rule)):
        response = client.post("/api/v1/entries", headers=officer_token, json=body(
            needed, amount=NEEDED_AMOUNT[needed.held], on=BEFORE, reference=f"NEED-{n}"))
        assert response.status_code == 201, response.get_data(as_text=True)
    before = balance(client, officer_token)
    response = client.post("/api/v1/entries", json=body(rule, amount=AMOUNT, on=ON, reference="K-1"),
                           headers=officer_token)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["kind"] == rule.kind.value
    after = balance(client, officer_token)
    assert D(after["held"]) - D(before["held"]) == signed(rule.held, AMOUNT)
    assert project_money(after) - project_money(before) == signed(rule.allocated, AMOUNT)
    if rule.total:
        assert D(after[rule.total]) - D(before[rule.total]) == AMOUNT


@kinds
def test_the_api_refuses_each_kind_without_what_it_must_name(
    client: FlaskClient, officer_token: dict[str, str], rule: KindRule
) -> None:
    given = body(rule, amount=AMOUNT, on=ON, reference="K-1")
    for field, required in (("project_reference", rule.project), ("recipient", rule.recipient)):
        wrong = {k: v for k, v in given.items() if k != field} if required else given | {field: PROJECT}
        response = client.post("/api/v1/entries", json=wrong, headers=officer_token)
        assert response.status_code == 422, response.get_data(as_text=True)
        assert field in {e["field"] for e in response.json["errors"]}
    if not rule.interest:
        response = client.post("/api/v1/entries", json=given | {"interest": "1.00"}, headers=officer_token)
        assert response.status_code == 422
        assert "interest" in {e["field"] for e in response.json["errors"]}


# -- the web -----------------------------------------------------------------------------------
def sign_in(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post("/login", data={"email": "officer@kent.gov.uk", "password": "correct horse",
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302


@kinds
def test_the_web_shows_each_kinds_label(client: FlaskClient, officer_token: dict[str, str], rule: KindRule) -> None:
    sign_in(client)
    page = client.get(f"/obligations/{OBLIGATION}/record/{rule.kind.value}")
    assert page.status_code == 200
    assert f"<h1>{rule.label}</h1>" in page.get_data(as_text=True)
    obligation = client.get(f"/obligations/{OBLIGATION}").get_data(as_text=True)
    link = re.search(rf'href="[^"]*/record/{rule.kind.value}">([^<]*)</a>', obligation)
    assert link and link.group(1) == rule.label


# -- the government format: import and export ---------------------------------------------------
def status_amount(rule: KindRule, amount: Decimal) -> str:
    return str(-amount if rule.negated else amount)


@pytest.mark.parametrize("rule", [r for r in KINDS if r.read_from_status],
                         ids=[r.kind.value for r in KINDS if r.read_from_status])
def test_a_row_with_each_kinds_status_imports_as_that_kind(session: Session, tmp_path: Path, rule: KindRule) -> None:
    rows = [(f"NEED-{n}", needed.status, status_amount(needed, NEEDED_AMOUNT[needed.held]), "01/06/2022")
            for n, needed in enumerate(needs(rule))]
    directory = write_gov_files(tmp_path / "gov", [*rows, ("K-1", rule.status, status_amount(rule, AMOUNT), "01/06/2023")])
    result = apply_import(session, plan_gov_csv(directory), actor=OFFICER)
    assert result.rejected == []
    kind, amount = session.execute(select(Entry.kind, Entry.amount).where(Entry.reference == "K-1")).one()
    assert (kind, amount) == (rule.kind.value, AMOUNT)


def test_kinds_without_a_status_are_not_published(session: Session, tmp_path: Path) -> None:
    """The format has no status for committed money (SPEC 8.7): a commitment stays out of the file."""
    make_world(session)
    rule = _first(lambda r: r.status is None)
    record_needs(session, rule)
    record(session, rule, amount=AMOUNT, on=ON, reference="K-1")
    assert "K-1" not in {row["reference"] for row in gov_csv_rows(session).transactions}


@pytest.mark.parametrize("rule", [r for r in KINDS if r.status], ids=[r.kind.value for r in KINDS if r.status])
def test_the_export_publishes_each_kinds_status_and_reads_back_as_the_kind(
    session: Session, tmp_path: Path, rule: KindRule
) -> None:
    make_world(session)
    record_needs(session, rule)
    record(session, rule, amount=AMOUNT, on=ON, reference="K-1")
    rows = gov_csv_rows(session)
    write_gov_csv(tmp_path, agreements=rows.agreements, contributions=rows.contributions, transactions=rows.transactions)
    with (tmp_path / TRANSACTION_FILE).open(encoding="utf-8") as handle:
        published = {row["reference"]: row for row in csv.DictReader(handle)}
    assert published["K-1"]["contribution-funding-status"] == rule.status
    assert published["K-1"]["amount"] == status_amount(rule, AMOUNT)
    read_back = {e.reference: e for e in plan_gov_csv(tmp_path).entries}
    # A kind published under another kind's status (an opening balance, as money received)
    # reads back as that kind.
    read_as = rule.kind if rule.read_from_status else next(
        r.kind for r in KINDS if r.read_from_status and (r.status, r.negated) == (rule.status, rule.negated))
    assert (read_back["K-1"].kind, read_back["K-1"].amount) == (read_as, AMOUNT)


# -- the IFS -----------------------------------------------------------------------------------
def money_figures(session: Session) -> dict[str, Decimal]:
    report = ifs_report(session, year=2023)
    return {name: report.value(name) for name, _, _ in ITEMS}  # type: ignore[misc]


@kinds
def test_each_kinds_amount_lands_in_the_figures_of_its_ifs_roles(session: Session, rule: KindRule) -> None:
    make_world(session)
    record_needs(session, rule)
    before = money_figures(session)
    record(session, rule, amount=AMOUNT, on=ON, reference="K-1")
    after = money_figures(session)
    fed = {name for role in rule.ifs for name in ROLE_FIGURES[role]}
    expected = {name: AMOUNT if name in fed else D(0) for names in ROLE_FIGURES.values() for name in names}
    expected |= {"s106_e_allocated_not_spent": signed(rule.allocated, AMOUNT),
                 "s106_i_money_retained": signed(rule.held, AMOUNT)}
    assert {name: after[name] - before[name] for name in expected} == expected
    report = ifs_report(session, year=2023)
    sheets = {"received": report.received, "spent": report.spent, "repaid": report.repaid}
    listed = {sheet for sheet, rows in sheets.items() if any(m.entry_reference == "K-1" for m in rows)}
    assert listed == {role.value for role in rule.ifs if role.value in sheets}
