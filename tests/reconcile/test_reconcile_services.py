"""Reconciling a hand-made finance export with a hand-worked ledger (issue 19), on SQLite
and PostgreSQL: every match and every difference, to the penny."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from importers.finance import plan_finance
from importers.report import write_rejects
from ledger.domain.errors import Conflict, InvalidInput
from ledger.domain.reconcile import Action, AssertionScope, AssertionState, Rule
from ledger.models import FinanceTransaction, ReconciliationDecision
from ledger.services import reconcile
from tests.factories import post
from tests.reconcile.ledger import EXPORT, MAPPING, OB_A, OB_B, OFFICER, TODAY, make_hand_worked_ledger

D = Decimal
AS_OF = date(2024, 8, 31)


def imported(session: Session) -> reconcile.FinanceImportResult:
    return reconcile.import_finance(session, plan_finance(EXPORT, MAPPING), actor=OFFICER, source=str(EXPORT))


def by_txn(found: reconcile.Reconciliation) -> dict[str, FinanceTransaction]:
    return {t.transaction_id: t for t in found.transactions.values()}


@freeze_time(TODAY)
def test_the_export_reconciles_exactly_as_worked_by_hand(session: Session, tmp_path: Path) -> None:
    ids = make_hand_worked_ledger(session)
    result = imported(session)
    assert (result.rows, result.added, result.unchanged, result.out_of_scope, result.balances) == (11, 8, 0, 1, 1)
    assert [(i.source.line, i.source.reference, i.field) for i in result.rejected] == [
        (12, "RCPT-1099", "date"), (13, "RCPT-1100", "amount")]
    assert write_rejects(tmp_path / "rejects.csv", result.issues) == 2
    assert (tmp_path / "rejects.csv").read_text().splitlines()[1].startswith('"ledger-export.csv",12,"RCPT-1099"')

    found = reconcile.reconciliation(session, as_of=AS_OF)
    assert found.since == date(2024, 4, 11)
    txn = by_txn(found)
    # Income written as negative credits is money in; a debit (spend, a charge) is money out.
    assert txn["GL-0001"].amount == D("10000.00") and txn["GL-0004"].amount == D("-12.50")
    assert "GL-0008" not in txn and found.out_of_scope == 1
    matches = {found.transactions[m.transaction_id].transaction_id: (m.entry_ids, m.rule, m.misposted)
               for m in found.matching.matches}
    assert matches == {
        "GL-0001": ((ids["RCPT-1001"],), Rule.REFERENCE, False),
        "GL-0002": ((ids["RCPT-1002"],), Rule.REFERENCE, True),  # on the highways code: misposted
        "GL-0003": (tuple(sorted((ids["RCPT-1003"], ids["RCPT-1004"]))), Rule.REMITTANCE, False),
        "GL-0007": ((ids["SPD-1"],), Rule.AMOUNT_AND_DATE, False),
    }
    assert all(m.proposed for m in found.matching.matches)
    assert [(txn["GL-0005"].id, txn["GL-0006"].id)] == found.matching.reversals
    assert found.matching.finance_only == [txn["GL-0004"].id]  # the bank charge
    assert found.matching.ledger_only == [ids["RCPT-1005"]]
    assert [(d.key, d.finance, d.ledger, d.difference) for d in found.by_cost_code] == [
        ("S106-EDU-A", D("6987.50"), D("10100.00"), D("-3112.50")),
        ("S106-HWY", D("8000.50"), D("5500.50"), D("2500.00")),
    ]
    assert [(d.key, d.finance, d.ledger, d.difference) for d in found.by_obligation] == [
        (OB_A, D("9487.50"), D("10100.00"), D("-612.50")),
        (OB_B, D("5500.50"), D("5500.50"), D("0.00")),
    ]
    assert found.finance_total - found.ledger_total == D("-612.50") == (
        found.money_of(found.matching.finance_only) - found.ledger_only_money)
    [closing] = found.assertions  # the export's closing balance of S106-EDU-A
    assert (closing.assertion.scope, closing.assertion.code, closing.assertion.held_on) == (
        "cost-code", "S106-EDU-A", AS_OF)
    assert (closing.assertion.amount, closing.ledger, closing.difference, closing.state) == (
        D("6987.50"), D("10100.00"), D("-3112.50"), AssertionState.FAILS)


@freeze_time(TODAY)
def test_re_importing_adds_nothing(session: Session) -> None:
    make_hand_worked_ledger(session)
    imported(session)
    again = imported(session)
    assert (again.added, again.unchanged, again.balances, len(again.rejected)) == (0, 8, 1, 2)
    assert session.scalar(select(func.count()).select_from(FinanceTransaction)) == 8
    assert len(reconcile.assertion_checks(session)) == 1


@freeze_time(TODAY)
def test_rows_without_transaction_ids_are_kept_each_and_once(session: Session, tmp_path: Path) -> None:
    export = tmp_path / "no-ids.csv"
    export.write_text("Date,Code,Value,Ref\n2024-05-31,S106-HWY,5.00,BANKCHG\n2024-05-31,S106-HWY,5.00,BANKCHG\n")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[finance]\nincome_sign = "negative"\n[columns]\ndate = "Date"\ncost_code = "Code"\n'
                       'amount = "Value"\nreference = "Ref"\n[cost_codes]\n"S106-HWY" = { service = "highways" }\n')
    first = reconcile.import_finance(session, plan_finance(export, mapping), actor=OFFICER, source="no-ids.csv")
    second = reconcile.import_finance(session, plan_finance(export, mapping), actor=OFFICER, source="no-ids.csv")
    assert (first.added, second.added, second.unchanged) == (2, 0, 2)


@freeze_time(TODAY)
def test_officers_confirm_reject_and_match_by_hand(session: Session) -> None:
    ids = make_hand_worked_ledger(session)
    imported(session)
    txn = by_txn(reconcile.reconciliation(session, as_of=AS_OF))
    remittance, charge = txn["GL-0003"].id, txn["GL-0004"].id
    pair = [ids["RCPT-1003"], ids["RCPT-1004"]]
    reconcile.decide(session, remittance, action=Action.CONFIRM, entry_ids=pair, actor=OFFICER,
                     reason="remittance advice 7781 names both")
    with pytest.raises(Conflict):
        reconcile.decide(session, remittance, action="confirm", entry_ids=pair, actor=OFFICER, reason="again")
    reconcile.decide(session, txn["GL-0002"].id, action="reject", actor=OFFICER, reason="on the wrong cost code")
    with pytest.raises(Conflict):  # the entry is matched already, to the remittance
        reconcile.decide(session, txn["GL-0002"].id, action="match", entry_ids=[ids["RCPT-1003"]], actor=OFFICER,
                         reason="x")
    with pytest.raises(InvalidInput) as short:  # 4,000.00 is not 2,500.00
        reconcile.decide(session, txn["GL-0002"].id, action="match", entry_ids=[ids["RCPT-1005"]], actor=OFFICER,
                         reason="x")
    assert "entry_ids" in short.value.errors
    with pytest.raises(InvalidInput) as no_reason:
        reconcile.decide(session, charge, action="reject", actor=OFFICER, reason=" ")
    assert "reason" in no_reason.value.errors

    found = reconcile.reconciliation(session, as_of=AS_OF)
    [confirmed] = [m for m in found.matching.matches if m.transaction_id == remittance]
    assert (confirmed.rule, confirmed.proposed) == (Rule.CONFIRMED, False)
    assert txn["GL-0002"].id in found.matching.finance_only  # rejected: finance only until matched by hand
    assert ids["RCPT-1002"] in found.matching.ledger_only

    reconcile.decide(session, txn["GL-0002"].id, action="match", entry_ids=[ids["RCPT-1002"]], actor=OFFICER,
                     reason="posted to highways in error; journal requested")
    found = reconcile.reconciliation(session, as_of=AS_OF)
    [by_hand] = [m for m in found.matching.matches if m.transaction_id == txn["GL-0002"].id]
    assert (by_hand.rule, by_hand.misposted) == (Rule.BY_HAND, True)
    kept = reconcile.decisions_of(session, txn["GL-0002"].id)
    assert [(d.action, d.created_by) for d in kept] == [("reject", OFFICER.email), ("match", OFFICER.email)]
    assert session.scalar(select(func.count()).select_from(ReconciliationDecision)) == 3


@freeze_time(TODAY)
def test_a_failing_assertion_holds_once_the_ledger_agrees_or_is_resolved_by_a_note(session: Session) -> None:
    make_hand_worked_ledger(session)
    holds = reconcile.record_assertion(session, scope="service", code="highways", held_on=date(2024, 5, 31),
                                       amount=D("5500.50"), actor=OFFICER, reason="finance trial balance May")
    fails = reconcile.record_assertion(session, scope=AssertionScope.OBLIGATION, code=OB_A,
                                       held_on=date(2024, 8, 1), amount=D("9500.00"), actor=OFFICER,
                                       reason="finance trial balance July")
    assert reconcile.record_assertion(session, scope="service", code="highways", held_on=date(2024, 5, 31),
                                      amount=D("5500.50"), actor=OFFICER, reason="again").id == holds.id
    with pytest.raises(InvalidInput) as unknown:
        reconcile.record_assertion(session, scope="cost-code", code="NOPE", held_on=AS_OF, amount=D("1.00"),
                                   actor=OFFICER, reason="x")
    assert "code" in unknown.value.errors
    states = {c.assertion.id: (c.ledger, c.state) for c in reconcile.assertion_checks(session)}
    assert states == {holds.id: (D("5500.50"), AssertionState.HOLDS),
                      fails.id: (D("10100.00"), AssertionState.FAILS)}
    assert [c.assertion.id for c in reconcile.assertion_checks(session, failing_only=True)] == [fails.id]
    reconcile.resolve_assertion(session, fails.id, note="RCPT-1005 and the spend are in August's ledger only",
                                actor=OFFICER)
    assert reconcile.assertion_checks(session, failing_only=True) == []
    [resolved] = [c for c in reconcile.assertion_checks(session) if c.assertion.id == fails.id]
    assert resolved.state is AssertionState.RESOLVED


@freeze_time(TODAY)
def test_the_year_end_statement_never_claims_a_reconciliation_without_data(session: Session) -> None:
    from ledger.domain.reconcile import year_end_lines

    make_hand_worked_ledger(session)
    empty = reconcile.year_end(session, start=date(2024, 4, 1), end=date(2025, 3, 31))
    assert not empty.imported and not empty.reconciled
    assert year_end_lines(empty)[0].startswith("Not reconciled with the finance ledger: no finance transactions")
    imported(session)
    year = reconcile.year_end(session, start=date(2024, 4, 1), end=date(2025, 3, 31))
    assert (year.transactions, year.finance, year.ledger, year.difference) == (
        7, D("14988.00"), D("15600.50"), D("-612.50"))
    assert (year.finance_only, year.ledger_only, year.unmatched, year.misposted, year.failing_assertions) == (
        D("-12.50"), D("600.00"), 2, 1, 1)
    assert not year.reconciled
    assert "difference -£612.50" in year_end_lines(year)[0]


@freeze_time(TODAY)
def test_a_failing_assertion_holds_once_an_entry_makes_the_ledger_agree(session: Session) -> None:
    make_hand_worked_ledger(session)
    asserted = reconcile.record_assertion(session, scope="obligation", code=OB_A, held_on=date(2024, 8, 1),
                                          amount=D("10400.00"), actor=OFFICER, reason="finance: RCPT-1006 of £300")
    assert [c.assertion.id for c in reconcile.assertion_checks(session, failing_only=True)] == [asserted.id]
    post(session, "receipt", "300.00", date(2024, 7, 31), obligation=OB_A, reference="RCPT-1006")
    [check] = reconcile.assertion_checks(session)
    assert (check.ledger, check.state) == (D("10400.00"), AssertionState.HOLDS)
    assert reconcile.assertion_checks(session, failing_only=True) == []
