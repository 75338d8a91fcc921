"""The peer a council analyst would use: pandas reading the exported government CSVs and
writing the IFS Summary figures (the items of Schedule 2 paragraph 3, and the section 106
money by service) to a workbook. Run as its own process by bench/figures.py:

    python bench/pandas_peer.py EXPORTED_DIR YEAR OUT.xlsx [--figures-only]

With --figures-only it writes the Summary sheet alone, like for like with the ledger's
figures-only IFS; without, the figures with rows behind them (the year's transactions and
each contribution's money), which is still not the ledger's twelve sheets.

Each figure is named as the ledger names it (ledger/domain/ifs.py ITEMS), on the cell that
holds it, so the two Summary sheets are read alike. Where the files cannot give a figure as
the ledger defines it, NOT_ALIKE says what the peer computes instead, and why.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
from openpyxl.workbook.defined_name import DefinedName

#: Agreement types whose contributions are planning obligations (the section 106 figures):
#: CIL and section 278 money is reported apart (SPEC 8.1).
PLANNING = ("section-106", "unilateral-undertaking", "deed-of-variation")
#: The units of a contribution of this purpose, as the government-format importer reads them:
#: the files have units but no unit kind.
UNIT_PURPOSES = {"s106_d_affordable_housing_units": "affordable-housing", "s106_d_school_places": "education"}
OUTFLOWS = ("spent", "transferred", "returned")
#: What each status does to the money held (SPEC rule 4): allocating money moves none.
HELD = {"received": 1, "allocated": 0, "spent": -1, "transferred": -1, "returned": -1}

#: The figures the peer cannot compute as the ledger does, with what it gives instead.
NOT_ALIKE = {
    "s106_a_money_secured": "the files do not say which obligation a deed of variation replaces: "
                            "a replacing contribution counts its whole amount, not what it changes",
    "s106_c_received_before_unallocated": "per contribution, outflows then allocated money taken from "
                                          "the earliest money received (rule 8's order where every deadline "
                                          "follows the received date); an opening balance counts as "
                                          "received first, not where its deadline puts it",
    "s106_d_affordable_housing_units": "the files have no unit kind: units of affordable-housing contributions",
    "s106_d_school_places": "the files have no unit kind: units of education contributions",
    "s106_h_borrowing_repaid": "not in the files: a transaction names no project, so none is known to "
                               "repay borrowing",
    "s106_i_commuted_sums_retained": "not in the files: they do not mark commuted sums",
}
#: Each Summary figure in the ledger's order, with its label.
ITEMS = (
    ("s106_a_money_secured", "Money to be provided under planning obligations entered into in the year"),
    ("s106_b_money_received", "Money received under planning obligations in the year"),
    ("s106_c_received_before_unallocated", "Money received before the year and not allocated"),
    ("s106_d_affordable_housing_units", "Affordable housing units to be provided"),
    ("s106_d_school_places", "School places to be provided"),
    ("s106_e_allocated_not_spent", "Money allocated but not spent at the end of the year"),
    ("s106_f_money_spent", "Money spent in the year, including money transferred to another person to spend"),
    ("s106_h_borrowing_repaid", "Money spent in the year on repaying money borrowed"),
    ("s106_h_monitoring_spent", "Money spent in the year on monitoring the delivery of planning obligations"),
    ("s106_i_money_retained", "Money retained at the end of the year (received in any year)"),
    ("s106_i_commuted_sums_retained", "Of which commuted sums for longer-term maintenance"),
    ("s106_money_repaid", "Money repaid to developers in the year"),
)
COUNTS = set(UNIT_PURPOSES)
SERVICE_TITLE = "Section 106 money by service"
SERVICE_COLUMNS = ("Service", "Received in the year", "Spent in the year", "Retained at 31 March")


def pence(amounts: pd.Series) -> pd.Series:
    """Money as integer pence, so every sum is exact: each amount has two decimals and is far
    below 2**53 pence, so amount * 100 rounds to its pence exactly."""
    return pd.Series(np.rint(amounts.fillna(0).to_numpy() * 100).astype("int64"), index=amounts.index)


def pounds(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


def read(directory: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The planning obligations' contributions, each with its agreement's type and date, and
    their transactions, each with its contribution's service and purpose."""
    agreements = pd.read_csv(f"{directory}/developer-agreement.csv",
                             usecols=["reference", "developer-agreement-type", "start-date"], parse_dates=["start-date"])
    contributions = pd.read_csv(f"{directory}/developer-agreement-contribution.csv",
                                usecols=["reference", "name", "developer-agreement", "contribution-purpose", "amount",
                                         "units"])
    transactions = pd.read_csv(f"{directory}/developer-agreement-transaction.csv",
                               usecols=["reference", "name", "developer-agreement-contribution",
                                        "contribution-funding-status", "amount", "start-date"],
                               parse_dates=["start-date"])
    contributions = contributions.merge(
        agreements.rename(columns={"reference": "developer-agreement", "start-date": "signed"}),
        on="developer-agreement", how="left")
    contributions["pence"] = pence(contributions["amount"])
    # A contribution of no published agreement counts as a planning obligation, as the ledger's does.
    other = contributions.loc[contributions["developer-agreement-type"].notna()
                              & ~contributions["developer-agreement-type"].isin(PLANNING), "reference"]
    transactions = transactions[~transactions["developer-agreement-contribution"].isin(other)]
    transactions = transactions.merge(
        contributions[["reference", "name", "contribution-purpose"]].rename(
            columns={"reference": "developer-agreement-contribution", "name": "service"}),
        on="developer-agreement-contribution", how="left")
    transactions["pence"] = pence(transactions["amount"])
    return contributions[~contributions["reference"].isin(other)], transactions


def figures(directory: str, year: int) -> tuple[dict[str, int | None], pd.DataFrame, dict[str, pd.DataFrame]]:
    """The Summary figures in pence (units for (d), None where the files cannot give one),
    the money by service, and the frames behind them."""
    start, end = pd.Timestamp(date(year, 4, 1)), pd.Timestamp(date(year + 1, 3, 31))
    contributions, tx = read(directory)
    signed = contributions[(contributions["signed"] >= start) & (contributions["signed"] <= end)]
    tx = tx[tx["start-date"] <= end]
    in_year = tx[tx["start-date"] >= start]
    # An opening balance is published as money received, but it is not the year's receipts (SPEC 8.3).
    receipts = in_year[in_year["name"] == "receipt"]
    spent = in_year[in_year["contribution-funding-status"].isin(("spent", "transferred"))]

    per = tx.pivot_table(index="developer-agreement-contribution", columns="contribution-funding-status",
                         values="pence", aggfunc="sum", fill_value=0)
    per = per.reindex(columns=["received", "allocated", *OUTFLOWS], fill_value=0)
    before = tx[(tx["contribution-funding-status"] == "received")
                & ((tx["start-date"] < start) | (tx["name"] == "opening-balance"))]
    per["received_before"] = before.groupby("developer-agreement-contribution")["pence"].sum()
    per = per.fillna(0)
    outflows = per[list(OUTFLOWS)].sum(axis=1)
    per["held"] = per["received"] - outflows
    per["allocated_unspent"] = per["allocated"] - per["spent"] - per["transferred"]
    # Outflows use the earliest money received first, then allocated money is taken from
    # what remains, earliest first: what is left of the money received before the year.
    per["before_unallocated"] = (per["received_before"] - outflows - per["allocated_unspent"]).clip(lower=0)
    earlier = tx[tx["start-date"] < start]
    held_at_start = (earlier["pence"] * earlier["contribution-funding-status"].map(HELD)).groupby(
        earlier["developer-agreement-contribution"]).sum()

    found: dict[str, int | None] = {
        "s106_a_money_secured": signed["pence"].sum(),
        "s106_b_money_received": receipts["pence"].sum(),
        "s106_c_received_before_unallocated": per["before_unallocated"].sum(),
        "s106_e_allocated_not_spent": per["allocated_unspent"].sum(),
        "s106_f_money_spent": spent["pence"].sum(),
        "s106_h_borrowing_repaid": None,
        "s106_h_monitoring_spent": spent.loc[(spent["name"] == "spend")
                                             & (spent["contribution-purpose"] == "monitoring-fees"), "pence"].sum(),
        "s106_i_money_retained": per["held"].sum(),
        "s106_i_commuted_sums_retained": None,
        "s106_money_repaid": in_year.loc[in_year["contribution-funding-status"] == "returned", "pence"].sum(),
    }
    for name, purpose in UNIT_PURPOSES.items():
        found[name] = signed.loc[signed["contribution-purpose"] == purpose, "units"].sum()
    service_of = contributions.set_index("reference")["name"]
    # A service is listed where an obligation of it was entered into in the year, moved money
    # in it (allocations aside), or held money at its start or end: as the ledger lists them.
    holding = per.index[per["held"] != 0].union(held_at_start.index[held_at_start != 0])
    moved = in_year.loc[(in_year["contribution-funding-status"] != "allocated")
                        & (in_year["name"] != "opening-balance"), "service"]
    listed = pd.Index(signed["name"]).union(moved.dropna()).union(service_of.reindex(holding).dropna())
    by_service = pd.DataFrame({
        "received": receipts.groupby("service")["pence"].sum(),
        "spent": spent.groupby("service")["pence"].sum(),
        "retained": per["held"].groupby(service_of.reindex(per.index).to_numpy()).sum(),
    }).reindex(listed.unique()).fillna(0).astype("int64").sort_index()
    return {name: None if value is None else int(value) for name, value in found.items()}, by_service, {
        "transactions": in_year, "per": per}


def write(out: str, found: dict[str, int | None], by_service: pd.DataFrame, rows: dict[str, pd.DataFrame] | None) -> None:
    """The Summary sheet (and the rows behind it, if given), each figure's cell named."""
    items = pd.DataFrame({
        "Item": [label for _, label in ITEMS],
        "Name": [name for name, _ in ITEMS],
        "Value": [found[name] if name in COUNTS or found[name] is None else pounds(found[name]) for name, _ in ITEMS],
        "Note": [NOT_ALIKE.get(name, "") for name, _ in ITEMS],
    })
    services = pd.DataFrame(
        [[code, *(pounds(v) for v in values)] for code, values in zip(by_service.index, by_service.to_numpy(),
                                                                       strict=True)]
        + [["Total", *(pounds(v) for v in by_service.sum())]], columns=list(SERVICE_COLUMNS))
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        items.to_excel(writer, sheet_name="Summary", index=False)
        title_row = len(items) + 2
        pd.DataFrame([[SERVICE_TITLE]]).to_excel(writer, sheet_name="Summary", index=False, header=False,
                                                 startrow=title_row)
        services.to_excel(writer, sheet_name="Summary", index=False, startrow=title_row + 1)
        for row, (name, _) in enumerate(ITEMS, start=2):
            writer.book.defined_names[name] = DefinedName(name, attr_text=f"Summary!$C${row}")
        if rows is not None:
            rows["transactions"].to_excel(writer, sheet_name="Transactions", index=False)
            rows["per"].reset_index().to_excel(writer, sheet_name="Retained", index=False)


def main(directory: str, year: int, out: str, *, figures_only: bool = False) -> None:
    started = time.perf_counter()
    found, by_service, rows = figures(directory, year)
    write(out, found, by_service, None if figures_only else rows)
    json.dump({"seconds": time.perf_counter() - started}, sys.stdout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory")
    parser.add_argument("year", type=int)
    parser.add_argument("out")
    parser.add_argument("--figures-only", action="store_true", help="the Summary sheet alone")
    args = parser.parse_args()
    main(args.directory, args.year, args.out, figures_only=args.figures_only)
