"""Equipment class aliases: the words plant ledgers use for ISO 14224 classes.

Ledgers say 离心泵, 叉车, 工业管道, 安全阀 where the registry has 泵 (PU), 厂内机动车辆 (VH),
管道 (PI), 阀门 (VA). Each alias maps one such word to one class; imports accept it wherever a
class is asked for, beside the class's code and labels. The usual words are seeded by the
migration that made the table; administrators add and delete others (each change logged).
Words are compared as imports compare cells (:func:`spreadsheets.squash`: full-width forms,
case, spaces and punctuation folded), so a word can name one class only.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance.assets.choices import AssetClass
from maintenance.assets.models import AssetClassAlias, AssetClassAliasCreate
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.exceptions import FieldError, NotFound, ValidationFailed
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.spreadsheets import choice_names, squash

MATCH_KEY_LENGTH = 40
# How many close classes an unknown word's error names, and how alike they must be (difflib ratio).
SUGGESTIONS = 3
SUGGESTION_CUTOFF = 0.5


@cache
def builtin_class_names() -> dict[str, AssetClass]:
    """The classes' own names by match key: codes, zh and en labels and their parts (容器, 塔器)."""
    return choice_names(AssetClass)


# --- Reading ------------------------------------------------------------------------------


def list_aliases(session: Session) -> list[AssetClassAlias]:
    """Every alias, by class (in the choices' order), then by word."""
    order = {member: index for index, member in enumerate(AssetClass)}
    aliases = session.scalars(select(AssetClassAlias)).all()
    return sorted(aliases, key=lambda alias: (order[alias.asset_class], alias.match_key))


def get_alias_or_raise(session: Session, alias_id: int) -> AssetClassAlias:
    alias = session.get(AssetClassAlias, alias_id)
    if alias is None:
        raise NotFound(_("There is no equipment class alias %(id)s.", id=alias_id))
    return alias


def class_names(session: Session) -> dict[str, AssetClass]:
    """Every word a class may be given by, by match key: the classes' own names and the aliases."""
    return names_of(list_aliases(session))


def names_of(aliases: Iterable[AssetClassAlias]) -> dict[str, AssetClass]:
    """:func:`class_names` from aliases already loaded."""
    names = dict(builtin_class_names())
    for alias in aliases:
        names.setdefault(alias.match_key, alias.asset_class)
    return names


@dataclass(frozen=True)
class ClassWord:
    """A word for a class, as users write it (an alias or one of the class's labels)."""

    word: str
    asset_class: AssetClass

    @property
    def label(self) -> str:
        """离心泵(泵), or just 泵 when the word is the class's label."""
        name = self.asset_class.label
        if squash(self.word) == squash(name):
            return name
        return f"{self.word}({name})" if current_locale() == "zh_CN" else f"{self.word} ({name})"


def words_of(aliases: Iterable[AssetClassAlias]) -> list[ClassWord]:
    """The words a suggestion may name: each class's labels (and their parts), then the aliases."""
    words: list[ClassWord] = []
    for member in AssetClass:
        for label in (member.zh, *member.zh.split("/"), member.en):
            words.append(ClassWord(label, member))
    words.extend(ClassWord(alias.alias, alias.asset_class) for alias in aliases)
    return words


def closest_words(text: str, words: Sequence[ClassWord]) -> list[ClassWord]:
    """The words most like ``text`` (at most :data:`SUGGESTIONS`, best first): 离芯泵 → 离心泵(泵), 泵."""
    by_key: dict[str, ClassWord] = {}
    for word in words:
        by_key.setdefault(squash(word.word), word)
    keys = difflib.get_close_matches(squash(text), list(by_key), n=SUGGESTIONS, cutoff=SUGGESTION_CUTOFF)
    return [by_key[key] for key in keys]


# --- Writing ------------------------------------------------------------------------------


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed(_("The alias was not saved."), [FieldError("alias", message)])


def create_alias(session: Session, data: AssetClassAliasCreate, *, actor: Actor) -> AssetClassAlias:
    """Add a word for a class. A word that already names a class (its own name or another alias,
    as imports compare words) is refused: one word, one class."""
    key = squash(data.alias)
    if not key:
        raise _refused(_("Enter a word, not only spaces or punctuation."))
    if len(key) > MATCH_KEY_LENGTH:
        raise _refused(_("Enter at most %(n)s characters.", n=MATCH_KEY_LENGTH))
    builtin = builtin_class_names().get(key)
    if builtin is not None:
        raise _refused(
            _(
                "“%(alias)s” is already a name of the class %(label)s (%(code)s).",
                alias=data.alias,
                label=builtin.label,
                code=builtin.value,
            )
        )
    existing = session.scalar(select(AssetClassAlias).where(col(AssetClassAlias.match_key) == key))
    if existing is not None:
        raise _refused(_existing_message(existing))
    alias = AssetClassAlias(alias=data.alias, asset_class=data.asset_class, match_key=key)
    try:
        with session.begin_nested():  # another admin adding the same word meanwhile
            session.add(alias)
            session.flush()
    except IntegrityError:
        raise _refused(_("Someone added this word meanwhile; reload the page.")) from None
    audit.record_create(session, actor, alias)
    return alias


def _existing_message(existing: AssetClassAlias) -> str:
    return _(
        "“%(alias)s” is already an alias of the class %(label)s (%(code)s).",
        alias=existing.alias,
        label=existing.asset_class.label,
        code=existing.asset_class.value,
    )


def delete_alias(session: Session, alias: AssetClassAlias, *, actor: Actor) -> None:
    """Assets imported with the word keep their class: only later imports stop accepting it."""
    audit.record_delete(session, actor, alias)
    session.delete(alias)
    session.flush()
