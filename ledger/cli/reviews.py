"""`s106 reviews import FILE.csv`: reviews of money at risk in bulk, all or nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import click

from ledger.cli.group import ledger_cli


@ledger_cli.group("reviews")
def reviews_group() -> None:
    """Reviews of money at risk."""


@reviews_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--rejects", default=None, type=click.Path(dir_okay=False),
              help="write every problem (line, field, value, reason) to FILE.csv")
def reviews_import(file: str, rejects: str | None) -> None:
    """Record a review for each row of FILE.csv (columns obligation_reference, status, note,
    owner_email, next_review_on; dates YYYY-MM-DD or DD/MM/YYYY). Any problem
    refuses the whole file, each named by line and field; a row the same as its obligation's
    latest review is not recorded again."""
    from importers.read import ImportRefused
    from importers.reviews import read_reviews
    from ledger.extensions import get_session
    from ledger.services import SYSTEM, reviews

    path = Path(file)
    try:
        rows, problems = read_reviews(path)
        result = reviews.import_reviews(get_session(), rows, actor=SYSTEM, source=path.name, problems=problems)
    except ImportRefused as refused:
        raise click.ClickException(str(refused)) from None
    except reviews.BulkRejected as rejected:
        for p in rejected.problems:
            click.echo(f"line {p.line}, {p.field}: {p.reason} ({p.value!r})", err=True)
        if rejects:
            with Path(rejects).open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(("line", "field", "value", "reason"))
                writer.writerows((p.line, p.field, p.value, p.reason) for p in rejected.problems)
            click.echo(f"rejects report: {rejects}", err=True)
        raise click.ClickException(f"{path.name}: {len(rejected.problems)} problem(s), nothing recorded") from None
    click.echo(f"{path.name}: {result.recorded} review(s) recorded, {result.unchanged} already recorded")
