"""Hostile input on the JSON API gets a 4xx problem naming the field, never a 500, on both
engines (issue 12): text longer than its column, control characters and lone surrogates,
numbers past 32 bits, dates outside 1900-2199, other scripts' digits, bodies that are not
JSON or not an object or too big, odd headers, every route's HEAD and OPTIONS. And a
refused request writes nothing.

One ledger per engine serves the whole module: every request here is refused, so each test
also checks that nothing in any table changed.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy import JSON, String, func, select

from ledger import create_app, models
from ledger.api import schemas
from ledger.domain import limits
from ledger.extensions import get_session
from ledger.models import Base
from ledger.services import SYSTEM, registry, users
from tests.conftest import _reset_postgres, make_test_app
from tests.factories import OFFICER, make_ledger, post

AGREEMENT = "/api/v1/agreements"
ONE_AGREEMENT = "/api/v1/agreements/20%2F00001%2FFUL"
OBLIGATIONS = f"{ONE_AGREEMENT}/obligations"
OBLIGATION = "/api/v1/obligations/20%2F00001%2FFUL%2F1"
BODIES: dict[str, dict[str, Any]] = {
    AGREEMENT: {"reference": "21/00002/FUL", "type": "section-106", "authority_code": "E07000105",
                "signed_on": "2021-01-01"},
    OBLIGATIONS: {"reference": "21/00002/FUL/1", "purpose": "education", "service": "education-primary",
                  "amount": "10.00"},
    "/api/v1/projects": {"reference": "PRJ-9", "name": "New school", "service": "education-primary"},
    "/api/v1/authorities": {"code": "E07000999", "name": "Somewhere", "kind": "district"},
    "/api/v1/divisions": {"code": "somewhere", "name": "Somewhere", "authority_code": "E07000105", "members": ["A"]},
    "/api/v1/entries": {"kind": "receipt", "obligation_reference": "20/00001/FUL/1", "amount": "10.00",
                        "occurred_on": "2021-01-01", "reason": "remittance"},
    "/api/v1/entries/1/reversal": {"reason": "keyed twice"},
    ONE_AGREEMENT: {"reason": "completion reported"},
    "/api/v1/index-values": {"index": "bcis", "period": "2021-01-01", "value": "100.5", "published_on": "2021-02-01"},
    f"{OBLIGATION}/instalments": {"reference": "I-9", "share": "0.5", "trigger_event": "date",
                                  "trigger_on": "2022-01-01"},
    f"{ONE_AGREEMENT}/milestones": {"kind": "occupation", "on": "2022-01-01", "occupied": 5},
    "/api/v1/invoices/issue": {"on": "2022-01-01"},
    "/api/v1/invoices/I-1%2Finvoice/payments": {"entry_id": 1, "amount": "1.00"},
}
METHODS = {ONE_AGREEMENT: "PATCH"}
ENTRY_REFERENCE = schemas.ENTRY_REFERENCE_MAX_LENGTH


def arabic(text: str) -> str:
    """``text`` with its digits in Arabic-Indic script, which Python's int() and Decimal read."""
    return "".join(chr(0x660 + int(c)) if c in "0123456789" else c for c in text)


LONG_URL = "https://example.org/" + "x" * limits.URL

#: (path, field, value): the body at `path` with `field` set to `value` is refused naming it.
BAD_FIELDS = [
    (AGREEMENT, "reference", "x" * 256),
    (AGREEMENT, "reference", "\x00"),
    (AGREEMENT, "reference", "20/00002\x00/FUL"),
    (AGREEMENT, "reference", "\ud800"),
    (AGREEMENT, "reference", ""),
    (AGREEMENT, "authority_code", "x" * 65),
    (AGREEMENT, "authority_code", "a\x00b"),
    (AGREEMENT, "planning_application", "x" * 256),
    (AGREEMENT, "site_name", "Ashford\nRoad"),
    (AGREEMENT, "division_code", "\x1b[31m"),
    (AGREEMENT, "varies", "x" * 256),
    (AGREEMENT, "developer", "\udfff"),
    (AGREEMENT, "document_url", LONG_URL),
    (AGREEMENT, "document_url", "https://example.org/a\x01b"),
    (AGREEMENT, "document_url", "https://example.org/\ud800"),
    (AGREEMENT, "notes", "x" * (limits.PROSE + 1)),
    (AGREEMENT, "notes", "kept \x00 here"),
    (AGREEMENT, "dwellings", 2**31),
    (AGREEMENT, "dwellings", -1),
    (AGREEMENT, "dwellings", 1.5),
    (AGREEMENT, "dwellings", arabic("12")),
    (AGREEMENT, "dwellings", 10**400),
    (AGREEMENT, "signed_on", "9999-12-31"),
    (AGREEMENT, "signed_on", "1899-12-31"),
    (AGREEMENT, "signed_on", "0001-01-01"),
    (AGREEMENT, "completion_on", "2200-01-01"),
    (AGREEMENT, "commencement_on", arabic("1999-01-01")),
    (ONE_AGREEMENT, "completion_on", "9999-12-31"),
    (ONE_AGREEMENT, "reason", "\x00"),
    (ONE_AGREEMENT, "reason", "x" * (limits.PROSE + 1)),
    (ONE_AGREEMENT, "notes", "\ud800"),
    (ONE_AGREEMENT, "dwellings", 2**31),
    (OBLIGATIONS, "reference", "x" * 256),
    (OBLIGATIONS, "service", "x" * 65),
    (OBLIGATIONS, "service", "education\n"),
    (OBLIGATIONS, "units", 2**31),
    (OBLIGATIONS, "repayment_years", 101),
    (OBLIGATIONS, "trigger", "\x00"),
    (OBLIGATIONS, "index_base_date", "0001-01-01"),
    (OBLIGATIONS, "amount", arabic("123.45")),
    (OBLIGATIONS, "amount", "10000000000000.00"),
    ("/api/v1/projects", "name", "x" * 256),
    ("/api/v1/projects", "reference", "PRJ\x009"),
    ("/api/v1/projects", "division_code", "x" * 65),
    ("/api/v1/authorities", "code", "x" * 65),
    ("/api/v1/authorities", "name", "\x00"),
    ("/api/v1/divisions", "authority_code", "\x00"),
    ("/api/v1/divisions", "members", ["A"] * 101),
    ("/api/v1/divisions", "members.0", ["x" * 256]),
    ("/api/v1/divisions", "members.1", ["A", "B\x00"]),
    ("/api/v1/entries", "reference", "x" * (ENTRY_REFERENCE + 1)),
    ("/api/v1/entries", "obligation_reference", "\x00"),
    ("/api/v1/entries", "project_reference", "x" * 256),
    ("/api/v1/entries", "recipient", "\ud800"),
    ("/api/v1/entries", "reason", "\x00"),
    ("/api/v1/entries", "reason", "x" * (limits.PROSE + 1)),
    ("/api/v1/entries", "occurred_on", "9999-12-31"),
    ("/api/v1/entries", "amount", arabic("123.45")),
    ("/api/v1/entries", "interest", "\uff11.00"),
    ("/api/v1/entries/1/reversal", "reason", "a\x00b"),
    ("/api/v1/index-values", "period", "9999-01-01"),
    ("/api/v1/index-values", "value", arabic("100.5")),
    (f"{OBLIGATION}/instalments", "reference", "x" * (schemas.INSTALMENT_REFERENCE_MAX_LENGTH + 1)),
    (f"{OBLIGATION}/instalments", "trigger_dwellings", 2**31),
    (f"{OBLIGATION}/instalments", "trigger_on", "2200-01-01"),
    (f"{ONE_AGREEMENT}/milestones", "on", "9999-12-31"),
    (f"{ONE_AGREEMENT}/milestones", "occupied", 2**31),
    (f"{ONE_AGREEMENT}/milestones", "occupied", arabic("1")),
    ("/api/v1/invoices/issue", "on", "9999-12-31"),
    ("/api/v1/invoices/I-1%2Finvoice/payments", "entry_id", 2**31),
    ("/api/v1/invoices/I-1%2Finvoice/payments", "entry_id", 99999999999999999999),
]

BALANCE = f"{OBLIGATION}/balance"
#: (path with query, field): refused naming the query parameter.
BAD_QUERIES = [
    (f"{AGREEMENT}?authority=%00", "authority"),
    (f"{AGREEMENT}?authority=" + "x" * 65, "authority"),
    (f"{AGREEMENT}?division=" + "x" * 100_000, "division"),
    ("/api/v1/entries?obligation=a%00b", "obligation"),
    ("/api/v1/entries?project=%1b", "project"),
    ("/api/v1/at-risk?service=%7f", "service"),
    (f"{AGREEMENT}?page=99999999999999999999", "page"),
    (f"{AGREEMENT}?page=1000001", "page"),
    (f"{AGREEMENT}?page=0", "page"),
    (f"{AGREEMENT}?page=%D9%A1", "page"),
    (f"{AGREEMENT}?page_size=501", "page_size"),
    (f"{AGREEMENT}?%00=1", "\x00"),
    (f"{BALANCE}?on=9999-12-31", "on"),
    (f"{BALANCE}?on=1899-12-31", "on"),
    (f"{BALANCE}?as_known_at=0001-01-01T00:00:00%2B01:00", "as_known_at"),
    (f"{BALANCE}?as_known_at=9999-12-31T23:59:59-05:00", "as_known_at"),
    ("/api/v1/at-risk?as_of=9999-12-31", "as_of"),
    ("/api/v1/at-risk?as_known_at=9999-12-31T23:59:59-05:00", "as_known_at"),
    ("/api/v1/divisions/ashford-central/summary?on=9999-12-31", "on"),
    ("/api/v1/divisions/ashford-central/summary?as_known_at=0001-01-01T00:00:00%2B01:00", "as_known_at"),
    ("/api/v1/income-due?as_of=0001-01-01", "as_of"),
    ("/api/v1/reports/at-risk?as_of=9999-12-31", "as_of"),
    ("/api/v1/reports/ifs?year=%D9%A2%D9%A0%D9%A2%D9%A3", "year"),
    ("/api/v1/reports/ifs?year=2023&as_known_at=9999-12-31T00:00:00Z", "as_known_at"),
]

#: (method, path, field): a path parameter no record can hold is refused naming it.
BAD_PATHS = [
    ("GET", f"{AGREEMENT}/%00", "reference"),
    ("HEAD", f"{AGREEMENT}/%00", "reference"),
    ("GET", f"{AGREEMENT}/a%00b/obligations", "reference"),
    ("PATCH", f"{AGREEMENT}/%00", "reference"),
    ("GET", "/api/v1/obligations/%00/balance", "reference"),
    ("GET", "/api/v1/obligations/%00/instalments", "reference"),
    ("GET", "/api/v1/divisions/%00/summary", "code"),
    ("GET", "/api/v1/divisions/%01", "code"),
    ("GET", "/api/v1/authorities/%1b", "code"),
    ("GET", "/api/v1/projects/%7f", "reference"),
    ("POST", "/api/v1/invoices/%00/payments", "reference"),
    ("GET", "/api/v1/no-such-thing/%00", "path"),
]

#: (method, path): numbers past 32 bits name no entry.
TOO_BIG_IDS = [
    ("GET", "/api/v1/entries/99999999999999999999"),
    ("GET", "/api/v1/entries/2147483648"),
    ("HEAD", "/api/v1/entries/2147483648"),
    ("POST", "/api/v1/entries/2147483648/reversal"),
]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           sqlite_template: Path) -> Iterator[tuple[Flask, dict[str, str]]]:
    """A small ledger on each engine, and an officer's and an admin's bearer token."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("hostile") / "ledger.sqlite"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        _reset_postgres(url)
    app = make_test_app(url)
    with app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        post(session, "receipt", "1000.00", date(2020, 6, 1), reference="R-1")
        headers = {}
        for role in ("officer", "admin"):
            users.add_user(session, email=f"{role}@test.s106", role=role, password=None, actor=SYSTEM)
            headers[role] = f"Bearer {users.create_token(session, email=f'{role}@test.s106', actor=SYSTEM)}"
    yield app, headers
    app.extensions["ledger.engine"].dispose()


@pytest.fixture
def client(served: tuple[Flask, dict[str, str]]) -> Iterator[FlaskClient]:
    """A client whose every request must leave every table as it was."""
    app, _ = served
    before = row_counts(app)
    yield app.test_client()
    assert row_counts(app) == before, "a refused request wrote something"


@pytest.fixture
def officer(served: tuple[Flask, dict[str, str]]) -> dict[str, str]:
    return {"Authorization": served[1]["officer"]}


@pytest.fixture
def admin(served: tuple[Flask, dict[str, str]]) -> dict[str, str]:
    # Admins may ask for every route: a refused role would be audited, which is a write.
    return {"Authorization": served[1]["admin"]}


def row_counts(app: Flask) -> dict[str, int]:
    with app.extensions["ledger.sessions"]() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


def refused(response: Any, status: int, field: str, location: str | None = None) -> dict[str, Any]:
    """Assert a problem of this status naming this field; return the problem."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    problem = json.loads(response.get_data())
    named = {(e["field"], e.get("location")) for e in problem.get("errors", [])}
    assert field in {f for f, _ in named}, problem
    if location:
        assert (field, location) in named, problem
    return problem


@pytest.mark.parametrize(("path", "field", "value"), BAD_FIELDS,
                         ids=[f"{p.removeprefix('/api/v1/')}:{f}:{str(v)[:12]!r}" for p, f, v in BAD_FIELDS])
def test_a_bad_field_is_422_naming_it(client: FlaskClient, officer: dict, path: str, field: str, value: Any) -> None:
    name = field.split(".")[0]
    body = BODIES[path] | {name: value}
    response = client.open(path, method=METHODS.get(path, "POST"), json=body, headers=officer)
    refused(response, 422, field, "json")


@pytest.mark.parametrize(("path", "field"), BAD_QUERIES, ids=[q.removeprefix("/api/v1/")[:60] for q, _ in BAD_QUERIES])
def test_a_bad_query_parameter_is_422_naming_it(client: FlaskClient, officer: dict, path: str, field: str) -> None:
    refused(client.get(path, headers=officer), 422, field, "query")


@pytest.mark.parametrize(("method", "path", "field"), BAD_PATHS, ids=[f"{m} {p}" for m, p, _ in BAD_PATHS])
def test_a_path_holding_a_control_character_is_422_naming_it(client: FlaskClient, officer: dict, method: str,
                                                              path: str, field: str) -> None:
    response = client.open(path, method=method, json=BODIES["/api/v1/entries/1/reversal"], headers=officer)
    if method == "HEAD":
        assert response.status_code == 422
    else:
        refused(response, 422, field, "path")


def test_a_path_is_refused_before_the_token_is_checked(client: FlaskClient) -> None:
    # Refusing the token is audited, and no audit event can keep a NUL on PostgreSQL.
    refused(client.get(f"{AGREEMENT}/%00"), 422, "reference", "path")


def test_invalid_utf8_in_a_path_is_read_as_a_replacement_character(client: FlaskClient, officer: dict) -> None:
    # What a lone surrogate would be, encoded: werkzeug decodes it to U+FFFD, which is no reference.
    response = client.get(f"{AGREEMENT}/%ED%A0%80", headers=officer)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("method", "path"), TOO_BIG_IDS, ids=[f"{m} {p}" for m, p in TOO_BIG_IDS])
def test_an_id_past_32_bits_is_404(client: FlaskClient, officer: dict, method: str, path: str) -> None:
    response = client.open(path, method=method, json={"reason": "r"}, headers=officer)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("raw", "reason"), [
    (b"{", "Expecting property name"),
    (b"not json", "Expecting value"),
    (b'{"kind": "receipt",}', "Expecting property name"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"reason": "\xed\xa0\x80"}', "not UTF-8"),
    (b"[" * 10_000, "nested too deeply"),
    (b'{"a":' * 10_000, "nested too deeply"),
], ids=["unclosed", "words", "trailing-comma", "utf-16-bom", "encoded-surrogate", "deep-array", "deep-object"])
def test_a_body_that_is_not_json_is_400(client: FlaskClient, officer: dict, raw: bytes, reason: str) -> None:
    response = client.post("/api/v1/entries", data=raw, content_type="application/json", headers=officer)
    problem = refused(response, 400, "body", "json")
    assert reason in problem["detail"]


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"null", b"1", b"true", b'[{"kind": "receipt"}]'])
def test_json_that_is_not_an_object_is_422(client: FlaskClient, officer: dict, raw: bytes) -> None:
    response = client.post("/api/v1/entries", data=raw, content_type="application/json", headers=officer)
    problem = refused(response, 422, "body", "json")
    assert problem["errors"][0]["detail"] == "must be a JSON object"


def test_a_json_escaped_lone_surrogate_is_422_naming_the_field(client: FlaskClient, officer: dict) -> None:
    raw = json.dumps(BODIES["/api/v1/entries"] | {"reason": "x"}).replace('"x"', '"\\ud800"')
    response = client.post("/api/v1/entries", data=raw, content_type="application/json", headers=officer)
    refused(response, 422, "reason", "json")


def test_an_unknown_field_is_still_refused(client: FlaskClient, officer: dict) -> None:
    response = client.post("/api/v1/entries", json=BODIES["/api/v1/entries"] | {"\x00": 1}, headers=officer)
    refused(response, 422, "\x00", "json")


def test_a_body_over_the_limit_is_413(served: tuple[Flask, dict], client: FlaskClient, officer: dict) -> None:
    app, _ = served
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 1024 * 1024
    body = json.dumps(BODIES["/api/v1/entries"] | {"reason": "x" * limit}).encode()
    response = client.post("/api/v1/entries", data=body, content_type="application/json", headers=officer)
    problem = refused(response, 413, "body")
    assert problem["detail"] == "The request body is larger than the 1,048,576 bytes this server takes."


def test_a_body_under_the_limit_is_read(client: FlaskClient, officer: dict) -> None:
    # The longest reason a field takes is far under the body limit, so the field names it.
    body = BODIES["/api/v1/entries"] | {"reason": "x" * 500_000}
    refused(client.post("/api/v1/entries", json=body, headers=officer), 422, "reason")


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=zzz",
    "application/json; charset=latin-1", "application/merge-patch+json", "application/json\x00", "",
])
def test_an_odd_content_type_is_a_4xx(client: FlaskClient, officer: dict, content_type: str) -> None:
    body = json.dumps(BODIES["/api/v1/entries"] | {"reason": "\x00"}).encode()
    response = client.post("/api/v1/entries", data=body, headers=officer | {"Content-Type": content_type})
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("accept", ["\x00", "text/html", "application/xml", "*/*;q=x", "a" * 10_000, "text/html;q=2"])
def test_an_odd_accept_header_still_gets_a_problem(client: FlaskClient, officer: dict, accept: str) -> None:
    response = client.post("/api/v1/entries", json=BODIES["/api/v1/entries"] | {"amount": 10},
                           headers=officer | {"Accept": accept})
    refused(response, 422, "amount")
    assert client.get(f"{AGREEMENT}?page=0", headers=officer | {"Accept": accept}).status_code == 422


def test_a_long_path_is_404_and_a_long_query_is_422(client: FlaskClient, officer: dict) -> None:
    assert client.get(f"{AGREEMENT}/{'x' * 100_000}", headers=officer).status_code == 404
    refused(client.get(f"/api/v1/entries?project={'x' * 100_000}", headers=officer), 422, "project", "query")


#: A value for each path argument that names something in the module's ledger.
SAMPLES = {"agreements": "20/00001/FUL", "obligations": "20/00001/FUL/1", "projects": "PRJ-1",
           "invoices": "I-1/invoice", "authorities": "E07000105", "divisions": "ashford-central", "entries": "1"}


def test_head_and_options_on_every_route_never_fail(served: tuple[Flask, dict], client: FlaskClient,
                                                    admin: dict) -> None:
    app, _ = served
    rules = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]
    assert len(rules) > 20
    for rule in rules:
        collection = rule.removeprefix("/api/v1/").split("/")[0]
        path = re.sub(r"<[^>]+>", SAMPLES.get(collection, "x"), rule)
        for method in ("HEAD", "OPTIONS"):
            response = client.open(path, method=method, headers=admin)
            assert response.status_code < 500, (method, path, response.status_code)
            assert response.status_code != 405 or method == "HEAD", (method, path)


def test_the_schemas_fit_every_column() -> None:
    """Each text field a schema loads is no longer than the column of the same name (a
    choice from a list: its longest choice)."""
    pairs = [(schemas.Authority, models.Authority), (schemas.Division, models.Division),
             (schemas.Agreement, models.Agreement), (schemas.AgreementChanges, models.AgreementHistory),
             (schemas.Obligation, models.Obligation), (schemas.Project, models.Project), (schemas.EntryIn, models.Entry),
             (schemas.InstalmentSchema, models.Instalment)]
    checked = 0
    for schema, model in pairs:
        for name, field in schema().load_fields.items():
            column = model.__table__.columns.get(name)
            if column is None or not isinstance(column.type, String | JSON):
                continue
            length = getattr(column.type, "length", None) or limits.PROSE
            if isinstance(field, ma.fields.List):  # division members: each is a line
                field = field.inner
            bounds = [v.max for v in field.validators if isinstance(v, ma.validate.Length) and v.max is not None]
            bounds += [max(map(len, v.choices)) for v in field.validators if isinstance(v, ma.validate.OneOf)]
            longest = min(bounds, default=None)
            assert longest is not None and longest <= length, f"{schema.__name__}.{name}: {longest} > {length}"
            checked += 1
    assert checked > 30


def test_a_value_no_schema_checked_is_a_422_from_the_database(served: tuple[Flask, dict]) -> None:
    """The safety net, through routes that skip the schemas: a value the database refuses
    (too long for its column on PostgreSQL: DataError) or cannot be bound (a moment whose
    UTC time is past the calendar's end) is a 422, not a 500, and writes nothing."""
    url = str(served[0].config["DATABASE_URL"])
    app = make_test_app(url)

    @app.post("/unchecked/authority")
    def unchecked_authority() -> dict[str, str]:
        registry.create_authority(get_session(), request.get_json(), actor=OFFICER)
        return {}

    @app.get("/unchecked/entries")
    def unchecked_entries() -> dict[str, str]:
        late = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))
        get_session().scalars(select(models.Entry).where(models.Entry.created_at <= late)).all()
        return {}

    client = app.test_client()
    before = row_counts(app)
    wants_json = {"Accept": "application/json"}
    responses = [client.get("/unchecked/entries", headers=wants_json)]
    if not url.startswith("sqlite"):  # SQLite stores strings of any length
        responses.append(client.post("/unchecked/authority", json={"code": "x" * 65, "name": "Nowhere", "kind": "district"},
                                     headers=wants_json))
    for response in responses:
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert response.json["type"] == "/problems/validation-error"
    assert row_counts(app) == before
    app.extensions["ledger.engine"].dispose()


def test_the_openapi_description_states_the_limits(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    entry = spec["components"]["schemas"]["EntryIn"]["properties"]
    assert entry["reference"]["maxLength"] == ENTRY_REFERENCE
    assert entry["reason"]["maxLength"] == limits.PROSE and entry["reason"]["pattern"] == schemas.PROSE_PATTERN
    assert entry["occurred_on"]["pattern"] == schemas.YEARS_PATTERN
    page = next(p for p in spec["paths"]["/api/v1/agreements"]["get"]["parameters"] if p["name"] == "page")
    assert page["schema"]["maximum"] == 1_000_000
    entry_id = spec["paths"]["/api/v1/entries/{entry_id}"]["parameters"][0]
    assert entry_id["schema"]["maximum"] == limits.INT32_MAX


def test_the_described_patterns_refuse_what_the_checks_refuse() -> None:
    line, prose = re.compile(schemas.LINE_PATTERN), re.compile(schemas.PROSE_PATTERN)
    for code in [*range(0xD800), *range(0xE000, 0x10000)]:
        character = chr(code)
        # fullmatch: in Python, unlike ECMAScript, `$` also matches before a final newline.
        assert (line.fullmatch(character) is None) == (limits.unprintable(character) is not None), hex(code)
        assert (prose.fullmatch(character) is None) == (limits.unprintable(character, multiline=True) is not None)
    years = re.compile(schemas.YEARS_PATTERN)
    assert years.match("1900-01-01") and years.match("2199-12-31")
    assert not years.match("1899-12-31") and not years.match("2200-01-01") and not years.match("9999-12-31")


def test_page_sizes_are_the_configured_ones(served: tuple[Flask, dict], officer: dict) -> None:
    url = str(served[0].config["DATABASE_URL"])
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test", "ENV": "testing",
                      "PAGE_SIZE": 1, "MAX_PAGE_SIZE": 3})
    client = app.test_client()
    first = client.get("/api/v1/projects", headers=officer)
    assert len(first.json) == 1 and json.loads(first.headers["X-Pagination"])["total_pages"] == 2
    assert len(client.get("/api/v1/projects?page_size=3", headers=officer).json) == 2
    refused(client.get("/api/v1/projects?page_size=4", headers=officer), 422, "page_size", "query")
    app.extensions["ledger.engine"].dispose()
