"""Sites, workshops, units, users, logins and API tokens. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import plant_day_start, utcnow
from maintenance.exceptions import (
    Conflict,
    FieldError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from maintenance.i18n import gettext as _
from maintenance.org.models import (
    ApiToken,
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
from maintenance.org.permissions import may_manage_token, workshop_ids_of
from maintenance.security import API_SCOPES, hash_api_token, hash_password, new_api_token

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
    # A new password, another role or a deactivation ends the user's sessions (each must log in
    # again: whoever held a session, or a copy of its cookie, holds nothing now).
    ends_sessions = bool(data.password) or changes.get("role", user.role) != user.role
    ends_sessions |= user.is_active and changes.get("is_active") is False
    user.sqlmodel_update(changes)
    if data.password:
        user.password_hash = hash_password(data.password)
    if data.workshop_ids is not None:
        _set_workshops(session, user, data.workshop_ids)
    session.flush()
    if ends_sessions:
        end_sessions(session, user)
    # The hash is never logged; that the password changed is.
    changed_password = {"password_changed": True} if data.password else {}
    audit.record_update(session, actor, user, before, workshop_ids=workshop_ids_of(session, user), **changed_password)
    return user


def end_sessions(session: Session, user: User) -> None:
    """End every session of ``user``: each carries the session epoch it began in (org.auth),
    and this moves the user's on, in one statement (two at once both count)."""
    epoch = session.scalar(
        update(User)
        .where(col(User.id) == user.id)
        .values(session_epoch=col(User.session_epoch) + 1)
        .returning(col(User.session_epoch)),
        execution_options={"synchronize_session": False},
    )
    set_committed_value(user, "session_epoch", epoch)


# --- API tokens ---------------------------------------------------------------------------

DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366
# ``last_used_at`` moves at most this often: not a write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
READ_SCOPES = frozenset(scope for scope in API_SCOPES if scope.endswith(":read"))


def allowed_scopes(role: Role) -> frozenset[str]:
    """The scopes a token of a user with ``role`` may carry: what the role may do on the pages.
    Auditors read and export and write nothing; engineers, managers and admins read and write
    (which workshops they may write in is checked by each write, as on the pages)."""
    if role == Role.AUDITOR:
        return READ_SCOPES
    return frozenset(API_SCOPES)


def effective_scopes(token: ApiToken, user: User) -> frozenset[str]:
    """The token's scopes its user's role still allows (a user who became an auditor keeps
    tokens that read, not ones that write)."""
    return token.scope_set & allowed_scopes(user.role)


def token_expiry(*, days: int | None = None, until: date | None = None, now: datetime | None = None) -> datetime:
    """When a token made ``now`` expires: after ``days`` days, at the end of the plant-local day
    ``until``, or after :data:`DEFAULT_TOKEN_DAYS`."""
    now = now or utcnow()
    if days is not None and until is not None:
        raise ValidationFailed(
            _("Give either an expiry date or a number of days, not both."), [FieldError("expires", _("not both"))]
        )
    if until is not None:
        return plant_day_start(until + timedelta(days=1))
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(
            _("A token lasts 1 to %(max)s days.", max=MAX_TOKEN_DAYS), [FieldError("days", _("out of range"))]
        )
    return now + timedelta(days=DEFAULT_TOKEN_DAYS if days is None else days)


def create_api_token(
    session: Session,
    user: User,
    *,
    name: str,
    scopes: Sequence[str],
    actor: Actor,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Returns the token row and the plaintext, which is shown once and never stored.

    The scopes must be ones the user's role allows; the token expires at ``expires_at`` (by
    default after :data:`DEFAULT_TOKEN_DAYS`), which must lie in the next :data:`MAX_TOKEN_DAYS`."""
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
    allowed = allowed_scopes(user.role)
    refused = sorted(set(scopes) - allowed)
    if refused:
        raise ValidationFailed(
            _(
                "A token of %(user)s (%(role)s) cannot carry %(scopes)s; the role allows %(allowed)s.",
                user=user.username,
                role=user.role.label,
                scopes=", ".join(refused),
                allowed=", ".join(sorted(allowed)),
            ),
            [FieldError("scope", _("not allowed for the role"))],
        )
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed(
            _("Name the token (at most 100 characters)."), [FieldError("name", _("1 to 100 characters"))]
        )
    now = utcnow()
    expires_at = expires_at or token_expiry(now=now)
    if expires_at <= now or expires_at > now + timedelta(days=MAX_TOKEN_DAYS + 1):
        raise ValidationFailed(
            _("A token must expire in the future, within %(max)s days.", max=MAX_TOKEN_DAYS),
            [FieldError("expires", _("out of range"))],
        )
    plaintext, digest = new_api_token()
    assert user.id is not None, "the user is stored"
    token = ApiToken(
        user_id=user.id,
        name=name,
        scopes=" ".join(sorted(set(scopes))),
        prefix=plaintext[:10],
        token_hash=digest,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record_create(session, actor, token)
    return token, plaintext


def get_api_token_or_raise(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("API token %(id)s does not exist.", id=token_id))
    return token


def list_api_tokens(user_id: int | None = None) -> Select[ApiToken, User]:
    """Tokens with their users, newest first; of one user when ``user_id`` is given."""
    stmt = select(ApiToken, User).join(User, col(User.id) == col(ApiToken.user_id))
    if user_id is not None:
        stmt = stmt.where(col(ApiToken.user_id) == user_id)
    return stmt.order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())


def revoke_api_token(session: Session, token: ApiToken, *, actor: Actor) -> ApiToken:
    if not may_manage_token(actor, token):
        raise PermissionDenied(_("You can only revoke your own tokens."))
    if token.revoked_at is not None:
        raise Conflict(_("Token %(prefix)s… was already revoked.", prefix=token.prefix))
    before = audit.snapshot(token)
    token.revoked_at = utcnow()
    token.revoked_by = actor.username[:100]
    session.flush()
    audit.record_update(session, actor, token, before)
    return token


def user_for_api_token(session: Session, plaintext: str) -> tuple[User, ApiToken]:
    """The user a bearer token acts for, and the token. Refused (401) when the token is unknown,
    revoked or expired or its user inactive."""
    token = session.scalar(select(ApiToken).where(col(ApiToken.token_hash) == hash_api_token(plaintext)))
    if token is None:
        raise NotAuthenticated(_("A valid bearer token is required."))
    now = utcnow()
    if token.revoked_at is not None:
        raise NotAuthenticated(_("This token was revoked."))
    if token.is_expired(now):
        raise NotAuthenticated(_("This token has expired."))
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated(_("A valid bearer token is required."))
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return user, token
