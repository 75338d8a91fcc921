"""Government-format CSV files of any size, for import benchmarks and interruption tests.

Each contribution gets two receipts, an allocation, a spend and a transfer, in a valid
order, with the quirks real files have (pound signs, thousands commas, UK dates, a
negative receipt now and then), so every row imports.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

PER_CONTRIBUTION = 5


def write_synthetic_gov_csv(directory: Path, *, transactions: int = 100_000, seed: int = 1,
                            organisation: str = "local-authority:SYN") -> dict[str, int]:
    """Write the three files with about ``transactions`` transaction rows."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    contributions = max(1, transactions // PER_CONTRIBUTION)
    agreements = max(1, contributions // 4)
    start = date(2012, 4, 1)
    with (directory / "developer-agreement.csv").open("w", newline="", encoding="utf-8") as a_file, \
         (directory / "developer-agreement-contribution.csv").open("w", newline="", encoding="utf-8") as c_file, \
         (directory / "developer-agreement-transaction.csv").open("w", newline="", encoding="utf-8") as t_file:
        a = csv.writer(a_file)
        c = csv.writer(c_file)
        t = csv.writer(t_file)
        a.writerow(["reference", "organisation", "developer-agreement-type", "planning-application", "start-date"])
        c.writerow(["reference", "developer-agreement", "contribution-purpose", "amount", "start-date"])
        t.writerow(["reference", "developer-agreement-contribution", "contribution-funding-status", "amount",
                    "start-date"])
        purposes = ("education", "highways", "community-facilities", "open-space-and-leisure", "health")
        rows = 0
        for n in range(agreements):
            signed = start + timedelta(days=rng.randint(0, 3000))
            agreement = f"SYN/{n:06d}"
            a.writerow([agreement, organisation, "section-106", f"{signed:%y}/{n:05d}/FUL", signed.strftime("%d/%m/%Y")])
            for k in range(4):
                contribution = f"{agreement}/{k + 1}"
                pence = rng.randint(100_000, 50_000_000)
                c.writerow([contribution, agreement, purposes[k % len(purposes)], f"{pence // 100}.{pence % 100:02d}",
                            signed.isoformat()])
                half = pence // 2
                paid = signed + timedelta(days=rng.randint(30, 400))
                later = paid + timedelta(days=rng.randint(30, 400))
                allocated = pence * 3 // 4
                spent = allocated // 2
                transferred = allocated // 4
                for suffix, status, amount, day in (
                    ("T1", "received", half, paid), ("T2", "Received", pence - half, later),
                    ("T3", "allocated", allocated, later), ("T4", "spent", spent, later + timedelta(days=30)),
                    ("T5", "transferred", transferred, later + timedelta(days=60)),
                ):
                    text = f"£{amount // 100:,}.{amount % 100:02d}"
                    if status == "received" and rng.random() < 0.05:
                        text = f"-{text}"
                    t.writerow([f"{contribution}/{suffix}", contribution, status, text, day.isoformat()])
                    rows += 1
    return {"agreements": agreements, "contributions": contributions, "transactions": rows}
