"""Instalments, triggers, indexed invoices, part-payments and income due, on both engines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy.orm import Session

from ledger.domain.errors import InvalidInput
from ledger.domain.vocab import Band
from ledger.services import balances, income
from tests.factories import OFFICER, make_ledger, make_obligation, post

D = Decimal


@pytest.fixture
def site(session: Session) -> Session:
    make_ledger(session)
    make_obligation(session, reference="OB-IDX", amount=D("100000.00"), index="bcis-tpi",
                    index_base_date=date(2022, 2, 15))
    income.add_index_values(session, [
        {"index": "bcis-tpi", "period": date(2022, 1, 1), "value": D("350.0"), "published_on": date(2022, 4, 20)},
        {"index": "bcis-tpi", "period": date(2024, 1, 1), "value": D("378.0"), "published_on": date(2024, 4, 1),
         "provisional": True},
    ], actor=OFFICER)
    income.add_instalment(session, "OB-IDX", {"reference": "OB-IDX/1", "share": D("0.5"),
                                              "trigger_event": "commencement", "floor": True}, actor=OFFICER)
    income.add_instalment(session, "OB-IDX", {"reference": "OB-IDX/2", "fixed_sum": D("10000.00"),
                                              "trigger_event": "occupation", "trigger_dwellings": 50,
                                              "index": "none"}, actor=OFFICER)
    return session


def test_commencement_issues_an_indexed_invoice_that_a_revision_does_not_change(site: Session) -> None:
    with freeze_time("2024-05-01"):
        [invoice] = income.record_milestone(site, "20/00001/FUL", kind="commencement", on=date(2024, 3, 4), actor=OFFICER)
    # 50,000 x 378.0 / 350.0 = 54,000.00 (Q1 2024 over Q1 2022)
    assert (invoice.base_amount, invoice.amount, invoice.due_on) == (D("50000.00"), D("54000.00"), date(2024, 3, 4))
    assert (invoice.base_value, invoice.trigger_value, invoice.trigger_published_on) == (
        D("350.0"), D("378.0"), date(2024, 4, 1))
    assert "54,000.00" in invoice.explanation
    with freeze_time("2024-07-01"):
        income.add_index_values(site, [{"index": "bcis-tpi", "period": date(2024, 1, 1), "value": D("381.5"),
                                        "published_on": date(2024, 7, 1)}], actor=OFFICER)
        issued, _ = income.issue_invoices(site, today=date(2024, 7, 1), actor=OFFICER)
        [row] = [r for r in income.income_due(site, today=date(2024, 7, 1)) if r.reference == "OB-IDX/1/invoice"]
    assert issued == []
    assert row.amount == D("54000.00")  # issued figures never change


def test_occupation_trigger_at_the_nth_dwelling(site: Session) -> None:
    with freeze_time("2025-02-10"):
        assert income.record_milestone(site, "20/00001/FUL", kind="occupation", on=date(2025, 1, 6), occupied=49,
                                       actor=OFFICER) == []
        [invoice] = income.record_milestone(site, "20/00001/FUL", kind="occupation", on=date(2025, 2, 3),
                                            occupied=50, actor=OFFICER)
    assert (invoice.reference, invoice.amount, invoice.due_on, invoice.index) == (
        "OB-IDX/2/invoice", D("10000.00"), date(2025, 2, 3), "none")
    with pytest.raises(InvalidInput, match="already reported"):
        income.record_milestone(site, "20/00001/FUL", kind="occupation", on=date(2025, 3, 1), occupied=40,
                                actor=OFFICER)


def test_part_payment_leaves_the_rest_due_and_days_outstanding_count(site: Session) -> None:
    with freeze_time("2025-02-10"):
        income.record_milestone(site, "20/00001/FUL", kind="occupation", on=date(2025, 2, 3), occupied=50,
                                actor=OFFICER)
    with freeze_time("2025-02-20"):  # money is recorded on or after the day it arrives
        receipt = post(site, "receipt", "6000.00", date(2025, 2, 20), obligation="OB-IDX")
        income.match_payment(site, "OB-IDX/2/invoice", entry_id=receipt.id, amount=D("6000.00"), actor=OFFICER)
    rows = {r.reference: r for r in income.income_due(site, today=date(2025, 3, 5))}
    part = rows["OB-IDX/2/invoice"]
    assert (part.paid, part.outstanding, part.days_outstanding, part.overdue) == (
        D("6000.00"), D("4000.00"), 30, False)
    assert income.income_due(site, today=date(2025, 3, 6))[-1].overdue
    with pytest.raises(InvalidInput, match="not yet matched"):
        income.match_payment(site, "OB-IDX/2/invoice", entry_id=receipt.id, amount=D("1.00"), actor=OFFICER)


def test_a_reversed_receipt_no_longer_pays_its_invoice_so_its_replacement_may(site: Session) -> None:
    from ledger.services import entries

    with freeze_time("2025-02-10"):
        income.record_milestone(site, "20/00001/FUL", kind="occupation", on=date(2025, 2, 3), occupied=50,
                                actor=OFFICER)
    with freeze_time("2025-02-20"):
        wrong = post(site, "receipt", "10000.00", date(2025, 2, 20), obligation="OB-IDX")
        income.match_payment(site, "OB-IDX/2/invoice", entry_id=wrong.id, amount=D("10000.00"), actor=OFFICER)
        entries.reverse_entry(site, wrong.id, actor=OFFICER, reason="posted twice by finance")
        right = post(site, "receipt", "10000.00", date(2025, 2, 20), obligation="OB-IDX", reference="R-RIGHT")
        income.match_payment(site, "OB-IDX/2/invoice", entry_id=right.id, amount=D("10000.00"), actor=OFFICER)
        with pytest.raises(InvalidInput, match="outstanding"):
            another = post(site, "receipt", "1.00", date(2025, 2, 20), obligation="OB-IDX", reference="R-MORE")
            income.match_payment(site, "OB-IDX/2/invoice", entry_id=another.id, amount=D("1.00"), actor=OFFICER)
    rows = {r.reference: r for r in income.income_due(site, today=date(2025, 3, 5))}
    assert "OB-IDX/2/invoice" not in rows or rows["OB-IDX/2/invoice"].outstanding == D("0.00")


def test_a_missing_index_value_waits_rather_than_guessing(site: Session) -> None:
    with freeze_time("2024-11-01"):
        invoices = income.record_milestone(site, "20/00001/FUL", kind="commencement", on=date(2024, 10, 7),
                                           actor=OFFICER)
        assert invoices == []  # Q4 2024 not published yet
        _, waiting = income.issue_invoices(site, today=date(2024, 11, 1), actor=OFFICER)
    assert [w.instalment for w in waiting] == ["OB-IDX/1"]
    assert "October 2024" in waiting[0].reason


def test_recording_completion_fills_in_completion_based_deadlines(site: Session) -> None:
    make_obligation(site, reference="OB-CMP", repayment_basis="completion")
    post(site, "receipt", "500.00", date(2021, 6, 1), obligation="OB-CMP")
    [before] = [r for r in balances.at_risk(site, as_of=date(2025, 1, 1)) if r.obligation_reference == "OB-CMP"]
    assert (before.band, before.deadline) == (Band.UNKNOWN_DEADLINE, None)
    with freeze_time("2025-01-02"):
        income.record_milestone(site, "20/00001/FUL", kind="completion", on=date(2015, 6, 30), actor=OFFICER)
    [after] = [r for r in balances.at_risk(site, as_of=date(2025, 1, 1)) if r.obligation_reference == "OB-CMP"]
    assert (after.band, after.deadline) == (Band.RED, date(2025, 6, 30))
