"""Reading tabular files as councils publish them: CSV in any of the encodings they use,
Excel workbooks, zip archives, and files that are not what their name says. What a file
is comes from its content, never its name. Refusals are ImportRefused with a one-line
reason."""

from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from ledger.domain.dates import LATEST_DATE
from ledger.domain.limits import INT32_MAX
from ledger.domain.money import MoneyError, parse_money_lenient

#: Largest file an import reads; a bigger one is refused rather than read into memory.
MAX_BYTES = 100 * 1024 * 1024
#: Dates before this are placeholders for "unknown" (1900-01-01 is common), not real dates.
EARLIEST_PLAUSIBLE = date(1980, 1, 1)
ZIP_SIGNATURE = b"PK\x03\x04"
#: Excel 97-2003 (.xls) and other OLE2 compound files.
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ImportRefused(Exception):
    """The whole import is refused; nothing was written."""


def header_key(text: str) -> str:
    """Header matching ignores case, spaces and punctuation (`START_DATE` = `start-date`)."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True, slots=True)
class Table:
    """Every row of one file or sheet from the top, blank ones included, as (line, cells):
    the line of a CSV file, the row number of a sheet. Cells are text: a workbook's as a CSV
    export would hold them (cell_text)."""

    #: Where it was read from, for messages: `developer-agreement.xlsx, sheet 'Data'`.
    name: str
    rows: Iterator[tuple[int, list[str]]]
    #: What was done to read it, when it was not a plain CSV file; None for one.
    how: str | None = None


def read_table(data: bytes, name: str) -> Iterator[Table]:
    """The tables in ``data`` by content: a CSV file gives one; an Excel workbook one per
    sheet, in order; a zip archive that is not a workbook, the tables of the one file it
    holds."""
    if not data:
        raise ImportRefused(f"{name}: the file is empty")
    if data.startswith(OLE2_SIGNATURE):
        raise ImportRefused(f"{name}: this is an Excel 97-2003 workbook (.xls); save it as .xlsx or CSV")
    if not data.startswith(ZIP_SIGNATURE):
        yield Table(name=name, rows=csv_rows(data, name))
        return
    archive = open_zip(data, name)
    if "xl/workbook.xml" in archive.namelist():
        yield from workbook_tables(data, name)
        return
    members = archive_members(archive)
    if len(members) != 1:
        raise ImportRefused(f"{name}: a zip archive holding {len(members)} files where one was expected "
                            f"({', '.join(m.filename for m in members[:5])})")
    inner = f"{name}/{members[0].filename}"
    for table in read_table(read_member(archive, members[0], inner), inner):
        if table.how is None:
            table = Table(name=table.name, rows=table.rows, how=f"read from the zip archive {name}")
        yield table


def open_zip(data: bytes, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ImportRefused(f"{name}: this looks like a zip archive or Excel workbook but cannot be opened") from None


def archive_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The files in an archive, less folders and what macOS and Excel leave beside them."""
    return [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")
            and not Path(m.filename).name.startswith((".", "~$"))]


def read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, *, max_bytes: int = MAX_BYTES) -> bytes:
    if member.file_size > max_bytes:
        raise ImportRefused(f"{name}: {member.file_size / 1_048_576:.0f} MB is larger than the "
                            f"{max_bytes // 1_048_576} MB an import reads")
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as error:
        raise ImportRefused(f"{name}: cannot be read from the zip archive ({type(error).__name__})") from None


def read_bytes(path: Path, *, max_bytes: int = MAX_BYTES) -> bytes:
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportRefused(f"{path.name}: {size / 1_048_576:.0f} MB is larger than the {max_bytes // 1_048_576} MB an import reads")
    return path.read_bytes()


def workbook_tables(data: bytes, name: str) -> Iterator[Table]:
    from openpyxl import load_workbook  # only workbooks pay for importing it

    archive = open_zip(data, name)
    # A sheet's XML is about ten times its share of the packed file: a small zip that unpacks
    # to gigabytes is refused before openpyxl reads it.
    if sum(m.file_size for m in archive.infolist()) > 4 * MAX_BYTES:
        raise ImportRefused(f"{name}: the workbook unpacks to more than {4 * MAX_BYTES // 1_048_576} MB")
    try:
        # data_only: a formula cell is read as the value Excel last calculated and saved.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a file that is not a workbook
        raise ImportRefused(f"{name}: not a readable Excel workbook ({type(error).__name__})") from None
    titles = workbook.sheetnames
    for sheet in workbook.worksheets:
        rows = ((number, [cell_text(value) for value in values])
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1))
        others = ", ".join(repr(title) for title in titles if title != sheet.title)
        yield Table(name=f"{name}, sheet {sheet.title!r}", rows=rows,
                    how="read as an Excel workbook" + (f" (its other sheets, {others}, are not read)" if others else ""))


def cell_text(value: object) -> str:
    """A cell as text, the way a CSV export holds it. Numbers are read to fifteen
    significant digits, all that Excel keeps and shows: every amount the ledger takes (at
    most 9,999,999,999,999.99) has fifteen or fewer, so it comes back exactly as typed
    (0.1 as `0.1`, not the binary fraction 0.1000000000000000055...), a formula's binary
    noise (0.1 + 0.2 = 0.30000000000000004) reads as Excel shows it (`0.3`), and a number
    beyond fifteen digits keeps its exponent (`1e+30`), which no amount parses."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: True is an int
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".15g")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g} seconds"
    return str(value)


def csv_rows(raw: bytes, name: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every row of a CSV file, blank ones included, decoded as UTF-8
    (with or without BOM) or, failing that, Windows-1252."""
    # Anywhere in the file, not only near the start: PostgreSQL cannot store a NUL.
    if b"\x00" in raw:
        raise ImportRefused(f"{name}: this is not a text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="strict") if _is_cp1252(raw) else ""
        if not text:
            raise ImportRefused(f"{name}: the text is neither UTF-8 nor Windows-1252") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    return ((reader.line_num, cells) for cells in reader)


def read_csv(path: Path, *, max_bytes: int = MAX_BYTES) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Headers (the first row) and (line number, cells) of the non-blank rows of a CSV file."""
    if path.stat().st_size == 0:
        raise ImportRefused(f"{path.name}: the file is empty")
    raw = read_bytes(path, max_bytes=max_bytes)
    if raw.startswith(ZIP_SIGNATURE):
        raise ImportRefused(f"{path.name}: this is an Excel workbook or zip archive, not CSV")
    rows = csv_rows(raw, path.name)
    try:
        _, headers = next(rows)
    except StopIteration:
        raise ImportRefused(f"{path.name}: the file has no header row") from None
    if not any(h.strip() for h in headers):
        raise ImportRefused(f"{path.name}: the first row is empty, not a header row")
    return headers, ((line, cells) for line, cells in rows if "".join(cells).strip())


def _is_cp1252(raw: bytes) -> bool:
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


_MONTHS = {name: number for number, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
    ("dec", "december")), start=1) for name in names}
#: `07-Aug-19` (Excel's CSV export of a date cell), `7 August 2019`, `7-Aug-2019`.
_MONTH_NAME_DATE = re.compile(r"([0-9]{1,2})[- ]([a-z]+)[- ]([0-9]{2}|[0-9]{4})", re.ASCII | re.IGNORECASE)
# ASCII digits only, as money: `\d` (and strptime) would also read other scripts' digits.
_DATE_FORMATS = tuple((pattern, re.compile(shape, re.ASCII)) for pattern, shape in (
    ("%Y-%m-%d", r"\d{4}-\d{1,2}-\d{1,2}"), ("%d/%m/%Y", r"\d{1,2}/\d{1,2}/\d{4}"),
    ("%d/%m/%y", r"\d{1,2}/\d{1,2}/\d{2}"), ("%Y-%m", r"\d{4}-\d{1,2}"), ("%Y", r"\d{4}"),
    ("%d-%m-%Y", r"\d{1,2}-\d{1,2}-\d{4}"), ("%d.%m.%Y", r"\d{1,2}\.\d{1,2}\.\d{4}")))
#: ISO dates, most files' only shape, are read without strptime (several times slower: it
#: shows on a 100,000-row file). date() refuses exactly what `%Y-%m-%d` refuses there
#: (month 0 or 13, 30 February).
_ASCII_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
#: A date with a time after it (`2019-08-07T00:00:00`, `07/08/2019 00:00`): the time is dropped.
_DATE_AND_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}/[0-9]{2}/[0-9]{4})[T ][0-9:.+\-Z]+")


@functools.lru_cache(maxsize=4096)  # a file repeats a few thousand dates over and over
def parse_date(text: str) -> date:
    """A date in one of the declared formats: ISO `YYYY-MM-DD` (also `YYYY-MM`, `YYYY`, and
    ISO with a time), UK `DD/MM/YYYY`, `DD/MM/YY`, `DD-MM-YYYY`, `DD.MM.YYYY`, and a month by
    name, `07-Aug-19` or `7 August 2019`. No guessing between day-first and month-first: a
    US-style date is refused when the day is over 12. Placeholders for "unknown" (before
    1980) and dates after 2199-12-31 (9999-12-31 often means "open-ended"), which the ledger
    does not take, are refused too. Excel serial numbers are not dates here: only a date
    column reads them (excel_serial_date), with a warning."""
    value = text.strip()
    if not value:
        raise ValueError("is empty")
    with_time = _DATE_AND_TIME.fullmatch(value)
    if with_time:
        value = with_time[1]
    try:
        parsed = _date_in_declared_format(value)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a real date") from None
    if parsed is None:
        raise ValueError(f"{text.strip()!r} is not a date (expected YYYY-MM-DD or DD/MM/YYYY)")
    return plausible(parsed, text.strip())


class PlaceholderDate(ValueError):
    """A date written where the real one is not known (1900-01-01 and the like)."""


def plausible(day: date, text: str) -> date:
    """``day`` if the ledger takes it as a real date; ValueError naming ``text`` if not
    (PlaceholderDate for one before 1980)."""
    if day < EARLIEST_PLAUSIBLE:
        raise PlaceholderDate(f"{text!r} is a placeholder, not a real date")
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
    named = _MONTH_NAME_DATE.fullmatch(value)
    if named and named[2].lower() in _MONTHS:
        year = int(named[3])
        if len(named[3]) == 2:  # as strptime's %y and `DD/MM/YY`: 69-99 are 1900s, the rest 2000s
            year += 1900 if year >= 69 else 2000
        return date(year, _MONTHS[named[2].lower()], int(named[1]))
    return None


#: Day 0 of Excel's serial dates (1900 date system; 1899-12-30 absorbs its phantom 29 February 1900).
EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL = re.compile(r"[0-9]{5}(\.[0-9]+)?", re.ASCII)


def excel_serial_date(text: str) -> date | None:
    """The day an Excel serial number (`43684`, or `43684.5` with a time) stands for, when
    it is one the ledger takes (1980 to 2199: five digits), else None. Only for a column that
    holds dates: elsewhere 43684 is a number."""
    value = text.strip()
    if not (value[:5].isdigit() and _SERIAL.fullmatch(value)):  # the first test is quick: most dates fail it
        return None
    day = EXCEL_EPOCH + timedelta(days=int(Decimal(value)))
    return day if EARLIEST_PLAUSIBLE <= day <= LATEST_DATE else None


_EXPONENT = re.compile(r"[0-9.][eE][+-]?[0-9]")


def parse_amount(text: str) -> Decimal:
    """An amount as councils write it (`£1,373,992.00`, `-500`); the sign is kept."""
    if _EXPONENT.search(text):
        raise ValueError(f"{text.strip()!r} has an exponent, as a spreadsheet shows a rounded number: not an exact amount")
    try:
        return parse_money_lenient(text)
    except MoneyError as error:
        raise ValueError(str(error)) from None


def amount_in_words(text: str) -> bool:
    """Words where an amount belongs (`calculation at reserved matters`, `TBC`): letters and
    no digit. A yes/no value (a boolean cell) is not words, and neither is anything with a
    digit (`1.23457E+11`, `1e30`, a date): those are unreadable amounts."""
    value = text.strip()
    return (any(c.isalpha() for c in value) and not any(c.isdigit() for c in value)
            and value.lower() not in {"true", "false"})


def parse_units(text: str) -> int:
    value = text.strip().replace(",", "")
    if not re.fullmatch(r"[0-9]+(\.0+)?", value):
        raise ValueError(f"{text.strip()!r} is not a whole number of units")
    units = int(Decimal(value))
    if units > INT32_MAX:
        raise ValueError(f"{text.strip()!r} is more units than the ledger can count")
    return units
