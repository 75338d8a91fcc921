"""Money: exact decimal pounds in Python, integer pence in storage, strings in JSON.

Modelled on beancount's number handling: one Decimal quantum, no floats anywhere.
"""

from __future__ import annotations

import re
from decimal import Decimal

ZERO = Decimal("0.00")
PENNY = Decimal("0.01")
#: The most one amount can be: thirteen digits of pounds, as the API takes (pence fit a BigInteger).
LARGEST = Decimal("9999999999999.99")

# A plain amount as the API accepts it: digits, optionally a point and one or two decimals.
# ASCII digits only: `\d` alone also matches other scripts' digits ("١٢٣"), which Decimal reads.
_STRICT_AMOUNT = re.compile(r"[0-9]{1,13}(\.[0-9]{1,2})?")
_TOO_PRECISE = re.compile(r"[0-9]+\.[0-9]{3,}")
# A published amount once the pound sign, commas and spaces are gone: a sign, ASCII digits
# and a point (Decimal would also read other scripts' digits, "1_000", exponents and "NaN").
_LENIENT_AMOUNT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


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
    if not _STRICT_AMOUNT.fullmatch(candidate):
        if _TOO_PRECISE.fullmatch(candidate):
            raise MoneyError("has more than two decimal places")
        if candidate.startswith("-"):
            raise MoneyError("must not be negative")
        raise MoneyError("must be pounds and pence such as \"1234.50\"")
    return Decimal(candidate).quantize(PENNY)


def parse_money_lenient(text: str) -> Decimal:
    """Parse an amount as councils publish it: ``"£1,373,992.00"``, ``" 435 "``, ``"-500"``.

    Strips the pound sign, thousands commas and spaces (the national
    pipeline's DecimalDataType does the same). The sign is kept; a third
    decimal place is still refused rather than rounded, and so is anything but ASCII
    digits and a point (exponents, "NaN", other scripts' digits).
    """
    candidate = text.replace("£", "").replace(",", "").replace(" ", "").strip()
    if candidate.startswith("(") and candidate.endswith(")"):
        candidate = "-" + candidate[1:-1]
    if not _LENIENT_AMOUNT.fullmatch(candidate):
        raise MoneyError(f"{text!r} is not an amount of money")
    value = Decimal(candidate)
    if abs(value) > LARGEST:
        raise MoneyError(f"{text!r} is more than {format_money(LARGEST)}")
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
