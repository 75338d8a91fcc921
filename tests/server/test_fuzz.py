"""Fuzzing the served API: schemathesis generates good and bad input for every operation of
the OpenAPI description and sends it to `s106 serve --workers 2` on SQLite and PostgreSQL.
No answer may be a server error, every refusal is problem+json, and the server is still
whole afterwards.

Bounded: FUZZ_EXAMPLES cases per operation, generation mode and target (default 15), each
with a 30 s timeout; the seed is fixed so CI sees the same requests every run (FUZZ_SEED
changes it for a longer exploration)."""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis.core.transport import Response
from schemathesis.generation.modes import GenerationMode

from ledger.cli import MAX_REQUEST_LINE
from tests.server import serving
from tests.server.serving import Served, fetch

DATABASE = "ledger_fuzz_test"
ADMIN = "admin@test.s106"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
SEED = int(os.environ.get("FUZZ_SEED", "106"))
#: Things the seeded ledger holds, so that some generated requests get past "not found"
#: and reach the rules: path parameters by name, and body or query fields by name.
KNOWN = {
    "reference": ["20/00001/FUL", "20/00001/FUL/1", "PRJ-1"],
    "code": ["E07000105", "ashford-central"],
    "entry_id": [1],
    "obligation_reference": ["20/00001/FUL/1"],
    "project_reference": ["PRJ-1", "PRJ-2"],
    "authority_code": ["E07000105"],
    "division_code": ["ashford-central"],
    "agreement_reference": ["20/00001/FUL"],
}


@dataclass
class Tally:
    """What the fuzzing sent and what came back, for the closing report."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def classes(self) -> dict[str, int]:
        counted: Counter[str] = Counter()
        for status, n in self.by_status.items():
            counted[f"{status // 100}xx"] += n
        return dict(sorted(counted.items()))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving.fresh_database(request.param, request, tmp_path_factory, DATABASE) as url, \
            serving.serve(url, serving.seed(url), tmp_path_factory.mktemp("fuzz")) as served:
        yield served


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    counted = Tally()
    yield counted
    print(f"\nfuzz: {counted.requests} requests, by class {counted.classes()}, "
          f"by status {dict(sorted(counted.by_status.items()))}")


def _request_line_length(request: requests.PreparedRequest) -> int:
    return len(f"{request.method} {request.path_url} HTTP/1.1".encode())


def check(answer: Response, label: str) -> str | None:
    """What is wrong with an answer, or None."""
    text = answer.content.decode("utf-8", "replace")
    if answer.status_code >= 500:
        return f"{label} -> {answer.status_code}: {text[:300]}"
    if answer.status_code == 414 and _request_line_length(answer.request) > MAX_REQUEST_LINE:
        return None  # gunicorn's own refusal, before the app: it cannot speak problem+json
    if 400 <= answer.status_code < 500:
        content_type = (answer.headers.get("content-type") or [""])[0].split(";")[0]
        if content_type != "application/problem+json":
            return f"{label} -> {answer.status_code} as {content_type!r}: {text[:200]}"
        body = json.loads(answer.content)
        if not isinstance(body, dict) or body.get("status") != answer.status_code or not body.get("title"):
            return f"{label} -> {answer.status_code} with a body that is not a problem: {text[:200]}"
    return None


def with_known_values(case: schemathesis.Case, data: st.DataObject, own_token_id: int) -> None:
    """Swap some generated names for ones the ledger holds (the draw decides which). The
    fuzzing admin's own token and account are left alone: revoking or disabling them would
    turn every later request into a 401 and test nothing."""
    for name in list(case.path_parameters or {}):
        if name in KNOWN and data.draw(st.booleans(), label=f"known {name}"):
            case.path_parameters[name] = data.draw(st.sampled_from(KNOWN[name]))
    parameters = case.path_parameters or {}
    if parameters.get("token_id") == own_token_id:
        parameters["token_id"] = own_token_id + 1
    if str(parameters.get("email", "")).strip().lower() == ADMIN:
        parameters["email"] = serving.MEMBER
    for values in (case.body, case.query):
        if isinstance(values, dict):
            for name in list(values):
                if name in KNOWN and data.draw(st.booleans(), label=f"known {name}"):
                    values[name] = data.draw(st.sampled_from(KNOWN[name]))


def operations(served: Served) -> list[schemathesis.schemas.APIOperation]:
    schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{served.port}/api/v1/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 30, "the OpenAPI description lost its operations"
    return found


def fuzz_operation(operation: schemathesis.schemas.APIOperation, mode: GenerationMode, *, base_url: str,
                   http: requests.Session, token: str, token_id: int, tally: Tally) -> list[str]:
    """Send FUZZ_EXAMPLES generated requests for one operation; what was wrong with the answers."""
    failures: list[str] = []
    label = f"{operation.method.upper()} {operation.path}"

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=["explicit", "generate"])
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def send(case: schemathesis.Case, data: st.DataObject) -> None:
        with_known_values(case, data, token_id)
        try:
            answer = case.call(base_url=base_url, session=http, headers={"Authorization": f"Bearer {token}"},
                               timeout=30)
        except requests.RequestException as error:
            failures.append(f"{label}: {error!r}")
            return
        tally.requests += 1
        tally.by_status[answer.status_code] += 1
        wrong = check(answer, f"{label}: {case.method} {case.formatted_path} "
                              f"query={case.query!r} body={json.dumps(case.body, default=repr)[:300]}")
        if wrong:
            failures.append(wrong)

    send()
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_input_makes_a_server_error(served: Served, tally: Tally, mode: GenerationMode) -> None:
    failures: list[str] = []
    token = served.tokens["admin"]
    listed = fetch(served, "GET", f"/api/v1/tokens?email={ADMIN}", role="admin").json()
    token_id = next(t["id"] for t in listed if token.startswith(t["prefix"]))  # type: ignore[union-attr, index]
    with requests.Session() as http:
        for operation in operations(served):
            failures += fuzz_operation(operation, mode, base_url=f"http://127.0.0.1:{served.port}", http=http,
                                       token=token, token_id=token_id, tally=tally)
            if fetch(served, "GET", "/api/v1/agreements", role="admin").status != 200:
                failures.append(f"after {operation.method.upper()} {operation.path} the admin's token is refused")
                break
    tally.failures.extend(failures)
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:40])


def test_the_server_is_whole_afterwards(served: Served) -> None:
    assert fetch(served, "GET", "/health").status == 200
    agreement = urllib.parse.quote("20/00001/FUL", safe="")
    assert fetch(served, "GET", f"/api/v1/agreements/{agreement}", role="admin").status == 200
    log = served.log.read_text()
    assert log.count("Booting worker") == 2, "a worker died and was replaced"
    assert "Traceback" not in log


# -- web pages -----------------------------------------------------------------------------
#: Query and form names the pages read, and values that have broken such pages before.
WEB_NAMES = ["page", "year", "as_of", "on", "band", "service", "division", "authority", "purpose", "at_risk",
             "next", "kind", "format", "q", "amount", "occurred_on", "reason", "reference", "project_reference",
             "recipient", "interest", "index", "period", "value", "published_on", "occupied",
             # the lists' sorting and filters, and the date inputs' boxes (issue 15)
             "sort", "order", "overdue", "user", "type", "record", "from", "to", "report", "severity", "action",
             *(f"{date}-{part}" for date in ("from", "to", "on", "as_of", "period", "published_on")
               for part in ("day", "month", "year"))]
AWKWARD = ["0", "-1", "²", "١٢٣", "99999999999999999999", "9999-12-31", "0001-01-01", "2021-02-30", "",
           "\x00", "\ud800", "\r\nSet-Cookie: x=1", "//evil.example", "/\\evil.example", "1e9", "NaN", "x" * 3000]
web_text = st.one_of(st.sampled_from(AWKWARD), st.text(max_size=40))
SIGNED_OUT_ONLY = {"web.login", "web.logout"}


def _encode(value: str) -> str:
    """Percent-encode text as a browser would, lone surrogates included (as WTF-8)."""
    return urllib.parse.quote(value.encode("utf-8", "surrogatepass"), safe="")


def _query(values: dict[str, str]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in values.items())


def web_routes(served: Served) -> list[tuple[str, str, str]]:
    """(method, endpoint, rule) for every page of the web blueprint, read off the app."""
    from ledger import create_app

    app = create_app({"DATABASE_URL": served.database_url, "SECRET_KEY": "fuzz", "RESPONSE_CACHE_SIZE": 0})
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("web.") and rule.endpoint not in SIGNED_OUT_ONLY:
            for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                found.append((method, rule.endpoint, rule.rule))
    app.extensions["ledger.engine"].dispose()
    assert len(found) >= 15, "the web blueprint lost its pages"
    return found


def _signed_in(served: Served, email: str) -> tuple[requests.Session, str]:
    """A browser session signed in through the form, and its CSRF token."""
    http = requests.Session()
    base = f"http://127.0.0.1:{served.port}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}/login", timeout=30).text)
    assert token
    answer = http.post(f"{base}/login", data={"email": email, "password": serving.PASSWORD,
                                              "csrf_token": token.group(1)}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:300]
    return http, token.group(1)


KNOWN_PATH = {"reference": "20/00001/FUL/1", "code": "ashford-central", "entry_id": "1", "kind": "receipt",
              "fmt": "csv"}


def _path(rule: str, data: st.DataObject) -> str:
    """The rule with each of its variables drawn: a value the ledger holds, or anything."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        known = {"reference": ["20/00001/FUL", "20/00001/FUL/1", "PRJ-1"], "code": ["ashford-central"],
                 "entry_id": ["1"], "kind": ["receipt", "allocation", "spend"], "fmt": ["csv", "xlsx"]}
        value = data.draw(st.one_of(st.sampled_from(known.get(name, ["1"])), web_text), label=name)
        return _encode(value) if value else "x"

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule)


def fuzz_page(method: str, endpoint: str, rule: str, *, base: str, http: requests.Session, csrf_token: str,
              tally: Tally) -> list[str]:
    """Send FUZZ_EXAMPLES generated requests to one page; the server errors among the answers."""
    failures: list[str] = []

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=["explicit", "generate"])
    @given(data=st.data(), values=st.dictionaries(st.one_of(st.sampled_from(WEB_NAMES), st.text(max_size=8)),
                                                  web_text, max_size=4))
    def send(data: st.DataObject, values: dict[str, str]) -> None:
        ask(_path(rule, data), values)

    def ask(path: str, values: dict[str, str]) -> None:
        if method == "GET":
            url, body = f"{base}{path}?{_query(values)}", None
        else:
            url, body = f"{base}{path}", _query(values | {"csrf_token": csrf_token})
        try:
            answer = http.request(method, url, data=body, allow_redirects=False, timeout=30, headers={
                "Content-Type": "application/x-www-form-urlencoded"} if body is not None else {})
        except requests.RequestException as error:
            failures.append(f"{method} {url}: {error!r}")
            return
        tally.requests += 1
        tally.by_status[answer.status_code] += 1
        if answer.status_code >= 500:
            failures.append(f"{endpoint}: {method} {url} body={body!r} -> {answer.status_code}")

    # Each awkward value in every name at once, on a path the ledger holds; then generated ones.
    known_path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", lambda m: _encode(KNOWN_PATH.get(m.group(1), "1")), rule)
    for value in AWKWARD:
        ask(known_path, dict.fromkeys(WEB_NAMES, value))
    send()
    return failures


def test_no_page_makes_a_server_error(served: Served, tally: Tally) -> None:
    failures: list[str] = []
    http, csrf_token = _signed_in(served, "admin@test.s106")
    with http:
        for method, endpoint, rule in web_routes(served):
            failures += fuzz_page(method, endpoint, rule, base=f"http://127.0.0.1:{served.port}", http=http,
                                  csrf_token=csrf_token, tally=tally)
    tally.failures.extend(failures)
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:40])


def test_the_sign_in_page_takes_anything(served: Served, tally: Tally) -> None:
    base = f"http://127.0.0.1:{served.port}"
    failures: list[str] = []

    @seed(SEED)
    @settings(max_examples=EXAMPLES * 4, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(query=st.dictionaries(st.sampled_from(["next", "page"]), web_text, max_size=2),
           form=st.dictionaries(st.sampled_from(["email", "password", "csrf_token"]), web_text, max_size=3))
    def send(query: dict[str, str], form: dict[str, str]) -> None:
        with requests.Session() as http:
            url = f"{base}/login?{_query(query)}"
            page = http.get(url, allow_redirects=False, timeout=30)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            form = ({"csrf_token": token.group(1)} if token else {}) | form
            answer = http.post(url, data=_query(form), allow_redirects=False, timeout=30,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        for reply in (page, answer):
            tally.requests += 1
            tally.by_status[reply.status_code] += 1
            if reply.status_code >= 500:
                failures.append(f"{reply.request.method} {url} form={form!r} -> {reply.status_code}")
            if any(name.lower() not in {"location", "set-cookie", "content-type", "content-length", "vary",
                                        "date", "server", "connection", "content-security-policy",
                                        "x-frame-options", "x-content-type-options", "referrer-policy",
                                        "cache-control", "retry-after", "strict-transport-security"}
                   for name in reply.headers):
                failures.append(f"{url}: an unexpected header {sorted(reply.headers)} (header injection?)")
            location = reply.headers.get("Location", "")
            if location and not location.startswith("/"):
                failures.append(f"{url}: redirected off the site to {location!r}")

    send()
    tally.failures.extend(failures)
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:40])
