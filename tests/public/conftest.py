"""The small demo county with what must never be public written into it: officers' notes,
a correction's reason, an entry's reason, a proposed agreement (where the schema has
agreement status), a deed link and a planning application link, and one `javascript:`
address that must never become a link. Served with LEDGER_PUBLIC_PAGES=on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import create_app
from ledger.demo import generate
from ledger.domain.vocab import EntryKind
from ledger.models import Agreement, Obligation
from ledger.services import Actor, registry
from ledger.services.entries import EntryRequest, record_entry

#: The day the demo is generated on and the public pages are read on.
TODAY = date(2025, 6, 1)
COUNCIL = "Demo County Council"
OFFICER = Actor(email="officer@demo.s106.test", role="officer")
SECRET_NOTE = "Officer note: developer disputes the trigger, see email from J. Smith"
SECRET_CORRECTION = "Corrected after the finance meeting of 3 March"
SECRET_ENTRY_REASON = "Remittance 4471 matched by hand: ask finance"
PROPOSED = "PROPOSED/00001/OUT"
DEED = "https://planning.example.gov.uk/deeds/agreement.pdf"
APPLICATION = "https://planning.example.gov.uk/applications/25-00001"
HOSTILE_LINK = "javascript:alert(document.cookie)"


def public_app(url: str, **config: object) -> Flask:
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "public-tests", "ENV": "testing",
                       "PUBLIC_PAGES": "on", "PUBLIC_RATE_LIMIT": 0, "COUNCIL_NAME": COUNCIL} | config)


def add_what_must_stay_private(session: Session, *, today: date) -> dict[str, str]:
    """Notes, reasons, links and a proposed agreement on top of a demo; returns which
    agreement carries what, by role."""
    first, second, third = session.scalars(select(Agreement.reference).order_by(Agreement.id).limit(3))
    registry.update_agreement(session, first, {"notes": SECRET_NOTE, "document_url": DEED,
                                               "planning_application": APPLICATION},
                              actor=OFFICER, reason=SECRET_CORRECTION)
    registry.update_agreement(session, second, {"document_url": HOSTILE_LINK}, actor=OFFICER,
                              reason=SECRET_CORRECTION)
    obligation = session.scalars(select(Obligation.reference).join(Obligation.agreement)
                                 .where(Agreement.reference == third, Obligation.amount.is_not(None))).first()
    assert obligation is not None
    record_entry(session, EntryRequest(kind=EntryKind.RECEIPT, obligation_reference=obligation,
                                       amount=Decimal("1234.56"), occurred_on=today, reason=SECRET_ENTRY_REASON),
                 actor=OFFICER)
    if hasattr(Agreement, "status"):
        authority, division = session.execute(select(Agreement.authority_code, Agreement.division_code)).first()
        registry.create_agreement(session, {"reference": PROPOSED, "type": "section-106", "status": "proposed",
                                            "authority_code": authority, "division_code": division,
                                            "site_name": "Land at Proposed Lane"}, actor=OFFICER)
    return {"deed": first, "hostile": second, "receipt": third}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> tuple[str, dict[str, str]]:
    """The demo county's database URL, and which agreement carries what."""
    path = tmp_path_factory.mktemp("public") / "ledger.sqlite"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = public_app(url)
    with freeze_time("2025-06-01 10:00:00"), app.extensions["ledger.sessions"]() as session:
        generate(session, scale="small", seed=106, today=TODAY)
        roles = add_what_must_stay_private(session, today=TODAY)
    app.extensions["ledger.engine"].dispose()
    return url, roles


@pytest.fixture
def app(demo: tuple[str, dict[str, str]]) -> Iterator[Flask]:
    """The app on the demo county, public pages on, no rate limit."""
    application = public_app(demo[0])
    yield application
    application.extensions["ledger.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    """A reader on TODAY."""
    with freeze_time("2025-06-01 12:00:00"):
        yield app.test_client()
