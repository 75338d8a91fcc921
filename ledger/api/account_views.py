"""Users and API tokens, for admins (ledger.api.auth keeps both prefixes to admins).

A token's plain text is in the answer that creates it and nowhere else, ever; listing shows
its prefix. Every change is audited by the services (never with a hash).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger import clock
from ledger.api import schemas
from ledger.api.common import actor
from ledger.domain.vocab import Role
from ledger.extensions import get_session
from ledger.models import ApiToken, User
from ledger.services import users

PREFIX = "/api/v1"

users_blp = Blueprint("users", __name__, url_prefix=f"{PREFIX}/users", description="People who sign in (admins only)")
tokens_blp = Blueprint("tokens", __name__, url_prefix=f"{PREFIX}/tokens", description="API tokens (admins only)")
BLUEPRINTS = (users_blp, tokens_blp)


def _email(**kwargs: Any) -> schemas.Text:
    return schemas.Text(min_length=3, max_length=254, validate=ma.validate.Regexp(
        r"^[^@\s]+@[^@\s]+$", error="not an email address"), **kwargs)


PASSWORD = ma.fields.String(load_only=True, validate=ma.validate.Length(min=users.MIN_PASSWORD, max=users.MAX_PASSWORD))


class UserOut(ma.Schema):
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    division_code = ma.fields.String(allow_none=True)
    disabled = ma.fields.Function(lambda user: user.disabled_at is not None)
    disabled_at = ma.fields.DateTime(allow_none=True)
    has_password = ma.fields.Function(lambda user: user.password_hash is not None)
    created_at = ma.fields.DateTime()


class UserIn(ma.Schema):
    email = _email(required=True)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf([str(r) for r in Role]))
    name = schemas.Text()
    division_code = schemas.Code(allow_none=True)
    password = PASSWORD


class UserChange(ma.Schema):
    """Only the fields given change; a new password or `disabled: true` ends the user's web
    sessions, and `disabled: true` refuses their tokens until `disabled: false`."""

    role = ma.fields.String(validate=ma.validate.OneOf([str(r) for r in Role]))
    division_code = schemas.Code(allow_none=True)
    disabled = ma.fields.Boolean()
    password = PASSWORD


class TokenOut(ma.Schema):
    id = ma.fields.Integer()
    prefix = ma.fields.String()
    email = ma.fields.Function(lambda token: token.user.email)
    state = ma.fields.Function(lambda token: users.token_state(token, now=clock.now()),
                               metadata={"description": "active, expired, revoked or disabled-user"})
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    last_used_at = ma.fields.DateTime(allow_none=True, metadata={"description": "to within ten minutes"})
    revoked_at = ma.fields.DateTime(allow_none=True)


class TokenCreated(TokenOut):
    token = ma.fields.String(metadata={"description": "the token itself: shown here once, never again"})


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just issued: its row, and the plain token that is shown this once."""

    row: ApiToken
    token: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


class TokenIn(ma.Schema):
    email = _email(required=True)
    expires_in_days = schemas.Whole(minimum=1, maximum=users.MAX_TOKEN_LIFETIME_DAYS,
                                    load_default=users.TOKEN_LIFETIME_DAYS)


class TokenQuery(ma.Schema):
    email = _email()


@users_blp.route("")
class Users(MethodView):
    @users_blp.response(200, UserOut(many=True))
    def get(self) -> list[User]:
        """List users"""
        return users.list_users(get_session())

    @users_blp.arguments(UserIn)
    @users_blp.response(201, UserOut)
    def post(self, data: dict[str, Any]) -> User:
        """Add a user"""
        return users.add_user(get_session(), actor=actor(), password=data.pop("password", None), **data)


@users_blp.route("/<email>")
class UserByEmail(MethodView):
    @users_blp.response(200, UserOut)
    def get(self, email: str) -> User:
        """One user"""
        return users.get_user(get_session(), email)

    @users_blp.arguments(UserChange)
    @users_blp.response(200, UserOut)
    def patch(self, data: dict[str, Any], email: str) -> User:
        """Change a user's role, division or password, or disable or enable them"""
        return users.change_user(get_session(), email, actor=actor(), **data)


@users_blp.route("/<email>/unlock")
class UserUnlock(MethodView):
    @users_blp.response(204)
    def post(self, email: str) -> None:
        """Clear the account's failed sign-ins"""
        users.unlock(get_session(), email, actor=actor())


@tokens_blp.route("")
class Tokens(MethodView):
    @tokens_blp.arguments(TokenQuery, location="query")
    @tokens_blp.response(200, TokenOut(many=True))
    def get(self, args: dict[str, Any]) -> list[ApiToken]:
        """List tokens, newest first, with their last use"""
        return users.list_tokens(get_session(), email=args.get("email"))

    @tokens_blp.arguments(TokenIn)
    @tokens_blp.response(201, TokenCreated)
    def post(self, data: dict[str, Any]) -> NewToken:
        """Issue a token for a user (default: expires in 365 days)"""
        token, row = users.issue_token(get_session(), email=data["email"], actor=actor(),
                                       expires_in_days=data["expires_in_days"])
        return NewToken(row=row, token=token)


@tokens_blp.route("/<int:token_id>")
class TokenById(MethodView):
    @tokens_blp.response(200, TokenOut)
    def get(self, token_id: int) -> ApiToken:
        """One token"""
        return users.get_token(get_session(), token_id)

    @tokens_blp.response(204)
    def delete(self, token_id: int) -> None:
        """Revoke a token"""
        users.revoke_token(get_session(), token_id, actor=actor())


@tokens_blp.route("/<int:token_id>/revocation")
class TokenRevocation(MethodView):
    @tokens_blp.response(200, TokenOut)
    def post(self, token_id: int) -> ApiToken:
        """Revoke a token; revoking a revoked token changes nothing"""
        return users.revoke_token(get_session(), token_id, actor=actor())
