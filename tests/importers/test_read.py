"""The pure steps of the importers: reading, header matching, value normalising, parsing."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from importers.gov_csv import (
    CONTRIBUTION_FILE,
    TRANSACTION_FILE,
    map_columns,
    normalise_purpose,
    normalise_status,
    normalise_type,
)
from importers.read import ImportRefused, header_key, parse_amount, parse_date, parse_units, read_csv


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2020-03-10", date(2020, 3, 10)), ("10/03/2020", date(2020, 3, 10)), (" 2019-07-01 ", date(2019, 7, 1)),
     ("05/04/21", date(2021, 4, 5)), ("2020-03", date(2020, 3, 1)), ("2020", date(2020, 1, 1)),
     ("2020-03-10T00:00:00", date(2020, 3, 10)), ("10.03.2020", date(2020, 3, 10))],
)
def test_declared_date_formats(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("1900-01-00", "not a real date"), ("1900-01-01", "placeholder"), ("31/02/2020", "not a real date"),
     ("03/31/2020", "not a real date"), ("yesterday", "not a date"), ("", "empty")],
)
def test_dates_that_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_date(text)


def test_amounts_and_units() -> None:
    assert parse_amount('£1,373,992.00') == Decimal("1373992.00")
    assert parse_amount("-£285,600.00") == Decimal("-285600.00")
    assert parse_units(" 37 ") == 37
    with pytest.raises(ValueError):
        parse_amount("n/a")
    with pytest.raises(ValueError):
        parse_units("2.5")


def test_headers_match_ignoring_case_and_punctuation() -> None:
    assert header_key("START_DATE") == header_key("start.date") == header_key("StartDate") == "startdate"


def test_2019_and_current_headers_and_variants_map_to_the_same_fields() -> None:
    current = ["reference", "developer-agreement", "contribution-purpose", "amount"]
    old = ["developer-agreement-contribution", "Developer-Agreeement", "Contribution-Purpose - Category", "amount (£)"]
    assert sorted(map_columns(CONTRIBUTION_FILE, current).values()) == sorted(map_columns(CONTRIBUTION_FILE, old).values())


def test_a_missing_required_column_refuses_the_file() -> None:
    with pytest.raises(ImportRefused, match="missing required column contribution-funding-status"):
        map_columns(TRANSACTION_FILE, ["reference", "developer-agreement-contribution", "amount", "start-date"])


@pytest.mark.parametrize(("text", "status"), [("Received ", "received"), ("ALLOCATED: schools", "allocated"),
                                              ("recieved", "received"), ("Spent", "spent"), ("Secured", "secured")])
def test_status_spellings(text: str, status: str) -> None:
    assert normalise_status(text) == status


@pytest.mark.parametrize(("text", "purpose", "known"), [
    ("Affordable Housing ", "affordable-housing", True), ("open-spaces-and-leisure", "open-space-and-leisure", True),
    ("CIL", "community-infrastructure-levy", True), ("S106 Monitoring", "monitoring-fees", True),
    ("OSSR", "other", False), ("0", "other", False)])
def test_purpose_spellings(text: str, purpose: str, known: bool) -> None:
    assert normalise_purpose(text) == (purpose, known)


@pytest.mark.parametrize(("text", "kind"), [("S106", "section-106"), ("s106 agreement", "section-106"),
                                            ("Deed of variation", "deed-of-variation"), ("S278", "section-278"),
                                            ("CIL", "community-infrastructure-levy"), ("bond", None)])
def test_agreement_type_spellings(text: str, kind: str | None) -> None:
    assert normalise_type(text) == kind


def test_cp1252_and_bom_files_are_read(tmp_path: Path) -> None:
    cp1252 = tmp_path / "a.csv"
    cp1252.write_bytes("reference,amount\nA,£1,000.00\n".replace("£1,000.00", '"£1,000.00"').encode("cp1252"))
    headers, rows = read_csv(cp1252)
    assert headers == ["reference", "amount"]
    assert list(rows) == [(2, ["A", "£1,000.00"])]
    bom = tmp_path / "b.csv"
    bom.write_bytes("\ufeffreference,amount\nB,5\n".encode())
    assert read_csv(bom)[0] == ["reference", "amount"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"PK\x03\x04rest-of-a-zip", "Excel workbook"), (b"\x00\x01\x02binary", "not a text file"),
     (b"\n\n", "header")],
    ids=["empty", "xlsx", "binary", "blank-header"],
)
def test_files_that_are_not_csv_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "developer-agreement.csv"
    path.write_bytes(content)
    with pytest.raises(ImportRefused, match=message):
        read_csv(path)


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"reference\n")
    with path.open("r+b") as handle:
        handle.truncate(200 * 1024 * 1024)
    with pytest.raises(ImportRefused, match="200 MB"):
        read_csv(path)
