"""Choice enums: one definition of each code with its zh/en label and colour.

Models store the code; forms, filters, badges and exports read the label and
colour from here, so a status never drifts between pages (NetBox ``ChoiceSet``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from sqlalchemy import String, TypeDecorator

from maintenance.i18n import current_locale


class Choice(StrEnum):
    """Members are declared as ``CODE = ("code", "中文", "English", "bootstrap-colour")``."""

    _texts: tuple[str, str, str]  # (zh, en, colour)

    def __new__(cls, code: str, *labels: str) -> Self:
        # Declared as (code, zh, en[, colour]); typed with *labels so that looking a member
        # up by its code, Status("open"), type-checks as the one-argument call it is.
        member = str.__new__(cls, code)
        member._value_ = code
        member._texts = (labels[0], labels[1], labels[2] if len(labels) > 2 else "secondary")
        return member

    @property
    def zh(self) -> str:
        return self._texts[0]

    @property
    def en(self) -> str:
        return self._texts[1]

    @property
    def colour(self) -> str:
        return self._texts[2]

    @property
    def label(self) -> str:
        return self.zh if current_locale() == "zh_CN" else self.en

    @classmethod
    def options(cls) -> list[tuple[str, str]]:
        """(code, label) pairs in declaration order for selects."""
        return [(member.value, member.label) for member in cls]

    @classmethod
    def from_label(cls, text: str) -> Self | None:
        """Match a code or either label, as typed in an imported spreadsheet."""
        wanted = text.strip().casefold()
        for member in cls:
            if wanted in (member.value.casefold(), member.zh.casefold(), member.en.casefold()):
                return member
        return None


class ChoiceType(TypeDecorator[Choice]):
    """Stores a choice's code as plain VARCHAR (portable, readable in SQL, no DB enum to migrate)."""

    impl = String(30)
    cache_ok = True

    def __init__(self, choice: type[Choice]) -> None:
        super().__init__()
        self.choice = choice

    def process_bind_param(self, value: Choice | str | None, dialect: Any) -> str | None:
        return None if value is None else self.choice(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> Choice | None:
        return None if value is None else self.choice(value)


# Bootstrap 5's theme colours as hex for the charts (ECharts draws on a canvas and cannot read the
# theme's CSS variables), so a chart's series match the badges next to it.
BOOTSTRAP_HEX = {
    "primary": "#0d6efd",
    "secondary": "#6c757d",
    "success": "#198754",
    "danger": "#dc3545",
    "warning": "#ffc107",
    "info": "#0dcaf0",
    "light": "#adb5bd",  # light grey on a white page would vanish: use grey-500
    "dark": "#212529",
}


def colour_of(choice: Choice) -> str:
    """The hex of the choice's badge colour (grey for a colour the table does not know)."""
    return BOOTSTRAP_HEX.get(choice.colour, BOOTSTRAP_HEX["secondary"])
