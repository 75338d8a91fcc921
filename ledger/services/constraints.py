"""Which database constraint refused a write, and what that means to a client.

The services check before they write, so a constraint refuses a write only when another
transaction got there between the check and the write (or a check is missing). Then the
constraint's name says what happened: the unique key of a thing's natural reference means
it already exists (409); a foreign key means the row it names does not exist (422); any
other constraint is reported as itself, never as "already exists".

PostgreSQL names the constraint (psycopg's diagnostics); SQLite names the table and
columns, which are matched to the named constraints of ledger.models.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ForeignKeyConstraint, PrimaryKeyConstraint, Table, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from ledger.domain.errors import Conflict, InvalidInput, LedgerError
from ledger.models import Base

log = logging.getLogger(__name__)

UNIQUE = "unique"
PRIMARY_KEY = "primary-key"
FOREIGN_KEY = "foreign-key"
NOT_NULL = "not-null"
CHECK = "check"
OTHER = "other"

#: Unique constraints on natural keys: the thing (described) already exists, named by this field.
ALREADY_EXISTS: dict[str, tuple[str, str]] = {
    "uq_authorities_code": ("an authority with this code", "code"),
    "uq_divisions_code": ("a division with this code", "code"),
    "uq_agreements_reference": ("an agreement with this reference", "reference"),
    "uq_obligations_reference": ("an obligation with this reference", "reference"),
    "uq_projects_reference": ("a project with this reference", "reference"),
    "uq_entries_kind_reference": ("an entry of this kind with this reference", "reference"),
    "uq_income_due_reference": ("income due with this reference", "reference"),
    "uq_index_values_index_period_published_on": (
        "a value of this index for this period published on this date", "published_on"),
    "uq_instalments_reference": ("an instalment with this reference", "reference"),
    "uq_invoices_instalment_id": ("an invoice for this instalment", "instalment"),
    "uq_invoices_reference": ("an invoice with this reference", "reference"),
    "uq_invoice_payments_invoice_id_entry_id": ("a match of this receipt to this invoice", "entry_id"),
    "uq_users_email": ("a user with this email", "email"),
}

#: Unique constraints that stand for a rule rather than a natural key: (field, why).
RULES: dict[str, tuple[str, str]] = {
    "uq_entries_reverses": ("id", "the entry has already been reversed: an entry can be reversed once"),
}

_POSTGRES_KINDS = {"23505": UNIQUE, "23503": FOREIGN_KEY, "23502": NOT_NULL, "23514": CHECK}
_SQLITE_KINDS = {
    "SQLITE_CONSTRAINT_UNIQUE": UNIQUE,
    "SQLITE_CONSTRAINT_PRIMARYKEY": PRIMARY_KEY,
    "SQLITE_CONSTRAINT_FOREIGNKEY": FOREIGN_KEY,
    "SQLITE_CONSTRAINT_NOTNULL": NOT_NULL,
    "SQLITE_CONSTRAINT_CHECK": CHECK,
}
_WRITTEN_TABLE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)
_INSERT_COLUMNS = re.compile(r"^\s*INSERT\s+[^(]*\(([^)]*)\)\s*VALUES", re.IGNORECASE)
_UPDATE_COLUMNS = re.compile(r"\bSET\s+(.*?)\s+WHERE\b", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """A constraint that refused a write. ``name`` is the constraint's name in
    ledger.models (None for NOT NULL, or a SQLite foreign key it cannot tell apart)."""

    kind: str
    name: str | None
    table: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Named:
    kind: str
    table: str
    columns: tuple[str, ...]


@cache
def _named_constraints() -> dict[str, _Named]:
    found = {}
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if constraint.name is None:
                continue
            kind = {PrimaryKeyConstraint: PRIMARY_KEY, UniqueConstraint: UNIQUE,
                    ForeignKeyConstraint: FOREIGN_KEY}.get(type(constraint), CHECK)
            found[str(constraint.name)] = _Named(kind, table.name, tuple(c.name for c in constraint.columns))
        for index in table.indexes:
            if index.unique:
                found[str(index.name)] = _Named(UNIQUE, table.name, tuple(c.name for c in index.columns))
    return found


def violation(error: IntegrityError) -> Violation:
    """The constraint ``error`` reports, on PostgreSQL (psycopg 3) or SQLite."""
    orig = error.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:
        return _postgres(getattr(orig, "sqlstate", None) or "", diag)
    return _sqlite(getattr(orig, "sqlite_errorname", ""), str(orig), error.statement or "", error.params)


def constraint_name(error: IntegrityError) -> str | None:
    """The name of the constraint ``error`` reports (as in ledger.models), if it has one."""
    return violation(error).name


def _postgres(sqlstate: str, diag: Any) -> Violation:
    kind = _POSTGRES_KINDS.get(sqlstate, OTHER)
    name = diag.constraint_name
    known = _named_constraints().get(name) if name else None
    if known is not None:
        return Violation(kind=known.kind, name=name, table=known.table, columns=known.columns)
    columns = (diag.column_name,) if diag.column_name else ()
    return Violation(kind=kind, name=name, table=diag.table_name, columns=columns)


def _sqlite(errorname: str, message: str, statement: str, params: Any) -> Violation:
    kind = _SQLITE_KINDS.get(errorname, OTHER)
    # "UNIQUE constraint failed: entries.kind, entries.reference"; "CHECK constraint failed: name"
    _, _, detail = message.partition(" constraint failed: ")
    if kind in (UNIQUE, PRIMARY_KEY, NOT_NULL):
        qualified = [part.strip().split(".", 1) for part in detail.split(",")]
        table = qualified[0][0]
        columns = tuple(part[-1] for part in qualified)
        name = None if kind == NOT_NULL else _constraint_on(table, columns)
        return Violation(kind=kind, name=name, table=table, columns=columns)
    if kind == CHECK:
        known = _named_constraints().get(detail)
        return Violation(kind=CHECK, name=detail or None, table=known.table if known else None,
                         columns=known.columns if known else ())
    if kind == FOREIGN_KEY:
        return _sqlite_foreign_key(statement, params)
    return Violation(kind=OTHER, name=None, table=None, columns=())


def _constraint_on(table: str, columns: Sequence[str]) -> str | None:
    for name, known in _named_constraints().items():
        if known.table == table and known.kind in (UNIQUE, PRIMARY_KEY) and set(known.columns) == set(columns):
            return name
    return None


def _sqlite_foreign_key(statement: str, params: Any) -> Violation:
    """SQLite says only "FOREIGN KEY constraint failed": the statement names the table, and
    the foreign keys whose columns it wrote a value to are the candidates."""
    written = _WRITTEN_TABLE.match(statement)
    table: Table | None = Base.metadata.tables.get(written.group(1)) if written else None
    if table is None:
        return Violation(kind=FOREIGN_KEY, name=None, table=None, columns=())
    keys = sorted((c for c in table.constraints if isinstance(c, ForeignKeyConstraint)), key=lambda c: str(c.name))
    values = _written_values(statement, params)
    if values is not None:
        keys = [k for k in keys if any(values.get(c.name) is not None for c in k.columns)] or keys
    if len(keys) == 1:
        return Violation(kind=FOREIGN_KEY, name=str(keys[0].name), table=table.name,
                         columns=tuple(c.name for c in keys[0].columns))
    return Violation(kind=FOREIGN_KEY, name=None, table=table.name,
                     columns=tuple(c.name for k in keys for c in k.columns))


def _written_values(statement: str, params: Any) -> dict[str, Any] | None:
    """Column -> value of a one-row INSERT or an UPDATE's SET list with positional parameters."""
    if not isinstance(params, tuple | list) or (params and isinstance(params[0], tuple | list | dict)):
        return None
    if inserted := _INSERT_COLUMNS.match(statement):
        columns = [c.strip().strip('"') for c in inserted.group(1).split(",")]
    elif updated := _UPDATE_COLUMNS.search(statement):
        columns = [c.split("=")[0].strip().strip('"') for c in updated.group(1).split(",")]
    else:
        return None
    return dict(zip(columns, params, strict=False)) if len(params) >= len(columns) else None


def domain_error(error: IntegrityError) -> LedgerError:
    """The domain error a refused write stands for: Conflict (409) "already exists" naming the
    field for a natural key; InvalidInput (422) "does not exist" for a foreign key, "required"
    for NOT NULL; otherwise a 409 or 422 naming the constraint."""
    found = violation(error)
    if found.name in ALREADY_EXISTS:
        what, field = ALREADY_EXISTS[found.name]
        return Conflict(f"{what} already exists", errors={field: ["already exists"]})
    if found.name in RULES:
        field, why = RULES[found.name]
        return Conflict(why, errors={field: [why]})
    # Past here no service expects the refusal: log it, so the check it lacks can be added.
    log.warning("a write was refused by %s constraint %s on %s%s", found.kind, found.name, found.table, found.columns)
    if found.kind == FOREIGN_KEY:
        if found.name is not None or len(found.columns) == 1:
            field = ", ".join(found.columns)
            return InvalidInput(f"{field} does not exist", errors={field: ["does not exist"]})
        fields = " or ".join(found.columns)
        return InvalidInput(f"{fields} names something that does not exist",
                            errors={column: ["may not exist"] for column in found.columns})
    if found.kind == NOT_NULL and found.columns:
        field = found.columns[0]
        return InvalidInput(f"{field} is required", errors={field: ["required"]})
    if found.kind == PRIMARY_KEY:
        return Conflict(f"the new {found.table} row was given an id already in use (the id sequence is behind the "
                        "table): nothing was written")
    if found.kind == UNIQUE:
        fields = ", ".join(found.columns)
        return Conflict(f"a {found.table} row with this {fields} already exists ({found.name})",
                        errors={column: ["already exists"] for column in found.columns})
    if found.kind == CHECK:
        return InvalidInput(f"the values break the rule {found.name or 'of a check constraint'}")
    return Conflict("the database refused the write")


@contextmanager
def as_domain_errors() -> Iterator[None]:
    """Raise the domain error a constraint violation inside the block stands for. Put it
    outside write_transaction, so the commit is covered and the rollback comes first."""
    try:
        yield
    except IntegrityError as error:
        raise domain_error(error) from error
