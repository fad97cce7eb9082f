"""Rendering: full page or htmx fragment, redirects, toasts, list filters, pagination, forms.

``render`` sends the ``content`` block to non-boosted htmx requests and the whole
page otherwise, and always sets ``Vary: HX-Request`` (one URL serves both).
Toasts reach every HTML response through the out-of-band ``toasts`` block.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2_fragments import render_block
from jinja2_fragments.fastapi import Jinja2Blocks
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails, to_jsonable_python
from sqlalchemy import ColumnElement, Select, and_, func, literal, literal_column, select, tuple_
from sqlmodel import Session
from starlette.datastructures import FormData

from maintenance import i18n
from maintenance.config import get_settings

# Routes and filters take record ids from here with the rest of the web helpers.
from maintenance.db import MAX_RECORD_ID as MAX_RECORD_ID
from maintenance.db import RecordId as RecordId
from maintenance.exceptions import FieldError, ValidationFailed
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


# --- Keyset (seek) pagination --------------------------------------------------------------

# Lists that may hold many thousands of rows count up to this many; beyond, they say "10,000+".
COUNT_CAP = 10_000
# ``page=N`` (bookmarks from before keyset paging) is served with OFFSET up to this page.
MAX_OFFSET_PAGE = 10
_MAX_CURSOR_LENGTH = 2_000


@functools.cache
def _adapter(python_type: Any) -> TypeAdapter[Any]:
    return TypeAdapter(python_type)


@dataclass(frozen=True)
class SeekColumn:
    """One column of a keyset ordering: the row attribute it reads, the Python type a cursor's
    value must parse as, and (for a nullable column) the value NULL sorts as. Coalescing NULL to
    a constant orders it the same on SQLite and PostgreSQL and keeps the seek one range of an
    index built on the same expression."""

    attribute: str
    python_type: Any
    null_as: str | None = None

    def expression(self, table: Any) -> ColumnElement[Any]:
        column: ColumnElement[Any] = getattr(table, self.attribute)
        if self.null_as is None:
            return column
        # Written into the SQL (not a parameter) so it matches the index expression.
        return func.coalesce(column, literal_column(f"'{self.null_as}'", column.type))

    def value_of(self, row: Any) -> Any:
        value = getattr(row, self.attribute)
        if value is None and self.null_as is not None:
            return _adapter(self.python_type).validate_python(self.null_as)
        return value


@dataclass(frozen=True)
class SeekOrder:
    """A list's sort as keyset paging needs it: columns in one direction, the last one unique
    (the id), so every row has one place and the next page starts right after a row's values."""

    name: str
    columns: tuple[SeekColumn, ...]
    descending: bool = False

    def order_by(self, table: Any, *, reverse: bool = False) -> list[ColumnElement[Any]]:
        down = self.descending != reverse
        return [c.expression(table).desc() if down else c.expression(table).asc() for c in self.columns]

    def beyond(self, table: Any, values: Sequence[Any], *, reverse: bool = False) -> ColumnElement[bool]:
        """Rows after ``values`` in this order (before them with ``reverse``): a row-value
        comparison, which both databases answer as a range of the sort's index. SQLite seeks by
        row values of plain columns only: when the first column is an expression, the bound on
        it alone (implied by the row values) is added so the seek starts there."""
        expressions = [c.expression(table) for c in self.columns]
        bounds = [literal(v, e.type) for e, v in zip(expressions, values, strict=True)]
        keys, bound = tuple_(*expressions), tuple_(*bounds)
        down = self.descending != reverse
        condition = keys < bound if down else keys > bound
        if self.columns[0].null_as is None:
            return condition
        first = expressions[0] <= bounds[0] if down else expressions[0] >= bounds[0]
        return and_(first, condition)

    def encode(self, row: Any) -> str:
        """The opaque cursor of a row: URL-safe base64 of JSON naming the sort and its values."""
        payload = {"s": self.name, "v": to_jsonable_python([c.value_of(row) for c in self.columns])}
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def decode(self, cursor: str, parameter: str) -> list[Any]:
        """A cursor's values, checked: a damaged one, or one made for another sort, is refused
        with a reason users can act on (:class:`ValidationFailed`, 422)."""
        try:
            if len(cursor) > _MAX_CURSOR_LENGTH:
                raise ValueError
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            payload = json.loads(raw.decode())
            if not isinstance(payload, dict) or payload.get("s") != self.name:
                raise ValueError
            values = payload.get("v")
            if not isinstance(values, list) or len(values) != len(self.columns):
                raise ValueError
            parsed = [
                _seekable(_adapter(c.python_type).validate_python(v)) for c, v in zip(self.columns, values, strict=True)
            ]
            # PostgreSQL can neither store nor compare a NUL (security.refuse_nul guards the rest).
            if any(isinstance(value, str) and "\x00" in value for value in parsed):
                raise ValueError
            return parsed
        except (ValueError, OverflowError, RecursionError, binascii.Error, ValidationError):
            reason = _("This page link is damaged or was made for another sort order; start from the first page.")
            raise ValidationFailed(reason, [FieldError(parameter, reason)]) from None


def _seekable(value: Any) -> Any:
    """A cursor's time as stored (an instant in UTC): a cursor this app made always names its
    zone, so a time without one (or none in UTC: year 1 east of Greenwich) is a damaged link."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError
        return value.astimezone(UTC)
    return value


@dataclass
class SeekPage:
    """One page of a keyset-paged list. ``total`` is exact up to ``COUNT_CAP``; beyond it
    ``total_capped`` says the list holds more (the page shows "10,000+")."""

    items: list[Any]
    total: int
    total_capped: bool
    size: int
    previous_cursor: str | None
    next_cursor: str | None
    is_first: bool
    is_last: bool


def capped_count(session: Session, stmt: Select[*tuple[Any, ...]], cap: int | None = None) -> tuple[int, bool]:
    """How many rows ``stmt`` gives (at most ``cap``, default :data:`COUNT_CAP`) and whether there
    are more: the rows are counted from a LIMITed subquery, so a million matching rows cost what
    ten thousand do."""
    cap = COUNT_CAP if cap is None else cap
    limited = stmt.order_by(None).with_only_columns(literal(1), maintain_column_froms=True).limit(cap + 1).subquery()
    number = session.scalar(select(func.count()).select_from(limited)) or 0
    return min(number, cap), number > cap


def seek_paginate(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    table: Any,
    order: SeekOrder,
    *,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    offset: int = 0,
    size: int | None = None,
    scalars: bool = True,
    counted: Select[*tuple[Any, ...]] | None = None,
    cursor_names: tuple[str, str] = ("after", "before"),
) -> SeekPage:
    """Two queries whatever the page: the capped count and the rows of this page.

    The rows are the ``size`` after the cursor ``after``, the ``size`` before ``before`` (read in
    the reverse order, then turned round), the last ``size`` (``last``: the reverse order from its
    start) or the ``size`` after the first ``offset`` (a bookmarked ``page=N``: web lists allow it
    up to :data:`MAX_OFFSET_PAGE`, where OFFSET is still cheap).
    A damaged cursor raises :class:`ValidationFailed` before any query. With ``scalars=False``
    the items are rows whose first column is the listed entity; ``counted`` is what to count when
    ``stmt`` adds joins the count does not need; ``cursor_names`` name the parameters that
    carried ``after`` and ``before`` in a refusal.
    """
    size = size or get_settings().page_size
    after_values = order.decode(after, cursor_names[0]) if after else None
    before_values = order.decode(before, cursor_names[1]) if before and not after else None
    total, capped = capped_count(session, stmt if counted is None else counted)
    backwards = last or before_values is not None
    query = stmt.order_by(None).order_by(*order.order_by(table, reverse=backwards)).limit(size + 1)
    if after_values is not None:
        query = query.where(order.beyond(table, after_values))
    elif before_values is not None:
        query = query.where(order.beyond(table, before_values, reverse=True))
    elif not last and offset > 0:
        query = query.offset(offset)
    rows = list(session.scalars(query)) if scalars else list(session.execute(query).all())
    more = len(rows) > size
    rows = rows[:size]
    entity: Callable[[Any], Any] = (lambda row: row) if scalars else (lambda row: row[0])
    if backwards:
        rows.reverse()
        is_first, is_last = not more, last
    else:
        is_first, is_last = after_values is None and offset <= 0, not more
    return SeekPage(
        items=rows,
        total=total,
        total_capped=capped,
        size=size,
        previous_cursor=order.encode(entity(rows[0])) if rows and not is_first else None,
        next_cursor=order.encode(entity(rows[-1])) if rows and not is_last else None,
        is_first=is_first,
        is_last=is_last,
    )


def seek_page(
    request: Request,
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    table: Any,
    order: SeekOrder,
    *,
    after: str | None,
    before: str | None,
    last: bool,
    page: int,
    size: int | None = None,
) -> SeekPage:
    """A web list's keyset page from its query parameters (:func:`seek_paginate`). A bookmarked
    ``page=N`` is served up to :data:`MAX_OFFSET_PAGE`; a later page number, or a damaged cursor,
    shows the first page with a note saying why."""
    size = size or get_settings().page_size
    if page > MAX_OFFSET_PAGE:
        add_toast(request, _("Page numbers beyond %(n)s are not kept: use Next and Last.", n=MAX_OFFSET_PAGE), "info")
        page = 1
    offset = (max(page, 1) - 1) * size
    try:
        return seek_paginate(
            session, stmt, table, order, after=after, before=before, last=last, offset=offset, size=size
        )
    except ValidationFailed as error:
        add_toast(request, error.message, "warning")
        return seek_paginate(session, stmt, table, order, size=size)


def url_with(request: Request, **changes: Any) -> str:
    """This URL with some query parameters replaced (None removes one): keeps filters in links."""
    return _replaced(request.url.path, request.query_params.multi_items(), changes)


def url_from(url: str, **changes: Any) -> str:
    """``url`` (a path and its query) with some query parameters replaced, as :func:`url_with`
    does for the request's own: the links of a part of a page that another URL renders too (the
    point page's readings, also shown in the answer to a reading's POST)."""
    path, _separator, query = url.partition("?")
    return _replaced(path, parse_qsl(query, keep_blank_values=True), changes)


def _replaced(path: str, items: Sequence[tuple[str, str]], changes: Mapping[str, Any]) -> str:
    params = {key: value for key, value in items if key not in changes}
    params.update({key: value for key, value in changes.items() if value not in (None, "")})
    query = urlencode(params, doseq=True)
    return f"{path}?{query}" if query else path


_env.globals["url_with"] = url_with
_env.globals["url_from"] = url_from


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


async def raw_body(request: Request) -> bytes:
    try:
        return await request.body()
    except RuntimeError:  # a form body, already read by the CSRF check: not JSON either way
        return b""


# The whole body, read before the dependencies listed after it: a route that takes its body this
# way lists it before its session, so a slow upload is received before the request waits for (and
# then holds) SQLite's one writer turn (db.writer_turn) and its database transaction.
RawBody = Annotated[bytes, Depends(raw_body)]


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


def form_values(form: FormData, checkboxes: Collection[str] = ("is_active",)) -> dict[str, Any]:
    """A submitted form's text fields for re-rendering it and validating, with each checkbox as
    the "true"/"false" the model reads: a browser sends an unticked box not at all."""
    values: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    for name in checkboxes:
        values[name] = "true" if form.get(name) else "false"
    return values


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
