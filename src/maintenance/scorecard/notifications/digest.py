"""The daily e-mail digest: once a plant day, each user with an address who chose a digest for
some topics gets one mail listing, per topic, their unread notifications (the first
``MAINTENANCE_DIGEST_MAX_ITEMS``, then how many more), in their language, with links to the app
(``MAINTENANCE_BASE_URL``). Nothing unread: no mail.

Once a day however often it runs: a ``notification_digest`` row per user and plant day is the
claim. It is inserted ``ON CONFLICT DO NOTHING`` before the mail is sent, so of two runs at once
(cron and a scheduler, two schedulers) the one that inserted it sends and the other skips; the
row records when the mail went and how many items it listed. A mail the server would not take
releases its claim (the row goes), so the next run tries that user again, and the failure is
raised to the caller, which reports it.

Services flush, never commit; ``now`` is passed in. The caller gives each user's digest a
transaction of its own (:func:`send_digest`), so a sent mail's record is committed at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from maintenance.config import get_settings
from maintenance.db import plant_timezone
from maintenance.exceptions import MailNotSent
from maintenance.i18n import format_date, using_locale
from maintenance.i18n import gettext as _
from maintenance.mail import Mail, send_mail
from maintenance.org.models import User
from maintenance.scorecard.notifications import service
from maintenance.scorecard.notifications.choices import Topic
from maintenance.scorecard.notifications.models import NotificationDigest, NotificationPreference
from maintenance.scorecard.notifications.sources import Notification
from maintenance.web import templates

TEMPLATE_DIR = "scorecard/notifications/email"


@dataclass(frozen=True)
class DigestSection:
    """One topic of a digest: the items listed and how many more are unread."""

    topic: Topic
    items: list[Notification]
    more: int


@dataclass(frozen=True)
class Digest:
    user: User
    day: date
    sections: list[DigestSection]

    @property
    def item_count(self) -> int:
        """Every unread item the digest stands for, listed or counted."""
        return sum(len(section.items) + section.more for section in self.sections)


@dataclass
class DigestReport:
    """What a run did: the users mailed (or, on a dry run, who would be), the users skipped
    (already mailed this plant day, or nothing unread) and the failures with their reasons."""

    day: date
    dry_run: bool = False
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def plant_day(now: datetime) -> date:
    return now.astimezone(plant_timezone()).date()


def recipient_ids(session: Session) -> list[int]:
    """Active users with an address who chose a digest for at least one topic, by id: one query.
    (Whether their role still allows the topic is checked per user.)"""
    chose_digest = exists().where(
        col(NotificationPreference.user_id) == col(User.id),
        col(NotificationPreference.enabled).is_(True),
        col(NotificationPreference.digest).is_(True),
    )
    stmt = (
        select(col(User.id))
        .where(col(User.is_active).is_(True), col(User.email).is_not(None), col(User.email) != "", chose_digest)
        .order_by(col(User.id))
    )
    return list(session.scalars(stmt))


def user_language(user: User) -> str:
    return user.language or get_settings().language


def build_digest(session: Session, user: User, now: datetime) -> Digest:
    """``user``'s unread items of their digest topics as of ``now``, topic by topic in the
    topics' order, newest first, in the current locale (titles are worded when computed)."""
    limit = get_settings().digest_max_items
    sections = []
    topics = service.digest_topics(session, user)
    if topics:
        unread = [item for item in service.notifications_of(session, user, now) if not item.read]
        for topic in topics:
            items = [item for item in unread if item.topic == topic]
            if items:
                sections.append(DigestSection(topic, items[:limit], max(0, len(items) - limit)))
    return Digest(user=user, day=plant_day(now), sections=sections)


def render_digest(digest: Digest) -> Mail:
    """The mail of ``digest`` in the current locale: plain text and its HTML alternative."""
    assert digest.user.email, "only users with an address get a digest"
    context = {
        "digest": digest,
        "user": digest.user,
        "day": format_date(digest.day, "long"),
        "base_url": get_settings().base_url,
    }
    subject = _("Maintenance notifications for %(day)s: %(count)s unread", day=context["day"], count=digest.item_count)
    return Mail(
        to=digest.user.email,
        subject=subject,
        text=templates.env.get_template(f"{TEMPLATE_DIR}/digest.txt").render(context),
        html=templates.env.get_template(f"{TEMPLATE_DIR}/digest.html").render(context),
    )


def already_claimed(session: Session, user_id: int, day: date) -> bool:
    return (
        session.scalar(
            select(col(NotificationDigest.id)).where(
                col(NotificationDigest.user_id) == user_id, col(NotificationDigest.day) == day
            )
        )
        is not None
    )


def _claim(session: Session, user_id: int, day: date, now: datetime) -> int | None:
    """Insert the day's claim for ``user_id``; its id, or None when another run holds it."""
    insert = postgresql.insert if session.connection().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(NotificationDigest)
        .values(user_id=user_id, day=day, claimed_at=now, item_count=0)
        .on_conflict_do_nothing()
        .returning(col(NotificationDigest.id))
    )
    return session.scalar(stmt)


def send_digest(session: Session, user_id: int, now: datetime, report: DigestReport) -> None:
    """Send ``user_id``'s digest for the plant day of ``now`` unless it went already (or, on a dry
    run, say whether it would), and note the outcome in ``report``. A mail the server refuses
    releases the claim and raises :class:`MailNotSent` (noted in ``report`` first)."""
    user = session.get(User, user_id)
    if user is None or not user.email:
        return
    day = plant_day(now)
    if already_claimed(session, user_id, day):
        report.skipped.append(user.username)
        return
    with using_locale(user_language(user)):
        digest = build_digest(session, user, now)
        mail = render_digest(digest) if digest.sections else None
    if mail is None:
        report.skipped.append(user.username)
        return
    if report.dry_run:
        report.sent.append(user.username)
        return
    claim = _claim(session, user_id, day, now)
    if claim is None:  # another run claimed it since the check above
        report.skipped.append(user.username)
        return
    try:
        send_mail(mail, now)
    except MailNotSent as error:
        session.execute(delete(NotificationDigest).where(col(NotificationDigest.id) == claim))
        report.failed.append((user.username, error.message))
        raise
    row = session.get(NotificationDigest, claim)
    assert row is not None
    row.sent_at = now
    row.item_count = digest.item_count
    session.flush()
    report.sent.append(user.username)
