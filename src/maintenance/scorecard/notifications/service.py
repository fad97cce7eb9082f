"""A user's notifications: the topics their role allows and they left on, each topic's items
(:mod:`maintenance.scorecard.notifications.sources`) newest first with their read marks, the unread count,
marking read, and the preferences. Services flush, never commit; ``now`` is passed in."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.exceptions import Conflict, NotFound
from maintenance.i18n import gettext as _
from maintenance.org.models import User
from maintenance.org.permissions import can, writable_workshop_ids
from maintenance.scorecard.notifications import sources
from maintenance.scorecard.notifications.choices import TOPIC_CAPABILITY, Topic
from maintenance.scorecard.notifications.models import NotificationPreference, NotificationRead
from maintenance.scorecard.notifications.sources import SOURCES, Notification


def allowed_topics(user: User) -> list[Topic]:
    """The topics ``user``'s role may hear about (engineers have no approvals nor budget)."""
    return [topic for topic in Topic if can(user, TOPIC_CAPABILITY[topic])]


def preferences_of(session: Session, user: User) -> dict[Topic, NotificationPreference]:
    rows = session.scalars(select(NotificationPreference).where(col(NotificationPreference.user_id) == user.id))
    return {row.topic: row for row in rows}


def enabled_topics(session: Session, user: User) -> list[Topic]:
    """The allowed topics ``user`` has not switched off (a topic never set is on): one query."""
    allowed = allowed_topics(user)
    if not allowed:
        return []
    chosen = preferences_of(session, user)
    return [topic for topic in allowed if topic not in chosen or chosen[topic].enabled]


def digest_topics(session: Session, user: User) -> list[Topic]:
    """The topics ``user`` hears about whose unread items also go out in the daily e-mail digest
    (off unless chosen): one query."""
    allowed = allowed_topics(user)
    if not allowed:
        return []
    chosen = preferences_of(session, user)
    return [topic for topic in allowed if topic in chosen and chosen[topic].enabled and chosen[topic].digest]


def notifications_of(session: Session, user: User, now: datetime, topic: Topic | None = None) -> list[Notification]:
    """``user``'s notifications (of one topic, if given) newest first, each marked read or not, in
    a fixed number of queries whatever the rows."""
    topics = [t for t in enabled_topics(session, user) if topic is None or t == topic]
    if not topics:
        return []
    workshops = writable_workshop_ids(session, user)
    items = [item for t in topics for item in SOURCES[t](session, user, now, workshops)]
    read = _read_keys(session, user, [item.key for item in items])
    marked = [
        Notification(item.key, item.topic, item.at, item.title, item.detail, item.href, item.key in read)
        for item in items
    ]
    return sorted(marked, key=lambda item: (item.at, item.key), reverse=True)


def unread_count(session: Session, user: User, now: datetime) -> int:
    """How many of ``user``'s notifications are unread (the bell): each topic counts its items
    without building them (:data:`sources.COUNTERS`), so it runs a small fixed number of queries
    whatever the plant's size, and equals the unread items :func:`notifications_of` lists."""
    topics = enabled_topics(session, user)
    if not topics:
        return 0
    workshops = writable_workshop_ids(session, user)
    counts = [sources.COUNTERS[topic](session, user, now, workshops) for topic in topics]
    keys = frozenset().union(*(count.keys for count in counts))
    return sum(count.counted for count in counts) + len(keys - _read_keys(session, user, keys))


def _read_keys(session: Session, user: User, keys: Collection[str]) -> set[str]:
    if not keys:
        return set()
    return set(
        session.scalars(
            select(col(NotificationRead.key)).where(
                col(NotificationRead.user_id) == user.id, col(NotificationRead.key).in_(list(keys))
            )
        )
    )


# A read mark is kept this long whatever becomes of its item, then only while the item lasts.
KEEP_READ_MARKS = timedelta(days=90)


def purge_read_marks(session: Session, now: datetime, keep: timedelta = KEEP_READ_MARKS) -> int:
    """Delete the read marks set before ``now - keep`` whose item no longer exists (the order
    approved or closed, the alarm cleared, the inspection done, the month over); how many went.
    Run by each ``maintenance scheduler`` pass."""
    stale = session.execute(
        select(col(NotificationRead.id), col(NotificationRead.key)).where(col(NotificationRead.read_at) < now - keep)
    ).all()
    if not stale:
        return 0
    live = sources.live_keys(session, now, {key for _id, key in stale})
    dead = [mark_id for mark_id, key in stale if key not in live]
    for start in range(0, len(dead), _DELETE_BATCH):
        batch = dead[start : start + _DELETE_BATCH]
        session.execute(delete(NotificationRead).where(col(NotificationRead.id).in_(batch)))
    return len(dead)


_DELETE_BATCH = 500


def _mark(session: Session, user: User, keys: Collection[str], now: datetime) -> int:
    """Mark ``keys`` read; how many were unread. ``INSERT … ON CONFLICT DO NOTHING``: a mark the
    same user's other request (a double click, a second tab) stored meanwhile is no error."""
    assert user.id is not None
    fresh = set(keys) - _read_keys(session, user, keys)
    if fresh:
        insert = postgresql.insert if session.connection().dialect.name == "postgresql" else sqlite.insert
        rows = [{"user_id": user.id, "key": key, "read_at": now} for key in sorted(fresh)]
        session.execute(insert(NotificationRead).values(rows).on_conflict_do_nothing())
    return len(fresh)


def mark_read(session: Session, user: User, key: str, now: datetime) -> None:
    """Mark one of ``user``'s current notifications read (again is no error); a key that is not one
    of them is refused with 404."""
    if key not in {item.key for item in notifications_of(session, user, now)}:
        raise NotFound(_("You have no notification %(key)s (it may have been dealt with meanwhile).", key=key))
    _mark(session, user, [key], now)


def mark_all_read(session: Session, user: User, now: datetime, topic: Topic | None = None) -> int:
    """Mark every current notification of ``user`` (of one topic, if given) read; how many were unread."""
    return _mark(session, user, [item.key for item in notifications_of(session, user, now, topic)], now)


def save_preferences(
    session: Session, user: User, enabled: Collection[Topic], now: datetime, digest: Collection[Topic] | None = ()
) -> int:
    """Switch each topic ``user`` may choose on (in ``enabled``) or off, and its daily e-mail
    digest on (in ``digest`` and on in the centre) or off; each change is in the change log.
    ``digest`` None (e-mail off, the digest not offered) keeps each topic's digest as stored
    while the topic stays on. Returns how many topics changed."""
    assert user.id is not None
    stored = preferences_of(session, user)
    try:
        # All topics or none: a setting the same user's other request saved between the read above
        # and these writes (a double click on Save) refuses this one rather than failing.
        with session.begin_nested():
            return _save(session, user, stored, enabled, digest, now)
    except IntegrityError:
        raise Conflict(_("Your notification settings were saved meanwhile: reload the page and try again.")) from None


def _save(
    session: Session,
    user: User,
    stored: dict[Topic, NotificationPreference],
    enabled: Collection[Topic],
    digest: Collection[Topic] | None,
    now: datetime,
) -> int:
    assert user.id is not None
    changed = 0
    for topic in allowed_topics(user):
        wanted = topic in enabled
        row = stored.get(topic)
        kept = row is not None and row.digest  # with no digest choice given (e-mail off)
        mailed = wanted and (kept if digest is None else topic in digest)
        if row is None:
            if wanted and not mailed:  # never set is on already, without a digest
                continue
            row = NotificationPreference(user_id=user.id, topic=topic, enabled=wanted, digest=mailed, updated_at=now)
            session.add(row)
            session.flush()
            audit.record_create(session, user, row)
        elif row.enabled != wanted or row.digest != mailed:
            before = audit.snapshot(row)
            row.enabled = wanted
            row.digest = mailed
            row.updated_at = now
            session.flush()
            audit.record_update(session, user, row, before)
        else:
            continue
        changed += 1
    return changed
