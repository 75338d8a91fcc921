"""Domain errors. Each carries a problem ``type`` slug and an HTTP status hint, so the API
and the web layer can render it without knowing the rule behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleViolation:
    """One broken ledger invariant (SPEC rule 4), on the first date it breaks."""

    invariant: str
    on: date
    message: str
    field: str = "amount"


@dataclass(frozen=True, slots=True, kw_only=True)
class AmountLimit:
    """The most a refused entry could have been on its date and kept every invariant: the
    limit a person needs to correct it, with the date it is reached on and the money that
    sets it, said in ``message`` ("Spend must be £138,174.38 or less: that is ...")."""

    most: Decimal
    on: date
    message: str
    field: str = "amount"


class LedgerError(Exception):
    """Base of every error the service layer raises on purpose."""

    type = "ledger-error"
    title = "Ledger error"
    status = 400

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class NotFound(LedgerError):
    type = "not-found"
    title = "Not found"
    status = 404


class InvalidInput(LedgerError):
    type = "invalid-input"
    title = "Invalid input"
    status = 422


class Conflict(LedgerError):
    type = "conflict"
    title = "Conflict"
    status = 409


class Forbidden(LedgerError):
    type = "forbidden"
    title = "Forbidden"
    status = 403


@dataclass
class RuleViolated(LedgerError):
    """A write that would break a ledger invariant at some date; nothing was written."""

    violations: list[RuleViolation] = field(default_factory=list)
    #: For a new entry whose amount broke the rules: the most it could have been.
    limit: AmountLimit | None = None

    type = "rule-violated"
    title = "Ledger rule violated"
    status = 422

    def __post_init__(self) -> None:
        first = self.violations[0]
        errors: dict[str, list[str]] = {}
        for violation in self.violations:
            errors.setdefault(violation.field, []).append(
                f"{violation.invariant}: {violation.message}"
            )
        if self.limit is not None:
            errors.setdefault(self.limit.field, []).append(self.limit.message)
        LedgerError.__init__(self, f"{first.invariant}: {first.message}", errors=errors)
