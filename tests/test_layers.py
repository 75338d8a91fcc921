"""The layers stay thin: the web pages and the API build no SQL (they call named service
functions), and list filters become SQL in one place, registry.Filters.conditions, which
the API, the pages and the reports all use."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

import ledger
from ledger.models import User
from ledger.services import SYSTEM, listing, users
from ledger.services.registry import Filters
from tests.factories import make_agreement, make_obligation, make_places

ROOT = Path(ledger.__file__).parents[1]
THIN = sorted([*(ROOT / "ledger" / "web").glob("*.py"), *(ROOT / "ledger" / "api").glob("*.py")])
#: Session methods that run SQL.
RUNS_SQL = {"execute", "scalar", "scalars", "query"}
FILTER_FIELDS = {"authority", "division", "purpose", "service", "search", "signed_in_year"}


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def test_the_web_and_api_import_nothing_from_sqlalchemy() -> None:
    assert len(THIN) >= 10
    for path in THIN:
        for node in ast.walk(tree(path)):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(name.split(".")[0] == "sqlalchemy" for name in names), \
                f"{path.relative_to(ROOT)} line {node.lineno} imports {names}"


def test_the_web_and_api_run_no_sql_themselves() -> None:
    for path in THIN:
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in RUNS_SQL, \
                    f"{path.relative_to(ROOT)} line {node.lineno} calls .{node.func.attr}(): add a service function"


def filter_reads(module: ast.Module) -> list[int]:
    """Lines reading a field of a Filters by hand (``filters.purpose``, ``f.service``)."""
    return [node.lineno for node in ast.walk(module)
            if isinstance(node, ast.Attribute) and node.attr in FILTER_FIELDS
            and isinstance(node.value, ast.Name) and node.value.id in ("filters", "f")]


def filter_readers() -> dict[str, list[int]]:
    """Files that turn filters into conditions by hand, and where."""
    found = {}
    for folder in ("ledger", "reports", "importers"):
        for path in (ROOT / folder).rglob("*.py"):
            lines = filter_reads(tree(path))
            if lines:
                found[path.relative_to(ROOT).as_posix()] = lines
    return found


def test_a_filter_read_by_hand_is_found() -> None:
    by_hand = "def at_risk(filters):\n    if filters.division:\n        where(Agreement.division_code == f.division)\n"
    assert filter_reads(ast.parse(by_hand)) == [2, 3]
    assert filter_reads(ast.parse("query.where(*filters.conditions(Obligation))")) == []


def test_filters_become_sql_only_in_filters_conditions() -> None:
    assert filter_readers() == {}


# -- one meaning, wherever a filter is given -----------------------------------------------
def add_two_agreements(session: Session) -> None:
    """In Ashford: 20/00001/FUL (2020/21) with an education obligation for primary places and
    a highways one; in Dover: 22/00002/OUT (2022/23) with a secondary-school obligation."""
    make_places(session)
    make_places(session, authority="E07000108", division="dover-town")
    make_agreement(session, site_name="Land at Mill Lane, Ashford", developer="Quinn Estates")
    make_obligation(session)
    make_obligation(session, reference="20/00001/FUL/2", purpose="highways", service="highways")
    make_agreement(session, reference="22/00002/OUT", signed_on=date(2023, 2, 1), authority_code="E07000108",
                   division_code="dover-town", site_name="Land at Dover Road", developer="Redrow Homes")
    make_obligation(session, agreement="22/00002/OUT", reference="22/00002/OUT/1",
                    service="education-secondary")


@pytest.fixture
def two_agreements(session: Session) -> Session:
    add_two_agreements(session)
    return session


CASES = [
    (Filters(), ["22/00002/OUT", "20/00001/FUL"]),
    (Filters(authority="E07000108"), ["22/00002/OUT"]),
    (Filters(division="ashford-central"), ["20/00001/FUL"]),
    (Filters(purpose="education"), ["22/00002/OUT", "20/00001/FUL"]),
    (Filters(service="highways"), ["20/00001/FUL"]),
    # Purpose and service must hold of one obligation: 20/00001/FUL has education and
    # highways obligations, but no education obligation for highways.
    (Filters(purpose="education", service="highways"), []),
    (Filters(purpose="education", service="education-secondary"), ["22/00002/OUT"]),
    (Filters(search="mill lane"), ["20/00001/FUL"]),
    (Filters(search="redrow"), ["22/00002/OUT"]),
    (Filters(signed_in_year=2022), ["22/00002/OUT"]),
    (Filters(signed_in_year=2021), []),
    (Filters(authority="E07000105", search="dover"), []),
]


@pytest.mark.parametrize(("filters", "expected"), CASES)
def test_agreement_filters(two_agreements: Session, filters: Filters, expected: list[str]) -> None:
    assert [a.reference for a in listing.agreements(two_agreements, filters)] == expected


def test_obligation_filters_read_the_agreement_and_the_obligation(two_agreements: Session) -> None:
    from ledger.services.registry import obligations_query

    def found(filters: Filters) -> list[str]:
        return [o.reference for o in two_agreements.scalars(obligations_query(filters))]

    assert found(Filters(purpose="education", service="highways")) == []
    assert found(Filters(authority="E07000105", purpose="education")) == ["20/00001/FUL/1"]
    assert found(Filters(search="redrow")) == ["22/00002/OUT/1"]


def test_a_filter_for_rows_it_does_not_know_is_refused() -> None:
    with pytest.raises(TypeError, match="no filters for"):
        Filters(authority="E07000105").conditions(User)


@pytest.fixture
def signed_in(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    """A web client signed in as an officer, and the same officer's API token."""
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="officer@test.s106", role="officer", password="correct horse", actor=SYSTEM)
        token = users.create_token(session, email="officer@test.s106", actor=SYSTEM)
        add_two_agreements(session)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    client.post("/login", data={"email": "officer@test.s106", "password": "correct horse", "csrf_token": csrf[1]})
    return client, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("query", ["authority=E07000108", "division=ashford-central", "service=highways",
                                   "purpose=education&service=highways",
                                   "purpose=education&service=education-secondary", ""])
def test_the_agreements_page_and_the_api_filter_alike(signed_in: tuple[FlaskClient, dict[str, str]],
                                                      query: str) -> None:
    client, headers = signed_in
    api = client.get(f"/api/v1/agreements?{query}", headers=headers)
    assert api.status_code == 200
    page = client.get(f"/agreements?{query}")
    assert page.status_code == 200
    shown = re.findall(r"\b2[02]/0000[12]/(?:FUL|OUT)\b", page.get_data(as_text=True))
    assert sorted(set(shown)) == sorted(a["reference"] for a in api.json)
