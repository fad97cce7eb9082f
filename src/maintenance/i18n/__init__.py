"""Locale negotiation and Babel translations.

The request's locale lives in a ContextVar set by :class:`LocaleMiddleware`
(``lang`` cookie → Accept-Language → configured default); ``gettext`` and the
Babel formatting helpers read it, so templates and Python code agree.

Every instant is stored in UTC and every one shown is on the plant's wall clock: the date and
time helpers here (the templates' ``date`` and ``datetime`` filters) convert through
:func:`plant_time` first, so a UTC timestamp is never shown as a date or time unconverted (the
plant's midnight is the previous day in UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.support import NullTranslations, Translations
from starlette.types import ASGIApp, Receive, Scope, Send

from maintenance.config import get_settings
from maintenance.db import plant_timezone

CATALOG_DIR = Path(__file__).resolve().parent
KNOWN_LOCALES = ("zh_CN", "en")
# Each language in its own words, as a language menu shows them.
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
LOCALE_COOKIE = "lang"

_current_locale: ContextVar[str | None] = ContextVar("maintenance_locale", default=None)


def current_locale() -> str:
    return _current_locale.get() or get_settings().language


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in KNOWN_LOCALES else get_settings().language)


@contextmanager
def using_locale(locale: str) -> Iterator[None]:
    """Messages and formats in ``locale`` (one we speak, else the default) inside the block: a
    mail is written in its reader's language, not in the request's or the command's."""
    token = _current_locale.set(locale if locale in KNOWN_LOCALES else get_settings().language)
    try:
        yield
    finally:
        _current_locale.reset(token)


@lru_cache
def _translations(locale: str) -> NullTranslations:
    return Translations.load(str(CATALOG_DIR), [locale], domain="messages")


def gettext(message: str, **variables: object) -> str:
    text = _translations(current_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = _translations(current_locale()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction where it is defined; translate it where it is shown."""
    return message


@dataclass(frozen=True)
class ContextMessage:
    """A msgid with its context (msgctxt): the same English word may need different Chinese in
    different places (an asset export's "Unit" is 装置, a point export's is 单位)."""

    context: str
    message: str


def NP_(context: str, message: str) -> ContextMessage:
    """Mark a string and its context for extraction (``-k NP_:1c,2``); translate it where it is shown."""
    return ContextMessage(context, message)


def translate(locale: str, message: str | ContextMessage, **variables: object) -> str:
    """``message`` in ``locale`` rather than the request's (a file is written in the language
    asked for, from the web or the CLI)."""
    translations = _translations(locale)
    if isinstance(message, ContextMessage):
        text = str(translations.pgettext(message.context, message.message))
    else:
        text = translations.gettext(message)
    return text % variables if variables else text


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The ``lang`` cookie, else the first Accept-Language entry we speak (any zh-* → zh_CN,
    any en-* → en, by q order), else the configured default."""
    if cookie in KNOWN_LOCALES:
        return cookie
    for tag in _by_preference(accept_language or ""):
        language = tag.replace("_", "-").split("-")[0].lower()
        if language == "zh":
            return "zh_CN"
        if language == "en":
            return "en"
    return get_settings().language


def _by_preference(header: str) -> list[str]:
    entries: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            entries.append((-quality, position, tag))
    return [tag for _q, _p, tag in sorted(entries)]


class LocaleMiddleware:
    """Pure ASGI so the locale is set before any dependency or template runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.requests import HTTPConnection

        conn = HTTPConnection(scope)
        token = _current_locale.set(negotiate(conn.cookies.get(LOCALE_COOKIE), conn.headers.get("accept-language")))
        try:
            await self.app(scope, receive, send)
        finally:
            _current_locale.reset(token)


@lru_cache
def _babel_locale(locale: str) -> Locale:
    """Parsed once: Babel parses a locale name on every call otherwise (a directory scan each
    time; the list page formats a hundred numbers and dates)."""
    return Locale.parse(locale)


def plant_time(moment: datetime) -> datetime:
    """An instant on the plant's wall clock. Stored instants are UTC: a naive one (raw SQLite) is
    taken as UTC too."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(plant_timezone())


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    """A calendar date as it is; an instant (a ``datetime``) as the plant's date of it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = plant_time(value).date()
    return dates.format_date(value, format=format, locale=_babel_locale(current_locale()))


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """An instant in plant time."""
    if value is None:
        return ""
    moment = plant_time(value)
    return dates.format_datetime(moment, format=format, tzinfo=moment.tzinfo, locale=_babel_locale(current_locale()))


def format_number(value: int | Decimal | float | None, digits: int = 0) -> str:
    if value is None:
        return ""
    return numbers.format_decimal(
        value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=_babel_locale(current_locale())
    )


def format_cny(value: Decimal | None) -> str:
    """Money in 元 with two decimals."""
    return "" if value is None else gettext("%(amount)s CNY", amount=format_number(value, 2))


def format_wan_cny(value: Decimal | None) -> str:
    """Money in 万元 (ten-thousands of yuan), as managers read budgets."""
    if value is None:
        return ""
    return gettext("%(amount)s 10k CNY", amount=format_number(Decimal(value) / Decimal(10000), 2))
