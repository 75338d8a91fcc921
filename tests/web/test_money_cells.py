"""The ``money_cells`` filter writes a row's sums as the cells ``money_cell`` writes one by one,
in the order named: negative, zero, large and missing sums alike."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ledger.web import money_cell, money_cells


@dataclass
class Row:
    secured: Decimal | None
    spent: Decimal | None
    held: Decimal | None


def test_money_cells_are_the_money_cells_of_each_name_in_order() -> None:
    row = Row(secured=Decimal("1234567.89"), spent=Decimal("-5.00"), held=None)
    assert money_cells(row, "held", "secured", "spent") == (
        '<td class="num"></td><td class="num">£1,234,567.89</td><td class="num">-£5.00</td>')
    assert money_cells(row, "secured", "spent", "held") == "".join(
        money_cell(value) for value in (row.secured, row.spent, row.held))
    assert money_cells(Row(secured=Decimal("0.00"), spent=None, held=None), "secured") == '<td class="num">£0.00</td>'
