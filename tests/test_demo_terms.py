"""The demo shows every repayment basis (SPEC 8.2): the county's default terms, a few
obligations whose terms are unknown or count from the last payment, and what the pages
and reports then show."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.demo import generate
from ledger.demo_places import COUNTY
from ledger.domain.vocab import Band
from ledger.models import Authority, Obligation
from ledger.services.balances import at_risk
from tests.conftest import make_test_app

TODAY = date(2026, 11, 28)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Session]:
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, database)
    app = make_test_app(f"sqlite:///{database}")
    with app.extensions["ledger.sessions"]() as session:
        generate(session, scale="small", seed=106, today=TODAY)
        yield session
    app.extensions["ledger.engine"].dispose()


def test_the_county_has_default_terms_and_districts_have_none(demo: Session) -> None:
    county = demo.scalars(select(Authority).where(Authority.code == COUNTY[0])).one()
    assert (county.default_repayment_basis, county.default_repayment_years) == ("receipt", 10)
    districts = set(demo.scalars(select(Authority.default_repayment_basis).where(Authority.code != COUNTY[0])))
    assert districts == {"unknown"}


def test_every_basis_is_in_the_demo_with_years_only_where_they_belong(demo: Session) -> None:
    counts = dict(demo.execute(select(Obligation.repayment_basis, func.count()).group_by(Obligation.repayment_basis)).all())
    assert set(counts) == {"receipt", "completion", "last-payment", "none", "unknown"}
    assert counts["receipt"] > 10 * (counts["unknown"] + counts["last-payment"])  # a few, not many
    with_years = dict(demo.execute(select(Obligation.repayment_basis, func.count(Obligation.repayment_years))
                                   .group_by(Obligation.repayment_basis)).all())
    assert with_years["none"] == with_years["unknown"] == 0
    assert with_years["last-payment"] == counts["last-payment"]


def test_unknown_terms_show_as_an_unknown_deadline_at_risk(demo: Session) -> None:
    rows = at_risk(demo, as_of=TODAY)
    unknown = {r.obligation_reference for r in rows if r.band is Band.UNKNOWN_DEADLINE}
    terms_unknown = set(demo.scalars(select(Obligation.reference).where(Obligation.repayment_basis == "unknown")))
    assert unknown & terms_unknown
    last_payment = {r for r in rows if r.obligation_reference in set(demo.scalars(
        select(Obligation.reference).where(Obligation.repayment_basis == "last-payment")))}
    assert last_payment and all(r.deadline is not None for r in last_payment)
