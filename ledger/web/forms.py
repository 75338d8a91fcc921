"""What every web form shares: amounts read as people type them, the GOV.UK date input's
day, month and year boxes read as one date, and a schema's refusal as messages by field.

The API stays strict (SPEC rule 1: plain decimal strings, ISO dates); these helpers only turn
what a person types into that form before the same schema reads it, so a value they cannot
read is still refused by the schema under the field's own name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import marshmallow as ma

#: "£8,540.40", "8540.40", "£ 1,250": a pound sign, thousands commas only in threes. "8,5"
#: (a decimal comma) is no amount here: it is left for the schema to refuse, never read as 85.
TYPED_AMOUNT = re.compile(r"£?\s*(?P<pounds>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?P<pence>\.[0-9]+)?")
#: The GOV.UK date input's three boxes, as its fields are named: ``{field}-day`` and so on.
DATE_PARTS = ("day", "month", "year")


def typed_amount(text: str) -> str:
    """``text`` without its pound sign and thousands commas when it is an amount so written;
    otherwise unchanged."""
    found = TYPED_AMOUNT.fullmatch(text.strip())
    if not found:
        return text
    return found["pounds"].replace(",", "") + (found["pence"] or "")


def joined_date(values: Mapping[str, str], name: str) -> str | None:
    """The date input ``name``'s three boxes as one ISO date; None when all are blank.
    Anything else that is no date comes back as typed, for the schema to refuse by name."""
    parts = [values.get(f"{name}-{part}", "").strip() for part in DATE_PARTS]
    if not any(parts):
        return None
    day, month, year = parts
    if all(p.isascii() and p.isdigit() for p in parts) and len(day) <= 2 and len(month) <= 2 and len(year) == 4:
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return "/".join(parts)


def form_values(form: Mapping[str, str], *, amounts: Iterable[str] = (), dates: Iterable[str] = (),
                keep_blank: Iterable[str] = ()) -> dict[str, Any]:
    """A posted form as a schema reads it: no CSRF token, each date input joined, amounts
    as typed made plain, and blank fields absent (except ``keep_blank``, whose schema says
    what is missing)."""
    dates, kept = tuple(dates), set(keep_blank)
    boxes = tuple(f"{name}-{part}" for name in dates for part in DATE_PARTS)
    values: dict[str, Any] = {k: v for k, v in form.items()
                              if k != "csrf_token" and k not in boxes and (v != "" or k in kept)}
    for name in dates:
        joined = joined_date(form, name)
        if joined is not None:
            values[name] = joined
        elif name in kept:
            values[name] = ""
    for name in amounts:
        if isinstance(values.get(name), str):
            values[name] = typed_amount(values[name])
    return values


def field_errors(invalid: ma.ValidationError) -> dict[str, list[str]]:
    """A schema's refusal as messages by field, as the templates show them."""
    messages = invalid.messages if isinstance(invalid.messages, dict) else {"_schema": invalid.messages}
    return {field: [str(m) for m in (found if isinstance(found, list) else [found])]
            for field, found in messages.items()}


def date_boxes(value: Any) -> dict[str, str]:
    """A date's day, month and year as a date input shows them, to fill a form from a record."""
    return {} if value is None else {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
