"""Sites, workshops, units, users, logins and API tokens. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.config import get_settings
from maintenance.db import utcnow
from maintenance.exceptions import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.models import (
    ApiToken,
    LoginAttempt,
    Role,
    Site,
    SiteCreate,
    Unit,
    UnitCreate,
    UnitUpdate,
    User,
    UserCreate,
    UserUpdate,
    UserWorkshop,
    Workshop,
    WorkshopCreate,
    WorkshopUpdate,
)
from maintenance.security import API_SCOPES, dummy_verify, hash_api_token, hash_password, new_api_token, verify_password

# --- Org tree -----------------------------------------------------------------------------


def get_site_by_code(session: Session, code: str) -> Site | None:
    return session.scalar(select(Site).where(col(Site.code) == code))


def list_sites(session: Session) -> Sequence[Site]:
    return session.scalars(select(Site).order_by(Site.code)).all()


def create_site(session: Session, data: SiteCreate, *, actor: Actor) -> Site:
    if get_site_by_code(session, data.code):
        raise Conflict(
            _("Site code %(code)s already exists.", code=data.code), [FieldError("code", _("already exists"))]
        )
    site = Site.model_validate(data)
    session.add(site)
    session.flush()
    audit.record_create(session, actor, site)
    return site


def get_workshop_or_raise(session: Session, workshop_id: int) -> Workshop:
    workshop = session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound(_("Workshop %(id)s does not exist.", id=workshop_id))
    return workshop


def get_workshop_by_code(session: Session, code: str) -> Workshop | None:
    return session.scalar(select(Workshop).where(col(Workshop.code) == code))


def list_workshops(session: Session) -> Sequence[Workshop]:
    return session.scalars(select(Workshop).order_by(Workshop.code)).all()


def create_workshop(session: Session, data: WorkshopCreate, *, actor: Actor) -> Workshop:
    if session.get(Site, data.site_id) is None:
        raise ValidationFailed(_("Choose an existing site."), [FieldError("site_id", _("does not exist"))])
    if get_workshop_by_code(session, data.code):
        raise Conflict(
            _("Workshop code %(code)s already exists.", code=data.code), [FieldError("code", _("already exists"))]
        )
    workshop = Workshop.model_validate(data)
    session.add(workshop)
    session.flush()
    audit.record_create(session, actor, workshop)
    return workshop


def update_workshop(session: Session, workshop: Workshop, data: WorkshopUpdate, *, actor: Actor) -> Workshop:
    before = audit.snapshot(workshop)
    workshop.sqlmodel_update(data.model_dump(exclude_unset=True))
    session.flush()
    audit.record_update(session, actor, workshop, before)
    return workshop


def delete_workshop(session: Session, workshop: Workshop, *, actor: Actor) -> None:
    if session.scalar(select(func.count()).select_from(Unit).where(col(Unit.workshop_id) == workshop.id)):
        raise Conflict(_("Workshop %(code)s still has units; delete or move them first.", code=workshop.code))
    audit.record_delete(session, actor, workshop)
    session.delete(workshop)
    _flush_or_conflict(session, _("Workshop %(code)s is still referenced and cannot be deleted.", code=workshop.code))


def get_unit_or_raise(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_("Unit %(id)s does not exist.", id=unit_id))
    return unit


def list_units(session: Session, workshop_id: int | None = None) -> Sequence[Unit]:
    stmt = select(Unit).order_by(col(Unit.workshop_id), col(Unit.code))
    if workshop_id is not None:
        stmt = stmt.where(col(Unit.workshop_id) == workshop_id)
    return session.scalars(stmt).all()


def create_unit(session: Session, data: UnitCreate, *, actor: Actor) -> Unit:
    get_workshop_or_raise(session, data.workshop_id)
    clash = session.scalar(select(Unit).where(col(Unit.workshop_id) == data.workshop_id, col(Unit.code) == data.code))
    if clash:
        raise Conflict(
            _("Unit code %(code)s already exists in this workshop.", code=data.code),
            [FieldError("code", _("already exists"))],
        )
    unit = Unit.model_validate(data)
    session.add(unit)
    session.flush()
    audit.record_create(session, actor, unit)
    return unit


def update_unit(session: Session, unit: Unit, data: UnitUpdate, *, actor: Actor) -> Unit:
    before = audit.snapshot(unit)
    unit.sqlmodel_update(data.model_dump(exclude_unset=True))
    session.flush()
    audit.record_update(session, actor, unit, before)
    return unit


def delete_unit(session: Session, unit: Unit, *, actor: Actor) -> None:
    audit.record_delete(session, actor, unit)
    session.delete(unit)
    _flush_or_conflict(session, _("Unit %(code)s is still referenced and cannot be deleted.", code=unit.code))


def _flush_or_conflict(session: Session, message: str) -> None:
    """Turn a foreign-key refusal into a message; the request rolls back as a whole."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        raise Conflict(message) from error


# --- Users --------------------------------------------------------------------------------


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_or_raise(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("User %(id)s does not exist.", id=user_id))
    return user


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(col(User.username) == username))


@dataclass
class UserFilters:
    q: str | None = None
    role: Role | None = None


def list_users(filters: UserFilters) -> Select[User]:
    stmt = select(User).order_by(User.username)
    if filters.q:
        pattern = f"%{filters.q.strip()}%"
        stmt = stmt.where(or_(col(User.username).ilike(pattern), col(User.full_name).ilike(pattern)))  # type: ignore[attr-defined]
    if filters.role:
        stmt = stmt.where(col(User.role) == filters.role)
    return stmt


def workshop_ids_of(session: Session, user: User) -> list[int]:
    return list(
        session.scalars(
            select(col(UserWorkshop.workshop_id))
            .where(col(UserWorkshop.user_id) == user.id)
            .order_by(col(UserWorkshop.workshop_id))
        )
    )


def workshops_by_user(session: Session, user_ids: Sequence[int]) -> dict[int, list[Workshop]]:
    """Workshops of many users in one query (list pages must not query per row)."""
    rows = session.execute(
        select(col(UserWorkshop.user_id), Workshop)
        .join(Workshop, col(Workshop.id) == UserWorkshop.workshop_id)  # type: ignore[arg-type]
        .where(col(UserWorkshop.user_id).in_(user_ids))  # type: ignore[attr-defined]
        .order_by(Workshop.code)
    ).all()
    result: dict[int, list[Workshop]] = {user_id: [] for user_id in user_ids}
    for user_id, workshop in rows:
        result[user_id].append(workshop)
    return result


def _check_workshops(session: Session, workshop_ids: Sequence[int]) -> None:
    """Refuse unknown workshops before anything is written: the forms show the refusal
    and their request still commits, so a half-applied change would be kept."""
    wanted = sorted(set(workshop_ids))
    known = set(session.scalars(select(col(Workshop.id)).where(col(Workshop.id).in_(wanted))))  # type: ignore[union-attr]
    if set(wanted) - known:
        raise ValidationFailed(_("Unknown workshop."), [FieldError("workshop_ids", _("does not exist"))])


def _set_workshops(session: Session, user: User, workshop_ids: Sequence[int]) -> None:
    wanted = sorted(set(workshop_ids))
    session.execute(delete(UserWorkshop).where(col(UserWorkshop.user_id) == user.id))  # type: ignore[arg-type]
    session.add_all([UserWorkshop(user_id=user.id, workshop_id=wid) for wid in wanted])  # type: ignore[arg-type]
    session.flush()


def create_user(session: Session, data: UserCreate, *, actor: Actor) -> User:
    if get_user_by_username(session, data.username):
        raise Conflict(
            _("Username %(name)s is taken.", name=data.username), [FieldError("username", _("already exists"))]
        )
    _check_workshops(session, data.workshop_ids)
    user = User.model_validate(data, update={"password_hash": hash_password(data.password)})
    session.add(user)
    session.flush()
    _set_workshops(session, user, data.workshop_ids)
    audit.record_create(session, actor, user, workshop_ids=sorted(set(data.workshop_ids)))
    return user


def update_user(session: Session, user: User, data: UserUpdate, *, actor: Actor) -> User:
    changes = data.model_dump(exclude_unset=True, exclude={"password", "workshop_ids"})
    if user.id == actor.id and (changes.get("is_active") is False or changes.get("role", Role.ADMIN) != Role.ADMIN):
        raise PermissionDenied(_("You cannot deactivate yourself or remove your own administrator role."))
    if data.workshop_ids is not None:
        _check_workshops(session, data.workshop_ids)
    before = audit.snapshot(user, workshop_ids=workshop_ids_of(session, user))
    user.sqlmodel_update(changes)
    if data.password:
        user.password_hash = hash_password(data.password)
    if data.workshop_ids is not None:
        _set_workshops(session, user, data.workshop_ids)
    session.flush()
    # The hash is never logged; that the password changed is.
    changed_password = {"password_changed": True} if data.password else {}
    audit.record_update(session, actor, user, before, workshop_ids=workshop_ids_of(session, user), **changed_password)
    return user


# --- Login --------------------------------------------------------------------------------


class LoginRefused(PermissionDenied):
    """Wrong credentials or too many recent failures; the message does not say which username exists."""


def _recent_failures(session: Session, username: str) -> int:
    settings = get_settings()
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            col(LoginAttempt.username) == username, col(LoginAttempt.succeeded).is_(True)
        )  # type: ignore[attr-defined]
    )
    if last_success is not None and last_success > since:
        since = last_success
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                col(LoginAttempt.username) == username,
                col(LoginAttempt.succeeded).is_(False),
                col(LoginAttempt.at) > since,
            )  # type: ignore[attr-defined]
        )
        or 0
    )


def authenticate(session: Session, username: str, password: str, *, client_ip: str = "") -> User:
    """Check credentials; every attempt is recorded so repeated failures lock the username for a while."""
    username = username.strip()
    settings = get_settings()
    if _recent_failures(session, username) >= settings.login_max_failures:
        raise LoginRefused(
            _("Too many failed logins. Try again in %(minutes)s minutes.", minutes=settings.login_window_minutes)
        )
    user = get_user_by_username(session, username)
    if user is None:
        dummy_verify()
        ok = False
    else:
        ok = user.is_active and verify_password(password, user.password_hash)
    session.add(LoginAttempt(username=username[:40], client_ip=client_ip[:64], succeeded=ok))
    session.flush()
    if not ok or user is None:
        raise LoginRefused(_("Wrong username or password."))
    user.last_login_at = utcnow()
    return user


# --- API tokens ---------------------------------------------------------------------------


def create_api_token(
    session: Session, user: User, *, name: str, scopes: Sequence[str], actor: Actor
) -> tuple[ApiToken, str]:
    """Returns the token row and the plaintext, which is shown once and never stored."""
    unknown = sorted(set(scopes) - set(API_SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(
            _(
                "Unknown scope: %(scopes)s. Known scopes: %(known)s.",
                scopes=", ".join(unknown) or "-",
                known=", ".join(API_SCOPES),
            ),
            [FieldError("scope", _("unknown"))],
        )
    plaintext, digest = new_api_token()
    assert user.id is not None, "the user is stored"
    token = ApiToken(
        user_id=user.id, name=name, scopes=" ".join(sorted(set(scopes))), prefix=plaintext[:10], token_hash=digest
    )
    session.add(token)
    session.flush()
    audit.record_create(session, actor, token)
    return token, plaintext


def user_for_api_token(session: Session, plaintext: str) -> tuple[User, ApiToken] | None:
    token = session.scalar(
        select(ApiToken).where(
            col(ApiToken.token_hash) == hash_api_token(plaintext), col(ApiToken.revoked_at).is_(None)
        )
    )  # type: ignore[union-attr]
    if token is None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    token.last_used_at = utcnow()
    return user, token
