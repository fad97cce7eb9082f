"""Sites, workshops (车间), units (装置), users and their credentials."""

from __future__ import annotations

from datetime import datetime

from pydantic import field_validator
from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from maintenance.choices import Choice, ChoiceType
from maintenance.config import EMAIL_MAX_LENGTH, is_email_address
from maintenance.db import UTCDateTime, utcnow
from maintenance.i18n import KNOWN_LOCALES
from maintenance.i18n import gettext as _


class Role(Choice):
    ENGINEER = ("engineer", "设备工程师", "Engineer", "primary")
    MANAGER = ("manager", "管理人员", "Manager", "success")
    AUDITOR = ("auditor", "审计", "Auditor", "info")
    ADMIN = ("admin", "系统管理员", "Administrator", "danger")


def _created_at() -> datetime:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)  # type: ignore[no-any-return]


# --- Site ---------------------------------------------------------------------------------


class SiteBase(SQLModel):
    code: str = Field(min_length=1, max_length=20, schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"})
    name: str = Field(min_length=1, max_length=100)


class Site(SiteBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    created_at: datetime = _created_at()


class SiteCreate(SiteBase):
    pass


# --- Workshop -----------------------------------------------------------------------------


class WorkshopBase(SQLModel):
    code: str = Field(min_length=1, max_length=20, schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"})
    name: str = Field(min_length=1, max_length=100)


class Workshop(WorkshopBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Codes are plant-wide so operators can name a workshop on the command line.
    code: str = Field(max_length=20, unique=True)
    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("site.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    created_at: datetime = _created_at()


class WorkshopCreate(WorkshopBase):
    site_id: int


class WorkshopUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)


# --- Unit ---------------------------------------------------------------------------------


class UnitBase(SQLModel):
    code: str = Field(min_length=1, max_length=20, schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"})
    name: str = Field(min_length=1, max_length=100)


class Unit(UnitBase, table=True):
    __table_args__ = (UniqueConstraint("workshop_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20)
    workshop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("workshop.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    created_at: datetime = _created_at()


class UnitCreate(UnitBase):
    workshop_id: int


class UnitUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)


# --- User ---------------------------------------------------------------------------------


def _email_or_none(value: object) -> object:
    """An address as typed (trimmed), none for an empty field; refused unless it looks like one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not is_email_address(value.strip()):
        raise ValueError(_("Enter an e-mail address such as name@plant.example."))
    return value.strip()


def _language_or_none(value: object) -> object:
    """A language we speak, none for "the plant's default"."""
    if value is None or value == "":
        return None
    if value not in KNOWN_LOCALES:
        raise ValueError(_("Choose one of the languages listed."))
    return value


class ContactFields(SQLModel):
    """Where and in which language a user is written to (the daily digest): both optional."""

    email: str | None = Field(default=None, max_length=EMAIL_MAX_LENGTH)
    # zh_CN or en; none: the plant's default language (MAINTENANCE_LANGUAGE).
    language: str | None = Field(default=None, max_length=10)

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: object) -> object:
        return _email_or_none(value)

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: object) -> object:
        return _language_or_none(value)


class UserBase(ContactFields):
    username: str = Field(min_length=2, max_length=40, schema_extra={"pattern": r"^[A-Za-z0-9_.-]+$"})
    full_name: str = Field(default="", max_length=100)
    role: Role = Field(default=Role.ENGINEER, sa_type=ChoiceType(Role))
    is_active: bool = True


class User(UserBase, table=True):
    __tablename__ = "app_user"
    # The session epoch is bookkeeping: logging out moves it, and that is no change to the user.
    __audit_exclude__ = frozenset({"password_hash", "session_epoch"})

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True)
    password_hash: str = Field(max_length=200)
    created_at: datetime = _created_at()
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Stored in each session at login and compared on every request (org.auth.optional_user):
    # moving it on (logout, a new password or role, deactivation) ends every session of the user,
    # including copies of the signed cookie, which would otherwise be valid until they expire.
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


MIN_PASSWORD_LENGTH = 8


class UserCreate(UserBase):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)
    workshop_ids: list[int] = []


class UserUpdate(ContactFields):
    full_name: str | None = Field(default=None, max_length=100)
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=200)
    workshop_ids: list[int] | None = None


class UserWorkshop(SQLModel, table=True):
    """Which workshops an engineer may write in."""

    __tablename__ = "user_workshop"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True))
    workshop_id: int = Field(sa_column=Column(Integer, ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True))


# --- Credentials --------------------------------------------------------------------------


class ApiToken(SQLModel, table=True):
    """A bearer token for /api/v1. Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_token"
    __audit_exclude__ = frozenset({"token_hash"})

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name: str = Field(max_length=100)
    # Space-separated, e.g. "assets:read readings:write".
    scopes: str = Field(max_length=500)
    prefix: str = Field(max_length=12)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _created_at()
    # Every token expires; after that (or once revoked) it authenticates nothing.
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Moved at most once a minute, not on every request.
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Who revoked it: a username or a system process (``cli:token-revoke``).
    revoked_by: str = Field(default="", max_length=100)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and not self.is_expired(now)


class LoginAttempt(SQLModel, table=True):
    """Every login whose password was checked, failed or successful: the record (locks are
    counted in :class:`LoginThrottle`)."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40)
    client_ip: str = Field(default="", max_length=64)
    succeeded: bool
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class LoginThrottle(SQLModel, table=True):
    """Failed logins of one username, or from one client address, in a window that opens at the
    first failure and lasts ``login_window_minutes``; a success clears the username's count.

    Each failure is counted by one atomic upsert (``failures + 1 … RETURNING``): logins that fail
    at the same moment are all counted, where a count read and then written loses some."""

    __tablename__ = "login_throttle"

    # "username" or "address" (org.logins.USERNAME, ADDRESS).
    scope: str = Field(primary_key=True, max_length=10)
    key: str = Field(primary_key=True, max_length=64)
    failures: int = Field(default=0)
    window_started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
