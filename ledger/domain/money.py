"""Money: exact decimal pounds in Python, integer pence in storage, strings in JSON.

Modelled on beancount's number handling: one Decimal quantum, no floats anywhere.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

ZERO = Decimal("0.00")
PENNY = Decimal("0.01")

# A plain amount as the API accepts it: digits, optionally a point and one or two decimals.
_STRICT_AMOUNT = re.compile(r"^\d{1,13}(\.\d{1,2})?$")


class MoneyError(ValueError):
    """A value that is not an exact, non-negative amount of pounds and pence."""


def parse_money(text: str) -> Decimal:
    """Parse a strict amount string such as ``"1234.50"`` into pounds.

    Rejects floats and other non-strings, signs, exponents, NaN, thousands
    separators and a third decimal place: the API contract (SPEC rule 1) is a
    plain decimal string with at most two decimals.
    """
    if not isinstance(text, str):
        raise MoneyError("must be a string such as \"1234.50\", not a number")
    candidate = text.strip()
    if not candidate:
        raise MoneyError("must not be empty")
    if not _STRICT_AMOUNT.match(candidate):
        if re.match(r"^\d+\.\d{3,}$", candidate):
            raise MoneyError("has more than two decimal places")
        if candidate.startswith("-"):
            raise MoneyError("must not be negative")
        raise MoneyError("must be pounds and pence such as \"1234.50\"")
    return Decimal(candidate).quantize(PENNY)


def parse_money_lenient(text: str) -> Decimal:
    """Parse an amount as councils publish it: ``"£1,373,992.00"``, ``" 435 "``, ``"-500"``.

    Strips the pound sign, thousands commas and spaces (the national
    pipeline's DecimalDataType does the same). The sign is kept; a third
    decimal place is still refused rather than rounded.
    """
    candidate = text.replace("£", "").replace(",", "").replace(" ", "").strip()
    if candidate.startswith("(") and candidate.endswith(")"):
        candidate = "-" + candidate[1:-1]
    try:
        value = Decimal(candidate)
    except InvalidOperation:
        raise MoneyError(f"{text!r} is not an amount of money") from None
    if not value.is_finite():
        raise MoneyError(f"{text!r} is not an amount of money")
    if value != value.quantize(PENNY):
        raise MoneyError(f"{text!r} has more than two decimal places")
    return value.quantize(PENNY)


def to_pence(amount: Decimal) -> int:
    """Convert pounds to integer pence, refusing anything finer than a penny."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise MoneyError(f"{amount!r} is not a Decimal amount")
    pence = amount * 100
    if pence != pence.to_integral_value():
        raise MoneyError(f"{amount} has more than two decimal places")
    return int(pence)


def from_pence(pence: int) -> Decimal:
    """Convert integer pence to pounds with exactly two decimals."""
    # Shifting the exponent is exact and keeps two places: 1234 -> 12.34, 100 -> 1.00.
    return Decimal(int(pence)).scaleb(-2)


def format_money(amount: Decimal) -> str:
    """Show money the way council papers do: ``£1,234.56`` (``-£5.00`` when negative)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"
