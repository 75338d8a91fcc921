"""Reviews of an obligation's money at risk (SPEC 8.7): recorded and listed, never changed
or deleted (there is no route for either; the database refuses both too)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api import schemas
from ledger.api.common import Blueprint, actor
from ledger.domain.reviews import ReviewStatus
from ledger.extensions import get_session
from ledger.models import Review
from ledger.services import reviews

reviews_blp = Blueprint("reviews", __name__, url_prefix="/api/v1/obligations",
                        description="Reviews of money at risk: what is being done, who owns it, when it is next looked at")
BLUEPRINTS = (reviews_blp,)


class ReviewIn(schemas.Schema):
    status = ma.fields.String(required=True, validate=schemas.one_of(ReviewStatus))
    note = schemas.Prose(required=True, min_length=1, metadata={"description": "what is being done about the money"})
    owner_email = schemas.Text(required=True, min_length=1, metadata={"description": "who to ask about it"})
    next_review_on = schemas.LedgerDate(required=True, metadata={"description": "today or later"})


class ReviewOut(ReviewIn):
    id = ma.fields.Integer(dump_only=True)
    obligation_reference = ma.fields.Function(lambda r: r.obligation.reference, dump_only=True)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


@reviews_blp.route("/<path:reference>/reviews")
class ObligationReviews(MethodView):
    @reviews_blp.response(200, ReviewOut(many=True))
    @reviews_blp.paginate()
    def get(self, reference: str, pagination_parameters: PaginationParameters) -> list[Review]:
        """An obligation's reviews, newest first"""
        rows, total = reviews.list_reviews(get_session(), reference, offset=pagination_parameters.first_item,
                                           limit=pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return rows

    @reviews_blp.arguments(ReviewIn)
    @reviews_blp.response(201, ReviewOut)
    def post(self, data: dict[str, Any], reference: str) -> Review:
        """Record a review of an obligation's money at risk"""
        return reviews.record_review(get_session(), reference, data, actor=actor())
