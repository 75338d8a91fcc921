"""Agreement details keep their history: before a correction, the details as they stood are
kept with who changed them, when and why, so a statement reproduced as known at an earlier
moment reads the details as they were then known (ledger_rows.agreements_known_at)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ledger.models import Agreement, AgreementHistory
from ledger.services import Actor
from ledger.services.ledger_rows import CORRECTABLE_DETAILS


def keep_details(session: Session, agreement: Agreement, *, changed_at: datetime, actor: Actor, reason: str) -> None:
    """Keep ``agreement``'s details before they are changed in this transaction, at
    ``changed_at``: the moment services.locks.lock_for_money returned, the agreement locked."""
    session.add(AgreementHistory(
        agreement_id=agreement.id, changed_at=changed_at, changed_by=actor.email, reason=reason,
        **{name: getattr(agreement, name) for name in CORRECTABLE_DETAILS},
    ))
