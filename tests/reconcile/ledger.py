"""The hand-worked ledger the finance export in tests/data/finance is reconciled against."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from tests.factories import OFFICER, make_agreement, make_obligation, make_places, make_project, post

DATA = Path(__file__).parents[1] / "data" / "finance"
EXPORT, MAPPING = DATA / "ledger-export.csv", DATA / "mapping.toml"
OB_A, OB_B = "20/00001/FUL/1", "20/00001/FUL/2"
#: When the tests run: the export was taken on 5 September 2024.
TODAY = "2024-09-05"

__all__ = ["EXPORT", "MAPPING", "OB_A", "OB_B", "OFFICER", "TODAY", "make_hand_worked_ledger"]


def make_hand_worked_ledger(session: Session) -> dict[str, int]:
    """Two obligations of one agreement: OB_A (education, its own cost code S106-EDU-A) and
    OB_B (highways, on the service's cost code S106-HWY). Returns entry ids by reference.

    | reference | obligation | kind    | date       | amount    | in finance as                      |
    | RCPT-1001 | OB_A       | receipt | 2024-04-10 | 10,000.00 | GL-0001, by reference              |
    | RCPT-1002 | OB_A       | receipt | 2024-05-02 |  2,500.00 | GL-0002, on S106-HWY: misposted    |
    | RCPT-1003 | OB_B       | receipt | 2024-05-03 |  4,000.00 | GL-0003 with RCPT-1004: remittance |
    | RCPT-1004 | OB_B       | receipt | 2024-05-06 |  1,500.50 | GL-0003                            |
    | SPD-1     | OB_A       | spend   | 2024-07-15 |  3,000.00 | GL-0007, by amount and date        |
    | RCPT-1005 | OB_A       | receipt | 2024-08-01 |    600.00 | nowhere: ledger only               |
    """
    make_places(session)
    make_agreement(session)
    make_obligation(session, reference=OB_A)
    make_obligation(session, reference=OB_B, purpose="highways", service="highways")
    make_project(session, reference="PRJ-1")
    ids = {}
    for reference, obligation, kind, on, amount in (
            ("RCPT-1001", OB_A, "receipt", date(2024, 4, 10), "10000.00"),
            ("RCPT-1002", OB_A, "receipt", date(2024, 5, 2), "2500.00"),
            ("RCPT-1003", OB_B, "receipt", date(2024, 5, 3), "4000.00"),
            ("RCPT-1004", OB_B, "receipt", date(2024, 5, 6), "1500.50"),
            ("SPD-1", OB_A, "spend", date(2024, 7, 15), "3000.00"),
            ("RCPT-1005", OB_A, "receipt", date(2024, 8, 1), "600.00")):
        entry = post(session, kind, amount, on, obligation=obligation, reference=reference,
                     project="PRJ-1" if kind == "spend" else None, actor=OFFICER)
        ids[reference] = entry.id
    return ids
