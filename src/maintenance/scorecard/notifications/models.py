"""What a user chose to hear about and which notifications they have read. Notifications
themselves are not stored: they are computed from the other domains as of now, each with a stable
key (``alarm:12``), so a read mark survives while the thing it marks lasts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from maintenance.choices import ChoiceType
from maintenance.db import UTCDateTime, fk_column, utcnow
from maintenance.scorecard.notifications.choices import Topic

KEY_LENGTH = 80


class NotificationPreference(SQLModel, table=True):
    """A topic switched on or off for a user; a topic without a row is on (if the role allows it)."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "topic"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=fk_column("app_user.id", nullable=False, ondelete="CASCADE", index=False))
    topic: Topic = Field(sa_type=ChoiceType(Topic))
    enabled: bool = True
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
