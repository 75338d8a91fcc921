"""The peer a council analyst would use: pandas reading the exported government CSVs and
writing the same IFS figures to a workbook. Run as its own process by bench/run.py."""

from __future__ import annotations

import json
import sys
import time
from datetime import date

import pandas as pd


def main(directory: str, year: int, out: str) -> None:
    started = time.perf_counter()
    start, end = pd.Timestamp(date(year, 4, 1)), pd.Timestamp(date(year + 1, 3, 31))
    agreements = pd.read_csv(f"{directory}/developer-agreement.csv", parse_dates=["start-date"])
    contributions = pd.read_csv(f"{directory}/developer-agreement-contribution.csv")
    transactions = pd.read_csv(f"{directory}/developer-agreement-transaction.csv", parse_dates=["start-date"])
    signed = agreements[(agreements["start-date"] >= start) & (agreements["start-date"] <= end)]["reference"]
    secured = contributions[contributions["developer-agreement"].isin(signed)]
    tx = transactions
    in_year = tx[(tx["start-date"] >= start) & (tx["start-date"] <= end)]
    to_end = tx[tx["start-date"] <= end]
    by_status = to_end.groupby("contribution-funding-status")["amount"].sum()
    in_year_status = in_year.groupby("contribution-funding-status")["amount"].sum()
    held = by_status.get("received", 0) - by_status.get("spent", 0) - by_status.get("transferred", 0) - by_status.get(
        "returned", 0)
    allocated = by_status.get("allocated", 0) - by_status.get("spent", 0) - by_status.get("transferred", 0)
    # (c) the way an analyst would: per contribution, money received before the year still
    # held at the year end and not allocated (no per-receipt deadline order).
    per = to_end.pivot_table(index="developer-agreement-contribution", columns="contribution-funding-status",
                             values="amount", aggfunc="sum", fill_value=0)
    before = tx[tx["start-date"] < start]
    received_before = before[before["contribution-funding-status"] == "received"].groupby(
        "developer-agreement-contribution")["amount"].sum()
    per = per.join(received_before.rename("received_before"), how="left").fillna(0)
    for column in ("received", "spent", "transferred", "returned", "allocated"):
        if column not in per:
            per[column] = 0
    unallocated = (per["received"] - per["spent"] - per["transferred"] - per["returned"]) - (
        per["allocated"] - per["spent"] - per["transferred"])
    c = unallocated.clip(lower=0).clip(upper=per["received_before"]).sum()
    figures = pd.DataFrame({
        "item": ["a", "b", "c", "e", "f", "i", "repaid"],
        "value": [secured["amount"].sum(), in_year_status.get("received", 0), c, allocated,
                  in_year_status.get("spent", 0) + in_year_status.get("transferred", 0), held,
                  in_year_status.get("returned", 0)],
    })
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        figures.to_excel(writer, sheet_name="Summary", index=False)
        in_year.to_excel(writer, sheet_name="Transactions", index=False)
        per.reset_index().to_excel(writer, sheet_name="Retained", index=False)
    json.dump({"seconds": time.perf_counter() - started}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
