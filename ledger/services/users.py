"""Users, roles, API tokens, web sessions and sign-in. Passwords are hashed with scrypt
(werkzeug); tokens are random and stored as SHA-256 digests, so a database copy reveals
neither.

Signing in: failed attempts slow down, they never lock anyone out
---------------------------------------------------------------------
Failures are counted per client address and per account (``sign_in_throttles``). Each key has
a few free failures; after them every failure makes that key wait before another attempt is
even checked: 1 s, 2 s, 4 s ... up to a cap (ADDRESS and ACCOUNT). A waiting key is answered
"too many attempts, try again in N seconds" (HTTP 429 with Retry-After) without a password
check. Nothing sleeps in the worker: a refused attempt costs one small transaction, so an
attacker cannot tie up workers by making them wait. A success resets both counters; a
counter untouched for FORGET_AFTER starts again from nothing; an admin can unlock an account.

Why two keys and these caps:

* The address key (cap 5 minutes) stops one client guessing quickly, at one account or
  spraying many: after the free attempts it gets about 12 guesses an hour. IPv6 clients are
  counted by their /64, which one subscriber usually holds whole.
* The account key stops many addresses (a botnet) guessing one account together. But anyone
  can hit it, so it is what an attacker would use to keep the real user out: its cap is
  small (1 minute), so the worst anyone can do to an account is make each attempt wait up to
  a minute, never a lock-out (the old lock-out: 5 failures, 15 minutes, renewed forever by
  anyone knowing the admin's email).
* A sustained attack could still take every slot the account key opens, so a browser that
  has signed in to the account before skips the account key (a signed "known device" cookie,
  ledger.web.auth; OWASP's device cookies): the real user at their own browser gets in at
  once with the right password while the account is being attacked from elsewhere, limited
  only by their own address's counter. A new browser waits at most the account's cap per
  attempt, and during a sustained distributed attack may have to retry, or an admin can
  unlock the account (which clears its counter).
* Unknown emails are counted like known ones, and an unknown email or a user without a
  password is checked against a fixed dummy scrypt hash: the answer, its timing and its
  throttling say nothing about which emails have accounts.

Attempts are claimed before the password is checked: one short transaction adds the failure
to both counters (INSERT ... ON CONFLICT DO UPDATE, only while the key is not waiting) and
sets the wait; a success then resets them. So sixteen attempts at once cannot all pass the
check before any is counted: on PostgreSQL the counter row's lock orders them, and once a
key waits the rest are refused. Keys are taken in one order (sorted), so two
claims never deadlock. Rows for unknown emails are bounded by the address throttle, and
stale rows are pruned when someone signs in.

Behind a proxy the client address is the proxy's unless LEDGER_PROXY_FIX says how many
proxies to trust (docs/CONFIGURATION.md): without it every client shares one address key.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ledger import clock
from ledger.db import write_transaction
from ledger.domain import limits
from ledger.domain.errors import Conflict, InvalidInput, NotFound
from ledger.domain.tokens import MAX_TOKEN_LIFETIME_DAYS, TOKEN_LIFETIME_DAYS
from ledger.domain.vocab import Role
from ledger.models import ApiToken, Division, SignInThrottle, User
from ledger.services import Actor, audit
from ledger.services.audit import ANONYMOUS
from ledger.services.constraints import as_domain_errors

TOKEN_PREFIX = "s106_"
#: What issue_token makes: the prefix and 32 random bytes in URL-safe base64 (43 characters).
TOKEN_SHAPE = re.compile(rf"{TOKEN_PREFIX}[A-Za-z0-9_-]{{43}}")
#: A token's last use is written when the stored one is older than this: not once per request.
LAST_USE_PRECISION = timedelta(minutes=10)
SQLITE_BUSY_TIMEOUT_MS = 30000  # as ledger.db sets it on every connection
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
#: Checked when there is no real hash, so unknown emails cost what known ones do.
DUMMY_HASH = (
    "scrypt:32768:8:1$DC3fMPIhrrWG7mc8$fc82908c97d5b816f32e4fdf84f09c61ecb48282bbb405abcf6e55352d840beb7"
    "6b1e63cf9a8a8d8c99e93b9a6a89780446e347977685c4c5354ee2330e944d5"
)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normal_email(email: str) -> str:
    return email.strip().lower()


def _utf8(text: str) -> bool:
    """Whether ``text`` has a UTF-8 form to hash: a lone surrogate (a JSON "\\ud800" escape
    makes one, a WSGI environ may hold one) has none."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters",
                           errors={"password": [f"{MIN_PASSWORD} to {MAX_PASSWORD} characters"]})
    if not _utf8(password):
        raise InvalidInput("password: must not contain a lone surrogate",
                           errors={"password": ["must not contain a lone surrogate"]})


def _check_division(session: Session, division_code: str | None) -> None:
    if division_code and not session.scalar(select(Division).where(Division.code == division_code)):
        raise InvalidInput(f"division {division_code!r} does not exist", errors={"division_code": ["does not exist"]})


def _check_role(role: str) -> None:
    if role not in set(Role):
        raise InvalidInput(f"role: must be one of {', '.join(Role)}", errors={"role": ["unknown role"]})


# -- users ---------------------------------------------------------------------------------
def add_user(
    session: Session,
    *,
    email: str,
    role: str,
    password: str | None,
    name: str | None = None,
    division_code: str | None = None,
    actor: Actor,
    must_change_password: bool = False,
    reason: str | None = None,
) -> User:
    """Create a user; a member may have a home division. ``must_change_password``: the
    password is a temporary one, to be changed at the first sign-in."""
    email = _normal_email(email)
    if "@" not in email or limits.unprintable(email):
        raise InvalidInput("email: not an email address", errors={"email": ["not an email address"]})
    _check_role(role)
    if password is not None:
        _check_password(password)
    # Two requests adding one email at once: the unique key refuses the second, as a 409.
    with as_domain_errors(), write_transaction(session):
        if session.scalar(select(User).where(User.email == email)):
            raise Conflict(f"user {email} already exists", errors={"email": ["already exists"]})
        _check_division(session, division_code)
        user = User(
            email=email,
            name=name or email.split("@")[0],
            role=role,
            division_code=division_code,
            password_hash=generate_password_hash(password) if password else None,
            session_version=0,
            created_at=clock.now(),
            must_change_password=must_change_password and password is not None,
        )
        session.add(user)
        session.flush()
        audit.record(session, actor=actor, action="create-user", target_type="users",
                     target_reference=email, after=audit.snapshot(user), reason=reason)
        return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def get_user_by_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if 1 <= user_id <= MAX_ID else None
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def get_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == _normal_email(email)))
    if user is None:
        raise NotFound(f"no user {email}")
    return user


#: "Leave as it is", for change_user's optional arguments (None means "no division").
UNCHANGED = object()


def change_user(
    session: Session,
    email: str,
    *,
    actor: Actor,
    role: str | None = None,
    division_code: object = UNCHANGED,
    disabled: bool | None = None,
    password: str | None = None,
    must_change_password: bool = False,
    reason: str | None = None,
) -> User:
    """Change a user's role, division, password, or disable or enable them. A new password
    or disabling ends every web session the user has (their session version moves on); a
    disabled user's tokens are refused until they are enabled again. A new password is a
    temporary one, to be changed at the next sign-in, when ``must_change_password``.
    Audited before/after, never with the password hash."""
    if role is not None:
        _check_role(role)
    if password is not None:
        _check_password(password)
    with write_transaction(session):
        user = _lock_user(session, _normal_email(email), with_admins=disabled is True or role not in (None, Role.ADMIN))
        _check_admins_remain(session, user, actor=actor, role=role, disabled=disabled)
        before = audit.snapshot(user)
        if role is not None:
            user.role = role
        if division_code is not UNCHANGED:
            _check_division(session, division_code)  # type: ignore[arg-type]
            user.division_code = division_code  # type: ignore[assignment]
        if disabled is True and user.disabled_at is None:
            user.disabled_at = clock.now()
            user.session_version += 1
        elif disabled is False:
            user.disabled_at = None
        if password is not None:
            user.password_hash = generate_password_hash(password)
            user.session_version += 1
            user.must_change_password = must_change_password
        session.flush()
        after = audit.snapshot(user)
        if password is not None:
            after = (after or {}) | {"password": "changed"}
        audit.record(session, actor=actor, action="change-user", target_type="users",
                     target_reference=user.email, before=before, after=after, reason=reason)
        return user


#: Why change_user refuses: each is a sentence naming what was asked, for the API and the pages.
LAST_ADMIN_ROLE = ("An admin cannot be made an officer or councillor while they are the only active admin: "
                   "make another user an admin first")
LAST_ADMIN_DISABLED = "The only active admin cannot be disabled: make another user an admin first"
OWN_ACCOUNT_DISABLED = "You cannot disable your own account: ask another admin to"


def _lock_user(session: Session, email: str, *, with_admins: bool) -> User:
    """Lock the user's row until the transaction ends, and with ``with_admins`` every
    active admin's too, all in one statement in id order: two admins demoting or
    disabling each other at once then run one after the other, and the second counts the
    admins the first left (PostgreSQL reads a row it waited for afresh, so one demoted
    meanwhile no longer matches). One order for every caller, so none deadlock."""
    wanted = User.email == email
    if with_admins:
        wanted = or_(wanted, (User.role == Role.ADMIN) & User.disabled_at.is_(None))
    locked = session.scalars(select(User).where(wanted).order_by(User.id).with_for_update()
                             .execution_options(populate_existing=True)).all()
    user = next((row for row in locked if row.email == email), None)
    if user is None:
        raise NotFound(f"no user {email}")
    return user


def _check_admins_remain(session: Session, user: User, *, actor: Actor, role: str | None,
                         disabled: bool | None) -> None:
    """Refuse a change that would leave no active admin (demoting or disabling the only
    one), and disabling one's own account (nobody could re-enable it but another admin).
    Call it with the admins locked (_lock_user)."""
    if disabled is True and user.disabled_at is None and actor.email == user.email:
        raise InvalidInput(f"{user.email}: {OWN_ACCOUNT_DISABLED}", errors={"disabled": [OWN_ACCOUNT_DISABLED]})
    demoted = role is not None and role != Role.ADMIN
    if user.role != Role.ADMIN or user.disabled_at is not None or not (demoted or disabled is True):
        return
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.disabled_at.is_(None), User.id != user.id)) or 0
    if others == 0:
        field, message = ("role", LAST_ADMIN_ROLE) if demoted else ("disabled", LAST_ADMIN_DISABLED)
        raise InvalidInput(f"{user.email}: {message}", errors={field: [message]})


def change_own_password(session: Session, email: str, *, current: str, new: str, client: str | None = None) -> Actor:
    """A signed-in user chooses their own password: the current one must match. Ends every
    other web session of theirs (the caller starts this one afresh) and clears a temporary
    password's must-change flag. Audited without either password."""
    with write_transaction(session):
        user = session.scalar(select(User).where(User.email == _normal_email(email)).with_for_update())
        if user is None or user.disabled_at is not None:
            raise NotFound(f"no user {email}")
        if not (_utf8(current) and user.password_hash and check_password_hash(user.password_hash, current)):
            raise InvalidInput("current_password: not right", errors={"current_password": ["is not right"]})
        _check_password(new)
        if new == current:
            raise InvalidInput("password: the same as the current one",
                               errors={"password": ["must differ from the current password"]})
        user.password_hash = generate_password_hash(new)
        user.session_version += 1
        user.must_change_password = False
        audit.record(session, actor=user.email, action="change-password", target_type="users",
                     target_reference=user.email, after={"password": "changed"}, client=client)
        return Actor(email=user.email, role=user.role, division_code=user.division_code)


def must_change_password(session: Session, email: str) -> bool:
    """Whether the user's password is a temporary one they have yet to change."""
    return bool(session.scalar(select(User.must_change_password).where(User.email == email)))


# -- tokens --------------------------------------------------------------------------------
def issue_token(
    session: Session, *, email: str, actor: Actor, expires_in_days: int = TOKEN_LIFETIME_DAYS,
    reason: str | None = None,
) -> tuple[str, ApiToken]:
    """Issue an API token for a user: the plain token, returned once and never stored, and
    its row. It expires after ``expires_in_days`` (1 to MAX_TOKEN_LIFETIME_DAYS)."""
    if not 1 <= expires_in_days <= MAX_TOKEN_LIFETIME_DAYS:
        raise InvalidInput(f"expires_in_days: 1 to {MAX_TOKEN_LIFETIME_DAYS}",
                           errors={"expires_in_days": [f"must be 1 to {MAX_TOKEN_LIFETIME_DAYS}"]})
    with write_transaction(session):
        user = session.scalar(select(User).where(User.email == _normal_email(email)))
        if user is None:
            raise NotFound(f"no user {email}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = clock.now()
        row = ApiToken(user_id=user.id, token_hash=_digest(token), prefix=token[:10], created_at=now,
                       expires_at=now + timedelta(days=expires_in_days))
        session.add(row)
        session.flush()
        audit.record(session, actor=actor, action="create-token", target_type="api_tokens",
                     target_reference=user.email, after=audit.snapshot(row), reason=reason)
        row.user = user
        return token, row


def create_token(session: Session, *, email: str, actor: Actor, expires_in_days: int = TOKEN_LIFETIME_DAYS) -> str:
    """Issue an API token for a user; the plain token is returned once and never stored."""
    return issue_token(session, email=email, actor=actor, expires_in_days=expires_in_days)[0]


def list_tokens(session: Session, *, email: str | None = None) -> list[ApiToken]:
    """Tokens, newest first, with their users; only one user's when ``email`` is given."""
    query = select(ApiToken).join(ApiToken.user).order_by(ApiToken.id.desc())
    if email:
        query = query.where(User.email == _normal_email(email))
    return list(session.scalars(query))


#: Ids are 32-bit on PostgreSQL, which refuses a larger number with an error, not a miss.
MAX_ID = 2**31 - 1


def get_token(session: Session, token_id: int) -> ApiToken:
    token = None
    if 1 <= token_id <= MAX_ID:
        token = session.scalar(select(ApiToken).join(ApiToken.user).where(ApiToken.id == token_id))
    if token is None:
        raise NotFound(f"no token {token_id}")
    return token


def token_state(token: ApiToken, *, now: datetime) -> str:
    """`revoked`, `expired`, `disabled-user` or `active`."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    if token.user.disabled_at is not None:
        return "disabled-user"
    return "active"


def revoke_token(session: Session, token: str | int, *, actor: Actor, reason: str | None = None) -> ApiToken:
    """Revoke a token named by its id or by its prefix (as `tokens list` shows them).
    Refused at once: the next request with it gets 401. Revoking twice changes nothing."""
    with write_transaction(session):
        query = select(ApiToken).join(ApiToken.user).with_for_update(of=ApiToken)
        if isinstance(token, int) or (token.isascii() and token.isdigit()):
            found = session.scalars(query.where(ApiToken.id == int(token))).all() if 1 <= int(token) <= MAX_ID else []
        else:
            found = session.scalars(query.where(ApiToken.prefix == token[:10])).all()
        if not found:
            raise NotFound(f"no token {token}")
        if len(found) > 1:
            raise Conflict(f"{len(found)} tokens start with {token}: name it by its id",
                           errors={"token": ["ambiguous prefix"]})
        row = found[0]
        if row.revoked_at is None:
            before = audit.snapshot(row)
            row.revoked_at = clock.now()
            session.flush()
            audit.record(session, actor=actor, action="revoke-token", target_type="api_tokens",
                         target_reference=row.user.email, before=before, after=audit.snapshot(row), reason=reason)
        return row


#: Built once: every API request asks it, and building a statement costs more than running it.
_TOKEN_OWNER = (
    select(ApiToken.id, ApiToken.expires_at, ApiToken.last_used_at, User.email, User.role, User.division_code)
    .join(User, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None), User.disabled_at.is_(None))
)


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The user a bearer token belongs to, or None for an unknown, revoked or expired token
    or a disabled user. Notes the token's use when the stored last use is stale.
    Anything not of a token's shape is unknown without a look-up (a lone surrogate, which
    a WSGI environ can hold, could not even be hashed)."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    found = session.connection().execute(_TOKEN_OWNER, {"digest": _digest(token)}).first()
    if found is None:
        return None
    now = clock.now()
    if found.expires_at <= now:
        return None
    if found.last_used_at is None or now - found.last_used_at >= LAST_USE_PRECISION:
        _note_use(session, found.id, now)
    return Actor(email=found.email, role=found.role, division_code=found.division_code)


def _note_use(session: Session, token_id: int, now: datetime) -> None:
    """Write a token's last use on a connection of its own, if the database can take it at
    once: a request is never made to wait for a writer (a long import holds SQLite's lock)
    for the sake of a note; the next request tries again. api_tokens is no ledger table, so
    this moves no revision and keeps the response cache (migration 0006)."""
    engine = session.get_bind()
    on_sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            try:
                with connection.begin():
                    connection.exec_driver_sql("PRAGMA busy_timeout=0" if on_sqlite else "SET LOCAL lock_timeout = '100ms'")
                    connection.execute(
                        update(ApiToken).where(ApiToken.id == token_id, or_(
                            ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USE_PRECISION))
                        .values(last_used_at=now))
            finally:
                if on_sqlite:  # a connection setting, not the transaction's: put back before the pool has it
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    except OperationalError:
        pass


# -- web sessions --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SignedIn:
    """The user of a web session, and whether they must choose a new password first."""

    actor: Actor
    must_change_password: bool


@cache
def _session_user() -> Select[Any]:
    """The columns a web request reads of its user: a statement built once, for every request."""
    return select(User.email, User.role, User.division_code, User.disabled_at, User.session_version,
                  User.must_change_password).where(User.email == bindparam("email"))


def actor_for_session(session: Session, email: str, version: object) -> SignedIn | None:
    """The signed-in user of a web session, if the account still exists, is enabled and the
    session is of its current version (not signed out, no new password since)."""
    user = session.connection().execute(_session_user(), {"email": email}).one_or_none()
    if user is None or user.disabled_at is not None or user.session_version != version:
        return None
    return SignedIn(Actor(email=user.email, role=user.role, division_code=user.division_code),
                    bool(user.must_change_password))


def session_version(session: Session, email: str) -> int:
    return get_user(session, email).session_version


def sign_out(session: Session, email: str, *, client: str | None = None) -> None:
    """End every web session of this user, on every browser and every copy of the cookie."""
    with write_transaction(session):
        user = session.scalar(select(User).where(User.email == email).with_for_update())
        if user is not None:
            user.session_version += 1
            audit.record(session, actor=user.email, action="sign-out", client=client)


# -- signing in ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Throttle:
    """A counter's free failures and the longest wait it imposes."""

    free: int
    cap: timedelta

    def wait_after(self, failures: int) -> timedelta | None:
        """How long to wait after the n-th failure in a row: none for the free ones, then
        one second, doubling, to the cap."""
        if failures < self.free:
            return None
        return min(FIRST_WAIT * 2 ** min(failures - self.free, 32), self.cap)


FIRST_WAIT = timedelta(seconds=1)
ADDRESS = Throttle(free=5, cap=timedelta(minutes=5))
ACCOUNT = Throttle(free=5, cap=timedelta(minutes=1))
FORGET_AFTER = timedelta(days=1)
ADDRESS_KEY, ACCOUNT_KEY = "address ", "account "


class SignInRefused(Exception):
    """Wrong email or password. The message never says which, so it does not tell an
    attacker whether an email has an account."""


class SignInThrottled(SignInRefused):
    """Too many failed attempts from this address or at this account: wait and try again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many attempts: try again in {retry_after} second{'s' if retry_after != 1 else ''}.")
        self.retry_after = retry_after


def address_key(client: str | None) -> str:
    """The throttle key of a client address: IPv6 by its /64, IPv4 whole."""
    try:
        address = ipaddress.ip_address(client or "")
    except ValueError:
        return ADDRESS_KEY + (audit.bounded(client, 200) or "unknown")
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return ADDRESS_KEY + str(address.ipv4_mapped)
        return ADDRESS_KEY + str(ipaddress.IPv6Network((address, 64), strict=False))
    return ADDRESS_KEY + str(address)


def account_key(email: str) -> str:
    return ACCOUNT_KEY + (audit.bounded(_normal_email(email), 240) or "")


def _upsert(session: Session):  # type: ignore[no-untyped-def]
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[session.get_bind().dialect.name]


def _claim(session: Session, keys: list[tuple[str, Throttle]], now: datetime) -> None:
    """Count an attempt as a failure on every key, or raise SignInThrottled (changing
    nothing) if any key is still waiting."""
    waits: list[timedelta] = []
    with write_transaction(session):
        for key, throttle in sorted(keys, key=lambda pair: pair[0]):
            claimed = _upsert(session)(SignInThrottle).values(key=key, failures=1, last_failure_at=now)
            claimed = claimed.on_conflict_do_update(
                index_elements=[SignInThrottle.key],
                set_={"failures": case((SignInThrottle.last_failure_at < now - FORGET_AFTER, 1),
                                       else_=SignInThrottle.failures + 1),
                      "last_failure_at": now},
                where=or_(SignInThrottle.blocked_until.is_(None), SignInThrottle.blocked_until <= now),
            ).returning(SignInThrottle.failures)
            failures = session.execute(claimed).scalar()
            if failures is None:
                blocked_until = session.scalar(select(SignInThrottle.blocked_until).where(SignInThrottle.key == key))
                if blocked_until is not None and blocked_until > now:
                    waits.append(blocked_until - now)
                continue
            wait = throttle.wait_after(failures)
            if wait is not None:
                session.execute(update(SignInThrottle).where(SignInThrottle.key == key)
                                .values(blocked_until=now + wait))
        if waits:
            # Raised inside the transaction, so the other key's count is rolled back too.
            raise SignInThrottled(max(1, math.ceil(max(waits).total_seconds())))


def _prune_throttles(session: Session, now: datetime) -> None:
    """Delete counters nobody has failed on for FORGET_AFTER. Skips rows another attempt
    holds (SKIP LOCKED; SQLite's writers queue anyway), so it never waits or deadlocks."""
    stale = (select(SignInThrottle.id).where(SignInThrottle.last_failure_at < now - FORGET_AFTER,
                                             or_(SignInThrottle.blocked_until.is_(None),
                                                 SignInThrottle.blocked_until < now))
             .limit(500).with_for_update(skip_locked=True))
    with write_transaction(session):
        session.execute(delete(SignInThrottle).where(SignInThrottle.id.in_(list(session.scalars(stale)))))


def sign_in(session: Session, email: str, password: str, *, client: str | None, known_device: bool = False) -> Actor:
    """Check a password, throttled per client address and per account (see the module's
    docstring). ``known_device``: this browser has signed in to this account before, so the
    account's counter is not asked. Every attempt is audited, failures counted per client
    and minute.

    Raises:
        SignInThrottled: a counter is waiting; the password was not checked.
        SignInRefused: wrong email or password, or a disabled user.
    """
    address = _normal_email(email)
    keys = [(address_key(client), ADDRESS)]
    if not known_device:
        keys.append((account_key(address), ACCOUNT))
    try:
        _claim(session, keys, clock.now())
    except SignInThrottled as throttled:
        audit.record_refusal(session, actor=ANONYMOUS, action="sign-in", client=client, target_reference=address,
                             reason="too many attempts: not checked")
        raise throttled from None
    # No account has an email with a control character or a lone surrogate (add_user), and
    # neither engine could be asked about one with a lone surrogate.
    user = None if limits.unprintable(address) else session.execute(
        select(User.email, User.role, User.division_code, User.password_hash, User.disabled_at)
        .where(User.email == address)).first()
    # The same scrypt work whether or not the email has an account with a password, and
    # whether or not the password can be hashed: one that cannot matches nothing.
    hashable = _utf8(password)
    checked = check_password_hash(user.password_hash if user and user.password_hash else DUMMY_HASH,
                                  password if hashable else "")
    matches = hashable and checked
    if user is None or not user.password_hash or not matches or user.disabled_at is not None:
        reason = "user disabled" if user and matches and user.disabled_at else "wrong email or password"
        audit.record_refusal(session, actor=user.email if user else ANONYMOUS, action="sign-in", client=client,
                             target_reference=address, reason=reason)
        raise SignInRefused("The email address or password is not right.")
    now = clock.now()
    with write_transaction(session):
        session.execute(delete(SignInThrottle).where(SignInThrottle.key.in_([address_key(client), account_key(address)])))
        audit.record(session, actor=user.email, action="sign-in", reason="signed in", client=client)
    _prune_throttles(session, now)
    return Actor(email=user.email, role=user.role, division_code=user.division_code)


def unlock(session: Session, email: str, *, actor: Actor, reason: str | None = None) -> None:
    """Clear an account's failed sign-ins, so it may be tried at once from anywhere. Audited
    with what was cleared."""
    with write_transaction(session):
        user = get_user(session, email)
        row = session.scalar(select(SignInThrottle).where(SignInThrottle.key == account_key(user.email)))
        before = {"failures": row.failures, "blocked_until": row.blocked_until} if row else {"failures": 0}
        if row is not None:
            session.delete(row)
        audit.record(session, actor=actor, action="unlock-user", target_type="users", target_reference=user.email,
                     before=before, after={"failures": 0}, reason=reason)


def throttle_of(session: Session, key: str) -> SignInThrottle | None:
    """A counter as it stands (tests and diagnosis)."""
    return session.scalar(select(SignInThrottle).where(SignInThrottle.key == key))
