"""Email: messages of a plain text and an HTML part rendered from ledger/templates/mail,
sent through SMTP as LEDGER_SMTP_URL says (docs/NOTIFICATIONS.md):

- ``smtp://host:port``: plain SMTP (port 25 by default), for a relay on the same network;
- ``smtp+starttls://user:pass@host:port``: upgraded to TLS before signing in (587);
- ``smtps://user:pass@host:port``: TLS from the start (465).

A user name or password holding ``@``, ``:`` or ``/`` is percent-encoded in the URL."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import jinja2

from ledger.domain.money import format_money
from ledger.domain.wording import written_date

SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}
TEMPLATES = Path(__file__).parent / "templates" / "mail"
#: Dates in messages are UK days, as the pages show them.
UK = ZoneInfo("Europe/London")


class MailFailed(Exception):
    """A message could not be handed to the SMTP server; the reason is the message."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int
    #: plain, starttls or tls.
    security: str
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpSettings:
    """The settings LEDGER_SMTP_URL gives; ValueError saying what is wrong with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise ValueError(f"LEDGER_SMTP_URL must start smtp://, smtp+starttls:// or smtps://, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("LEDGER_SMTP_URL names no host")
    security, default_port = SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("LEDGER_SMTP_URL has a port that is not a number from 1 to 65535") from None
    return SmtpSettings(host=parts.hostname, port=port, security=security,
                        username=unquote(parts.username) if parts.username else None,
                        password=unquote(parts.password) if parts.password else None)


class SmtpMailer:
    """Sends messages over one SMTP connection, opened on the first message and again after
    a failure, so one refused message does not fail the rest."""

    def __init__(self, settings: SmtpSettings, *, timeout: float = 30) -> None:
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        if s.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if s.username:
            smtp.login(s.username, s.password or "")
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server; MailFailed if it cannot be."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise MailFailed(f"{type(error).__name__}: {error}") from None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def build_message(*, sender: str, to: str, subject: str, text: str, html: str, sent_at: datetime) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML the richer part."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _money(value: Decimal | None) -> str:
    return "" if value is None else format_money(Decimal(value))


def _long_date(value: date | datetime | None) -> str:
    """31 March 2024, as council papers write dates; a moment by its day in the UK."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UK)
    return "" if value is None else written_date(value)


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
)
_environment.filters["money"] = _money
_environment.filters["long_date"] = _long_date


def render(template: str, **context: Any) -> tuple[str, str]:
    """The plain text and HTML of message ``template`` (``template.txt``, ``template.html``)."""
    return (_environment.get_template(f"{template}.txt").render(**context),
            _environment.get_template(f"{template}.html").render(**context))
