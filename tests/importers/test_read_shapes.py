"""Files as councils publish them are read (issue 14 item 2): Excel workbooks chosen by
content, zip archives, title rows above the header, dates written several ways, a file
with only an entry-date, amounts in words, and values that cannot be read, each with a
warning saying what was done or a rejection saying why. Each shape is built in the test
from Isle of Wight's published CSV files and must give the CSV import's figures."""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy.orm import Session

from importers.gov_csv import AGREEMENT_FILE, CONTRIBUTION_FILE, FILES, TRANSACTION_FILE, plan_gov_csv
from importers.plan import ImportPlan
from importers.read import (
    ImportRefused,
    amount_in_words,
    cell_text,
    excel_serial_date,
    parse_amount,
    parse_date,
)
from ledger.services import SYSTEM
from ledger.services.imports import apply_import
from tests.conftest import make_test_app

DATA = Path(__file__).parents[1] / "data" / "gov-csv"
COUNCIL = DATA / "isle-of-wight"
TITLE = "Isle of Wight Council: developer contributions"


# -- the pure steps ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [("07-Aug-19", date(2019, 8, 7)), ("7-aug-2019", date(2019, 8, 7)), ("7 August 2019", date(2019, 8, 7)),
     ("07 Sept 2019", date(2019, 9, 7)), ("1 December 2019", date(2019, 12, 1)), ("31-Dec-99", date(1999, 12, 31)),
     ("2019-08-07T00:00:00", date(2019, 8, 7)), ("2019-08-07 13:45:00", date(2019, 8, 7)),
     ("2019-08-07T00:00:00.000Z", date(2019, 8, 7)), ("07/08/2019 00:00", date(2019, 8, 7))],
)
def test_dates_written_as_councils_write_them(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("31-Feb-19", "not a real date"), ("7 Augtober 2019", "not a date"), ("07-Aug-75", "placeholder"),
     ("43684", "not a date"), ("2019-08-07Tlunch", "not a date")],
)
def test_dates_that_are_still_refused(text: str, message: str) -> None:
    """A serial number is no date to parse_date: only a date column reads one, with a warning."""
    with pytest.raises(ValueError, match=message):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("43684", date(2019, 8, 7)), (" 43684.75 ", date(2019, 8, 7)), ("29221", date(1980, 1, 1)),
     ("109573", None), ("29220", None), ("2019", None), ("4368", None), ("43684.5.1", None), ("-43684", None),
     ("٤٣٦٨٤", None)],
)
def test_excel_serial_numbers_in_the_ledgers_range(text: str, expected: date | None) -> None:
    assert excel_serial_date(text) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1, "0.1"), (1234567.89, "1234567.89"), (0.1 + 0.2, "0.3"), (9999999999999.99, "9999999999999.99"),
     (346.0, "346"), (1e30, "1e+30"), (1.23457e-05, "1.23457e-05"), (10**20, "100000000000000000000"),
     (True, "TRUE"), (datetime(2019, 8, 7), "2019-08-07"), (datetime(2019, 8, 7, 9, 30), "2019-08-07T09:30:00"),
     (time(12, 30), "12:30:00"), (None, ""), (" text ", " text ")],
)
def test_workbook_cells_read_as_a_csv_export_holds_them(value: object, text: str) -> None:
    assert cell_text(value) == text


@pytest.mark.parametrize(("value", "amount"), [(0.1, "0.10"), (1234567.89, "1234567.89"), (0.07, "0.07"),
                                               (9999999999999.99, "9999999999999.99"), (123456789.01, "123456789.01")])
def test_money_from_a_number_cell_is_exact_to_the_penny(value: float, amount: str) -> None:
    assert parse_amount(cell_text(value)) == Decimal(amount)
    assert str(parse_amount(cell_text(value))) == amount


@pytest.mark.parametrize("text", ["1.23457E+11", "1e30", "1E3", "£1.2e5", "1.5e-2"])
def test_an_amount_with_an_exponent_is_unreadable(text: str) -> None:
    with pytest.raises(ValueError, match="exponent"):
        parse_amount(text)


@pytest.mark.parametrize(("text", "words"), [("calculation at reserved matters", True), ("TBC", True), ("n/a", True),
                                             ("TRUE", False), ("false", False), ("1.23457E+11", False),
                                             ("2019-08-07", False), ("12:30:00", False), ("-", False)])
def test_amounts_in_words_are_told_from_unreadable_numbers(text: str, words: bool) -> None:
    assert amount_in_words(text) is words


# -- building each shape from the real files ------------------------------------------------

def csv_table(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def typed(header: str, text: str) -> object:
    """A cell as Excel holds it after a council typed ``text``: amounts are numbers (binary
    floats), ISO dates are dates, everything else is text."""
    if header.startswith("amount") and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return float(Decimal(text))
    if header.endswith("date") and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return datetime.fromisoformat(text)
    return text


def workbook_bytes(rows: list[list[str]], *, title: bool = True, sheet_first: str | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if sheet_first:  # an explanatory sheet before the data
        sheet.title = sheet_first
        sheet.append(["This workbook lists the council's section 106 agreements."])
        sheet = workbook.create_sheet("Data")
    if title:
        sheet.append([TITLE])
        sheet.append([])
        sheet.append([None, None, "Published 1 April 2021"])
        sheet.append([])
    header, *body = rows
    sheet.append(header)
    for row in body:
        sheet.append([typed(h, cell) for h, cell in zip(header, row, strict=False)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def figures(plan: ImportPlan) -> dict[str, list[tuple[object, ...]]]:
    """What an import would write and refuse, without line numbers (a title row moves them)."""
    return {
        "agreements": sorted((a.reference, a.type, a.signed_on, a.superseded_on, a.planning_application)
                             for a in plan.agreements),
        "obligations": sorted((o.reference, o.agreement_reference, o.purpose, o.amount, o.units, o.trigger)
                              for o in plan.obligations),
        "entries": sorted((e.kind, e.reference, e.obligation_reference, e.amount, e.occurred_on) for e in plan.entries),
        "dues": sorted((d.reference, d.amount, d.due_on) for d in plan.dues),
        "rejected": sorted((i.source.file, i.source.reference, i.field, re.sub(r"line \d+", "line N", i.reason))
                           for i in plan.rejected),
    }


@pytest.fixture(scope="module")
def csv_figures() -> dict[str, list[tuple[object, ...]]]:
    return figures(plan_gov_csv(COUNCIL))


def warnings_of(plan: ImportPlan, field: str) -> list[tuple[str, int, str]]:
    return [(i.source.file, i.source.line, i.reason) for i in plan.warnings if i.field == field]


def test_the_three_files_as_workbooks_with_a_title_give_the_csv_figures(tmp_path: Path, csv_figures: dict) -> None:
    for file in FILES:
        (tmp_path / file.replace(".csv", ".xlsx")).write_bytes(workbook_bytes(csv_table(COUNCIL / file)))
    plan = plan_gov_csv(tmp_path)
    assert figures(plan) == csv_figures
    assert plan.agreements and plan.entries  # the comparison is of something
    read_as = warnings_of(plan, "file")
    assert [(file, line) for file, line, _ in read_as] == [(file, 5) for file in FILES]
    assert all("sheet 'Sheet': read as an Excel workbook" in reason for _, _, reason in read_as)
    titles = warnings_of(plan, "header")
    assert len(titles) == 3 and all(TITLE in reason and "line 5" in reason for _, _, reason in titles)
    assert {i.kind for i in plan.warnings if i.field in ("file", "header")} == {"file-shape", "title-rows"}
    # Lines are the sheet's row numbers: the first data row is row 6.
    assert min(s.line for s in plan.sources if s.file == TRANSACTION_FILE) == 6


def test_workbooks_import_to_the_csv_imports_money(tmp_path: Path, session: Session) -> None:
    for file in FILES:
        (tmp_path / file.replace(".csv", ".xlsx")).write_bytes(workbook_bytes(csv_table(COUNCIL / file)))
    from_csv = apply_import(session, plan_gov_csv(COUNCIL), actor=SYSTEM, dry_run=True)
    from_workbooks = apply_import(session, plan_gov_csv(tmp_path), actor=SYSTEM)

    def money(result: object) -> list[tuple[object, ...]]:
        return [(s.file, s.status, s.rows, s.source, s.imported, s.rejected) for s in result.summary]  # type: ignore[attr-defined]

    assert money(from_workbooks) == money(from_csv)
    assert from_workbooks.committed and sum(s.imported for s in from_workbooks.summary) > 0


def test_a_csv_name_holding_a_workbook_is_read_as_a_workbook(tmp_path: Path, csv_figures: dict) -> None:
    shutil.copytree(COUNCIL, tmp_path / "council")
    transactions = tmp_path / "council" / TRANSACTION_FILE
    transactions.write_bytes(workbook_bytes(csv_table(transactions), title=False, sheet_first="About"))
    plan = plan_gov_csv(tmp_path / "council")
    assert figures(plan) == csv_figures
    [(file, line, reason)] = warnings_of(plan, "file")
    assert (file, line) == (TRANSACTION_FILE, 1)
    assert "sheet 'Data'" in reason and "'About'" in reason  # which sheet was read, and which not


@pytest.mark.parametrize("shape", ["zip-as-directory", "zip-in-directory", "zip-per-file", "zip-of-workbooks"])
def test_zip_archives_are_read(shape: str, tmp_path: Path, csv_figures: dict) -> None:
    files = {file: (COUNCIL / file).read_bytes() for file in FILES}
    directory = tmp_path / "council"
    directory.mkdir()
    if shape == "zip-as-directory":
        target = tmp_path / "isle-of-wight.zip"
        target.write_bytes(zip_bytes({f"isle-of-wight/{file}": data for file, data in files.items()}))
    elif shape == "zip-in-directory":
        target = directory
        (directory / "s106 data 2020.zip").write_bytes(zip_bytes(files | {"__MACOSX/._x": b"junk", "README.txt": b"hi"}))
    elif shape == "zip-per-file":  # a zip holding one CSV, whatever it is called inside
        target = directory
        for file, data in files.items():
            (directory / file.replace(".csv", ".zip")).write_bytes(zip_bytes({"export.csv": data}))
    else:
        target = tmp_path / "workbooks.zip"
        target.write_bytes(zip_bytes({file.replace(".csv", ".xlsx"): workbook_bytes(csv_table(COUNCIL / file))
                                      for file in FILES}))
    plan = plan_gov_csv(target)
    assert figures(plan) == csv_figures
    if shape == "zip-per-file":
        read_as = warnings_of(plan, "file")
        assert len(read_as) == 3
        assert all("read from the zip archive developer-agreement" in reason for _, _, reason in read_as)


def test_a_title_and_blank_rows_above_a_csv_header(tmp_path: Path, csv_figures: dict) -> None:
    shutil.copytree(COUNCIL, tmp_path / "council")
    transactions = tmp_path / "council" / TRANSACTION_FILE
    transactions.write_text(f"{TITLE},,,\n,,,\n\n" + transactions.read_bytes().decode("utf-8-sig"), encoding="utf-8")
    plan = plan_gov_csv(tmp_path / "council")
    assert figures(plan) == csv_figures
    [(file, line, reason)] = warnings_of(plan, "header")
    assert (file, line) == (TRANSACTION_FILE, 4) and TITLE in reason


def test_a_header_past_the_first_twenty_rows_is_not_found(tmp_path: Path) -> None:
    shutil.copytree(COUNCIL, tmp_path / "council")
    transactions = tmp_path / "council" / TRANSACTION_FILE
    transactions.write_text("notes\n" * 20 + transactions.read_text(encoding="utf-8-sig"), encoding="utf-8")
    with pytest.raises(ImportRefused, match="missing required column"):
        plan_gov_csv(tmp_path / "council")


def rewrite(tmp_path: Path, file: str, change: callable) -> Path:  # type: ignore[valid-type]
    """A copy of the council's files with ``file``'s table changed by ``change(header, rows)``."""
    directory = tmp_path / "council"
    shutil.copytree(COUNCIL, directory)
    header, *rows = csv_table(COUNCIL / file)
    header, rows = change(header, rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    (directory / file).write_text(buffer.getvalue(), encoding="utf-8")
    return directory


def test_excel_serial_numbers_in_a_csv_date_column_are_read_with_a_warning(tmp_path: Path, csv_figures: dict) -> None:
    def serials(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
        column = header.index("start-date")
        for row in rows:
            if row[column] > "1980":  # placeholders (1900-01-01) stay as they are, refused as they are
                row[column] = str((date.fromisoformat(row[column]) - date(1899, 12, 30)).days)
        return header, rows

    plan = plan_gov_csv(rewrite(tmp_path, TRANSACTION_FILE, serials))
    assert figures(plan) == csv_figures
    read = [(i.source.file, i.source.line, i.reason) for i in plan.warnings if i.kind == "excel-serial-date"]
    assert len(read) == sum(row[-2] > "1980" for row in csv_table(COUNCIL / TRANSACTION_FILE)[1:]) > 50
    assert (TRANSACTION_FILE, 2, "start-date '43699' read as an Excel serial number: 2019-08-22") in read
    # The 1900-01-01 receipts left as they were come in as undated opening balances.
    assert {i.kind for i in plan.warnings if i.field == "start-date"} == {"excel-serial-date", "undated-receipt"}


def test_dates_with_month_names_give_the_csv_figures(tmp_path: Path, csv_figures: dict) -> None:
    def month_names(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
        column = header.index("start-date")
        for number, row in enumerate(rows):
            if row[column] > "1980":  # placeholders (1900-01-01) stay as they are, refused as they are
                day = date.fromisoformat(row[column])
                row[column] = day.strftime("%d-%b-%y" if number % 2 else "%-d %B %Y")
        return header, rows

    assert figures(plan_gov_csv(rewrite(tmp_path, TRANSACTION_FILE, month_names))) == csv_figures


def test_a_transaction_file_with_only_an_entry_date_uses_it_on_every_row(tmp_path: Path) -> None:
    def entry_date_only(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
        column = header.index("start-date")
        return ([h for i, h in enumerate(header) if i != column],
                [[c for i, c in enumerate(row) if i != column] for row in rows])

    plan = plan_gov_csv(rewrite(tmp_path, TRANSACTION_FILE, entry_date_only))
    header, *rows = csv_table(COUNCIL / TRANSACTION_FILE)
    entered = {row[0]: date.fromisoformat(row[header.index("entry-date")]) for row in rows}
    # (Receipts entered on 1900-01-01, a placeholder, come in as undated opening balances.)
    assert plan.entries and all(e.occurred_on == entered[e.reference] for e in plan.entries
                                if e.reference in entered and e.kind != "opening-balance")
    per_row = [w for w in warnings_of(plan, "start-date") if w[1] > 1 and "taken as the start-date" in w[2]]
    assert len(per_row) == len(rows)
    assert all("taken as the start-date" in reason for _, _, reason in per_row)
    assert any("no start-date column" in reason for _, line, reason in warnings_of(plan, "start-date") if line == 1)


def test_a_contribution_amount_in_words_keeps_the_obligation_without_an_amount(tmp_path: Path) -> None:
    words = "calculation at reserved matters"

    def in_words(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
        rows[0][header.index("amount")] = words
        return header, rows

    plan = plan_gov_csv(rewrite(tmp_path, CONTRIBUTION_FILE, in_words))
    reference = csv_table(COUNCIL / CONTRIBUTION_FILE)[1][0]
    [obligation] = [o for o in plan.obligations if o.reference == reference]
    assert obligation.amount is None
    assert obligation.trigger is not None and words in obligation.trigger
    [(file, line, reason)] = warnings_of(plan, "amount")
    assert (file, line) == (CONTRIBUTION_FILE, 2) and words in reason
    assert [i.kind for i in plan.warnings if i.field == "amount"] == ["amount-in-words"]
    assert not [i for i in plan.rejected if i.source.file == CONTRIBUTION_FILE and i.source.line == 2]


@pytest.mark.parametrize("file", [CONTRIBUTION_FILE, TRANSACTION_FILE])
@pytest.mark.parametrize(("cell", "reason"), [
    ("1.23457E+11", "exponent"), ("1e30", "exponent"), ("TRUE", "not an amount"), ("12:30:00", "not an amount"),
    ("2019-08-07", "not an amount"), ("346.001", "more than two decimal places"),
])
def test_amounts_that_cannot_be_read_reject_their_row(file: str, cell: str, reason: str, tmp_path: Path) -> None:
    def unreadable(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
        rows[0][header.index("amount")] = cell
        return header, rows

    plan = plan_gov_csv(rewrite(tmp_path, file, unreadable))
    [issue] = [i for i in plan.rejected if (i.source.file, i.source.line) == (file, 2)]
    assert issue.field == "amount" and reason in issue.reason


def test_workbook_cells_that_are_no_amount_or_date_reject_their_row(tmp_path: Path) -> None:
    header, *rows = csv_table(COUNCIL / TRANSACTION_FILE)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    amount, start = header.index("amount"), header.index("start-date")
    bad = [(amount, True), (amount, time(12, 30)), (amount, 1e30), (amount, datetime(2019, 8, 7)),
           (amount, 0.001), (start, False), (start, time(9, 0)), (start, 12.5), (start, "#N/A")]
    for row, (column, value) in zip(rows, bad, strict=False):
        typed_row: list[object] = [typed(h, c) for h, c in zip(header, row, strict=False)]
        typed_row[column] = value
        sheet.append(typed_row)
    for row in rows[len(bad):]:
        sheet.append([typed(h, c) for h, c in zip(header, row, strict=False)])
    directory = tmp_path / "council"
    shutil.copytree(COUNCIL, directory)
    (directory / TRANSACTION_FILE).unlink()
    workbook.save(directory / "developer-agreement-transaction.xlsx")
    plan = plan_gov_csv(directory)
    rejected = {i.source.line: (i.field, i.reason) for i in plan.rejected if i.source.file == TRANSACTION_FILE}
    for line, (column, _) in enumerate(bad, start=2):
        assert rejected[line][0] == header[column], (line, rejected.get(line))


@pytest.mark.parametrize(("found", "message"), [
    ({"developer-agreement.csv": b"x", "developer-agreement.xlsx": b"y"}, "is there 2 times"),
    ({"developer-agreement.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100}, "Excel 97-2003"),
    ({"developer-agreement.zip": zip_bytes({"a.csv": b"x", "b.csv": b"y"})}, "holding 2 files"),
    ({"developer-agreement.xlsx": b"PK\x03\x04 not really"}, "cannot be opened"),
])
def test_files_that_cannot_be_chosen_or_read_refuse_the_import(found: dict[str, bytes], message: str,
                                                                tmp_path: Path) -> None:
    directory = tmp_path / "council"
    shutil.copytree(COUNCIL, directory)
    (directory / AGREEMENT_FILE).unlink()
    for name, data in found.items():
        (directory / name).write_bytes(data)
    with pytest.raises(ImportRefused, match=message) as refused:
        plan_gov_csv(directory)
    assert "\n" not in str(refused.value)


# -- fuzz: whatever the cells hold, the import reads every row or rejects it with a reason -----

CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.datetimes(min_value=datetime(1900, 3, 1)),
    st.dates(min_value=date(1900, 3, 1)), st.times(),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30),
    st.sampled_from(["1.23457E+11", "calculation at reserved matters", "1e30", "£1,234,567.89", "0.10", "07-Aug-19",
                     "7 August 2019", "43684", "2019-08-07T00:00:00", "TRUE", "-0", "(500)", "received", "spent",
                     "secured", "C1", "A1", "#N/A"]),
)
AGREEMENTS = [["reference", "organisation", "start-date"], ["A1", "local-authority:KEN", "2019-04-01"]]
CONTRIBUTION_HEADER = ["reference", "developer-agreement", "contribution-purpose", "amount", "start-date"]
TRANSACTION_HEADER = ["reference", "developer-agreement-contribution", "contribution-funding-status", "amount",
                      "start-date", "end-date"]


def write_shape(directory: Path, as_workbook: bool, tables: dict[str, list[list[object]]]) -> None:
    for file, rows in tables.items():
        if as_workbook:
            workbook = Workbook()
            for row in rows:
                workbook.active.append(row)
            workbook.save(directory / file.replace(".csv", ".xlsx"))
        else:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows([[cell_text(c) for c in row] for row in rows])
            (directory / file).write_text(buffer.getvalue(), encoding="utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(as_workbook=st.booleans(),
       contributions=st.lists(st.lists(CELLS, min_size=5, max_size=5), min_size=1, max_size=3),
       transactions=st.lists(st.lists(CELLS, min_size=6, max_size=6), min_size=1, max_size=6),
       fixed=st.lists(st.booleans(), min_size=6, max_size=6))
def test_any_cell_values_are_imported_or_rejected_with_a_reason(
        as_workbook: bool, contributions: list[list[object]], transactions: list[list[object]], fixed: list[bool],
        tmp_path_factory: pytest.TempPathFactory, sqlite_url: str) -> None:
    # Half the columns keep a readable value, so that rows get past the first check.
    readable = ["T1", "C1", "received", 100.5, datetime(2020, 1, 2), None]
    transactions = [[readable[i] if fixed[i] else cell for i, cell in enumerate(row)] for row in transactions]
    contributions = [[["C1", "A1", "education", 1000, datetime(2019, 5, 1)][i] if fixed[i] else cell
                      for i, cell in enumerate(row)] for row in contributions]
    directory = tmp_path_factory.mktemp("fuzz")
    write_shape(directory, as_workbook, {AGREEMENT_FILE: AGREEMENTS,
                                         CONTRIBUTION_FILE: [CONTRIBUTION_HEADER, *contributions],
                                         TRANSACTION_FILE: [TRANSACTION_HEADER, *transactions]})
    plan = plan_gov_csv(directory)
    planned = {r.source for r in [*plan.agreements, *plan.obligations, *plan.entries, *plan.dues] if r.source}
    explained = {i.source for i in plan.issues if i.reason}
    for source in plan.sources:
        assert source in planned or source in explained, source
    assert all(i.reason for i in plan.rejected)
    app = make_test_app(sqlite_url)
    try:
        with app.extensions["ledger.sessions"]() as session:
            result = apply_import(session, plan, actor=SYSTEM)
        assert all(line.adds_up for line in result.summary), result.summary
    finally:
        app.extensions["ledger.engine"].dispose()


def test_the_command_imports_a_zip_archive(app: Flask, tmp_path: Path) -> None:
    archive = tmp_path / "isle-of-wight.zip"
    archive.write_bytes(zip_bytes({file: (COUNCIL / file).read_bytes() for file in FILES}))
    result = app.test_cli_runner().invoke(args=["ledger", "import", "gov-csv", str(archive), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run: nothing written" in result.output and "developer-agreement-transaction" in result.output
    missing = app.test_cli_runner().invoke(args=["ledger", "import", "gov-csv", str(tmp_path / "nope.zip")])
    assert missing.exit_code != 0 and "does not exist" in missing.output
