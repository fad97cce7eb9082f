"""E-mail through the plant's SMTP server (``MAINTENANCE_SMTP_*``), with the standard library:
a message with a plain-text body and an HTML alternative, sent over one connection, and every
way that can fail (no server configured, unreachable, refused) turned into :class:`MailNotSent`
with a reason an administrator can act on."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from maintenance.config import Settings, get_settings
from maintenance.exceptions import MailNotSent
from maintenance.i18n import gettext as _


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None


def build_message(mail: Mail, sender: str, at: datetime) -> EmailMessage:
    """The MIME message: plain text, with the HTML as its alternative when there is one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a robot
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def send_mail(mail: Mail, at: datetime, settings: Settings | None = None) -> None:
    """Send ``mail`` (dated ``at``), or raise :class:`MailNotSent` saying why not."""
    settings = settings or get_settings()
    if not settings.smtp_host:
        raise MailNotSent(_("E-mail is off: no mail server is set (MAINTENANCE_SMTP_HOST)."))
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    message = build_message(mail, settings.smtp_from, at)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        reasons = "; ".join(f"{code} {_text(reply)}" for code, reply in error.recipients.values())
        raise MailNotSent(
            _(
                "The mail server %(server)s refused the address %(to)s: %(reason)s",
                server=server,
                to=mail.to,
                reason=reasons,
            )
        ) from error
    except smtplib.SMTPResponseException as error:
        raise MailNotSent(
            _(
                "The mail server %(server)s refused the mail: %(code)s %(reason)s",
                server=server,
                code=error.smtp_code,
                reason=_text(error.smtp_error),
            )
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        raise MailNotSent(
            _(
                "The mail server %(server)s cannot be reached: %(reason)s",
                server=server,
                reason=str(error) or type(error).__name__,
            )
        ) from error


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
