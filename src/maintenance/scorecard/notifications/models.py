"""What a user chose to hear about and which notifications they have read. Notifications
themselves are not stored: they are computed from the other domains as of now, each with a stable
key (``alarm:12``), so a read mark survives while the thing it marks lasts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint, false
from sqlmodel import Field, SQLModel

from maintenance.choices import ChoiceType
from maintenance.db import UTCDateTime, fk_column, utcnow
from maintenance.scorecard.notifications.choices import Topic

KEY_LENGTH = 80


class NotificationPreference(SQLModel, table=True):
    """A topic switched on or off for a user, and whether its unread items also go out in the
    daily e-mail digest; a topic without a row is on (if the role allows it), digest off."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "topic"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=fk_column("app_user.id", nullable=False, ondelete="CASCADE", index=False))
    topic: Topic = Field(sa_type=ChoiceType(Topic))
    enabled: bool = True
    digest: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"user {self.user_id} {self.topic.value}"


class NotificationRead(SQLModel, table=True):
    """A notification a user has read, by its key."""

    __tablename__ = "notification_read"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=fk_column("app_user.id", nullable=False, ondelete="CASCADE", index=False))
    key: str = Field(max_length=KEY_LENGTH)
    read_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class NotificationDigest(SQLModel, table=True):
    """The daily e-mail digest of one user on one plant day. The row is the claim: whoever inserts
    it (``ON CONFLICT DO NOTHING``) sends that day's digest, so a second run, a cron job and a
    scheduler at once send it once; ``sent_at`` is set once the server took the mail, and a claim
    whose sending failed is removed with the failure."""

    __tablename__ = "notification_digest"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=fk_column("app_user.id", nullable=False, ondelete="CASCADE", index=False))
    day: date  # the plant day it covers
    claimed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    item_count: int = 0
