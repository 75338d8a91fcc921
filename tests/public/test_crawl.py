"""Only what is public (issue 20 item 2): a crawl of every public page, every JSON answer
and every download of the demo county finds none of what must stay inside the council
(officers' notes and reasons, who keyed what, audit data, at-risk bands and repayment
deadlines, proposed agreements), and the public templates are given public records only,
never a database row, so no template change can reach anything else."""

from __future__ import annotations

import csv
import dataclasses
import re
from collections import deque
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO, StringIO
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import String, Text, select
from sqlalchemy.engine import Row

from ledger.domain.vocab import BAND_LABELS, Band
from ledger.models import Agreement, Base, User
from tests.public.conftest import (
    DEED,
    HOSTILE_LINK,
    PROPOSED,
    SECRET_CORRECTION,
    SECRET_ENTRY_REASON,
    SECRET_NOTE,
)

#: Columns whose values are the council's own business: who, why, notes, secrets.
PRIVATE_COLUMNS = {"notes", "note", "reason", "created_by", "changed_by", "actor", "email", "owner_email",
                   "password_hash", "token_hash", "digest", "client", "before", "after"}
#: Words only money at risk and repayment deadlines are spoken of in (a workbook's prose aside).
PRIVATE_WORDS = ("deadline", "at risk", "at-risk")
#: The at-risk bands as pages and workbooks name them: nowhere, prose included.
BAND_WORDS = tuple(BAND_LABELS[b] for b in (Band.OVERDUE, Band.RED, Band.AMBER, Band.UNKNOWN_DEADLINE))
#: Whether the schema has proposed agreements (SPEC 8.7), and so the demo holds one.
PROPOSED_KEPT = hasattr(Agreement, "status")
#: Stored values shorter than this are ordinary words ("system", "Member"), not secrets.
SHORTEST_SECRET = 8


def private_values(app: Flask) -> set[str]:
    """Every stored value of a private column, and every user's email, from the database."""
    found: set[str] = set()
    with app.extensions["ledger.sessions"]() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if column.name in PRIVATE_COLUMNS and isinstance(column.type, String | Text):
                    found.update(str(v) for v in session.scalars(select(column).distinct()) if v)
        found.update(session.scalars(select(User.email)))
        if hasattr(User, "name"):
            found.update(n for n in session.scalars(select(User.name)) if n)
    return {value for value in found if len(value) >= SHORTEST_SECRET}


#: Where the public statement may use the private words in prose, not as data: its Notes
#: (definitions, and "this edition shows no money at risk and no repayment deadlines") and
#: the names of its Checks (how its figures reconcile), by sheet and column.
PROSE_CELLS = {("Notes", None), ("Checks", 0)}


def workbook_text(data: bytes) -> tuple[str, str]:
    """Every cell of a workbook, and every cell but its prose (PROSE_CELLS)."""
    workbook = load_workbook(BytesIO(data), read_only=True)
    every, data_cells = [ws.title for ws in workbook.worksheets], [ws.title for ws in workbook.worksheets]
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for column, value in enumerate(row):
                if value is not None:
                    every.append(str(value))
                    if not {(sheet.title, None), (sheet.title, column)} & PROSE_CELLS:
                        data_cells.append(str(value))
    return "\n".join(every), "\n".join(data_cells)


def body_text(response: Any) -> tuple[str, str]:
    """An answer's text, whole and without its prose (a workbook's Notes)."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        return workbook_text(response.data)
    text = response.get_data(as_text=True)
    return text, text


def links(html: str, base: str) -> Iterator[str]:
    for href in re.findall(r'href="([^"]+)"', html):
        href = urljoin(base, href.replace("&amp;", "&")).partition("#")[0]
        if urlsplit(href).path.startswith("/public"):
            yield href


def api_twin(path: str) -> str | None:
    """The JSON address of a page, where it has one."""
    for page in ("/public/agreements/", "/public/projects/", "/public/divisions/"):
        if path.startswith(page):
            return path.replace("/public/", "/public/api/", 1)
    return None


@dataclasses.dataclass
class Crawl:
    visited: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Each answer's text but a workbook's prose, where the private words are sought.
    worded: dict[str, str] = dataclasses.field(default_factory=dict)
    contexts: list[tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=list)


def crawl(app: Flask, client: FlaskClient) -> Crawl:
    """Every public page reached by following links from /public, each page's JSON twin,
    the API's collections and every download; all must answer 200."""
    found = Crawl()

    def keep(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
        found.contexts.append((template.name, context))

    queue = deque(["/public", "/public/api/figures", "/public/api/divisions", "/public/api/agreements?page_size=500"])
    with template_rendered.connected_to(keep, app):
        while queue:
            address = queue.popleft()
            if address in found.visited:
                continue
            response = client.get(address)
            assert response.status_code == 200, (address, response.status_code)
            text, found.worded[address] = body_text(response)
            found.visited[address] = text
            if response.mimetype == "text/html":
                queue.extend(href for href in links(text, address) if href not in found.visited)
                twin = api_twin(urlsplit(address).path)
                if twin:
                    queue.append(twin)
    return found


@pytest.fixture(scope="module")
def crawled(demo: tuple[str, dict[str, str]]) -> tuple[Crawl, set[str]]:
    from freezegun import freeze_time

    from tests.public.conftest import public_app

    app = public_app(demo[0])
    with freeze_time("2025-06-01 12:00:00"):
        result = crawl(app, app.test_client())
    secrets = private_values(app)
    app.extensions["ledger.engine"].dispose()
    return result, secrets


def test_the_crawl_reaches_every_kind_of_page_and_download(crawled: tuple[Crawl, set[str]],
                                                           demo: tuple[str, dict[str, str]]) -> None:
    found, _ = crawled
    paths = [urlsplit(a).path for a in found.visited]
    for kind in ("/public/agreements/", "/public/projects/", "/public/divisions/", "/public/api/agreements/",
                 "/public/api/projects/", "/public/api/divisions/", "/public/data/ifs-"):
        assert any(p.startswith(kind) for p in paths), kind
    for name in ("developer-agreement.csv", "developer-agreement-contribution.csv",
                 "developer-agreement-transaction.csv"):
        assert f"/public/data/{name}" in paths
    assert any("page=2" in a for a in found.visited), "search results are paged"
    # The small demo: 150 agreements, each with a page and its JSON.
    assert sum(p.startswith("/public/agreements/") for p in paths) == 150
    print(f"\npublic crawl: {len(found.visited)} pages, answers and downloads visited")


def test_nothing_private_appears_anywhere_public(crawled: tuple[Crawl, set[str]]) -> None:
    found, secrets = crawled
    assert {SECRET_NOTE, SECRET_CORRECTION, SECRET_ENTRY_REASON, "officer@demo.s106.test",
            "payment received from developer"} <= secrets
    leaks = [(address, secret) for address, text in found.visited.items() for secret in secrets if secret in text]
    words = [(address, word) for address, text in found.worded.items() for word in PRIVATE_WORDS
             if word.lower() in text.lower()]
    bands = [(address, band) for address, text in found.visited.items() for band in BAND_WORDS if band in text]
    proposed = [address for address, text in found.visited.items() if PROPOSED in text]
    print(f"\npublic crawl: {len(found.visited)} visited; {len(secrets)} private values, "
          f"{len(PRIVATE_WORDS) + len(BAND_WORDS)} private words and {int(bool(PROPOSED_KEPT))} proposed agreement "
          f"sought; found {len(leaks) + len(words) + len(bands) + len(proposed)}")
    assert leaks == []
    assert words == []
    assert bands == []
    assert proposed == []


def test_links_go_only_where_they_should(crawled: tuple[Crawl, set[str]], demo: tuple[str, dict[str, str]]) -> None:
    found, _ = crawled
    roles = demo[1]
    page = next(text for address, text in found.visited.items()
                if urlsplit(address).path == f"/public/agreements/{roles['deed']}")
    assert f'href="{DEED}"' in page and "Read the signed agreement" in page
    hostile = next(text for address, text in found.visited.items()
                   if urlsplit(address).path == f"/public/agreements/{roles['hostile']}")
    assert "javascript:" not in hostile and HOSTILE_LINK not in hostile


def test_no_public_page_carries_a_form_token(crawled: tuple[Crawl, set[str]]) -> None:
    found, _ = crawled
    assert not any("csrf_token" in text for text in found.visited.values())


PUBLIC_SCALARS = (str, int, bool, Decimal, date, datetime, type(None))


def public_value(value: Any, where: str) -> list[str]:
    """What in ``value`` is not a public record or plain value: a model, a row, anything else."""
    if isinstance(value, PUBLIC_SCALARS):
        return []
    if isinstance(value, Base | Row):
        return [f"{where}: {type(value).__name__} from the database"]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value).__module__ != "ledger.public.queries":
            return [f"{where}: {type(value).__module__}.{type(value).__name__} is not a public record"]
        return [problem for f in dataclasses.fields(value)
                for problem in public_value(getattr(value, f.name), f"{where}.{f.name}")]
    if isinstance(value, dict):
        return [problem for k, v in value.items() for problem in public_value(v, f"{where}[{k!r}]")]
    if isinstance(value, list | tuple | set | frozenset):
        return [problem for n, v in enumerate(value) for problem in public_value(v, f"{where}[{n}]")]
    return [f"{where}: {type(value).__name__}"]


def test_public_templates_are_given_public_records_only(crawled: tuple[Crawl, set[str]],
                                                        demo: tuple[str, dict[str, str]]) -> None:
    from tests.public.conftest import public_app

    found, _ = crawled
    app = public_app(demo[0])
    with app.test_request_context("/public"):
        injected: dict[str, Any] = {}
        app.update_template_context(injected)  # what Flask and every page get: config, request, labels
    app.extensions["ledger.engine"].dispose()
    rendered = [(name, context) for name, context in found.contexts if name.startswith("public/")]
    assert len(rendered) > 300
    assert {name for name, _ in rendered} >= {"public/start.html", "public/agreements.html", "public/agreement.html",
                                              "public/project.html", "public/division.html", "public/divisions.html",
                                              "public/data.html"}
    problems = [problem for name, context in rendered for key, value in context.items() if key not in injected
                for problem in public_value(value, f"{name}:{key}")]
    assert problems == []


def test_the_check_of_template_values_would_see_a_database_row() -> None:
    assert public_value({"agreement": Agreement(reference="X")}, "page") == ["page['agreement']: Agreement from the database"]
    assert public_value([object()], "page") == ["page[0]: object"]


def test_the_government_files_are_the_signed_agreements_without_notes(crawled: tuple[Crawl, set[str]]) -> None:
    found, _ = crawled
    agreements = list(csv.DictReader(StringIO(found.visited["/public/data/developer-agreement.csv"])))
    assert len(agreements) == 150
    assert all(row["notes"] == "" for row in agreements)
    transactions = list(csv.DictReader(StringIO(found.visited["/public/data/developer-agreement-transaction.csv"])))
    assert transactions and all(row["contribution-funding-status"] for row in transactions)


def test_the_public_views_read_only_through_their_own_queries() -> None:
    """The views and the JSON build no SQL and touch no model: what they show is what
    ledger.public.queries returns."""
    import ast
    from pathlib import Path

    import ledger.public

    folder = Path(ledger.public.__file__).parent
    for name in ("views.py", "api.py", "serving.py"):
        tree = ast.parse((folder / name).read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not {m for m in imported if m and m.split(".")[0] == "sqlalchemy"}, name
        assert "ledger.models" not in imported and "ledger.services.listing" not in imported, name
