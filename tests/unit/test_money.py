from decimal import Decimal

import pytest

from ledger.domain.money import (
    MoneyError,
    format_money,
    from_pence,
    parse_money,
    parse_money_lenient,
    to_pence,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1234.50", "1234.50"), ("0.01", "0.01"), ("7", "7.00"), ("12.5", "12.50"), (" 3.10 ", "3.10")],
)
def test_strict_amounts_parse_to_exact_pounds(text: str, expected: str) -> None:
    assert parse_money(text) == Decimal(expected)
    assert str(parse_money(text)) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1234.5, "not a number"),
        (1234, "not a number"),
        ("1.234", "more than two decimal places"),
        ("-5.00", "negative"),
        ("NaN", "pounds and pence"),
        ("Infinity", "pounds and pence"),
        ("1e5", "pounds and pence"),
        ("1,000.00", "pounds and pence"),
        ("", "empty"),
        ("   ", "empty"),
        (None, "not a number"),
    ],
    ids=["float", "int", "third-decimal", "negative", "nan", "infinity", "exponent", "thousands", "empty",
         "blank", "none"],
)
def test_strict_parsing_refuses_anything_but_a_plain_amount(value: object, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_money(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [('£1,373,992.00', "1373992.00"), (" 435 ", "435.00"), ("-500", "-500.00"), ("(12.00)", "-12.00"),
     ("£ 21,910.00", "21910.00")],
)
def test_lenient_parsing_reads_amounts_as_councils_publish_them(text: str, expected: str) -> None:
    assert parse_money_lenient(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["abc", "NaN", "1.005", ""])
def test_lenient_parsing_still_refuses_non_amounts(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_money_lenient(text)


def test_pence_round_trip_is_exact() -> None:
    assert to_pence(Decimal("1234.56")) == 123456
    assert from_pence(123456) == Decimal("1234.56")
    assert from_pence(to_pence(Decimal("0.10"))) == Decimal("0.10")
    assert str(from_pence(5)) == "0.05"


def test_sub_penny_amounts_cannot_be_stored() -> None:
    with pytest.raises(MoneyError):
        to_pence(Decimal("0.001"))
    with pytest.raises(MoneyError):
        to_pence(1.5)  # type: ignore[arg-type]


def test_money_is_shown_as_council_papers_show_it() -> None:
    assert format_money(Decimal("1234.56")) == "£1,234.56"
    assert format_money(Decimal("0")) == "£0.00"
    assert format_money(Decimal("-5")) == "-£5.00"
