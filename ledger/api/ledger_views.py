"""Ledger entries, reversals, balances, money at risk, division summaries and the audit log."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger import clock
from ledger.api import schemas
from ledger.api.common import Blueprint, actor, filters, paged
from ledger.domain import limits
from ledger.domain.money import ZERO
from ledger.domain.rules import band_for
from ledger.domain.vocab import Band, EntryKind
from ledger.extensions import band_thresholds, get_session
from ledger.models import Entry
from ledger.services import audit, balances, listing
from ledger.services import entries as entry_service

PREFIX = "/api/v1"

entries = Blueprint("entries", __name__, url_prefix=f"{PREFIX}/entries", description="Immutable ledger entries")
balance = Blueprint("balances", __name__, url_prefix=f"{PREFIX}/obligations", description="Obligation balances")
at_risk = Blueprint("at-risk", __name__, url_prefix=f"{PREFIX}/at-risk", description="Money at risk of repayment")
summaries = Blueprint("division-summaries", __name__, url_prefix=f"{PREFIX}/divisions", description="Division summaries")
audit_log = Blueprint("audit", __name__, url_prefix=f"{PREFIX}/audit", description="Audit log (admins)")

BLUEPRINTS = (entries, balance, at_risk, summaries, audit_log)


@entries.route("")
class Entries(MethodView):
    @entries.arguments(schemas.EntryQuery, location="query")
    @entries.response(200, schemas.EntryOut(many=True))
    @entries.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Entry]:
        """List entries, oldest first"""
        query = listing.entries_query(filters(args), kind=args.get("kind"), obligation=args.get("obligation"),
                                      project=args.get("project"))
        return paged(query, pagination_parameters)

    @entries.arguments(schemas.EntryIn)
    @entries.response(201, schemas.EntryOut)
    @entries.alt_response(200, schema=schemas.EntryOut, description="The same entry was already recorded; nothing written")
    def post(self, data: dict[str, Any]) -> Any:
        """Record an entry of any kind (idempotent on kind and reference)"""
        request = entry_service.EntryRequest(**{**data, "kind": EntryKind(data["kind"])})
        entry, created = entry_service.record_entry(get_session(), request, actor=actor())
        return entry, 201 if created else 200


#: Ids are 32-bit: a bigger one names no entry (404), rather than overflowing the query.
ENTRY_ID = f"<int(max={limits.INT32_MAX}):entry_id>"


@entries.route(f"/{ENTRY_ID}")
class EntryById(MethodView):
    @entries.response(200, schemas.EntryOut)
    def get(self, entry_id: int) -> Entry:
        """One entry"""
        return entry_service.get_entry(get_session(), entry_id)


@entries.route(f"/{ENTRY_ID}/reversal")
class EntryReversal(MethodView):
    @entries.arguments(schemas.Reversal)
    @entries.response(201, schemas.EntryOut)
    def post(self, data: dict[str, Any], entry_id: int) -> Entry:
        """Reverse an entry (once), with a reason"""
        return entry_service.reverse_entry(get_session(), entry_id, actor=actor(), reason=data["reason"])


@balance.route("/<path:reference>/balance")
class ObligationBalance(MethodView):
    @balance.arguments(schemas.BalanceQuery, location="query")
    @balance.response(200, schemas.Balance)
    def get(self, args: dict[str, Any], reference: str) -> dict[str, Any]:
        """An obligation's balances and per-receipt positions at the end of a date"""
        on = args.get("on") or clock.today()
        result = balances.obligation_balance(get_session(), reference, on=on, as_known_at=args.get("as_known_at"))
        b = result.balances
        return {
            "obligation_reference": reference,
            "on": on,
            "received": b.received,
            "spent": b.spent,
            "transferred": b.transferred,
            "repaid": b.repaid,
            "held": b.held,
            "allocated_unspent": b.allocated_unspent,
            "unallocated": b.unallocated,
            "committed_unspent": b.committed_unspent,
            "projects": [
                {"project_reference": p, "allocated_unspent": v, "committed_unspent": b.committed.get(p, ZERO)}
                for p, v in sorted(b.by_project.items())
            ],
            "receipts": [
                {
                    "reference": p.receipt.reference,
                    "received_on": p.receipt.occurred_on,
                    "amount": p.receipt.amount,
                    "remaining": p.remaining,
                    "allocated": p.allocated,
                    "unallocated": p.unallocated,
                    "deadline": balances.deadline_date(p.deadline),
                    "band": band_for(p.deadline, as_of=on, **band_thresholds()),
                }
                for p in result.receipts
            ],
        }


@at_risk.route("")
class AtRisk(MethodView):
    @at_risk.arguments(schemas.AtRiskQuery, location="query")
    @at_risk.response(200, schemas.AtRiskItem(many=True))
    @at_risk.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
        """Receipts with money remaining, banded by repayment deadline, soonest first"""
        found = None if args.get("as_known_at") else balances.at_risk_page(
            get_session(), as_of=args.get("as_of") or clock.today(), filters=filters(args),
            band=Band(args["band"]) if args.get("band") else None, offset=pagination_parameters.first_item,
            limit=pagination_parameters.page_size, **band_thresholds())
        if found is not None:  # one page read from the kept positions
            pagination_parameters.item_count = found.total
            return found.rows
        rows = balances.at_risk(
            get_session(),
            as_of=args.get("as_of") or clock.today(),
            filters=filters(args),
            as_known_at=args.get("as_known_at"),
            **band_thresholds(),
        )
        if args.get("band"):
            rows = [r for r in rows if r.band == args["band"]]
        pagination_parameters.item_count = len(rows)
        start = pagination_parameters.first_item
        return rows[start : start + pagination_parameters.page_size]


@summaries.route("/<code>/summary")
class DivisionSummary(MethodView):
    @summaries.arguments(schemas.SummaryQuery, location="query")
    @summaries.response(200, schemas.DivisionSummary)
    def get(self, args: dict[str, Any], code: str) -> balances.DivisionSummary:
        """Money secured, received, spent, transferred, repaid, held and at risk in a division"""
        return balances.division_summary(
            get_session(), code, on=args.get("on") or clock.today(), as_known_at=args.get("as_known_at"), **band_thresholds()
        )


@audit_log.route("")
class AuditLog(MethodView):
    @audit_log.response(200, schemas.AuditEvent(many=True))
    @audit_log.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[Any]:
        """Audit events, newest first"""
        rows, total = audit.list_events(
            get_session(), offset=pagination_parameters.first_item, limit=pagination_parameters.page_size
        )
        pagination_parameters.item_count = total
        return rows
