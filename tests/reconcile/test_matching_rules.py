"""The matching rules of ledger.domain.reconcile, on plain records: no database, no app."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledger.domain.reconcile import (
    Action,
    Decision,
    FinanceItem,
    LedgerItem,
    Rule,
    Target,
    TargetKind,
    cost_code_of,
    match,
    reference_key,
)

D = Decimal
CODES = {"EDU": Target(TargetKind.SERVICE, "education"), "OB1": Target(TargetKind.OBLIGATION, "OB-1"),
         "P1": Target(TargetKind.PROJECT, "PRJ-1")}


def txn(id_: int, amount: str, day: int, *, code: str = "EDU", reference: str | None = None,
        description: str | None = None) -> FinanceItem:
    return FinanceItem(id=id_, posted_on=date(2024, 5, day), amount=D(amount), cost_code=code, reference=reference,
                       description=description)


def entry(id_: int, amount: str, day: int, *, reference: str = "", obligation: str = "OB-2",
          project: str | None = None) -> LedgerItem:
    return LedgerItem(id=id_, kind="receipt" if D(amount) > 0 else "spend", reference=reference or f"E-{id_}",
                      occurred_on=date(2024, 5, day), amount=D(amount), obligation=obligation, service="education",
                      project=project)


def test_a_reference_matches_ignoring_case_and_spaces_but_not_the_other_way() -> None:
    assert reference_key(" s106/12 a ") == "S106/12A"
    found = match([txn(1, "500.00", 3, reference="rct 1"), txn(2, "-500.00", 3, reference="RCT1")],
                  [entry(10, "500.00", 1, reference="RCT1")], codes=CODES)
    assert [(m.transaction_id, m.entry_ids, m.rule) for m in found.matches] == [(1, (10,), Rule.REFERENCE)]
    assert found.finance_only == [2]


def test_entries_sharing_a_reference_match_one_transaction_of_their_total() -> None:
    found = match([txn(1, "750.00", 3, reference="REM-1")],
                  [entry(10, "500.00", 1, reference="REM-1"), entry(11, "250.00", 2, reference="REM-1")], codes=CODES)
    assert [(m.entry_ids, m.rule) for m in found.matches] == [((10, 11), Rule.REFERENCE)]


def test_amount_and_date_take_the_nearest_entry_within_the_tolerance_only() -> None:
    ledger = [entry(10, "300.00", 1), entry(11, "300.00", 6), entry(12, "400.00", 20)]
    found = match([txn(1, "300.00", 5), txn(2, "400.00", 5)], ledger, codes=CODES, tolerance_days=7)
    assert [(m.transaction_id, m.entry_ids, m.rule) for m in found.matches] == [(1, (11,), Rule.AMOUNT_AND_DATE)]
    assert (found.finance_only, found.ledger_only) == ([2], [10, 12])


def test_a_remittance_needs_no_more_parts_than_the_mapping_allows() -> None:
    ledger = [entry(10, "100.00", 1), entry(11, "200.00", 2), entry(12, "300.00", 3)]
    three = match([txn(1, "600.00", 4)], ledger, codes=CODES, max_parts=3)
    assert [(m.entry_ids, m.rule) for m in three.matches] == [((10, 11, 12), Rule.REMITTANCE)]
    assert match([txn(1, "600.00", 4)], ledger, codes=CODES, max_parts=2).matches == []


def test_only_a_reversal_that_names_its_posting_cancels_it() -> None:
    named = match([txn(1, "750.00", 3, reference="JNL-0456"), txn(2, "-750.00", 4, description="Reversal of JNL-0456")],
                  [], codes=CODES)
    assert (named.reversals, named.finance_only) == ([(1, 2)], [])
    unnamed = match([txn(1, "750.00", 3, reference="JNL-0456"), txn(2, "-750.00", 4, reference="JNL-0999")], [],
                    codes=CODES)
    assert (unnamed.reversals, unnamed.finance_only) == ([], [1, 2])


def test_decisions_stand_before_any_rule() -> None:
    ledger = [entry(10, "300.00", 1)]
    rejected = match([txn(1, "300.00", 2)], ledger, codes=CODES, decisions=[Decision(transaction_id=1,
                                                                                      action=Action.REJECT)])
    assert (rejected.matches, rejected.finance_only, rejected.rejected, rejected.ledger_only) == ([], [1], [1], [10])
    claimed = match([txn(1, "300.00", 2), txn(2, "300.00", 1)], ledger, codes=CODES,
                    decisions=[Decision(transaction_id=1, action=Action.MATCH, entry_ids=(10,))])
    assert [(m.transaction_id, m.rule, m.proposed) for m in claimed.matches] == [(1, Rule.BY_HAND, False)]
    assert claimed.finance_only == [2]


def test_an_entry_belongs_on_its_obligations_code_then_its_projects_then_its_services() -> None:
    assert cost_code_of(entry(1, "-5.00", 1, obligation="OB-1", project="PRJ-1"), CODES) == "OB1"
    assert cost_code_of(entry(1, "-5.00", 1, project="PRJ-1"), CODES) == "P1"
    assert cost_code_of(entry(1, "-5.00", 1), CODES) == "EDU"
    assert cost_code_of(entry(1, "-5.00", 1), {}) is None
