"""Row locks for money checks, always taken in one order.

A service that checks money before it writes (how much of this receipt is matched already,
how much of this invoice is paid, is this instalment invoiced yet, would the ledger's
invariants still hold) locks the rows the check is about before it reads anything the
check depends on. Two transactions checking the same money then run one after the other,
and the second one's reads see the first one's writes (READ COMMITTED reads afresh per
statement). Every transaction locks in this one order, so no two can each hold a lock the
other waits for:

1. agreements, by id (site milestones, agreement corrections);
2. obligations, by id;
3. invoices, by id;
4. entries (the receipts), by id;
5. last, the ledger's commit lock (ledger.db.lock_ledger, the revision row's), which every
   write to a ledger table takes too: so take these row locks before the first write.
   lock_for_money takes it itself and returns the moment the transaction's rows are
   stamped with; every read a check depends on comes after it.

Rows are locked FOR NO KEY UPDATE: it excludes the other money checks (and a FOR UPDATE
lock) but not a foreign key check, so inserting a row that merely names a locked one (a new
obligation of a locked agreement) is not held up.

SQLite needs none of this: a write transaction holds the whole database from its BEGIN
IMMEDIATE (ledger.db.write_transaction), and the same statements just read the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.db import WRITE, lock_ledger
from ledger.models import Agreement, Base, Entry, Invoice, Obligation

#: The one order every transaction takes its row locks in (see the module's docstring).
LOCK_ORDER: tuple[type[Base], ...] = (Agreement, Obligation, Invoice, Entry)

#: Ids per statement: well under the bind-parameter limits of SQLite and psycopg.
CHUNK = 1000


def lock_for_money(
    session: Session,
    *,
    agreement_ids: Iterable[int] = (),
    obligation_ids: Iterable[int] = (),
    invoice_ids: Iterable[int] = (),
    entry_ids: Iterable[int] = (),
) -> datetime:
    """Row-lock these rows until the transaction ends, in the one lock order (LOCK_ORDER,
    each table by id), then take the ledger's commit lock; returns the moment to stamp the
    transaction's rows with. Call it inside ledger.db.write_transaction, before the first
    write and before any read the money check depends on. Objects of these rows already
    loaded in the session are expired, so they are read again as they stand once locked."""
    if not session.in_transaction() or not session.connection().get_execution_options().get(WRITE):
        raise RuntimeError("lock_for_money needs a write transaction (ledger.db.write_transaction)")
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("take the money locks before writing anything: they come before the ledger's lock")
    wanted = dict(zip(LOCK_ORDER, (agreement_ids, obligation_ids, invoice_ids, entry_ids), strict=True))
    for model, ids in wanted.items():
        table_id = model.__table__.c.id  # type: ignore[attr-defined]
        for chunk in _chunks(sorted(set(ids))):
            # The ORDER BY is the lock order: PostgreSQL locks rows as the sorted scan returns them.
            session.execute(select(table_id).where(table_id.in_(chunk)).order_by(table_id)
                            .with_for_update(key_share=True))
            for row_id in chunk:
                loaded = session.identity_map.get(session.identity_key(model, row_id))
                if loaded is not None:
                    session.expire(loaded)
    return lock_ledger(session)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]
