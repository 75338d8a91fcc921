"""A finance-system export of the demo ledger that differs from it in known, planted ways
(issue 19): `s106 reconcile demo-export`. The reconciliation must find every planted
difference and nothing else (tests/reconcile/test_demo_finance.py).

Every money entry of the ledger is posted to its service's cost code a few days later, as a
finance system writes it: income as a negative credit, spend and repayments as positive
debits; most keep the ledger's reference, some carry the finance system's own. Planted:

- ``missing``: entries finance never posted (ledger only);
- ``bank_charges``: charges on section 106 codes the ledger does not record (finance only);
- ``unrecorded``: a receipt the ledger lacks (finance only);
- ``wrong_amount``: a receipt finance posted £100.00 more than the ledger holds (both sides);
- ``misposted``: receipts posted to another service's cost code (matched, on another code);
- ``remittances``: two receipts paid in one remittance (matched, not a difference);
- ``reversed``: the ledger's reversed duplicates, posted and reversed by journal in finance
  too (not a difference); and rows on general-fund codes (out of scope, not a difference).
"""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.domain.entry_kinds import KIND_RULES
from ledger.models import Entry, Obligation
from ledger.services.reconcile import MONEY_KINDS

HEADER = ("Journal No", "Posting Date", "Cost Centre", "Amount", "Reference", "Narrative")
GENERAL_FUND = ("GEN-100", "GEN-220", "GEN-310")
#: Days between the ledger's date and the finance posting: inside the mapping's tolerance.
LAG_DAYS, TOLERANCE_DAYS = 3, 7
HUNDRED = Decimal("100.00")


def cost_code(service: str) -> str:
    return f"S106-{service.upper()}"


@dataclass(kw_only=True)
class DemoExport:
    csv: str
    mapping: str
    rows: int
    #: What was planted, by kind: ledger entry references (missing, wrong_amount's entry,
    #: misposted, remittances, reversed) or finance journal numbers (the rest).
    planted: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Money:
    reference: str
    occurred_on: date
    amount: Decimal  # into the pot
    service: str
    reversed: bool


def _ledger(session: Session) -> list[_Money]:
    reversal = aliased(Entry)
    reversed_ids = set(session.scalars(select(reversal.reverses).where(reversal.reverses.is_not(None))))
    rows = session.execute(
        select(Entry.id, Entry.reference, Entry.kind, Entry.occurred_on, Entry.amount, Obligation.service)
        .join(Obligation, Entry.obligation_id == Obligation.id)
        .where(Entry.kind.in_([str(k) for k in MONEY_KINDS]), Entry.reverses.is_(None)).order_by(Entry.id))
    return [_Money(reference=r.reference, occurred_on=r.occurred_on, amount=r.amount * KIND_RULES[r.kind].held,
                   service=r.service, reversed=r.id in reversed_ids) for r in rows]


def finance_export(session: Session, *, seed: int = 19) -> DemoExport:
    """The demo ledger as a finance system would export it, with the planted differences."""
    rng = random.Random(seed)
    money = _ledger(session)
    live = [m for m in money if not m.reversed]
    services = sorted({m.service for m in money})
    # Planted items are entries whose amount no other entry of the service has (nor that
    # amount plus £100): so which entry a finance row matches is never a toss-up.
    amounts = Counter((m.service, m.amount) for m in live)
    first = min(m.occurred_on for m in live)
    latest = max(m.occurred_on for m in live)
    plantable = [m for m in live if amounts[m.service, m.amount] == 1 and amounts[m.service, m.amount + HUNDRED] == 0
                 and first + timedelta(days=60) < m.occurred_on < latest - timedelta(days=30)]
    receipts = [m for m in plantable if m.amount > 0]
    chosen = rng.sample(receipts, 5)
    missing = [*chosen[:2], rng.choice([m for m in plantable if m.amount < 0])]
    wrong_amount, misposted = chosen[2], chosen[3:5]
    remittances = _remittance_pairs(rng, [m for m in receipts if m not in chosen], count=2)
    in_pairs = {m for pair in remittances for m in pair}
    planted: dict[str, list[str]] = {
        "missing": [m.reference for m in missing], "wrong_amount": [wrong_amount.reference],
        "misposted": [m.reference for m in misposted],
        "remittances": [f"{a.reference}+{b.reference}" for a, b in remittances],
        "reversed": [m.reference for m in money if m.reversed], "bank_charges": [], "unrecorded": [],
        "out_of_scope": []}
    rows: list[tuple[date, str, Decimal, str, str]] = []

    def posted(m: _Money) -> date:
        return min(m.occurred_on + timedelta(days=rng.randint(0, LAG_DAYS)), latest)

    for m in money:
        if m in missing or m in in_pairs:
            continue
        code = cost_code(m.service)
        if m in misposted:
            code = cost_code(rng.choice([s for s in services if s != m.service]))
        amount = m.amount + HUNDRED if m is wrong_amount else m.amount
        # Most rows keep the ledger's reference; unambiguous ones may carry the finance system's.
        # A reversed duplicate keeps its reference: the journal reversing it names it.
        own = (not m.reversed and m not in misposted and m is not wrong_amount and amounts[m.service, m.amount] == 1
               and rng.random() < 0.3)
        day = posted(m)
        rows.append((day, code, amount, "" if own else m.reference, "Section 106 " + ("receipt" if m.amount > 0
                                                                                       else "payment")))
        if m.reversed:
            rows.append((day + timedelta(days=1), code, -amount, f"REV {m.reference}", "Reversal of duplicate"))
    for a, b in remittances:
        rows.append((max(a.occurred_on, b.occurred_on) + timedelta(days=1), cost_code(a.service), a.amount + b.amount,
                     f"REMIT {rng.randint(10000, 99999)}", "BACS remittance, two contributions"))
    for _ in range(4):
        rows.append((first + timedelta(days=rng.randint(90, (latest - first).days - 30)), cost_code(rng.choice(services)),
                     -Decimal(rng.randint(250, 3500)) / 100, "BANK CHARGES", "Bank charges"))
    rows.append((latest - timedelta(days=20), cost_code(services[0]), Decimal("4321.09"), "UNIDENTIFIED",
                 "Receipt awaiting identification"))
    for _ in range(5):
        rows.append((first + timedelta(days=rng.randint(0, (latest - first).days)), rng.choice(GENERAL_FUND),
                     -Decimal(rng.randint(1000, 900000)) / 100, f"AP {rng.randint(100000, 999999)}", "General fund"))
    rows.sort(key=lambda r: r[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Demo County Council general ledger: section 106 and general fund cost centres"])
    writer.writerow(HEADER)
    for number, (day, code, amount, reference, narrative) in enumerate(rows, start=1):
        journal = f"J{number:06d}"
        # The finance system writes money in as a negative credit.
        writer.writerow([journal, day.strftime("%d/%m/%Y"), code, f"{-amount:.2f}", reference or journal, narrative])
        if reference == "BANK CHARGES":
            planted["bank_charges"].append(journal)
        elif reference == "UNIDENTIFIED":
            planted["unrecorded"].append(journal)
        elif code in GENERAL_FUND:
            planted["out_of_scope"].append(journal)
        elif reference == wrong_amount.reference:
            planted["wrong_amount"].append(journal)
    return DemoExport(csv=out.getvalue(), mapping=mapping_text(services), rows=len(rows), planted=planted)


def _remittance_pairs(rng: random.Random, receipts: list[_Money], *, count: int) -> list[tuple[_Money, _Money]]:
    """Pairs of receipts of one service within five days of each other, as one remittance pays."""
    pairs: list[tuple[_Money, _Money]] = []
    used: set[_Money] = set()
    ordered = sorted(receipts, key=lambda m: (m.service, m.occurred_on, m.reference))
    candidates = [(a, b) for a, b in itertools.pairwise(ordered)
                  if a.service == b.service and (b.occurred_on - a.occurred_on).days <= 5]
    rng.shuffle(candidates)
    for a, b in candidates:
        if len(pairs) == count:
            break
        if a not in used and b not in used:
            pairs.append((a, b))
            used.update((a, b))
    return pairs


def mapping_text(services: list[str]) -> str:
    """The TOML mapping of the demo export: every service's cost code."""
    codes = "\n".join(f'"{cost_code(s)}" = {{ service = "{s}" }}' for s in services)
    return f"""# Mapping for the demo finance export (s106 reconcile demo-export).
[finance]
income_sign = "negative"
tolerance_days = {TOLERANCE_DAYS}
remittance_parts = 4

[columns]
transaction_id = "Journal No"
date = "Posting Date"
cost_code = "Cost Centre"
amount = "Amount"
reference = "Reference"
description = "Narrative"

[cost_codes]
{codes}
"""
