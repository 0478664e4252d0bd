"""The channels a notice can leave by: e-mail over SMTP, SMS through an HTTP gateway, and every extension's
``NOTIFICATION_SENDERS`` channel. A sender is ``fn(address, subject, body)`` that returns when the message was
accepted and raises (:class:`SendError` or any error) when it was not.

Settings (environment, see ``helpline.config``): ``HELPLINE_SMTP_HOST`` (empty: no e-mail), ``_PORT`` (25),
``_USER`` / ``_PASSWORD`` (log in when set), ``_FROM``, ``_STARTTLS``; ``HELPLINE_SMS_URL`` (empty: no SMS),
``HELPLINE_SMS_BODY`` (a template with ``{phone}`` and ``{text}``) and ``HELPLINE_SMS_FORMAT`` (``json``: the
body is JSON and the values are JSON-escaped; ``form``: the values are URL-encoded); ``HELPLINE_NOTICE_CHANNELS``
(which channels each kind of notice goes to) and ``HELPLINE_NOTICE_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from helpline.config import Settings
from helpline.extension_registry import registry

Sender = Callable[[str, str, str], None]
SEND_TIMEOUT_S = 15.0
DEFAULT_CHANNELS = "sla_warning=email,sms sla_breach=email,sms escalate=email,sms *=email"


class SendError(Exception):
    """A channel refused or could not take a message; the message says why (kept as the delivery's error)."""


def parse_channels(text: str) -> dict[str, list[str]]:
    """``"sla_breach=email,sms *=email"`` → ``{"sla_breach": ["email", "sms"], "*": ["email"]}``; a kind
    with no channels (``transition=``) goes to the notice centre only."""
    out: dict[str, list[str]] = {}
    for part in text.replace(";", " ").split():
        kind, sep, channels = part.partition("=")
        if not sep or not kind:
            raise ValueError(f"HELPLINE_NOTICE_CHANNELS: '{part}' is not kind=channel,channel (e.g. "
                             f"'sla_breach=email,sms *=email')")
        out[kind.strip()] = [c.strip() for c in channels.split(",") if c.strip()]
    return out


@dataclass
class DeliveryConfig:
    """What the delivery pass needs of the settings."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "helpline@localhost"
    smtp_starttls: bool = False
    sms_url: str = ""
    sms_body: str = '{"to": "{phone}", "text": "{text}"}'
    sms_format: str = "json"
    channels: dict[str, list[str]] = field(default_factory=lambda: parse_channels(DEFAULT_CHANNELS))
    max_attempts: int = 5
    extra: dict[str, Sender] = field(default_factory=dict)
    """Senders given in code (tests, embedding); they win over the settings' and the extensions'."""

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        if settings.sms_format not in ("json", "form"):
            raise ValueError(f"HELPLINE_SMS_FORMAT must be json or form (got {settings.sms_format!r})")
        if settings.sms_url and not settings.sms_url.startswith(("http://", "https://")):
            raise ValueError(f"HELPLINE_SMS_URL must be an http:// or https:// URL (got {settings.sms_url!r})")
        if settings.notice_max_attempts < 1:
            raise ValueError("HELPLINE_NOTICE_MAX_ATTEMPTS must be at least 1")
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password,
                   settings.smtp_from, settings.smtp_starttls, settings.sms_url, settings.sms_body,
                   settings.sms_format, parse_channels(settings.notice_channels), settings.notice_max_attempts)

    def channels_for(self, kind: str) -> list[str]:
        return self.channels.get(kind, self.channels.get("*", []))

    def sender(self, channel: str) -> Sender | None:
        """The sender of ``channel``, None when it is not set up (no SMTP host, no SMS URL, no extension)."""
        if channel in self.extra:
            return self.extra[channel]
        if channel == "email" and self.smtp_host:
            return self.send_email
        if channel == "sms" and self.sms_url:
            return self.send_sms
        found = registry().sender(channel)
        if found is None:
            return None
        name, fn = found
        return _extension_sender(name, channel, fn)

    # -- e-mail ------------------------------------------------------------------------------------------
    def send_email(self, address: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.smtp_from, address, subject
        message["Date"], message["Message-ID"] = formatdate(localtime=False), make_msgid(domain="helpline")
        message.set_content(body, cte="quoted-printable")  # 7-bit clean for servers without 8BITMIME
        try:
            with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=SEND_TIMEOUT_S) as smtp:
                if self.smtp_starttls:
                    smtp.starttls()
                if self.smtp_user:
                    smtp.login(self.smtp_user, self.smtp_password)
                refused = smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"SMTP {self.smtp_host}:{self.smtp_port}: {type(exc).__name__}: {exc}") from exc
        if refused:
            raise SendError(f"SMTP {self.smtp_host}:{self.smtp_port} refused {', '.join(refused)}")

    # -- SMS ---------------------------------------------------------------------------------------------
    def sms_request(self, phone: str, text: str) -> urllib.request.Request:
        """The gateway request for one SMS (the body template filled in)."""
        if self.sms_format == "json":
            def esc(v: str) -> str:
                return json.dumps(v, ensure_ascii=False)[1:-1]
            content_type = "application/json; charset=utf-8"
        else:
            def esc(v: str) -> str:
                return urllib.parse.quote_plus(v)
            content_type = "application/x-www-form-urlencoded"
        body = self.sms_body.replace("{phone}", esc(phone)).replace("{text}", esc(text))
        return urllib.request.Request(  # noqa: S310 (the URL's scheme is checked by from_settings)
            self.sms_url, data=body.encode("utf-8"), method="POST", headers={"Content-Type": content_type})

    def send_sms(self, address: str, subject: str, body: str) -> None:
        text = f"{subject}\n{body}".strip() if body else subject
        try:
            with urllib.request.urlopen(self.sms_request(address, text), timeout=SEND_TIMEOUT_S) as answer:  # noqa: S310
                status = answer.status
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode("utf-8", "replace")
            raise SendError(f"SMS gateway answered {exc.code}: {detail}") from exc
        except (OSError, ValueError) as exc:
            raise SendError(f"SMS gateway {self.sms_url}: {type(exc).__name__}: {exc}") from exc
        if not 200 <= status < 300:
            raise SendError(f"SMS gateway answered {status}")


_FAILED = object()


def _extension_sender(extension: str, channel: str, fn: Callable[..., object]) -> Sender:
    def send(address: str, subject: str, body: str) -> None:
        result = registry().call(extension, f"sender {channel}", fn, address, subject, body, fallback=_FAILED)
        if result is _FAILED or result is False:
            raise SendError(f"extension '{extension}': the {channel} sender failed or ran over its time limit "
                            f"(see the log)")
    return send
