"""Users, roles and API tokens. Passwords are hashed with scrypt (werkzeug); tokens are
random and stored as SHA-256 digests, so a database copy reveals neither."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ledger import clock
from ledger.db import write_transaction
from ledger.domain.errors import Conflict, InvalidInput, NotFound
from ledger.domain.vocab import Role
from ledger.models import ApiToken, Division, User
from ledger.services import Actor, audit
from ledger.services.constraints import as_domain_errors

TOKEN_PREFIX = "s106_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    session: Session,
    *,
    email: str,
    role: str,
    password: str | None,
    name: str | None = None,
    division_code: str | None = None,
    actor: Actor,
) -> User:
    """Create a user; a member may have a home division."""
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput("email: not an email address", errors={"email": ["not an email address"]})
    if role not in set(Role):
        raise InvalidInput(f"role: must be one of {', '.join(Role)}", errors={"role": ["unknown role"]})
    if password is not None and len(password) < 8:
        raise InvalidInput("password: at least 8 characters", errors={"password": ["too short"]})
    # Two requests adding one email at once: the unique key refuses the second, as a 409.
    with as_domain_errors(), write_transaction(session):
        if session.scalar(select(User).where(User.email == email)):
            raise Conflict(f"user {email} already exists", errors={"email": ["already exists"]})
        if division_code and not session.scalar(select(Division).where(Division.code == division_code)):
            raise InvalidInput(f"division {division_code!r} does not exist", errors={"division_code": ["does not exist"]})
        user = User(
            email=email,
            name=name or email.split("@")[0],
            role=role,
            division_code=division_code,
            password_hash=generate_password_hash(password) if password else None,
            created_at=clock.now(),
        )
        session.add(user)
        session.flush()
        audit.record(session, actor=actor, action="create-user", target_type="users",
                     target_reference=email, after=audit.snapshot(user))
        return user


def create_token(session: Session, *, email: str, actor: Actor) -> str:
    """Issue an API token for a user; the plain token is returned once and never stored."""
    with write_transaction(session):
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"no user {email}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        session.add(ApiToken(user_id=user.id, token_hash=_digest(token), prefix=token[:10], created_at=clock.now()))
        audit.record(session, actor=actor, action="create-token", target_type="users",
                     target_reference=user.email, after={"prefix": token[:10]})
        return token


#: Built once: every API request asks it, and building a statement costs more than running it.
_TOKEN_OWNER = (
    select(User.email, User.role, User.division_code).join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None))
)


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The user a bearer token belongs to, or None for an unknown or revoked token."""
    found = session.connection().execute(_TOKEN_OWNER, {"digest": _digest(token)}).first()
    return None if found is None else Actor(email=found.email, role=found.role, division_code=found.division_code)


MAX_FAILED_SIGN_INS = 5
LOCK_OUT = timedelta(minutes=15)


class SignInRefused(Exception):
    """Wrong email or password, or the account is locked for now. The message never says
    which, so it does not tell an attacker whether an email has an account."""


def sign_in(session: Session, email: str, password: str) -> Actor:
    """Check a password. After MAX_FAILED_SIGN_INS failures in a row the account is locked
    for LOCK_OUT; every attempt is audited. The failure count and the audit event are
    committed before the refusal is raised."""
    address = email.strip().lower()
    refusal: str | None = None
    with write_transaction(session):
        user = session.scalar(select(User).where(User.email == address).with_for_update())
        now = clock.now()
        if user is not None and user.locked_until is not None and user.locked_until > now:
            audit.record(session, actor=address, action="sign-in", outcome="refused", reason="account locked")
            refusal = "Too many failed attempts: try again in 15 minutes."
        elif user is None or not user.password_hash or not check_password_hash(user.password_hash, password):
            reason = "wrong email or password"
            if user is not None:
                user.failed_sign_ins += 1
                if user.failed_sign_ins >= MAX_FAILED_SIGN_INS:
                    user.locked_until = now + LOCK_OUT
                    user.failed_sign_ins = 0
                    reason = "wrong password: account locked for 15 minutes"
            audit.record(session, actor=address, action="sign-in", outcome="refused", reason=reason)
            refusal = "The email address or password is not right."
        else:
            user.failed_sign_ins = 0
            user.locked_until = None
            audit.record(session, actor=address, action="sign-in", reason="signed in")
            actor = Actor(email=user.email, role=user.role, division_code=user.division_code)
    if refusal:
        raise SignInRefused(refusal)
    return actor


def actor_for_email(session: Session, email: str) -> Actor | None:
    """The signed-in user of a web session, if the account still exists."""
    user = session.scalar(select(User).where(User.email == email))
    return None if user is None else Actor(email=user.email, role=user.role, division_code=user.division_code)
