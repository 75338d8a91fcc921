"""services.positions under every repayment basis (SPEC 8.2) with opening balances (SPEC
8.3), against the rules' entry-by-entry walk, on SQLite and PostgreSQL: the closed form
where rule 8 consumes receipts in received order, a replay where an opening balance upsets
that order."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.domain import rules
from ledger.domain.dates import add_months
from ledger.domain.errors import RuleViolated
from ledger.domain.vocab import Band
from ledger.models import Obligation
from ledger.services.balances import at_risk, obligation_balance
from ledger.services.entries import history
from ledger.services.ledger_rows import deadline_rule
from ledger.services.positions import obligation_positions
from tests.factories import make_agreement, make_obligation, make_places, make_project, post

TERMS = {"OB/RECEIPT": ("receipt", 3), "OB/COMPLETION": ("completion", 5), "OB/LAST": ("last-payment", 2),
         "OB/NONE": ("none", None), "OB/UNKNOWN": ("unknown", None)}
FIRST_DAY = date(2015, 1, 1)
COMPLETION = date(2015, 9, 1)


@pytest.fixture
def ledger(session: Session) -> Session:
    make_places(session)
    make_agreement(session, completion_on=COMPLETION)
    make_project(session, reference="P-1")
    for reference, (basis, years) in TERMS.items():
        make_obligation(session, reference=reference, repayment_basis=basis, repayment_years=years)
    rng = random.Random(813)
    with freeze_time(datetime(2025, 1, 1, tzinfo=UTC)):
        for _ in range(220):
            obligation = rng.choice(list(TERMS))
            kind = rng.choice(["receipt", "opening-balance", "allocation", "spend", "repayment"])
            day = FIRST_DAY + timedelta(days=rng.randint(0, 500))
            extra = {}
            if kind == "opening-balance":
                known = rng.random() < 0.6
                extra["original_received_on"] = day - timedelta(days=rng.randint(0, 2000)) if known else None
            amount = f"{rng.randint(1, 50_000 if kind in ('receipt', 'opening-balance') else 15_000) / 100:.2f}"
            try:
                post(session, kind, amount, day, obligation=obligation,
                     project="P-1" if kind in ("allocation", "spend") else None, **extra)
            except RuleViolated:
                continue
    return session


def test_positions_equal_the_walk_for_every_basis_with_opening_balances(ledger: Session) -> None:
    obligations = {o.reference: o for o in ledger.scalars(select(Obligation))}
    histories = {ref: rules.in_force(history(ledger, o.id)) for ref, o in obligations.items()}
    checked = replayed = 0
    for months in range(20):
        day = add_months(FIRST_DAY, months)
        found = {p.info.reference: p for p in obligation_positions(ledger, on=day)}
        for reference, entries in histories.items():
            deadline_of = deadline_rule(obligations[reference], COMPLETION, rules.last_received_on(entries, on=day))
            walked = [p for p in rules.receipt_positions(entries, on=day, deadline_of=deadline_of) if p.remaining]
            if not walked:
                continue
            assert [(p.receipt.id, p.deadline, p.remaining, p.allocated) for p in found[reference].receipts] == [
                (p.receipt.id, p.deadline, p.remaining, p.allocated) for p in walked]
            # The balance of one obligation (the obligation page) walks the same way.
            single = obligation_balance(ledger, reference, on=day)
            assert [(p.receipt.id, p.deadline, p.remaining) for p in single.receipts if p.remaining] == [
                (p.receipt.id, p.deadline, p.remaining) for p in walked]
            received_order = sorted((p.receipt for p in walked), key=lambda r: (r.occurred_on, r.id))
            replayed += [p.receipt for p in walked] != received_order
            checked += len(walked)
    assert checked > 100
    assert replayed > 0  # some dates needed the replay: the closed form alone would differ


def test_last_payment_deadline_moves_when_a_later_receipt_arrives(session: Session) -> None:
    make_places(session)
    make_agreement(session)
    make_obligation(session, reference="LP", repayment_basis="last-payment", repayment_years=5)
    post(session, "receipt", "100.00", date(2016, 2, 29), obligation="LP")
    post(session, "receipt", "50.00", date(2018, 6, 1), obligation="LP")

    def deadlines(as_of: date) -> list[date | None]:
        return [r.deadline for r in at_risk(session, as_of=as_of)]

    assert deadlines(date(2017, 1, 1)) == [date(2021, 2, 28)]
    assert deadlines(date(2019, 1, 1)) == [date(2023, 6, 1), date(2023, 6, 1)]
    assert {r.band for r in at_risk(session, as_of=date(2022, 7, 1))} == {Band.RED}


def test_unknown_terms_band_as_unknown(session: Session) -> None:
    make_places(session)
    make_agreement(session)
    make_obligation(session, reference="U", repayment_basis="unknown", repayment_years=None)
    post(session, "receipt", "100.00", date(2016, 1, 1), obligation="U")
    [row] = at_risk(session, as_of=date(2040, 1, 1))
    assert (row.deadline, row.band) == (None, Band.UNKNOWN_DEADLINE)
