"""Admin pages (issue 15 item 6): the people who sign in and their API tokens, for admins;
and /account, where anyone signed in changes their own password.

Every change is one call to ledger.services.users, which audits it: the pages ask why and
pass the reason on. A person an admin adds, or gives a new password, gets a temporary one
they must change at their next sign-in (ledger.web.auth sends them to /account)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger import clock
from ledger.domain import limits
from ledger.domain.errors import LedgerError
from ledger.domain.vocab import Role
from ledger.extensions import get_session
from ledger.services import Actor, audit, registry, users
from ledger.web import bp
from ledger.web.auth import current_actor, requires, start_session
from ledger.web.layout import ROLE_NAMES

STATE_NAMES = {"active": "Active", "expired": "Expired", "revoked": "Revoked", "disabled-user": "User disabled"}
#: What each form on a user's page does; each has its own reason box, so its own field id.
USER_ACTIONS = {"change": "reason", "password": "password_reason", "disable": "access_reason",
                "enable": "access_reason", "unlock": "unlock_reason"}
Errors = dict[str, list[str]]
MAX_NAME = 200


def _actor() -> Actor:
    actor = current_actor()
    assert actor is not None  # every view here requires a signed-in user
    return actor


def _reason(errors: Errors, field: str = "reason") -> str:
    """Why the change is made, which the audit log keeps with it: required."""
    reason = request.form.get(field, "").strip()
    if not reason:
        errors[field] = ["Enter why you are making this change"]
    elif len(reason) > audit.REASON_SIZE:
        errors[field] = [f"The reason must be {audit.REASON_SIZE:,} characters or fewer"]
    return reason


def _choose(errors: Errors, field: str, label: str, allowed: object) -> str | None:
    """A choice from a list the page offered, checked against it here: anything else (a
    forged form) is named by the field, never sent on to the database. Blank is None."""
    value = request.form.get(field, "")
    if value and value not in allowed:  # type: ignore[operator]
        errors[field] = [f"Choose a {label} from the list"]
    return value or None


def _name(errors: Errors) -> str | None:
    name = request.form.get("name", "").strip()
    if limits.unprintable(name):
        errors["name"] = ["Name must not contain control characters"]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"Name must be {MAX_NAME} characters or fewer"]
    return name or None


def _password_limit(label: str) -> str:
    return f"{label} must be {users.MIN_PASSWORD} to {users.MAX_PASSWORD:,} characters long"


def _new_password(errors: Errors, label: str) -> str:
    """The password field, blank or out of the service's bounds named here with the form's
    other errors (the service checks again)."""
    password = request.form.get("password", "")
    if not password:
        errors["password"] = [f"Enter a {label.lower()}"]
    elif not users.MIN_PASSWORD <= len(password) <= users.MAX_PASSWORD:
        errors["password"] = [_password_limit(label)]
    return password


def _refusal(refused: LedgerError, fields: dict[str, tuple[str, str]]) -> Errors:
    """A service's refusal as GOV.UK messages under the page's own field ids. ``fields``
    maps the service's field names to the page's (id, label)."""
    errors: Errors = {}
    for name, messages in (refused.errors or {"": [refused.detail]}).items():
        field, label = fields.get(name, next(iter(fields.values())))
        for message in messages:
            if message[:1].isupper():  # already a sentence for people (users.LAST_ADMIN_ROLE ...)
                text = message
            elif name == "password" and message[:1].isdigit():
                text = _password_limit(label)
            elif message == "not an email address":
                text = "Enter an email address in the correct format, like name@council.gov.uk"
            elif message == "already exists":
                text = "There is already a user with this email address"
            elif name in ("division_code", "role"):
                text = f"Choose a {label.lower()} from the list"
            elif message.startswith("must "):
                text = f"{label} {message}"
            elif name == "current_password":
                text = "Your current password is not right"
            else:
                text = f"{label}: {message}"
            errors.setdefault(field, []).append(text)
    return errors


def _choices() -> dict[str, object]:
    return {"roles": ROLE_NAMES, "divisions": registry.place_names(get_session())["divisions"],
            "min_password": users.MIN_PASSWORD}


# -- users ---------------------------------------------------------------------------------
ADD_FIELDS = {"email": ("email", "Email address"), "role": ("role", "Role"), "password": ("password", "Temporary password"),
              "division_code": ("division", "Division"), "name": ("name", "Name")}


@bp.route("/admin/users", methods=["GET", "POST"])
@requires(Role.ADMIN)
def admin_users() -> ResponseReturnValue:
    s = get_session()
    errors: Errors = {}
    values = request.form.to_dict() if request.method == "POST" else {"role": Role.OFFICER}
    if request.method == "POST":
        choices = _choices()
        name, role = _name(errors), _choose(errors, "role", "role", choices["roles"])
        division = _choose(errors, "division", "division", choices["divisions"])
        password = _new_password(errors, "Temporary password")
        reason = _reason(errors)
        if not errors:
            try:
                user = users.add_user(s, email=values.get("email", ""), name=name, role=role or "",
                                      password=password, division_code=division, must_change_password=True,
                                      actor=_actor(), reason=reason)
            except LedgerError as refused:
                errors = _refusal(refused, ADD_FIELDS)
            else:
                flash(f"{user.email} added. They must change the temporary password when they first sign in.", "success")
                return redirect(url_for("web.admin_user", user_id=user.id))
    return render_template("admin_users.html", users=users.list_users(s), values=values, errors=errors,
                           **_choices()), 422 if errors else 200


@bp.route(f"/admin/users/<int(max={users.MAX_ID}):user_id>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def admin_user(user_id: int) -> ResponseReturnValue:
    s = get_session()
    user = users.get_user_by_id(s, user_id)
    errors: Errors = {}
    action = request.form.get("action", "")
    if request.method == "POST":
        if action not in USER_ACTIONS:
            abort(400, description="action: choose one of the page's buttons.")
        password = _new_password(errors, "Temporary password") if action == "password" else ""
        if action == "change":
            choices = _choices()
            _choose(errors, "role", "role", choices["roles"])
            _choose(errors, "division", "division", choices["divisions"])
        reason = _reason(errors, USER_ACTIONS[action])
        if not errors:
            try:
                done = _change_user(user.email, action, reason, password)
            except LedgerError as refused:
                errors = _refusal(refused, {"role": ("role", "Role"), "division_code": ("division", "Division"),
                                            "password": ("password", "Temporary password"),
                                            "disabled": (USER_ACTIONS[action], "Reason"),
                                            "": (USER_ACTIONS[action], "Reason")})
            else:
                flash(done, "success")
                return redirect(url_for("web.admin_user", user_id=user.id))
    throttle = users.throttle_of(s, users.account_key(user.email))
    return render_template("admin_user.html", user=user, errors=errors, action=action, form=request.form,
                           throttle=throttle, now=clock.now(), tokens=users.list_tokens(s, email=user.email),
                           state_names=STATE_NAMES, state=users.token_state, **_choices()), 422 if errors else 200


def _change_user(email: str, action: str, reason: str, password: str) -> str:
    """Make one change to a user and say what was done."""
    s, actor = get_session(), _actor()
    if action == "change":
        users.change_user(s, email, actor=actor, reason=reason, role=request.form.get("role") or None,
                          division_code=request.form.get("division") or None)
        return f"Role and division of {email} saved."
    if action == "password":
        users.change_user(s, email, actor=actor, reason=reason, password=password, must_change_password=True)
        return f"Temporary password set for {email}. They must change it when they next sign in."
    if action == "unlock":
        users.unlock(s, email, actor=actor, reason=reason)
        return f"{email} can sign in again at once."
    users.change_user(s, email, actor=actor, reason=reason, disabled=action == "disable")
    return f"{email} {'disabled: their sessions have ended and their tokens are refused' if action == 'disable' else 're-enabled'}."


# -- tokens --------------------------------------------------------------------------------
@bp.route("/admin/tokens", methods=["GET", "POST"])
@requires(Role.ADMIN)
def admin_tokens() -> ResponseReturnValue:
    s = get_session()
    errors: Errors = {}
    values = request.form.to_dict() if request.method == "POST" else {"days": str(users.TOKEN_LIFETIME_DAYS)}
    issued = None
    if request.method == "POST":
        days = values.get("days", "").strip()
        if not (days.isascii() and days.isdigit() and 1 <= int(days) <= users.MAX_TOKEN_LIFETIME_DAYS):
            errors["days"] = [f"Days until it expires must be a whole number from 1 to {users.MAX_TOKEN_LIFETIME_DAYS:,}"]
        if not _choose(errors, "email", "user", {u.email for u in users.list_users(s)}) and "email" not in errors:
            errors["email"] = ["Choose the user the token is for"]
        reason = _reason(errors)
        if not errors:
            try:
                issued = users.issue_token(s, email=values["email"], actor=_actor(), expires_in_days=int(days),
                                           reason=reason)
            except LedgerError as refused:
                errors = _refusal(refused, {"": ("email", "User")})
            else:
                values = {"days": str(users.TOKEN_LIFETIME_DAYS)}
    return render_template("admin_tokens.html", tokens=users.list_tokens(s), users=users.list_users(s),
                           values=values, errors=errors, issued=issued, now=clock.now(), state=users.token_state,
                           state_names=STATE_NAMES), 422 if errors else 200


@bp.route(f"/admin/tokens/<int(max={users.MAX_ID}):token_id>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def admin_token(token_id: int) -> ResponseReturnValue:
    s = get_session()
    token = users.get_token(s, token_id)
    errors: Errors = {}
    if request.method == "POST":
        reason = _reason(errors)
        if not errors:
            users.revoke_token(s, token.id, actor=_actor(), reason=reason)
            flash(f"Token {token.prefix}… of {token.user.email} revoked: it no longer works.", "success")
            return redirect(url_for("web.admin_tokens"))
    return render_template("admin_token.html", token=token, errors=errors, form=request.form, now=clock.now(),
                           state=users.token_state, state_names=STATE_NAMES), 422 if errors else 200


# -- a user's own account ------------------------------------------------------------------
@bp.route("/account", methods=["GET", "POST"])
@requires()
def account() -> ResponseReturnValue:
    s, actor = get_session(), _actor()
    errors: Errors = {}
    if request.method == "POST":
        current = request.form.get("current_password", "")
        if not current:
            errors["current_password"] = ["Enter your current password"]
        new = _new_password(errors, "New password")
        if "password" not in errors and new != request.form.get("confirm", ""):
            errors["confirm"] = ["The new passwords do not match: type the same one twice"]
        if not errors:
            try:
                changed = users.change_own_password(s, actor.email, current=current, new=new,
                                                    client=request.remote_addr)
            except LedgerError as refused:
                errors = _refusal(refused, {"password": ("password", "New password"),
                                            "current_password": ("current_password", "Current password")})
            else:
                start_session(changed)  # the change ended every session, this one too
                flash("Your password has been changed.", "success")
                return redirect(url_for("web.home"))
    return render_template("account.html", errors=errors, role_names=ROLE_NAMES,
                           must_change=users.must_change_password(s, actor.email),
                           min_password=users.MIN_PASSWORD), 422 if errors else 200
