"""Translations: the catalogs are complete and current, and pages and choices follow the locale.

Run ``make i18n-update`` after adding or changing a ``_()`` / ``{{ _() }}`` string, translate
the new zh_CN entries, and the checks below pass again.
"""

from __future__ import annotations

import contextvars
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.util import pathmatch
from fastapi.testclient import TestClient

from maintenance.choices import Choice
from maintenance.i18n import CATALOG_DIR, KNOWN_LOCALES, LOCALE_COOKIE, current_locale, gettext, set_locale
from maintenance.models_registry import import_all_models
from maintenance.org.models import Role
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parents[1]
POT = CATALOG_DIR / "messages.pot"
UPDATE_HINT = "run `make i18n-update` and translate the new zh_CN entries"

# %(name)s, %(n)d, %(amount).2f … (a literal %% is not a placeholder).
_PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_HTML_LANG = re.compile(r'<html lang="([^"]+)"')

T = TypeVar("T")


# --- Helpers ------------------------------------------------------------------------------


def _read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _po_path(locale: str) -> Path:
    return CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"


def _entries(catalog: Catalog) -> list[Message]:
    """Every real entry (not the header)."""
    return [message for message in catalog if message.id]


def _key(message: Message) -> str:
    """The singular msgid, which identifies a plural entry too."""
    return message.id if isinstance(message.id, str) else message.id[0]


def _msgids(catalog: Catalog) -> set[str]:
    return {_key(message) for message in _entries(catalog)}


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def _in_locale(locale: str, call: Callable[[], T]) -> T:
    """Run ``call`` under ``locale`` in a copied context, so the locale does not leak into other tests."""

    def run() -> T:
        set_locale(locale)
        return call()

    return contextvars.copy_context().run(run)


def _makefile_variables(text: str) -> dict[str, str]:
    variables: dict[str, str] = {}
    for match in re.finditer(r"^([A-Z_][A-Z0-9_]*)\s*[:?]?=\s*(.*)$", text, re.MULTILINE):
        variables.setdefault(match.group(1), match.group(2).strip())
    return variables


def _expand(text: str, variables: dict[str, str]) -> str:
    for _round in range(5):  # variables may refer to variables
        text = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), text)
    return text


def _extract_command(output: Path) -> list[str]:
    """The Makefile's ``i18n-extract`` recipe, writing to ``output`` instead of the committed .pot."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^i18n-extract:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "Makefile has an i18n-extract target"
    lines = [line.strip() for line in recipe.group(1).splitlines() if "pybabel" in line and " extract" in line]
    assert len(lines) == 1, f"one `pybabel extract` line in the i18n-extract recipe, found {lines}"
    words = shlex.split(_expand(lines[0], _makefile_variables(makefile)))
    args = words[words.index("extract") + 1 :]
    for index, word in enumerate(args):
        if word in ("-o", "--output", "--output-file"):
            args[index + 1] = str(output)
        elif word.startswith(("--output-file=", "--output=")):
            args[index] = f"{word.split('=', 1)[0]}={output}"
    assert str(output) in args, f"the extract recipe names its output file with -o: {lines[0]}"
    pybabel = Path(sys.executable).with_name("pybabel")
    return [str(pybabel), "--quiet", "extract", *args]


# --- (a) The .pot matches the code --------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_pot(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    output = tmp_path_factory.mktemp("i18n") / "messages.pot"
    result = subprocess.run(_extract_command(output), cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"pybabel extract failed:\n{result.stderr}"
    return _read_catalog(output)


@pytest.fixture(scope="module")
def committed_pot() -> Catalog:
    return _read_catalog(POT)


def test_pot_is_up_to_date(fresh_pot: Catalog, committed_pot: Catalog) -> None:
    in_code, in_pot = _msgids(fresh_pot), _msgids(committed_pot)
    missing = sorted(in_code - in_pot)
    stale = sorted(in_pot - in_code)
    if missing or stale:
        pytest.fail(
            f"messages.pot is out of date ({UPDATE_HINT}).\n"
            f"In the code but not in messages.pot: {missing}\n"
            f"In messages.pot but no longer in the code: {stale}"
        )


def test_pot_plural_forms_are_up_to_date(fresh_pot: Catalog, committed_pot: Catalog) -> None:
    """A string that became (or stopped being) an ngettext plural changes its entry too."""

    def plurals(catalog: Catalog) -> dict[str, object]:
        return {_key(message): message.id for message in _entries(catalog) if message.pluralizable}

    assert plurals(fresh_pot) == plurals(committed_pot), f"plural entries changed: {UPDATE_HINT}"


def test_every_source_file_is_scanned(committed_pot: Catalog) -> None:
    """``pybabel extract`` silently skips directories whose name starts with ``_`` or ``.``
    (e.g. ``templates/_macros``): their strings never reach the catalogs and stay English."""
    config = ROOT / "src" / "maintenance" / "i18n" / "babel.cfg"
    with config.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    command = _extract_command(Path("unused.pot"))
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords([command[i + 1] for i, word in enumerate(command) if word == "-k"]))
    in_pot = _msgids(committed_pot)
    unscanned: dict[str, list[str]] = {}
    for folder in ("src", "templates"):
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT).as_posix()
            if not path.is_file() or "/static/" in relative or "__pycache__" in relative:
                continue
            pattern, method = next(
                ((pattern, method) for pattern, method in method_map if pathmatch(pattern, relative)), (None, None)
            )
            if method is None or method == "ignore":
                continue
            found = extract_from_file(method, path, keywords, options=options_map.get(pattern or "", {}))
            missing = sorted({_key_of(result[1]) for result in found} - in_pot)
            if missing:
                unscanned[relative] = missing
    assert not unscanned, (
        f"strings marked for translation that messages.pot lacks ({UPDATE_HINT}; if they are still missing "
        f"afterwards, the Makefile's extract skips their directory, see --ignore-dirs): {unscanned}"
    )


def _key_of(message: str | tuple[str, ...]) -> str:
    return message if isinstance(message, str) else message[0]


# --- (b) The catalogs are complete --------------------------------------------------------


@pytest.mark.parametrize("locale", KNOWN_LOCALES)
def test_catalog_has_every_pot_entry_and_nothing_fuzzy(locale: str, committed_pot: Catalog) -> None:
    catalog = _read_catalog(_po_path(locale), locale)
    missing = sorted(_msgids(committed_pot) - _msgids(catalog))
    assert not missing, f"{locale} catalog lacks entries of messages.pot ({UPDATE_HINT}): {missing}"
    fuzzy = sorted(_key(message) for message in _entries(catalog) if message.fuzzy)
    assert not fuzzy, f"{locale} catalog has fuzzy entries (check the translation, then drop the flag): {fuzzy}"


def test_zh_cn_catalog_is_fully_translated() -> None:
    catalog = _read_catalog(_po_path("zh_CN"), "zh_CN")
    untranslated = sorted(
        _key(message)
        for message in _entries(catalog)
        if not message.string or (not isinstance(message.string, str) and not all(message.string))
    )
    assert not untranslated, f"untranslated zh_CN entries: {untranslated}"


def test_zh_cn_translations_are_chinese() -> None:
    """A msgstr copied from the English msgid is as bad as an empty one."""
    catalog = _read_catalog(_po_path("zh_CN"), "zh_CN")
    english = sorted(
        _key(message)
        for message in _entries(catalog)
        if message.string and not _CJK.search(message.string if isinstance(message.string, str) else message.string[0])
    )
    assert not english, f"zh_CN entries without any Chinese: {english}"


# --- (c) Placeholders survive translation -------------------------------------------------


@pytest.mark.parametrize("locale", KNOWN_LOCALES)
def test_placeholders_match(locale: str) -> None:
    catalog = _read_catalog(_po_path(locale), locale)
    wrong = []
    for message in _entries(catalog):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        expected = set().union(*(_placeholders(text) for text in ids))
        for text in strings:
            # ngettext passes ``num`` to every form; a form may leave it out (e.g. Chinese's one form).
            if text and _placeholders(text) - {"num"} != expected - {"num"}:
                wrong.append((ids[0], text))
    assert not wrong, f"{locale}: placeholders differ between msgid and msgstr: {wrong}"


def test_percent_signs_are_escaped(committed_pot: Catalog) -> None:
    """Jinja's newstyle ``_()`` always applies ``%`` formatting, and Python's does whenever values
    are passed: a literal percent sign must be written ``%%``, or "100% scale" renders as
    "100{}cale" (and a translation of such a msgid cannot pass ``pybabel compile``)."""
    texts = [(_key(message), text) for message in _entries(committed_pot) for text in _ids(message)]
    for locale in KNOWN_LOCALES:
        for message in _entries(_read_catalog(_po_path(locale), locale)):
            texts += [(_key(message), text) for text in _strings(message) if text]
    bare = sorted({key for key, text in texts if "%" in _PLACEHOLDER.sub("", text.replace("%%", ""))})
    assert not bare, f"write a literal percent sign as %% in: {bare}"


def _ids(message: Message) -> list[str]:
    return [message.id] if isinstance(message.id, str) else list(message.id)


def _strings(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


@pytest.mark.parametrize("locale", KNOWN_LOCALES)
def test_babel_format_checks_pass(locale: str) -> None:
    """Babel's own checks (python-format agreement, plural form count)."""
    catalog = _read_catalog(_po_path(locale), locale)
    problems = [(_key(message), [str(error) for error in errors]) for message, errors in catalog.check()]
    assert not problems, f"{locale}: {problems}"


def test_money_formats_use_yuan_and_wan_yuan() -> None:
    assert _in_locale("zh_CN", lambda: gettext("%(amount)s CNY", amount="1,234.50")) == "1,234.50 元"
    assert _in_locale("zh_CN", lambda: gettext("%(amount)s 10k CNY", amount="12.30")) == "12.30 万元"
    assert _in_locale("en", lambda: gettext("%(amount)s CNY", amount="1,234.50")) == "1,234.50 CNY"


# --- (d) Pages follow the cookie, then Accept-Language, then the default (zh_CN) ----------


def _html_lang(page: str) -> str:
    match = _HTML_LANG.search(page)
    assert match, "page has <html lang=…>"
    return match.group(1)


def _assert_chinese(page: str) -> None:
    assert _html_lang(page) == "zh-CN"
    assert "登录" in page
    assert "Log in" not in page


def _assert_english(page: str) -> None:
    assert _html_lang(page) == "en"
    assert "Log in" in page
    assert "登录" not in page


def test_login_page_is_chinese_by_default(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    _assert_chinese(response.text)


def test_lang_cookie_selects_english(client: TestClient) -> None:
    client.cookies.set(LOCALE_COOKIE, "en")
    _assert_english(client.get("/login").text)


def test_accept_language_selects_english(client: TestClient) -> None:
    _assert_english(client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).text)


@pytest.mark.parametrize("accept_language", ["zh", "zh-TW,zh;q=0.8", "fr-FR,fr;q=0.9"])
def test_accept_language_chinese_or_unknown_gives_chinese(client: TestClient, accept_language: str) -> None:
    _assert_chinese(client.get("/login", headers={"Accept-Language": accept_language}).text)


@pytest.mark.parametrize("accept_language", ["zh-CN", "zh-CN,zh;q=0.9,en;q=0.5"])
def test_chinese_browser_gets_chinese(client: TestClient, accept_language: str) -> None:
    _assert_chinese(client.get("/login", headers={"Accept-Language": accept_language}).text)


def test_cookie_wins_over_accept_language(client: TestClient) -> None:
    client.cookies.set(LOCALE_COOKIE, "zh_CN")
    _assert_chinese(client.get("/login", headers={"Accept-Language": "en"}).text)


def test_unknown_cookie_falls_back(client: TestClient) -> None:
    client.cookies.set(LOCALE_COOKIE, "fr")
    _assert_chinese(client.get("/login").text)


def _switch(client: TestClient, lang: str, referer: str | None = "http://testserver/login") -> str:
    headers = {"Referer": referer} if referer else {}
    response = client.post("/language", data={"lang": lang, "csrf_token": csrf_token(client)}, headers=headers)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_language_switch_sets_cookie_and_redirects_back(client: TestClient) -> None:
    assert _switch(client, "en") == "http://testserver/login"
    assert client.cookies.get(LOCALE_COOKIE) == "en"
    _assert_english(client.get("/login").text)

    assert _switch(client, "zh_CN") == "http://testserver/login"
    assert client.cookies.get(LOCALE_COOKIE) == "zh_CN"
    _assert_chinese(client.get("/login").text)


def test_language_switch_ignores_unknown_languages_and_foreign_referers(client: TestClient) -> None:
    assert _switch(client, "fr") == "http://testserver/login"
    assert client.cookies.get(LOCALE_COOKIE) is None
    assert _switch(client, "en", referer="https://evil.example/phish") == "/"
    assert _switch(client, "en", referer=None) == "/"


def test_language_switch_needs_csrf_token(client: TestClient) -> None:
    client.get("/login")  # a session exists, but the form does not echo its token
    response = client.post("/language", data={"lang": "en"})
    assert response.status_code == 403
    assert client.cookies.get(LOCALE_COOKIE) is None


# --- (e) Choice labels follow the locale --------------------------------------------------


def _all_choices() -> Iterator[type[Choice]]:
    import_all_models()
    pending = list(Choice.__subclasses__())
    while pending:
        choice = pending.pop()
        pending.extend(choice.__subclasses__())
        if len(choice):
            yield choice


def test_role_labels_follow_the_locale() -> None:
    assert _in_locale("zh_CN", lambda: Role.ENGINEER.label) == "设备工程师"
    assert _in_locale("en", lambda: Role.ENGINEER.label) == "Engineer"
    assert _in_locale("zh_CN", Role.options)[0] == ("engineer", "设备工程师")
    assert _in_locale("en", Role.options)[0] == ("engineer", "Engineer")


def test_locale_helper_does_not_leak() -> None:
    before = current_locale()
    _in_locale("en", current_locale)
    assert current_locale() == before


@pytest.mark.parametrize("choice", list(_all_choices()), ids=lambda choice: choice.__name__)
def test_every_choice_has_zh_and_en_labels(choice: type[Choice]) -> None:
    for member in choice:
        assert _in_locale("zh_CN", lambda member=member: member.label) == member.zh
        assert _in_locale("en", lambda member=member: member.label) == member.en
        assert _CJK.search(member.zh), f"{choice.__name__}.{member.name}: zh label {member.zh!r} is not Chinese"
        assert member.en.strip(), f"{choice.__name__}.{member.name}: en label is empty"
        assert not _CJK.search(member.en), f"{choice.__name__}.{member.name}: en label {member.en!r} is not English"
    assert len({member.zh for member in choice}) == len(choice), f"{choice.__name__}: two members share a zh label"
    assert len({member.en for member in choice}) == len(choice), f"{choice.__name__}: two members share an en label"


# --- (f) Dates and times are read on the plant's wall clock ---------------------------------

# Stored instants are UTC; the plant (Asia/Shanghai) is 8 hours ahead, so near its midnight the
# UTC date is the day before. Expected texts are written out as a user reads them (CLDR puts a
# narrow no-break space before AM/PM).
AFTER_PLANT_MIDNIGHT = datetime(2026, 12, 3, 16, 37, tzinfo=UTC)  # 2026-12-04 00:37 at the plant
PLANT_SMALL_HOURS = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # 2026-12-03 01:00 at the plant
PLANT_AFTERNOON = datetime(2026, 12, 3, 8, 37, tzinfo=UTC)  # 2026-12-03 16:37 at the plant


def _render(locale: str, source: str, **values: object) -> str:
    from maintenance.web import templates

    return _in_locale(locale, lambda: templates.env.from_string(source).render(**values))


@pytest.mark.parametrize(
    ("moment", "zh", "en"),
    [
        (AFTER_PLANT_MIDNIGHT, "2026年12月4日", "Dec 4, 2026"),
        (PLANT_SMALL_HOURS, "2026年12月3日", "Dec 3, 2026"),
        (PLANT_AFTERNOON, "2026年12月3日", "Dec 3, 2026"),
    ],
    ids=["00:37", "01:00", "16:37"],
)
def test_the_date_filter_shows_an_instants_plant_date(moment: datetime, zh: str, en: str) -> None:
    assert _render("zh_CN", "{{ moment|date }}", moment=moment) == zh
    assert _render("en", "{{ moment|date }}", moment=moment) == en


def test_the_date_filter_leaves_a_calendar_date_alone() -> None:
    assert _render("zh_CN", "{{ day|date }}", day=date(2026, 12, 3)) == "2026年12月3日"


@pytest.mark.parametrize(
    ("moment", "zh", "en"),
    [
        (AFTER_PLANT_MIDNIGHT, "2026/12/4 00:37", "12/4/26, 12:37\u202fAM"),
        (PLANT_SMALL_HOURS, "2026/12/3 01:00", "12/3/26, 1:00\u202fAM"),
    ],
    ids=["00:37", "01:00"],
)
def test_the_datetime_filter_shows_plant_time(moment: datetime, zh: str, en: str) -> None:
    assert _render("zh_CN", '{{ moment|datetime("short") }}', moment=moment) == zh
    assert _render("en", '{{ moment|datetime("short") }}', moment=moment) == en


def test_a_naive_stored_time_is_read_as_utc() -> None:
    """SQLite hands back naive values when a column is read without UTCDateTime (e.g. raw SQL)."""
    naive = AFTER_PLANT_MIDNIGHT.replace(tzinfo=None)
    assert _render("zh_CN", "{{ moment|date }}", moment=naive) == "2026年12月4日"
    assert _render("zh_CN", '{{ moment|datetime("short") }}', moment=naive) == "2026/12/4 00:37"
