"""Proposed and signed agreements (SPEC 8.7). A proposed agreement is a planning application
under negotiation, with the obligations the council is asking for: it has no date it was
entered into, counts in no statement figure and takes no ledger entries until it is signed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from ledger.domain.errors import InvalidInput


class AgreementStatus(StrEnum):
    PROPOSED = "proposed"
    SIGNED = "signed"


def status_errors(status: str, signed_on: date | None) -> dict[str, list[str]]:
    """A new agreement's status against its date: a signed agreement has the date it was
    entered into, a proposed one has none yet."""
    if status not in set(AgreementStatus):
        return {"status": [f"must be one of {', '.join(AgreementStatus)}"]}
    if status == AgreementStatus.SIGNED and signed_on is None:
        return {"signed_on": ["required for a signed agreement"]}
    if status == AgreementStatus.PROPOSED and signed_on is not None:
        return {"signed_on": ["a proposed agreement has not been signed: leave it out until it is"]}
    return {}


def signing_errors(current: str, changes: Mapping[str, Any]) -> dict[str, list[str]]:
    """What is wrong with a change of an agreement's ``status`` or ``signed_on``: the one
    change allowed is signing a proposed agreement, which needs the date it was signed. A
    signed agreement's date is not corrected here, and it never becomes proposed again."""
    wanted = changes.get("status", current)
    if wanted not in set(AgreementStatus):
        return {"status": [f"must be one of {', '.join(AgreementStatus)}"]}
    if current == AgreementStatus.SIGNED:
        if wanted == AgreementStatus.PROPOSED:
            return {"status": ["a signed agreement cannot become proposed again"]}
        return {"signed_on": ["cannot be changed"]} if "signed_on" in changes else {}
    if wanted == AgreementStatus.PROPOSED:
        if changes.get("signed_on") is not None:
            return {"signed_on": ["a proposed agreement has not been signed: send status signed with the date"]}
        return {}
    if changes.get("signed_on") is None:
        return {"signed_on": ["required to sign a proposed agreement"]}
    return {}


def refuse_entries_while_proposed(status: str, *, agreement_reference: str, obligation_reference: str) -> None:
    """Raise InvalidInput (naming ``obligation_reference``) for an entry on an obligation of a
    proposed agreement: no money moves under a deed not yet signed (SPEC 8.7)."""
    if status == AgreementStatus.PROPOSED:
        message = (f"obligation {obligation_reference!r} belongs to proposed agreement {agreement_reference!r}, "
                   "which takes no entries until it is signed")
        raise InvalidInput(message, errors={"obligation_reference": [
            f"belongs to agreement {agreement_reference}, which is proposed: sign it before recording money"]})
