"""The pandas peer is like for like with the ledger's figures-only IFS (issue 17 item 5): from
the small demo exported as the government CSVs, its Summary sheet states the ledger's figures
wherever the files can give them as the ledger defines them, and the bench's comparison finds
a difference of a penny."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook

from bench import pandas_peer
from bench.figures import by_service_label, differences, ledger_figures, read_summary
from ledger.demo import generate
from ledger.domain.ifs import ITEMS, IfsReport
from ledger.domain.vocab import service_label
from ledger.services.exports import gov_csv_rows
from ledger.services.ifs import ifs_report
from reports.gov_csv import write_gov_csv
from reports.ifs_workbook import FIGURES_ONLY, write_ifs_workbook
from tests.conftest import make_test_app

TODAY = date(2026, 11, 28)
#: After the demo's last keying (08:00 on its today), so the export and the statement see it all.
NOW = datetime(2026, 11, 28, 12, 0)
YEAR = 2023


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> tuple[str, Path, IfsReport]:
    """The small demo on a SQLite file, its government CSVs (as bench.ops export writes them)
    and its statement for the year."""
    folder = tmp_path_factory.mktemp("figures")
    shutil.copy(sqlite_template, folder / "ledger.sqlite")
    url = f"sqlite:///{folder / 'ledger.sqlite'}"
    app = make_test_app(url)
    with freeze_time(NOW), app.extensions["ledger.sessions"]() as session:
        generate(session, scale="small", seed=106, today=TODAY)
        rows = gov_csv_rows(session)
        report = ifs_report(session, year=YEAR)
    app.extensions["ledger.engine"].dispose()
    write_gov_csv(folder / "export", agreements=rows.agreements, contributions=rows.contributions,
                  transactions=rows.transactions)
    return url, folder / "export", report


@pytest.fixture(scope="module")
def ledger(demo: tuple[str, Path, IfsReport], tmp_path_factory: pytest.TempPathFactory) -> Path:
    url, _, _ = demo
    out = tmp_path_factory.mktemp("ledger") / "figures.xlsx"
    with freeze_time(NOW):
        ledger_figures(url, YEAR, str(out))
    return out


def peer(exported: Path, out: Path) -> dict[str, Decimal | None]:
    pandas_peer.main(str(exported), YEAR, str(out), figures_only=True)
    return by_service_label(read_summary(out))


def test_the_ledgers_figures_only_workbook_is_the_statements_summary(
        demo: tuple[str, Path, IfsReport], ledger: Path) -> None:
    _, _, report = demo
    assert load_workbook(ledger).sheetnames == ["Summary"]
    found = read_summary(ledger)
    # The reader takes each figure from its named cell, and each service's money from its row.
    assert {name: found[name] for name, _, _ in ITEMS} == {i.name: Decimal(i.value) for i in report.items}
    services = {f"service {service_label(a.code)} {column}": value for a in report.by_service
                for column, value in (("received", a.received), ("spent", a.spent + a.transferred),
                                      ("retained", a.retained))}
    assert {key: value for key, value in found.items() if key.startswith("service ")} == services
    assert len(services) >= 3 * 10


def test_the_peer_states_every_figure_the_files_give_as_the_ledger_defines_it(
        demo: tuple[str, Path, IfsReport], ledger: Path, tmp_path: Path) -> None:
    _, exported, _ = demo
    ours, theirs = read_summary(ledger), peer(exported, tmp_path / "peer.xlsx")
    alike = sorted(ours.keys() - pandas_peer.NOT_ALIKE.keys())
    assert {name: theirs.get(name) for name in alike} == {name: ours[name] for name in alike}
    # Each kind of money the demo's year moves is in that comparison, and not nothing.
    assert all(ours[name] for name in ("s106_b_money_received", "s106_e_allocated_not_spent", "s106_f_money_spent",
                                       "s106_h_monitoring_spent", "s106_i_money_retained", "s106_money_repaid"))
    # The figures the files cannot give are left blank, not guessed.
    assert theirs["s106_h_borrowing_repaid"] is None and theirs["s106_i_commuted_sums_retained"] is None
    assert [d[0] for d in differences(ours, read_summary(tmp_path / "peer.xlsx"))] == [
        "s106_h_borrowing_repaid", "s106_i_commuted_sums_retained"]


def test_the_closest_versions_agree_where_the_demo_gives_them_no_cause_to_differ(
        demo: tuple[str, Path, IfsReport], ledger: Path, tmp_path: Path) -> None:
    # The demo has no deed of variation replacing an obligation and no opening balance, and
    # gives units only to affordable-housing and education contributions: (a), (c) and (d)
    # are then the ledger's, so a wrong closest version cannot hide behind its note.
    _, exported, _ = demo
    ours, theirs = read_summary(ledger), peer(exported, tmp_path / "peer.xlsx")
    closest = ["s106_a_money_secured", "s106_c_received_before_unallocated", "s106_d_affordable_housing_units",
               "s106_d_school_places"]
    assert {name: theirs[name] for name in closest} == {name: ours[name] for name in closest}
    assert all(ours[name] for name in closest)


def test_the_comparison_finds_a_penny(demo: tuple[str, Path, IfsReport], ledger: Path, tmp_path: Path) -> None:
    _, exported, _ = demo
    changed = tmp_path / "export"
    shutil.copytree(exported, changed)
    with (changed / "developer-agreement.csv").open(encoding="utf-8") as handle:
        planning = {a["reference"] for a in csv.DictReader(handle)
                    if a["developer-agreement-type"] in pandas_peer.PLANNING}
    with (changed / "developer-agreement-contribution.csv").open(encoding="utf-8") as handle:
        service_of = {c["reference"]: c["name"] for c in csv.DictReader(handle) if c["developer-agreement"] in planning}
    path = changed / "developer-agreement-transaction.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    receipt = next(r for r in rows if r["name"] == "receipt" and r["developer-agreement-contribution"] in service_of
                   and f"{YEAR}-04-01" <= r["start-date"] <= f"{YEAR + 1}-03-31")
    receipt["amount"] = str(Decimal(receipt["amount"]) + Decimal("0.01"))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)

    peer(changed, tmp_path / "peer.xlsx")
    found = differences(read_summary(ledger), read_summary(tmp_path / "peer.xlsx"))
    defects = {name: (ours, theirs) for name, ours, theirs, why in found if not why}
    label = service_label(service_of[receipt["developer-agreement-contribution"]])
    assert set(defects) == {"s106_b_money_received", "s106_i_money_retained", f"service {label} received",
                            f"service {label} retained"}
    ours, theirs = defects["s106_b_money_received"]
    assert theirs - ours == Decimal("0.01")  # type: ignore[operator]


def test_a_workbook_of_some_sheets_refuses_a_sheet_its_edition_lacks(demo: tuple[str, Path, IfsReport],
                                                                    tmp_path: Path) -> None:
    _, _, report = demo
    with pytest.raises(ValueError, match="At risk"):
        write_ifs_workbook(report, tmp_path / "public.xlsx", edition="public", sheets=("Summary", "At risk"))
    write_ifs_workbook(report, tmp_path / "internal.xlsx", sheets=(*FIGURES_ONLY, "Checks"))
    assert load_workbook(tmp_path / "internal.xlsx").sheetnames == ["Summary", "Checks"]
