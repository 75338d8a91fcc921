"""Amounts and dates as people type them into a form (ledger.web.forms)."""

import pytest

from ledger.web.forms import form_values, joined_date, typed_amount


@pytest.mark.parametrize(("typed", "plain"), [
    ("£8,540.40", "8540.40"), ("8540.40", "8540.40"), ("£ 1,250", "1250"), (" 1,234,567.5 ", "1234567.5"),
    ("£0.01", "0.01"), ("12", "12"),
])
def test_an_amount_as_typed_on_a_remittance_is_read(typed: str, plain: str) -> None:
    assert typed_amount(typed) == plain


@pytest.mark.parametrize("typed", ["8,5", "8,54.00", "£-5", "1.2.3", "£", "ten pounds", "1,0000"])
def test_anything_else_is_left_for_the_schema_to_refuse(typed: str) -> None:
    # A decimal comma ("8,5") must never be read as 85: left as typed, the schema refuses it.
    assert typed_amount(typed) == typed


def test_a_date_inputs_three_boxes_are_one_date() -> None:
    form = {"on-day": "7", "on-month": "3", "on-year": "2026"}
    assert joined_date(form, "on") == "2026-03-07"
    assert joined_date({}, "on") is None
    assert joined_date({"on-day": "7", "on-month": "March", "on-year": "2026"}, "on") == "7/March/2026"


def test_form_values_drop_the_token_and_blank_fields_but_keep_the_required_ones() -> None:
    form = {"csrf_token": "t", "amount": "£1,000.00", "reference": "", "reason": "",
            "on-day": "1", "on-month": "4", "on-year": "2025"}
    assert form_values(form, amounts=("amount",), dates=("on",), keep_blank=("reason",)) == {
        "amount": "1000.00", "reason": "", "on": "2025-04-01"}
