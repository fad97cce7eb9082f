"""The daily e-mail digest: once a plant day, each user with an address who chose a digest for
some topics gets one mail listing, per topic, their unread notifications (the first
``MAINTENANCE_DIGEST_MAX_ITEMS``, then how many more), in their language, with links to the app
(``MAINTENANCE_BASE_URL``). Nothing unread: no mail.

Once a day however often it runs: a ``notification_digest`` row per user and plant day is the
claim. It is inserted ``ON CONFLICT DO NOTHING`` and committed before the mail is sent, so of two
runs at once (cron and a scheduler, two schedulers) the one that inserted it sends and the other
skips; the row records when the mail went and how many items it listed. The mail server is talked
to with no transaction open (a slow server never holds the database's write lock), and the sent
mail is recorded in a second short transaction. A mail the server would not take releases its
claim (the row goes), so the next run tries that user again, and the failure is raised to the
caller, which reports it. A claim never marked sent within :data:`STALE_CLAIM` (its run died
while sending) is taken over by the next run.

Services flush, never commit; ``now`` is passed in. The caller hands :func:`send_digest` its
transactions (``transaction()``, one each for the claim, and the record or the release)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, exists, or_, select, update
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
STALE_CLAIM = timedelta(hours=1)  # a claim not marked sent by then: its run died, the mail may be retried

Transaction = Callable[[], AbstractContextManager[Session]]


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


@dataclass(frozen=True)
class ClaimedDigest:
    """A digest claimed (committed) and ready to go: the claim's row, the mail, what it lists."""

    claim: int
    username: str
    mail: Mail
    item_count: int


def already_claimed(session: Session, user_id: int, day: date, now: datetime) -> bool:
    """Whether ``user_id``'s digest of ``day`` went, or another run is sending it (a claim
    younger than :data:`STALE_CLAIM`)."""
    return (
        session.scalar(
            select(col(NotificationDigest.id)).where(
                col(NotificationDigest.user_id) == user_id,
                col(NotificationDigest.day) == day,
                or_(
                    col(NotificationDigest.sent_at).is_not(None),
                    col(NotificationDigest.claimed_at) > now - STALE_CLAIM,
                ),
            )
        )
        is not None
    )


def _claim(session: Session, user_id: int, day: date, now: datetime) -> int | None:
    """Insert the day's claim for ``user_id``, or take over a stale one (never sent, older than
    :data:`STALE_CLAIM`); its id, or None when another run holds it or the digest went."""
    insert = postgresql.insert if session.connection().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(NotificationDigest)
        .values(user_id=user_id, day=day, claimed_at=now, item_count=0)
        .on_conflict_do_nothing()
        .returning(col(NotificationDigest.id))
    )
    claim = session.scalar(stmt)
    if claim is not None:
        return claim
    # One statement: of two runs taking over the same stale claim, the row's lock lets one win.
    take_over = (
        update(NotificationDigest)
        .where(
            col(NotificationDigest.user_id) == user_id,
            col(NotificationDigest.day) == day,
            col(NotificationDigest.sent_at).is_(None),
            col(NotificationDigest.claimed_at) <= now - STALE_CLAIM,
        )
        .values(claimed_at=now)
        .returning(col(NotificationDigest.id))
    )
    return session.scalar(take_over)


def claim_digest(session: Session, user_id: int, now: datetime, report: DigestReport) -> ClaimedDigest | None:
    """Claim ``user_id``'s digest for the plant day of ``now`` and word it; None (noted in
    ``report``) when it went already, another run is sending it, there is nothing unread, or on a
    dry run (which claims nothing)."""
    user = session.get(User, user_id)
    if user is None or not user.email:
        return None
    day = plant_day(now)
    if already_claimed(session, user_id, day, now):
        report.skipped.append(user.username)
        return None
    with using_locale(user_language(user)):
        digest = build_digest(session, user, now)
        mail = render_digest(digest) if digest.sections else None
    if mail is None:
        report.skipped.append(user.username)
        return None
    if report.dry_run:
        report.sent.append(user.username)
        return None
    claim = _claim(session, user_id, day, now)
    if claim is None:  # another run claimed it since the check above
        report.skipped.append(user.username)
        return None
    return ClaimedDigest(claim=claim, username=user.username, mail=mail, item_count=digest.item_count)


def record_sent(session: Session, claimed: ClaimedDigest, now: datetime) -> None:
    session.execute(
        update(NotificationDigest)
        .where(col(NotificationDigest.id) == claimed.claim)
        .values(sent_at=now, item_count=claimed.item_count)
    )


def release_claim(session: Session, claimed: ClaimedDigest) -> None:
    session.execute(
        delete(NotificationDigest).where(
            col(NotificationDigest.id) == claimed.claim, col(NotificationDigest.sent_at).is_(None)
        )
    )


def send_digest(transaction: Transaction, user_id: int, now: datetime, report: DigestReport) -> None:
    """Send ``user_id``'s digest for the plant day of ``now`` unless it went already (or, on a dry
    run, say whether it would), and note the outcome in ``report``: the claim in a transaction of
    its own, the mail with none open, then the record in another. A mail the server refuses
    releases the claim and raises :class:`MailNotSent` (noted in ``report`` first)."""
    with transaction() as session:
        claimed = claim_digest(session, user_id, now, report)
    if claimed is None:
        return
    try:
        send_mail(claimed.mail, now)
    except MailNotSent as error:
        with transaction() as session:
            release_claim(session, claimed)
        report.failed.append((claimed.username, error.message))
        raise
    with transaction() as session:
        record_sent(session, claimed, now)
    report.sent.append(claimed.username)
