"""The IFS Checks sheet says whether the year end agrees with the finance ledger, and by how
much it does not; with no finance data it says so and never claims a reconciliation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import BytesIO

from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from importers.finance import plan_finance
from ledger.domain.reconcile import YearEnd, year_end_lines
from ledger.services import reconcile
from ledger.services.ifs import ifs_report
from reports.ifs_workbook import build_ifs_workbook
from tests.reconcile.ledger import EXPORT, MAPPING, OFFICER, make_hand_worked_ledger


def checks_text(session: Session) -> list[str]:
    sheet = load_workbook(BytesIO(build_ifs_workbook(ifs_report(session, year=2024))))["Checks"]
    return [str(row[0]) for row in sheet.iter_rows(values_only=True) if row[0]]


@freeze_time("2025-05-01")
def test_the_checks_sheet_states_the_year_end_reconciliation(session: Session) -> None:
    make_hand_worked_ledger(session)
    before = checks_text(session)
    assert before[-2:] == [
        "Reconciliation with the finance ledger at the year end",
        "Not reconciled with the finance ledger: no finance transactions on section 106 cost codes dated "
        "01 April 2024 to 31 March 2025 have been imported (s106 reconcile import)."]
    reconcile.import_finance(session, plan_finance(EXPORT, MAPPING), actor=OFFICER, source=str(EXPORT))
    after = checks_text(session)
    assert after[-3:] == [
        "Reconciliation with the finance ledger at the year end",
        "Not reconciled with the finance ledger, 01 April 2024 to 31 March 2025: finance £14,988.00 net, "
        "ledger £15,600.50, difference -£612.50.",
        "Unmatched: 2 items, -£12.50 in finance only and £600.00 in the ledger only; 1 matched on another "
        "cost code; 1 balance assertions failing."]


def test_a_reconciled_year_says_so_and_only_then() -> None:
    agreed = YearEnd(start=date(2024, 4, 1), end=date(2025, 3, 31), transactions=3, finance=Decimal("100.00"),
                     ledger=Decimal("100.00"), finance_only=Decimal("0.00"), ledger_only=Decimal("0.00"), unmatched=0,
                     misposted=0, failing_assertions=0)
    assert agreed.reconciled
    assert year_end_lines(agreed) == ["Reconciled with the finance ledger, 01 April 2024 to 31 March 2025: 3 finance "
                                      "transactions, £100.00 net, every one matched to the ledger, every balance "
                                      "assertion holds."]
    for change in ({"failing_assertions": 1}, {"misposted": 1}, {"unmatched": 2}, {"transactions": 0}):
        assert not replace(agreed, **change).reconciled
