"""A small ledger whose news is known, built at known moments (freezegun), for the mailer:

- 1 May 2024, 09:00: agreement 20/00001/FUL in Ashford Central; £1,000.00 received on
  1 June 2015 on 20/00001/FUL/1 (ten years: due 1 June 2025, so "due within 12 months"
  from 1 June 2024); an instalment of £10,000.00 invoiced on commencement, 1 April 2024.
- 1 May 2024, 10:00: the accounts: a councillor for Ashford Central, two officers (the
  second wants no at-risk alerts) and a disabled officer.
- 20 May 2024: £12,345.67 received on 20/00001/FUL/2 and £2,000.50 of it spent on PRJ-1.
- 21 May 2024: agreement 24/00009/OUT proposed in Ashford Central, asking for £250,000.00.
- 22 May 2024: a review of 20/00001/FUL/1, next due 1 June 2024.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Flask
from freezegun import freeze_time

from ledger.domain.notifications import NotificationKind
from ledger.services import SYSTEM, income, notify, reviews, users
from tests.factories import OFFICER, make_agreement, make_ledger, make_obligation, post
from tests.notify.conftest import BASE_URL, REAL_TIME, SENDER

COUNCILLOR, CLERK, QUIET, GONE = ("cllr.bloggs@kent.gov.uk", "clerk@kent.gov.uk", "quiet@kent.gov.uk",
                                  "gone@kent.gov.uk")


def settings(url: str, smtp_url: str) -> dict[str, object]:
    return {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test", "ENV": "testing", "SMTP_URL": smtp_url,
            "MAIL_FROM": SENDER, "BASE_URL": BASE_URL}


def build(app: Flask) -> None:
    with app.extensions["ledger.sessions"]() as s:
        with freeze_time("2024-05-01 09:00:00", ignore=REAL_TIME):
            make_ledger(s)
            make_obligation(s, reference="20/00001/FUL/2", purpose="highways", service="highways",
                            amount=Decimal("50000.00"))
            post(s, "receipt", "1000.00", date(2015, 6, 1), reference="R-1")
            income.add_instalment(s, "20/00001/FUL/1", {"reference": "20/00001/FUL/1/A", "fixed_sum": Decimal("10000.00"),
                                                        "trigger_event": "commencement", "index": "none"}, actor=OFFICER)
            income.record_milestone(s, "20/00001/FUL", kind="commencement", on=date(2024, 4, 1), actor=OFFICER)
        with freeze_time("2024-05-01 10:00:00", ignore=REAL_TIME):
            users.add_user(s, email=COUNCILLOR, name="Jo Bloggs", role="member", password=None,
                           division_code="ashford-central", actor=SYSTEM)
            for email in (CLERK, QUIET, GONE):
                users.add_user(s, email=email, role="officer", password=None, actor=SYSTEM)
            notify.set_preferences(s, QUIET, [NotificationKind.REVIEWS_DUE, NotificationKind.INVOICES_OVERDUE],
                                   actor=SYSTEM)
            users.change_user(s, GONE, disabled=True, actor=SYSTEM, reason="left the council")
        with freeze_time("2024-05-20 11:00:00", ignore=REAL_TIME):
            post(s, "receipt", "12345.67", date(2024, 5, 20), obligation="20/00001/FUL/2", reference="R-2")
            post(s, "spend", "2000.50", date(2024, 5, 20), obligation="20/00001/FUL/2", project="PRJ-1",
                 reference="S-1")
        with freeze_time("2024-05-21 11:00:00", ignore=REAL_TIME):
            make_agreement(s, reference="24/00009/OUT", status="proposed", signed_on=None,
                           site_name="Land at Station Road", developer="Acme Homes")
            make_obligation(s, agreement="24/00009/OUT", reference="24/00009/OUT/1", purpose="highways",
                            service="highways", amount=Decimal("250000.00"))
        with freeze_time("2024-05-22 11:00:00", ignore=REAL_TIME):
            reviews.record_review(s, "20/00001/FUL/1", {"status": "spend-planned", "note": "Cabinet decides in June",
                                                        "owner_email": CLERK, "next_review_on": date(2024, 6, 1)},
                                  actor=OFFICER)
