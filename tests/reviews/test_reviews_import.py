"""`s106 reviews import FILE.csv`: reviews in bulk, all or nothing; a refused file names each
problem by line and field (and writes them to --rejects); importing a file again records
nothing new."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from click.testing import Result
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from ledger.models import Review
from tests.factories import make_obligation

HEADER = "Obligation reference,Status,Note,Owner email,Next review on\n"


def run(app: Flask, *args: str) -> Result:
    with freeze_time("2025-03-31 10:00:00"):
        return app.test_cli_runner().invoke(args=["ledger", "reviews", "import", *args])


def reviews(app: Flask) -> list[tuple[str, str, date]]:
    with app.extensions["ledger.sessions"]() as session:
        return [(r.obligation.reference, r.status, r.next_review_on)
                for r in session.scalars(select(Review).order_by(Review.id))]


def test_a_file_of_reviews_is_recorded_once(world: Flask, tmp_path: Path) -> None:
    with world.extensions["ledger.sessions"]() as session:
        make_obligation(session, reference="20/00001/FUL/2", purpose="highways", service="highways")
    path = tmp_path / "reviews.csv"
    path.write_text(HEADER + "20/00001/FUL/1,spend-planned,Cabinet in June,jo@kent.gov.uk,2025-06-30\n"
                    '20/00001/FUL/2,Deed of variation sought,"Asked for two more years, by letter",'
                    "sam@kent.gov.uk,30/09/2025\n\n", encoding="utf-8")
    first = run(world, str(path))
    assert first.exit_code == 0, first.output
    assert "reviews.csv: 2 review(s) recorded, 0 already recorded" in first.output
    expected = [("20/00001/FUL/1", "spend-planned", date(2025, 6, 30)),
                ("20/00001/FUL/2", "variation-sought", date(2025, 9, 30))]
    assert reviews(world) == expected
    again = run(world, str(path))
    assert again.exit_code == 0 and "0 review(s) recorded, 2 already recorded" in again.output
    assert reviews(world) == expected


def test_a_file_with_a_bad_row_is_refused_whole_naming_line_and_field(world: Flask, tmp_path: Path) -> None:
    path, rejects = tmp_path / "reviews.csv", tmp_path / "rejects.csv"
    path.write_text(HEADER + "20/00001/FUL/1,spend-planned,Cabinet in June,jo@kent.gov.uk,2025-06-30\n"
                    "NOPE/1,spend-planned,Cabinet in June,jo@kent.gov.uk,2025-06-30\n"
                    "20/00001/FUL/1,no-action,,Jo Bloggs,31/02/2025\n", encoding="utf-8")
    result = run(world, str(path), "--rejects", str(rejects))
    assert result.exit_code == 1
    assert "line 3, obligation_reference: no such obligation ('NOPE/1')" in result.output
    assert "line 4, next_review_on: '31/02/2025' is not a real date" in result.output
    assert "line 4, note: must say what is being done" in result.output
    assert "line 4, owner_email: must be an email address" in result.output
    assert "reviews.csv: 4 problem(s), nothing recorded" in result.output
    with rejects.open(encoding="utf-8") as report:
        found = [(row["line"], row["field"]) for row in csv.DictReader(report)]
    assert found == [("3", "obligation_reference"), ("4", "next_review_on"), ("4", "note"), ("4", "owner_email")]
    assert reviews(world) == []


def test_a_file_without_a_column_is_refused(world: Flask, tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("obligation_reference,status,note\n20/00001/FUL/1,no-action,Fine\n", encoding="utf-8")
    result = run(world, str(path))
    assert result.exit_code == 1 and "no column owner_email, next_review_on" in result.output
    assert reviews(world) == []
