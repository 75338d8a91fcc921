"""Reading tabular files as councils publish them: encodings, BOMs, and files that are not
what their name says. Refusals are ImportRefused with a one-line reason."""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from ledger.domain.dates import LATEST_DATE
from ledger.domain.limits import INT32_MAX
from ledger.domain.money import MoneyError, parse_money_lenient

#: Largest file an import reads; a bigger one is refused rather than read into memory.
MAX_BYTES = 100 * 1024 * 1024
#: Dates before this are placeholders for "unknown" (1900-01-01 is common), not real dates.
EARLIEST_PLAUSIBLE = date(1980, 1, 1)


class ImportRefused(Exception):
    """The whole import is refused; nothing was written."""


def header_key(text: str) -> str:
    """Header matching ignores case, spaces and punctuation (`START_DATE` = `start-date`)."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def read_csv(path: Path, *, max_bytes: int = MAX_BYTES) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Headers and (line number, cells) of a CSV file, decoded as UTF-8 (with or without
    BOM) or, failing that, Windows-1252."""
    size = path.stat().st_size
    if size == 0:
        raise ImportRefused(f"{path.name}: the file is empty")
    if size > max_bytes:
        raise ImportRefused(f"{path.name}: {size / 1_048_576:.0f} MB is larger than the {max_bytes // 1_048_576} MB an import reads")
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04"):
        raise ImportRefused(f"{path.name}: this is an Excel workbook saved under a .csv name; save it as CSV")
    # Anywhere in the file, not only near the start: PostgreSQL cannot store a NUL.
    if b"\x00" in raw:
        raise ImportRefused(f"{path.name}: this is not a text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="strict") if _is_cp1252(raw) else ""
        if not text:
            raise ImportRefused(f"{path.name}: the text is neither UTF-8 nor Windows-1252") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise ImportRefused(f"{path.name}: the file has no header row") from None
    if not any(h.strip() for h in headers):
        raise ImportRefused(f"{path.name}: the first row is empty, not a header row")

    def rows() -> Iterator[tuple[int, list[str]]]:
        for cells in reader:
            if "".join(cells).strip():  # not a blank row
                yield reader.line_num, cells

    return headers, rows()


def _is_cp1252(raw: bytes) -> bool:
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


# ASCII digits only, as money: `\d` (and strptime) would also read other scripts' digits.
_DATE_FORMATS = tuple((pattern, re.compile(shape, re.ASCII)) for pattern, shape in (
    ("%Y-%m-%d", r"\d{4}-\d{1,2}-\d{1,2}"), ("%d/%m/%Y", r"\d{1,2}/\d{1,2}/\d{4}"),
    ("%d/%m/%y", r"\d{1,2}/\d{1,2}/\d{2}"), ("%Y-%m", r"\d{4}-\d{1,2}"), ("%Y", r"\d{4}"),
    ("%d-%m-%Y", r"\d{1,2}-\d{1,2}-\d{4}"), ("%d.%m.%Y", r"\d{1,2}\.\d{1,2}\.\d{4}")))
#: ISO dates, most files' only shape, are read without strptime (several times slower: it
#: shows on a 100,000-row file). date() refuses exactly what `%Y-%m-%d` refuses there
#: (month 0 or 13, 30 February).
_ASCII_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


@functools.lru_cache(maxsize=4096)  # a file repeats a few thousand dates over and over
def parse_date(text: str) -> date:
    """A date in one of the declared formats: ISO `YYYY-MM-DD` (also `YYYY-MM`, `YYYY`, and
    ISO with a time), UK `DD/MM/YYYY`, `DD/MM/YY`, `DD-MM-YYYY`, `DD.MM.YYYY`. No guessing
    between day-first and month-first: a US-style date is refused when the day is over 12.
    Placeholders for "unknown" (before 1980) and dates after 2199-12-31 (9999-12-31 often
    means "open-ended"), which the ledger does not take, are refused too."""
    value = text.strip()
    if not value:
        raise ValueError("is empty")
    if "T" in value[10:11] or " " in value[10:11]:
        value = value[:10]
    try:
        parsed = _date_in_declared_format(value)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a real date") from None
    if parsed is None:
        raise ValueError(f"{text.strip()!r} is not a date (expected YYYY-MM-DD or DD/MM/YYYY)")
    return plausible(parsed, text.strip())


def plausible(day: date, text: str) -> date:
    """``day`` if the ledger takes it as a real date; ValueError naming ``text`` if not."""
    if day < EARLIEST_PLAUSIBLE:
        raise ValueError(f"{text!r} is a placeholder, not a real date")
    if day > LATEST_DATE:
        raise ValueError(f"{text!r} is after {LATEST_DATE.isoformat()}, the last date the ledger takes")
    return day


def _date_in_declared_format(value: str) -> date | None:
    """The date of the first format whose shape fits, None if none fits; ValueError if the
    shape fits but there is no such date."""
    iso = _ASCII_ISO_DATE.fullmatch(value)
    if iso:
        return date(int(iso[1]), int(iso[2]), int(iso[3]))
    for pattern, shape in _DATE_FORMATS:
        if shape.fullmatch(value):
            return datetime.strptime(value, pattern).date()
    return None


def parse_amount(text: str) -> Decimal:
    """An amount as councils write it (`£1,373,992.00`, `-500`); the sign is kept."""
    try:
        return parse_money_lenient(text)
    except MoneyError as error:
        raise ValueError(str(error)) from None


def parse_units(text: str) -> int:
    value = text.strip().replace(",", "")
    if not re.fullmatch(r"[0-9]+(\.0+)?", value):
        raise ValueError(f"{text.strip()!r} is not a whole number of units")
    units = int(Decimal(value))
    if units > INT32_MAX:
        raise ValueError(f"{text.strip()!r} is more units than the ledger can count")
    return units
