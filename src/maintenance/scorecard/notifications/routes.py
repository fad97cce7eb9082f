"""The notification centre (/notifications), the bell's unread count (/notifications/count, loaded
by htmx so pages do not pay for it), the preferences (/notifications/preferences) and a manager's
"awaiting my approval" queue (/notifications/approvals)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from maintenance.config import get_settings
from maintenance.db import SessionDep, utcnow
from maintenance.exceptions import FieldError, MailNotSent, ValidationFailed
from maintenance.i18n import format_datetime
from maintenance.i18n import gettext as _
from maintenance.mail import Mail, send_mail
from maintenance.org import service as org_service
from maintenance.org.auth import AdminUser, CurrentUser, user_with
from maintenance.org.models import ContactFields, User, UserUpdate
from maintenance.org.permissions import Capability, can
from maintenance.scorecard.notifications import service, sources
from maintenance.scorecard.notifications.choices import Topic
from maintenance.scorecard.notifications.models import KEY_LENGTH
from maintenance.web import (
    FormDep,
    Page,
    add_toast,
    filters_from_query,
    paginate,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

CENTRE = "/notifications"
PREFERENCES = "/notifications/preferences"
# Keys as the sources make them: the topic, then ids, dates and months.
_KEY = re.compile(r"^[a-z_]+(?::[0-9A-Za-z-]+)+$")

ApproverUser = Annotated[User, Depends(user_with(Capability.APPROVE))]


class CentreFilters(BaseModel):
    """The centre's filter: one topic or all."""

    model_config = ConfigDict(extra="ignore")

    topic: Topic | None = None

    @field_validator("topic", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    def url(self, page: int = 1) -> str:
        params = [f"topic={self.topic.value}"] if self.topic else []
        if page > 1:
            params.append(f"page={page}")
        return CENTRE + ("?" + "&".join(params) if params else "")


CentreFiltersDep = Annotated[CentreFilters, Depends(filters_from_query(CentreFilters))]


def _page_of(items: list[sources.Notification], number: int) -> Page:
    size = get_settings().page_size
    pages = max(1, -(-len(items) // size))
    number = min(max(1, number), pages)
    return Page(items=items[(number - 1) * size : number * size], total=len(items), number=number, size=size)


@router.get(CENTRE)
def centre(
    request: Request, session: SessionDep, user: CurrentUser, filters: CentreFiltersDep, page: int = 1
) -> Response:
    now = utcnow()
    items = service.notifications_of(session, user, now, filters.topic)
    return render(
        request,
        "scorecard/notifications/page.html",
        {
            "filters": filters,
            "page": _page_of(items, page),
            "unread": sum(1 for item in items if not item.read),
            "topics": service.enabled_topics(session, user),
            "allowed": service.allowed_topics(user),
        },
        block="results",
    )


@router.get(CENTRE + "/count")
def bell(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """The navbar bell with the unread count (a fragment, loaded on each page by htmx)."""
    return render(
        request,
        "scorecard/notifications/_bell.html",
        {"unread": service.unread_count(session, user, utcnow())},
        block=None,
    )


def _form_filters(form: FormDep) -> CentreFilters:
    """The topic the form was sent from (an unknown one is dropped, as in the query)."""
    try:
        return CentreFilters.model_validate({"topic": form.get("topic") or None})
    except ValidationError:
        return CentreFilters()


def _form_page(form: FormDep) -> int:
    page = form.get("page")
    return int(page) if isinstance(page, str) and page.isdigit() and len(page) < 7 else 1


def _key(form: FormDep) -> str:
    key = str(form.get("key") or "").strip()
    if not key:
        raise ValidationFailed(
            _("Say which notification to mark read."), [FieldError("key", _("This field is required."))]
        )
    if len(key) > KEY_LENGTH or not _KEY.match(key):
        raise ValidationFailed(
            _("%(key)s is not a notification key.", key=key[:KEY_LENGTH]),
            [FieldError("key", _("Not a notification key."))],
        )
    return key


@router.post(CENTRE + "/read")
def mark_read(request: Request, session: SessionDep, user: CurrentUser, form: FormDep) -> Response:
    service.mark_read(session, user, _key(form), utcnow())
    return redirect(request, _form_filters(form).url(_form_page(form)))


@router.post(CENTRE + "/read-all")
def mark_all_read(request: Request, session: SessionDep, user: CurrentUser, form: FormDep) -> Response:
    filters = _form_filters(form)
    marked = service.mark_all_read(session, user, utcnow(), filters.topic)
    add_toast(
        request, _("%(count)s notifications marked read.", count=marked) if marked else _("Nothing unread."), "info"
    )
    return redirect(request, filters.url())


def _preferences_page(
    request: Request,
    session: SessionDep,
    user: User,
    contact: Mapping[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "scorecard/notifications/preferences.html",
        {
            "allowed": service.allowed_topics(user),
            "enabled": service.enabled_topics(session, user),
            "digest": service.digest_topics(session, user),
            "mail_enabled": get_settings().mail_enabled,
            "contact": contact if contact is not None else {"email": user.email, "language": user.language},
            "errors": errors or {},
            "can_administer": can(user, Capability.ADMINISTER),
        },
        status_code=status_code,
    )


@router.get(PREFERENCES)
def preferences_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return _preferences_page(request, session, user)


def _topic(value: str) -> Topic | None:
    try:
        return Topic(value)
    except ValueError:
        return None


def _chosen_topics(form: FormDep, user: User, name: str = "topic") -> set[Topic]:
    allowed = service.allowed_topics(user)
    chosen = set()
    for value in form.getlist(name):
        topic = _topic(value) if isinstance(value, str) else None
        if topic is None or topic not in allowed:
            raise ValidationFailed(
                _("%(value)s is not a topic you can choose.", value=str(value)[:40]),
                [FieldError(name, _("Choose among the topics listed."))],
            )
        chosen.add(topic)
    return chosen


def _digest_topics(form: FormDep, user: User, enabled: set[Topic]) -> set[Topic] | None:
    """The topics whose unread items go out in the daily e-mail digest: only with e-mail on, and
    only topics heard about in the centre too. None with e-mail off: the page shows no digest
    boxes then, so the choices stored stay as they are."""
    digest = _chosen_topics(form, user, "digest")
    if not get_settings().mail_enabled:
        if digest:
            raise ValidationFailed(
                _("E-mail is off on this server: the daily digest cannot be chosen."),
                [FieldError("digest", _("E-mail is off."))],
            )
        return None
    if digest - enabled:
        raise ValidationFailed(
            _("A daily digest needs its topic in the notification centre too: tick both or neither."),
            [FieldError("digest", _("Tick the topic too."))],
        )
    return digest


@router.post(PREFERENCES)
def save_preferences(request: Request, session: SessionDep, user: CurrentUser, form: FormDep) -> Response:
    enabled = _chosen_topics(form, user)
    changed = service.save_preferences(session, user, enabled, utcnow(), _digest_topics(form, user, enabled))
    add_toast(
        request,
        _("Your notification settings are saved.") if changed else _("Nothing changed."),
        "success" if changed else "info",
    )
    return redirect(request, PREFERENCES)


@router.post(PREFERENCES + "/email")
def save_my_email(request: Request, session: SessionDep, user: CurrentUser, form: FormDep) -> Response:
    """The user's own address and the language of their mails (change-logged as a user edit)."""
    data, errors = validate_form(ContactFields, form)
    if data is None:
        contact = {key: form.get(key) for key in ("email", "language")}
        return _preferences_page(request, session, user, contact, errors, status_code=422)
    if (data.email, data.language) == (user.email, user.language):
        add_toast(request, _("Nothing changed."), "info")
    else:
        org_service.update_user(session, user, UserUpdate(email=data.email, language=data.language), actor=user)
        add_toast(request, _("Your e-mail settings are saved."))
    return redirect(request, PREFERENCES)


@router.post(PREFERENCES + "/test-email")
def send_test_email(request: Request, admin: AdminUser) -> Response:
    """An administrator checks the mail settings by mailing themselves; whatever the server
    says (unreachable, refused) is shown, never a server error."""
    if not admin.email:
        add_toast(request, _("Enter your e-mail address first: the test mail goes to you."), "warning")
        return redirect(request, PREFERENCES)
    now = utcnow()
    mail = Mail(
        to=admin.email,
        subject=_("Test mail from the maintenance system"),
        text=_(
            "The mail settings work: this mail reached %(address)s at %(time)s.",
            address=admin.email,
            time=format_datetime(now),
        ),
    )
    try:
        send_mail(mail, now)
    except MailNotSent as error:
        add_toast(request, _("The test mail was not sent. %(reason)s", reason=error.message), "danger")
    else:
        add_toast(request, _("Test mail sent to %(address)s.", address=admin.email))
    return redirect(request, PREFERENCES)


ApprovalFiltersDep = Annotated[sources.ApprovalFilters, Depends(filters_from_query(sources.ApprovalFilters))]


@router.get(CENTRE + "/approvals")
def approvals(
    request: Request, session: SessionDep, user: ApproverUser, filters: ApprovalFiltersDep, page: int = 1
) -> Response:
    """The orders awaiting my approval, a page at a time (two queries whatever the queue)."""
    now: datetime = utcnow()
    return render(
        request,
        "scorecard/notifications/approvals.html",
        {
            "page": paginate(session, sources.approval_queue(user, filters), page),
            "filters": filters,
            "now": now,
            "threshold": get_settings().order_approval_threshold_cny,
        },
        block="results",
    )
