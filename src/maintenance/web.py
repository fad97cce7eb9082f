"""Rendering: full page or htmx fragment, redirects, toasts, list filters, pagination, forms.

``render`` sends the ``content`` block to non-boosted htmx requests and the whole
page otherwise, and always sets ``Vary: HX-Request`` (one URL serves both).
Toasts reach every HTML response through the out-of-band ``toasts`` block.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2_fragments import render_block
from jinja2_fragments.fastapi import Jinja2Blocks
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from sqlalchemy import Select, func, select
from sqlmodel import Session
from starlette.datastructures import FormData

from maintenance import i18n
from maintenance.config import get_settings

# Routes and filters take record ids from here with the rest of the web helpers.
from maintenance.db import MAX_RECORD_ID as MAX_RECORD_ID
from maintenance.db import RecordId as RecordId
from maintenance.exceptions import FieldError
from maintenance.i18n import gettext as _
from maintenance.security import csrf_token

ToastLevel = Literal["success", "info", "warning", "danger"]
_M = TypeVar("_M", bound=BaseModel)
_FLASH_KEY = "flash"

templates = Jinja2Blocks(directory=str(get_settings().templates_dir))
_env = templates.env
_env.add_extension("jinja2.ext.i18n")
_env.install_gettext_callables(  # type: ignore[attr-defined]
    lambda message: i18n.gettext(message),
    lambda singular, plural, n: i18n.ngettext(singular, plural, n),
    newstyle=True,
)
_env.globals.update(
    csrf_token=csrf_token,
    current_locale=i18n.current_locale,
    KNOWN_LOCALES=i18n.KNOWN_LOCALES,
    LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
)
_env.filters.update(
    date=i18n.format_date,
    datetime=i18n.format_datetime,
    number=i18n.format_number,
    cny=i18n.format_cny,
    wan_cny=i18n.format_wan_cny,
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment(request: Request) -> bool:
    """htmx asked for part of a page (boosted navigations want the whole page)."""
    return is_htmx(request) and request.headers.get("HX-Boosted") != "true"


def add_toast(request: Request, message: str, level: ToastLevel = "success") -> None:
    """Show a message on this response, or on the next page if this one redirects."""
    request.state.toasts = [*getattr(request.state, "toasts", []), {"message": message, "level": level}]


def _take_toasts(request: Request) -> list[dict[str, str]]:
    flashed = request.session.pop(_FLASH_KEY, []) if "session" in request.scope else []
    return [*flashed, *getattr(request.state, "toasts", [])]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = "content",
    headers: dict[str, str] | None = None,
) -> Response:
    """``block`` is what htmx gets: ``content`` by default, ``results`` for a list's
    table, None for templates that are fragments already (no base layout)."""
    ctx = {"request": request, "user": getattr(request.state, "user", None), **(context or {})}
    ctx["toasts"] = _take_toasts(request)
    response: Response
    if wants_fragment(request):
        body = render_block(_env, template, block, ctx) if block else _env.get_template(template).render(ctx)
        # Only when there is something to show: an empty out-of-band #toasts would wipe the
        # toasts the page is showing (e.g. "saved" on a page that loads a fragment on load).
        if ctx["toasts"]:
            body += _env.get_template("_toasts.html").render(ctx)
        response = HTMLResponse(body, status_code, headers)
    else:
        response = templates.TemplateResponse(request, template, ctx, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request"
    return response


def render_toasts_only(request: Request, status_code: int) -> HTMLResponse:
    """For an htmx request that failed: keep the page as it is and show why."""
    body = _env.get_template("_toasts.html").render(toasts=_take_toasts(request))
    return HTMLResponse(body, status_code, {"HX-Reswap": "none", "Vary": "HX-Request"})


def redirect(request: Request, url: str) -> Response:
    """303 for browsers, ``HX-Redirect`` for htmx (a 3xx would swap the target into the fragment)."""
    pending = getattr(request.state, "toasts", [])
    if pending:
        request.session[_FLASH_KEY] = [*request.session.get(_FLASH_KEY, []), *pending]
        request.state.toasts = []
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url, "Vary": "HX-Request"})
    return RedirectResponse(url, status_code=303, headers={"Vary": "HX-Request"})


# --- List filters -------------------------------------------------------------------------


class ListFilters(BaseModel):
    """The base of a list's filters, parsed from the query string (:func:`filters_from_query`).

    Parameters the list does not know are ignored. A blank value of a field that admits None is
    no filter (None); other fields take a blank as given: ``sort`` falls back, anything else fails
    validation (the list drops it, a query-model API answers 422). The text fields in
    ``trimmed`` (the search ``q``) are trimmed first. ``sort`` names one of ``sort_keys``
    (``-`` before it: descending), anything else is the field's default."""

    model_config = ConfigDict(extra="ignore")

    sort_keys: ClassVar[Collection[str]] = ()
    trimmed: ClassVar[frozenset[str]] = frozenset({"q"})
    # Fields admitting None on which a blank value is kept as given (a subclass says why).
    blank_kept: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _blank_is_no_filter(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned = dict(data)
        for name, field in cls.model_fields.items():
            value = data.get(name)
            if not isinstance(value, str):
                continue
            if name in cls.trimmed:
                cleaned[name] = value = value.strip()
            if value == "" and name not in cls.blank_kept and type(None) in get_args(field.annotation):
                cleaned[name] = None
        return cleaned

    @field_validator("sort", check_fields=False)
    @classmethod
    def _known_sort(cls, value: str) -> str:
        return value if value.lstrip("-") in cls.sort_keys else str(cls.model_fields["sort"].default)

    def query_params(self) -> dict[str, str]:
        """The filters as URL parameters (export links, tabs and chips keep the list's filter):
        those left at their default are left out, a flag reads ``true`` or ``false``."""
        data = self.model_dump(exclude_defaults=True, mode="json")
        return {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in data.items()}


def filters_from_query(model: type[_M]) -> Callable[[Request], _M]:
    """A dependency building a list's filter model from the query string.

    A bad value (a hand-edited URL: an unknown choice, a malformed date, an id too large for
    the database) drops that one filter rather than failing the page, so a list always shows.
    """

    def from_query(request: Request) -> _M:
        params = dict(request.query_params)
        try:
            return model.model_validate(params)
        except ValidationError as exc:
            bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
            return model.model_validate({key: value for key, value in params.items() if key not in bad})

    return from_query


# --- Pagination ---------------------------------------------------------------------------


@dataclass
class Page:
    items: list[Any]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.size)


def paginate(
    session: Session, stmt: Select[*tuple[Any, ...]], number: int, size: int | None = None, *, scalars: bool = True
) -> Page:
    """Two queries whatever the page: the count and the rows of this page."""
    size = size or get_settings().page_size
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / size))
    number = min(max(1, number), pages)
    page_stmt = stmt.limit(size).offset((number - 1) * size)
    items = list(session.scalars(page_stmt)) if scalars else list(session.execute(page_stmt).all())
    return Page(items=items, total=total, number=number, size=size)


def url_with(request: Request, **changes: Any) -> str:
    """This URL with some query parameters replaced (None removes one): keeps filters in links."""
    params = {key: value for key, value in request.query_params.multi_items() if key not in changes}
    params.update({key: value for key, value in changes.items() if value not in (None, "")})
    query = urlencode(params, doseq=True)
    return f"{request.url.path}?{query}" if query else request.url.path


_env.globals["url_with"] = url_with


def session_until_ms() -> int:
    """When the session renewed by this answer runs out (the cookie's max age, counted again with
    every answer), in milliseconds since the epoch: static/app.js tells the rounds' service worker,
    which shows no offline copy of the user's pages after it (the phone may be someone else's by then)."""
    return int((time.time() + get_settings().session_max_age_hours * 3600) * 1000)


_env.globals["session_until_ms"] = session_until_ms


# --- Forms --------------------------------------------------------------------------------


async def form_data(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


def _error_message(error: ErrorDetails) -> str:
    """Pydantic's reasons in the user's language."""
    ctx = error.get("ctx", {})
    messages = {
        "missing": _("This field is required."),
        "string_too_short": _("Enter at least %(n)s characters.", n=ctx.get("min_length", "")),
        "string_too_long": _("Enter at most %(n)s characters.", n=ctx.get("max_length", "")),
        "string_pattern_mismatch": _("Use letters, digits, '-' or '_' only."),
        "greater_than_equal": _("Must be at least %(n)s.", n=ctx.get("ge", "")),
        "less_than_equal": _("Must be at most %(n)s.", n=ctx.get("le", "")),
        "int_parsing": _("Enter a whole number."),
        "decimal_parsing": _("Enter a number."),
        "date_from_datetime_parsing": _("Enter a date as YYYY-MM-DD."),
        "date_parsing": _("Enter a date as YYYY-MM-DD."),
        "enum": _("Choose one of the listed options."),
    }
    return messages.get(error["type"], error["msg"])


def validate_form(
    model: type[_M], form: FormData | Mapping[str, Any], *, lists: tuple[str, ...] = ()
) -> tuple[_M | None, dict[str, str]]:
    """Parse a submitted form into the same model the API validates with.

    Empty inputs count as "not given" so model defaults apply. Returns the model
    or, per field, the reason it was refused (for re-rendering the form).
    """
    data: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        if key in lists and isinstance(form, FormData):
            data[key] = [value for value in form.getlist(key) if value != ""]
        elif (value := form.get(key)) not in (None, ""):
            data[key] = value.strip() if isinstance(value, str) else value
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        return None, {
            ".".join(str(part) for part in error["loc"]) or "__all__": _error_message(error) for error in exc.errors()
        }


def field_errors(errors: Sequence[FieldError]) -> dict[str, str]:
    """A domain error's per-field reasons, keyed for the form macros; several reasons for one
    field are joined (every refused checklist line is shown, not just the last)."""
    joined: dict[str, str] = {}
    for error in errors:
        joined[error.field] = f"{joined[error.field]} {error.message}" if error.field in joined else error.message
    return joined


# --- Stale edits (the 409 page) ----------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One field of a refused stale edit: what is stored now and what the user submitted."""

    name: str
    label: str
    stored: Any
    mine: Any


def differences(
    stored: BaseModel,
    submitted: BaseModel,
    exclude: Collection[str] = ("version",),
    *,
    labels: Mapping[str, str] | None = None,
    display: Callable[[str, Any], Any] | None = None,
) -> list[Difference]:
    """The submitted fields whose value differs from the stored one, for :func:`conflict_response`.

    ``labels`` names fields as users read them (default: the field's name); ``display`` turns
    a raw value into what the page shows (default: the value itself).
    """
    current = stored.model_dump()
    labels = labels or {}
    show = display or (lambda _name, value: value)
    return [
        Difference(name, labels.get(name, name), show(name, current.get(name)), show(name, value))
        for name, value in submitted.model_dump(exclude=set(exclude)).items()
        if current.get(name) != value
    ]


def conflict_response(
    request: Request,
    *,
    heading: str,
    changes: list[Difference] | None,
    audit: tuple[str, int | None],
    edit_url: str | None = None,
    back: tuple[str, str] | None = None,
    advice: str | None = None,
    note: str | None = None,
) -> Response:
    """The 409 page of a refused stale edit: nothing was saved; compare and start again.

    ``heading`` names the record; ``changes`` compares stored and submitted fields (None when
    there is no form to compare, then ``note`` says where the record stands); ``audit`` is the
    record's (object type, id) in the change log; ``edit_url`` leads to the form again and
    ``back`` (url, label) to the record's page.
    """
    object_type, object_id = audit
    back_url, back_label = back or (None, None)
    context = {
        "heading": heading,
        "advice": advice or _("Nothing of yours was saved. Compare, then edit the current version again."),
        "changes": changes,
        "note": note,
        "edit_url": edit_url,
        "back_url": back_url,
        "back_label": back_label,
        "object_type": object_type,
        "object_id": object_id,
    }
    return render(request, "_conflict.html", context, status_code=409)


def compile_all_templates() -> None:
    """Load (parse and compile) every template into the environment's cache."""
    for name in templates.env.list_templates(extensions=["html"]):
        templates.env.get_template(name)
