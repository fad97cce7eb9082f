"""Logging in, so that it holds under attack.

A login runs in three steps, each its own transaction or none (the login route runs them; the
functions here only flush, as services do):

1. :func:`begin_login`, read-only: who is logging in; a username or client address that is
   locked is refused here, before any password is checked.
2. :func:`check_password`, with no transaction open: argon2 is slow on purpose, and on SQLite a
   write transaction would hold the database's one write lock meanwhile, making every save wait
   behind anonymous visitors.
3. :func:`record_login`, a short write transaction: a failure is counted against the username and
   the address by one atomic statement each, so wrong passwords sent at the same moment are all
   counted and only the first ``login_max_failures`` of them are answered "wrong password"; the
   rest are refused as locked, whatever their password, and so is a right one that arrives once
   the limit is reached.

Unknown usernames are counted and locked like known ones: the answers never tell which exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, case, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from maintenance.config import get_settings
from maintenance.db import UTCDateTime, utcnow
from maintenance.exceptions import PermissionDenied
from maintenance.i18n import gettext as _
from maintenance.org.models import LoginAttempt, LoginThrottle, User
from maintenance.security import dummy_verify, verify_password

# What a failure is counted against (LoginThrottle.scope).
USERNAME = "username"
ADDRESS = "address"
_THROTTLE: Table = LoginThrottle.__table__  # type: ignore[attr-defined]
_USERNAME_LENGTH = 40
_ADDRESS_LENGTH = 64


class LoginRefused(PermissionDenied):
    """Wrong credentials or a locked username (401), or a locked address (429)."""

    def __init__(self, message: str, status_code: int = 401) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class LoginCandidate:
    """What checking the password needs, read before the check."""

    username: str
    address: str
    user_id: int | None
    password_hash: str | None
    is_active: bool


@dataclass(frozen=True)
class _Count:
    failures: int
    window_started_at: datetime


def begin_login(session: Session, username: str, address: str) -> LoginCandidate:
    """Step 1 (read-only): the user the login is for. Raises :class:`LoginRefused` when the
    address or the username has failed too often within the window."""
    username = username.strip()
    key = username[:_USERNAME_LENGTH]
    address = address[:_ADDRESS_LENGTH]
    now = utcnow()
    refusal = _refusal(ADDRESS, _read_count(session, ADDRESS, address), now) or _refusal(
        USERNAME, _read_count(session, USERNAME, key), now
    )
    if refusal is not None:
        raise refusal
    user = session.scalar(select(User).where(col(User.username) == username))
    return LoginCandidate(
        username=key,
        address=address,
        user_id=user.id if user is not None else None,
        password_hash=user.password_hash if user is not None else None,
        is_active=user is not None and user.is_active,
    )


def check_password(candidate: LoginCandidate, password: str) -> bool:
    """Step 2 (no transaction open): argon2. An unknown username takes as long as a known one,
    and so does an inactive user, so the time taken tells nothing about either."""
    if candidate.password_hash is None:
        dummy_verify()
        return False
    return verify_password(password, candidate.password_hash) and candidate.is_active


def record_login(session: Session, candidate: LoginCandidate, password_ok: bool) -> User | LoginRefused:
    """Step 3 (a short write transaction): count a failure, or let a success in unless the
    username got locked meanwhile (by failures checked at the same moment). Returns the user or
    the refusal to show; the caller commits either way, so that failures add up to a lock."""
    now = utcnow()
    if password_ok and candidate.user_id is not None:
        refusal = _admit(session, candidate, now)
        user = session.get(User, candidate.user_id) if refusal is None else None
        if user is not None and user.is_active:  # (not deactivated while the password was checked)
            user.last_login_at = now
            _log_attempt(session, candidate, now, succeeded=True)
            return user
        _log_attempt(session, candidate, now, succeeded=False)
        return refusal or LoginRefused(_("Wrong username or password."))
    _log_attempt(session, candidate, now, succeeded=False)
    username_count = _count(session, USERNAME, candidate.username, now, failed=True)
    address_count = _count(session, ADDRESS, candidate.address, now, failed=True)
    # Refused as locked when the failures counted before this one had reached the limit.
    return (
        _refusal(USERNAME, _before(username_count), now)
        or _refusal(ADDRESS, _before(address_count), now)
        or LoginRefused(_("Wrong username or password."))
    )


def _admit(session: Session, candidate: LoginCandidate, now: datetime) -> LoginRefused | None:
    """Lock the username's count (creating it if need be) and refuse when it has reached the
    limit; otherwise clear it. The address's count is not cleared by a success: an attacker with
    an account of their own could otherwise go on guessing at others."""
    refusal = _refusal(USERNAME, _count(session, USERNAME, candidate.username, now, failed=False), now) or _refusal(
        ADDRESS, _read_count(session, ADDRESS, candidate.address), now
    )
    if refusal is None:
        session.execute(
            update(_THROTTLE)
            .where(_THROTTLE.c.scope == USERNAME, _THROTTLE.c.key == candidate.username)
            .values(failures=0, window_started_at=now)
        )
    return refusal


def _log_attempt(session: Session, candidate: LoginCandidate, now: datetime, *, succeeded: bool) -> None:
    session.add(LoginAttempt(username=candidate.username, client_ip=candidate.address, succeeded=succeeded, at=now))


def _window() -> timedelta:
    return timedelta(minutes=get_settings().login_window_minutes)


def _refusal(scope: str, count: _Count | None, now: datetime) -> LoginRefused | None:
    """The refusal for a count that has reached its limit within the window, else None."""
    settings = get_settings()
    limit = settings.login_max_failures if scope == USERNAME else settings.login_address_max_failures
    if count is None or count.failures < limit or count.window_started_at <= now - _window():
        return None
    minutes = max(1, math.ceil((count.window_started_at + _window() - now).total_seconds() / 60))
    if scope == ADDRESS:
        return LoginRefused(
            _("Too many failed logins from your address. Try again in %(minutes)s minutes.", minutes=minutes), 429
        )
    return LoginRefused(_("Too many failed logins. Try again in %(minutes)s minutes.", minutes=minutes))


def _before(count: _Count) -> _Count:
    """The count as it stood before the failure just counted."""
    return _Count(count.failures - 1, count.window_started_at)


def _read_count(session: Session, scope: str, key: str) -> _Count | None:
    row = session.execute(
        select(_THROTTLE.c.failures, _THROTTLE.c.window_started_at).where(
            _THROTTLE.c.scope == scope, _THROTTLE.c.key == key
        )
    ).first()
    return _Count(row.failures, row.window_started_at) if row is not None else None


def _count(session: Session, scope: str, key: str, now: datetime, *, failed: bool) -> _Count:
    """Count a failure (``failed``), or only lock the count's row, in one atomic statement that
    returns the count: ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (PostgreSQL and SQLite).
    On PostgreSQL the row stays locked until the transaction ends, so a success and failures at
    the same moment are taken one after another."""
    at = literal(now, UTCDateTime())
    changes: dict[str, Any]
    if failed:
        expired = _THROTTLE.c.window_started_at <= literal(now - _window(), UTCDateTime())
        changes = {
            "failures": case((expired, 1), else_=_THROTTLE.c.failures + 1),
            "window_started_at": case((expired, at), else_=_THROTTLE.c.window_started_at),
        }
    else:
        changes = {"failures": _THROTTLE.c.failures}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(_THROTTLE)
        .values(scope=scope, key=key, failures=1 if failed else 0, window_started_at=now)
        .on_conflict_do_update(index_elements=[_THROTTLE.c.scope, _THROTTLE.c.key], set_=changes)
        .returning(_THROTTLE.c.failures, _THROTTLE.c.window_started_at)
    )
    row = session.execute(statement).one()
    return _Count(row.failures, row.window_started_at)
