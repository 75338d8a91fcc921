"""A synthetic county ledger for new users, demos and benchmarks (`s106 demo`).

Generated from a seed and today's date, so the same seed on the same day gives the same
data. Entries are built per receipt (allocation and spend after the money arrives, never
more than it), checked against the domain rules obligation by obligation, then written
with bulk inserts in one transaction. The database numbers every row, as it does the
app's own: the generator links its rows by keys of its own, turned into ids as each
batch is written.

`s106 demo` offers the scales SPEC section 6 names; national is the size the benchmarks
measure (bench/), and any other size is a Scale of its own.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ledger import demo_places as places
from ledger.db import refresh_statistics, write_transaction
from ledger.demo_scales import SCALES, Scale
from ledger.domain import rules
from ledger.domain.dates import add_months
from ledger.domain.entries import LedgerEntry
from ledger.domain.errors import Conflict
from ledger.domain.money import PENNY
from ledger.domain.vocab import SERVICE_PURPOSE, EntryKind
from ledger.models import (
    Agreement,
    Authority,
    Division,
    Entry,
    Instalment,
    InvoicePayment,
    Obligation,
    Occupation,
    Project,
    Review,
    User,
)
from ledger.services import SYSTEM, audit, income, kept
from ledger.services import entries as entry_service

BATCH = 2000
#: Rows a bulk insert sends at once, and references an id lookup asks for at once.
CHUNK = 5000
LOOKUP = 1000
#: The field of a generated agreement, obligation or entry row holding the generator's own
#: number for it, by which other rows name it until the database has given it an id.
KEY = "key"

#: KCC-like per-dwelling rates (pounds) and the share of agreements that carry each service.
RATES: dict[str, tuple[Decimal, float]] = {
    "education-primary": (Decimal("6800.00"), 0.55),
    "education-secondary": (Decimal("5176.00"), 0.45),
    "send": (Decimal("1051.82"), 0.12),
    "libraries": (Decimal("55.45"), 0.3),
    "community-learning": (Decimal("16.42"), 0.08),
    "youth": (Decimal("65.50"), 0.08),
    "adult-social-care": (Decimal("146.88"), 0.15),
    "waste": (Decimal("183.67"), 0.15),
    "highways": (Decimal("1450.00"), 0.22),
    "public-rights-of-way": (Decimal("120.00"), 0.08),
}
RECIPIENTS = ("Kent Academies Trust", "Swale Academies Trust", "Leigh Academies Trust", "Valley Invicta Trust",
              "National Highways", "Folkestone Town Council")
DEMO_PASSWORD = "demo-password"
DEMO_USERS = (("admin@demo.s106.test", "admin"), ("officer@demo.s106.test", "officer"),
              ("member@demo.s106.test", "member"))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class _Rows:
    authorities: list[dict[str, Any]] = field(default_factory=list)
    divisions: list[dict[str, Any]] = field(default_factory=list)
    agreements: list[dict[str, Any]] = field(default_factory=list)
    obligations: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    instalments: list[dict[str, Any]] = field(default_factory=list)
    occupations: list[dict[str, Any]] = field(default_factory=list)
    #: Final-instalment receipts by obligation reference: (entry key, amount, who, when).
    final_receipts: dict[str, tuple[int, Decimal, str, datetime]] = field(default_factory=dict)


class _Generator:
    def __init__(self, *, seed: int, today: date, agreements: int, authorities: int = 12) -> None:
        self.random = random.Random(seed)
        self.today = today
        self.agreement_count = agreements
        self.districts = places.districts(authorities)
        self.rows = _Rows()
        self.entry_key = 0
        self.obligation_key = 0
        self.projects: dict[tuple[str, str], list[str]] = {}
        self.occupations: dict[int, list[dict[str, Any]]] = {}

    # -- helpers -------------------------------------------------------------------------
    def money(self, low: int | Decimal, high: int | Decimal) -> Decimal:
        pence = self.random.randint(int(Decimal(low) * 100), int(Decimal(high) * 100))
        return (Decimal(pence) / 100).quantize(PENNY)

    def day_between(self, start: date, end: date) -> date:
        if end <= start:
            return start
        return start + timedelta(days=self.random.randint(0, (end - start).days))

    def stamp(self, day: date) -> datetime:
        """When an entry was keyed in: a few days after the business date, never in the future."""
        keyed = datetime.combine(day + timedelta(days=self.random.randint(0, 9)), time(9), UTC)
        keyed += timedelta(minutes=self.random.randint(0, 480))
        latest = datetime.combine(self.today, time(8), UTC)
        return min(keyed, latest)

    # -- places and projects ---------------------------------------------------------------
    def places(self) -> None:
        now = self.stamp(self.today)
        code, name = places.COUNTY
        # The county's deeds usually give ten years from receipt: obligations it records
        # without terms take them (SPEC 8.2). The districts' usual terms are not known.
        self.rows.authorities.append({"code": code, "name": name, "kind": "county",
                                      "default_repayment_basis": "receipt", "default_repayment_years": 10})
        for code, (name, divisions) in self.districts.items():
            self.rows.authorities.append({"code": code, "name": places.council_name(name), "kind": "district",
                                          "default_repayment_basis": "unknown", "default_repayment_years": None})
            for division in divisions:
                members = [self.person() for _ in range(2 if self.random.random() < 0.1 else 1)]
                self.rows.divisions.append(
                    {"code": slug(division), "name": division, "authority_code": code, "members": members}
                )
        for code, (name, _divisions) in self.districts.items():
            self.rows.projects.append({
                "reference": f"PRJ-{code}-MONITORING", "name": f"{name}: section 106 monitoring and reporting",
                "service": "monitoring", "division_code": None, "repays_borrowing": False, "needs_review": False,
                "created_by": SYSTEM.email, "created_at": now,
            })
            for service in RATES:
                refs = []
                for n in range(1, 3 if service.startswith("education") else 2):
                    reference = f"PRJ-{code}-{service.upper()}-{n}"
                    division = slug(self.random.choice(divisions)) if self.random.random() < 0.7 else None
                    self.rows.projects.append({
                        "reference": reference,
                        "name": self.project_name(service, name, n),
                        "service": service,
                        "division_code": division,
                        "repays_borrowing": service.startswith("education") and n == 2,
                        "needs_review": False,
                        "created_by": SYSTEM.email,
                        "created_at": now,
                    })
                    refs.append(reference)
                self.projects[(code, service)] = refs

    def person(self) -> str:
        return f"{self.random.choice(places.FIRST_NAMES)} {self.random.choice(places.SURNAMES)}"

    def project_name(self, service: str, town: str, n: int) -> str:
        names = {
            "education-primary": ("{t}: new primary school (2FE)", "{t}: primary expansion, forward-funded"),
            "education-secondary": ("{t}: secondary school expansion", "{t}: new secondary, forward-funded"),
            "send": ("{t}: specialist resource provision",),
            "libraries": ("{t} library: new stock and refit",),
            "community-learning": ("{t}: adult education equipment",),
            "youth": ("{t}: youth hub improvements",),
            "adult-social-care": ("{t}: changing places facility",),
            "waste": ("{t}: household waste recycling centre capacity",),
            "highways": ("{t}: junction improvements",),
            "public-rights-of-way": ("{t}: public footpath surfacing",),
        }[service]
        return names[(n - 1) % len(names)].format(t=town)

    # -- agreements, obligations and their money -------------------------------------------
    def agreement_batches(self, size: int = BATCH) -> Iterator[_Rows]:
        """Agreements with their obligations and money, ``size`` agreements at a time, so a
        national ledger never sits in memory whole."""
        for first in range(1, self.agreement_count + 1, size):
            self.rows = _Rows()
            self.agreements(range(first, min(first + size, self.agreement_count + 1)))
            self.check()
            yield self.rows

    def agreements(self, numbers: range) -> None:
        districts = list(self.districts.items())
        start = date(2010, 4, 1)
        for n in numbers:
            code, (town, divisions) = self.random.choice(districts)
            signed = self.day_between(start, self.today - timedelta(days=20))
            dwellings = self.random.choice((12, 18, 25, 30, 45, 60, 85, 120, 150, 220, 300, 450, 650))
            kind = self.random.choices(
                ("section-106", "unilateral-undertaking", "deed-of-variation", "section-278"), (85, 8, 4, 3)
            )[0]
            commenced = self.day_between(signed + timedelta(days=90), signed + timedelta(days=700))
            completed = commenced + timedelta(days=200 + dwellings * 4)
            reference = f"{signed:%y}/{n:05d}/{'OUT' if dwellings > 100 else 'FUL'}"
            agreement_id = n
            self.rows.agreements.append({
                KEY: agreement_id,
                "reference": reference,
                "type": kind,
                "authority_code": code,
                "planning_application": reference,
                "site_name": f"Land at {self.random.choice(places.STREETS)}, {town}",
                "division_code": slug(self.random.choice(divisions)),
                "signed_on": signed,
                "varies": None,
                "superseded_on": None,
                "commencement_on": commenced if commenced <= self.today else None,
                "completion_on": completed if completed <= self.today else None,
                "dwellings": dwellings,
                "developer": self.random.choice(places.DEVELOPERS),
                "document_url": None,
                "notes": None,
                "created_by": SYSTEM.email,
                "created_at": self.stamp(signed),
            })
            self.obligations_for(agreement_id, reference, code, signed, commenced, dwellings)

    def obligations_for(
        self, agreement_id: int, reference: str, district: str, signed: date, commenced: date, dwellings: int
    ) -> None:
        number = 0

        def add(service: str, amount: Decimal | None, **extra: Any) -> tuple[str, int]:
            nonlocal number
            number += 1
            self.obligation_key += 1
            row = {
                KEY: self.obligation_key,
                "reference": f"{reference}/{number}",
                "agreement_id": agreement_id,
                "purpose": extra.pop("purpose", SERVICE_PURPOSE[service].value),
                "service": service,
                "amount": amount,
                "units": None,
                "unit_kind": None,
                "school_category": None,
                "commuted_sum": False,
                "index": "bcis-tpi" if service.startswith(("education", "send")) else "rpi",
                "index_base_date": signed,
                "trigger": None,
                "repayment_years": 10,
                "repayment_basis": "receipt",
                "needs_review": False,
                "created_by": SYSTEM.email,
                "created_at": self.stamp(signed),
            } | extra
            self.rows.obligations.append(row)
            return row["reference"], row[KEY]

        for service, (rate, share) in RATES.items():
            if self.random.random() > share:
                continue
            applicable = max(1, int(dwellings * self.random.uniform(0.6, 1.0)))
            amount = (rate * applicable).quantize(PENNY)
            years = self.random.choices((10, 5, 7, 15, None), (70, 10, 10, 5, 5))[0]
            basis = "completion" if dwellings >= 300 and self.random.random() < 0.3 else "receipt"
            # A few of every other basis, chosen without drawing from the random stream so
            # the rest of the ledger (and every IFS figure) is what it was before SPEC 8.2.
            if years is None:
                basis = "none"
            elif self.obligation_key % 53 == 0:
                basis, years = "unknown", None  # deed not yet read
            elif self.obligation_key % 47 == 0:
                basis = "last-payment"
            extra: dict[str, Any] = {
                "trigger": self.random.choice(
                    ("50% on commencement, 50% on occupation of 50% of dwellings",
                     "on occupation of the 25th dwelling", "prior to commencement", "on occupation of 75% of dwellings")
                ),
                "repayment_years": years,
                "repayment_basis": basis,
                "commuted_sum": service in ("highways", "public-rights-of-way") and self.random.random() < 0.3,
            }
            obligation_reference, obligation_id = add(service, amount, **extra)
            paid = amount
            if dwellings >= 25 and self.random.random() < 0.15:
                # The last tenth falls due on occupation of 90% of the dwellings: income due
                # once the site reports that, until the developer pays.
                paid = (amount * Decimal("0.9")).quantize(PENNY)
                self.rows.instalments.append({
                    "reference": f"{obligation_reference}/final", "obligation_id": obligation_id, "share": None,
                    "fixed_sum": amount - paid, "trigger_event": "occupation",
                    "trigger_dwellings": max(1, dwellings * 9 // 10), "trigger_on": None, "index": "none",
                    "base_date": None, "floor": False, "created_by": SYSTEM.email, "created_at": self.stamp(signed),
                })
                self.occupations_for(agreement_id, commenced, dwellings)
                self.pay_final(agreement_id, obligation_id, obligation_reference, amount - paid, dwellings * 9 // 10)
            self.money_for(obligation_id, obligation_reference, district, service, paid, commenced)
        if dwellings >= 15:
            add("other", None, purpose="affordable-housing", units=int(dwellings * 0.3),
                unit_kind="affordable-housing-units", index="none", index_base_date=None)
        if dwellings >= 300:
            add("education-primary", None, units=self.random.choice((210, 420)), unit_kind="school-places",
                school_category="primary", index="none", index_base_date=None,
                trigger="transfer of serviced school site before occupation of 200th dwelling")
        monitoring_ref, monitoring_id = add("monitoring", self.money(300, 600), purpose="monitoring-fees",
                                            index="none", index_base_date=None, repayment_years=None,
                                            repayment_basis="none")
        if signed + timedelta(days=30) <= self.today:
            fee = self.rows.obligations[-1]["amount"]
            received = self.day_between(signed, min(signed + timedelta(days=60), self.today))
            receipt = self.entry("receipt", monitoring_id, f"MON-{monitoring_ref}", fee, received, None)
            spent = self.day_between(received, min(received + timedelta(days=365), self.today))
            project = f"PRJ-{district}-MONITORING"
            self.entry("allocation", monitoring_id, f"{receipt['reference']}/A", fee, spent, project,
                       reason="auto-allocated on spend")
            self.entry("spend", monitoring_id, f"{receipt['reference']}/S", fee, spent, project)

    def occupations_for(self, agreement_id: int, commenced: date, dwellings: int) -> None:
        """Half-yearly occupation reports from the first completions: cumulative, rising
        steadily to every dwelling."""
        if agreement_id in self.occupations:
            return
        reports: list[dict[str, Any]] = self.occupations.setdefault(agreement_id, [])
        per_report = max(1, dwellings // self.random.randint(4, 9))
        occupied, day = 0, commenced + timedelta(days=self.random.randint(240, 420))
        while occupied < dwellings and day <= self.today:
            occupied = min(dwellings, occupied + per_report)
            report = {"agreement_id": agreement_id, "reported_on": day, "occupied": occupied,
                      "created_by": "officer@demo.s106.test", "created_at": self.stamp(day)}
            reports.append(report)
            self.rows.occupations.append(report)
            day += timedelta(days=self.random.randint(150, 210))

    def pay_final(self, agreement_id: int, obligation_id: int, reference: str, due: Decimal, dwellings: int) -> None:
        """Most developers pay the final instalment within a few months of its trigger;
        some pay part of it; recent ones are still outstanding."""
        reports = [o["reported_on"] for o in self.occupations.get(agreement_id, [])
                   if o["occupied"] >= max(1, dwellings)]
        if not reports:
            return
        met = min(reports)
        if (self.today - met).days < self.random.randint(45, 400):
            return
        paid_on = met + timedelta(days=self.random.randint(14, 75))
        if paid_on > self.today:
            return
        part_paid = self.random.random() < 0.15 and (self.today - met).days < 700
        amount = (due / 2).quantize(PENNY) if part_paid else due
        receipt = self.entry("receipt", obligation_id, f"RCT-{reference}-final", amount, paid_on, None,
                             reason="final instalment received")
        self.rows.final_receipts[reference] = (receipt[KEY], amount, receipt["created_by"], receipt["created_at"])

    def entry(self, kind: str, obligation_id: int, reference: str, amount: Decimal, day: date,
              project: str | None, *, reason: str | None = None, **extra: Any) -> dict[str, Any]:
        self.entry_key += 1
        row = {
            KEY: self.entry_key,
            "reference": reference,
            "kind": kind,
            "obligation_id": obligation_id,
            "amount": amount,
            "interest": None,
            "occurred_on": day,
            "project": project,
            "recipient": None,
            "reverses": None,
            "created_by": "officer@demo.s106.test",
            "created_at": self.stamp(day),
            "reason": reason or {"receipt": "payment received from developer", "allocation": "allocated by capital programme board",
                                 "deallocation": "project re-scoped", "spend": "capital spend on project",
                                 "transfer": "passed to the delivery body", "repayment": "unspent by the deadline: repaid to developer"}[kind],
        } | extra
        self.rows.entries.append(row)
        return row

    def money_for(self, obligation_id: int, reference: str, district: str, service: str, amount: Decimal,
                  commenced: date) -> None:
        """Receipts in instalments after commencement, then per receipt: allocate, spend or
        transfer part, sometimes repay what is left after ten years or leave it."""
        if commenced >= self.today:
            return
        instalments = self.random.choice((1, 2, 2, 3, 3))
        paid_share = self.random.choice((1.0, 1.0, 1.0, 0.5)) if instalments > 1 else 1.0
        due = (amount * Decimal(str(paid_share)) / instalments).quantize(PENNY)
        day = commenced
        projects = self.projects[(district, service)]
        for number in range(1, instalments + 1):
            day = self.day_between(day + timedelta(days=30), day + timedelta(days=540))
            if day > self.today:
                return
            receipt = self.entry("receipt", obligation_id, f"RCT-{reference}-{number}", due, day, None)
            if self.random.random() < 0.01:
                mistake = self.entry("receipt", obligation_id, f"RCT-{reference}-{number}-DUP", due, day, None,
                                     reason="keyed twice from the remittance advice")
                self.entry("receipt", obligation_id, f"{mistake['reference']}/reversal", due, day, None,
                           reverses=mistake[KEY], reason="duplicate receipt: reversed")
            self.use_receipt(obligation_id, receipt, projects)

    def use_receipt(self, obligation_id: int, receipt: dict[str, Any], projects: list[str]) -> None:
        day, amount, ref = receipt["occurred_on"], receipt["amount"], receipt["reference"]
        age_years = (self.today - day).days / 365.25
        # Older money is more likely to have been used: leaves some overdue, red and amber money.
        used_share = min(1.0, max(0.0, self.random.gauss(age_years / 6, 0.35)))
        if age_years > 10 and self.random.random() < 0.3:
            used_share = min(used_share, self.random.uniform(0.2, 0.7))  # money the council never got to
        if used_share < 0.05:
            return
        allocate = (amount * Decimal(str(round(used_share, 2)))).quantize(PENNY)
        if allocate <= 0:
            return
        project = self.random.choice(projects)
        allocated_on = self.day_between(day, min(day + timedelta(days=400), self.today))
        self.entry("allocation", obligation_id, f"{ref}/A", allocate, allocated_on, project)
        spend_share = min(1.0, max(0.0, self.random.gauss(age_years / 5, 0.3)))
        spend = (allocate * Decimal(str(round(spend_share, 2)))).quantize(PENNY)
        if spend > 0:
            spent_on = self.day_between(allocated_on, min(allocated_on + timedelta(days=900), self.today))
            if self.random.random() < 0.15:
                self.entry("transfer", obligation_id, f"{ref}/T", spend, spent_on, project,
                           recipient=self.random.choice(RECIPIENTS))
            else:
                # Capital programmes pay contractors in stages: one to three invoices.
                stages = self.random.choice((2, 3, 3, 4))
                part = (spend / stages).quantize(PENNY)
                for stage in range(1, stages + 1):
                    amount = part if stage < stages else spend - part * (stages - 1)
                    if amount > 0:
                        self.entry("spend", obligation_id, f"{ref}/S{stage}", amount, spent_on, project)
                    spent_on = self.day_between(spent_on, min(spent_on + timedelta(days=200), self.today))
        left = amount - allocate
        repay_on = day + timedelta(days=3653)
        if left > 0 and repay_on <= self.today and self.random.random() < 0.6:
            self.entry("repayment", obligation_id, f"{ref}/R", left, repay_on, None,
                       interest=(left * Decimal("0.04")).quantize(PENNY))

    # -- checks and output ---------------------------------------------------------------
    def check(self) -> None:
        """Every obligation's generated history must keep every ledger invariant."""
        by_obligation: dict[int, list[LedgerEntry]] = {}
        for row in self.rows.entries:
            by_obligation.setdefault(row["obligation_id"], []).append(
                LedgerEntry(id=row[KEY], kind=EntryKind(row["kind"]), amount=row["amount"],
                            occurred_on=row["occurred_on"], reference=row["reference"],
                            project=row["project"], reverses=row["reverses"])
            )
        for obligation_id, history in by_obligation.items():
            violations = rules.invariant_violations(rules.in_force(history))
            if violations:
                raise AssertionError(f"demo obligation {obligation_id} breaks {violations[0]}")


def ledger_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Agreement))


def generate(
    session: Session, *, scale: str | Scale, seed: int, today: date, progress: Callable[[str], None] = lambda _: None
) -> dict[str, int]:
    """Fill an empty ledger with a synthetic county (or, at a bigger Scale, country);
    returns how many rows of each kind. Every batch is checked against the ledger rules
    before it is written; the whole demo is one transaction."""
    size = SCALES[scale] if isinstance(scale, str) else scale
    generator = _Generator(seed=seed, today=today, agreements=size.agreements, authorities=size.authorities)
    progress(f"generating the {size.name} demo (seed {seed})...")
    generator.places()
    places_rows = generator.rows
    counts: dict[str, int] = defaultdict(int)
    with write_transaction(session):
        if not ledger_is_empty(session):
            raise Conflict("the ledger already holds agreements: the demo only fills an empty ledger")
        for model, rows in ((Authority, places_rows.authorities), (Division, places_rows.divisions),
                            (Project, places_rows.projects)):
            _insert(session, model, rows)
            counts[model.__tablename__] += len(rows)
        project_ids: dict[str, int] = {row.reference: row.id for row in session.execute(select(Project.reference, Project.id))}
        #: Final-instalment receipts by obligation reference: (entry id, amount, who, when).
        final_receipts: dict[str, tuple[int, Decimal, str, datetime]] = {}
        for batch in generator.agreement_batches():
            agreement_ids = _insert_numbered(session, Agreement, batch.agreements)
            obligation_ids = _insert_numbered(session, Obligation, [
                row | {"agreement_id": agreement_ids[row["agreement_id"]]} for row in batch.obligations])
            entries = [{k: v for k, v in row.items() if k != "project"}
                       | {"obligation_id": obligation_ids[row["obligation_id"]],
                          "project_id": project_ids.get(row["project"])} for row in batch.entries]
            # A reversal names the entry it reverses, so it is written once that has its id;
            # of the other entries, only those a later row names need their ids read back.
            reversals = [row for row in entries if row["reverses"] is not None]
            named = {row["reverses"] for row in reversals} | {key for key, *_ in batch.final_receipts.values()}
            _insert(session, Entry, [_unkeyed(row) for row in entries if row["reverses"] is None])
            entry_ids = _ids_by_key(session, Entry, [row for row in entries if row[KEY] in named], kind="receipt")
            _insert(session, Entry, [_unkeyed(row) | {"reverses": entry_ids[row["reverses"]]} for row in reversals])
            _insert(session, Instalment, [
                row | {"obligation_id": obligation_ids[row["obligation_id"]]} for row in batch.instalments])
            _insert(session, Occupation, [
                row | {"agreement_id": agreement_ids[row["agreement_id"]]} for row in batch.occupations])
            final_receipts |= {reference: (entry_ids[key], *paid)
                               for reference, (key, *paid) in batch.final_receipts.items()}
            for name, rows in (("agreements", batch.agreements), ("obligations", batch.obligations),
                               ("entries", batch.entries)):
                counts[name] += len(rows)
            progress(f"  {counts['agreements']:,} agreements, {counts['entries']:,} entries")
        invoices = income.issue_due(session, today=today, actor=SYSTEM)
        counts["invoices"] = len(invoices)
        payments = []
        for invoice in invoices:
            receipt = final_receipts.get(invoice.reference.removesuffix("/final/invoice"))
            if receipt is not None:
                entry_id, amount, created_by, created_at = receipt
                payments.append({"invoice_id": invoice.id, "entry_id": entry_id, "amount": min(amount, invoice.amount),
                                 "created_by": created_by, "created_at": created_at})
        _insert(session, InvoicePayment, payments)
        from werkzeug.security import generate_password_hash

        password = generate_password_hash(DEMO_PASSWORD)
        member_division = places_rows.divisions[0]["code"]
        session.execute(insert(User), [
            {"email": email, "name": role.title(), "role": role, "password_hash": password,
             "division_code": member_division if role == "member" else None,
             # Opened 90 days ago: the councillor's first digest has that much to tell.
             "created_at": datetime.combine(today - timedelta(days=90), time(9), UTC)}
            for email, role in DEMO_USERS
        ])
        counts |= _proposal_and_reviews(session, places_rows.divisions[0], today=today)
        kept.rebuild(session)
        audit.record(session, actor=SYSTEM, action="generate-demo", after={"scale": size.name, "seed": seed, **counts})
        refresh_statistics(session)
    return dict(counts)


#: What the demo's proposed agreement asks for, per dwelling of the 144 it counts (RATES).
PROPOSED_SERVICES = ("education-primary", "highways", "libraries")
PROPOSED_DWELLINGS = 144
#: Reviews the demo records of money due within 12 months: (status, note, days until the
#: next review: a negative number is a review already due).
DEMO_REVIEWS = (
    ("spend-planned", "Cabinet approves the primary expansion in the spring; spend starts in the summer.", 45),
    ("variation-sought", "Asked the developer for a two-year extension by deed of variation.", -5),
    ("extension-agreed", "Developer agreed in writing to extend by 18 months; deed to follow.", 120),
)


def _proposal_and_reviews(session: Session, division: dict[str, Any], *, today: date) -> dict[str, int]:
    """A proposed agreement (SPEC 8.7) in ``division``, the demo councillor's, and reviews of
    the first obligations whose money is due within 12 months. Nothing drawn from the random
    stream: the rest of the demo, and every figure of it, is as it was."""
    reference = f"{today:%y}/P{PROPOSED_DWELLINGS:04d}/OUT"
    proposed_at = datetime.combine(today - timedelta(days=3), time(11), UTC)
    session.execute(insert(Agreement), [{
        "reference": reference, "type": "section-106", "authority_code": division["authority_code"],
        "planning_application": reference, "site_name": f"Land north of the bypass, {division['name']}",
        "division_code": division["code"], "signed_on": None, "status": "proposed",
        "dwellings": round(PROPOSED_DWELLINGS / 0.8), "developer": "Demo Homes Ltd",
        "notes": "Heads of terms under negotiation", "created_by": "officer@demo.s106.test",
        "created_at": proposed_at}])
    agreement_id = session.scalar(select(Agreement.id).where(Agreement.reference == reference))
    session.execute(insert(Obligation), [{
        "reference": f"{reference}/{n}", "agreement_id": agreement_id, "purpose": SERVICE_PURPOSE[service].value,
        "service": service, "amount": RATES[service][0] * PROPOSED_DWELLINGS, "repayment_years": 10,
        "repayment_basis": "receipt", "created_by": "officer@demo.s106.test", "created_at": proposed_at,
    } for n, service in enumerate(PROPOSED_SERVICES, start=1)])
    reviewed = _due_within_a_year(session, today=today)[:len(DEMO_REVIEWS)]
    session.execute(insert(Review), [{
        "obligation_id": obligation_id, "status": status, "note": note, "owner_email": "officer@demo.s106.test",
        "next_review_on": today + timedelta(days=days), "created_by": "officer@demo.s106.test",
        "created_at": datetime.combine(today - timedelta(days=60), time(14), UTC),
    } for obligation_id, (status, note, days) in zip(reviewed, DEMO_REVIEWS, strict=False)])
    return {"proposed": 1, "reviews": len(reviewed)}


def _due_within_a_year(session: Session, *, today: date) -> list[int]:
    """Obligations (by id, in reference order) with money of a ten-year receipt still held
    and due within 12 months of ``today``: read from their histories in this transaction."""
    earliest = add_months(today, -120)
    candidates = session.scalars(
        select(Obligation.id).join(Entry, Entry.obligation_id == Obligation.id)
        .where(Obligation.repayment_basis == "receipt", Obligation.repayment_years == 10, Entry.kind == "receipt",
               Entry.occurred_on.between(earliest, add_months(earliest, 12)))
        .group_by(Obligation.id, Obligation.reference).order_by(Obligation.reference)).all()
    found = []
    for obligation_id in candidates:
        entries = rules.in_force(entry_service.history(session, obligation_id))
        positions = rules.receipt_positions(entries, on=today, deadline_of=lambda e: add_months(e.occurred_on, 120))
        if any(p.remaining > 0 and p.deadline >= today for p in positions):  # type: ignore[operator]
            found.append(obligation_id)
    return found


def _insert(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """Core inserts in chunks: column types and defaults apply, without ORM bookkeeping."""
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model.__table__), rows[start:start + CHUNK])  # type: ignore[attr-defined]


def _unkeyed(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != KEY}


def _insert_numbered(session: Session, model: type, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Insert generated rows without their KEY, the database numbering them as it does the
    app's rows (so its id sequences stay right); returns each row's id by its key."""
    _insert(session, model, [_unkeyed(row) for row in rows])
    return _ids_by_key(session, model, rows)


def _ids_by_key(session: Session, model: Any, rows: list[dict[str, Any]], *, kind: str | None = None) -> dict[int, int]:
    """The ids the database gave these written rows, by their KEY, read back by their unique
    reference (an entry's is unique within its kind). A plain bulk insert and this read are
    faster than an insert returning ids in order (2.4 times slower on PostgreSQL)."""
    found: dict[str, int] = {}
    references = [row["reference"] for row in rows]
    for start in range(0, len(references), LOOKUP):
        query = select(model.reference, model.id).where(model.reference.in_(references[start:start + LOOKUP]))
        if kind is not None:
            query = query.where(model.kind == kind)
        found.update((reference, id_) for reference, id_ in session.execute(query))
    return {row[KEY]: found[row["reference"]] for row in rows}
