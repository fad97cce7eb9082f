"""The register's and the due list's filters, parsed once from query parameters and used by the
page, its htmx fragment and the exports.

Workshop and category narrow the register where it is loaded (``service.register_items``);
standing and the search text are applied to the loaded items, because a standing is computed,
not stored (a plant has hundreds of items, not millions).

Engineers see their own workshops unless they choose one (or "all"): reading is open to
everyone, but an engineer's day starts from the equipment they answer for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from pydantic import Field, field_validator, model_validator
from sqlmodel import Session

from maintenance.assets.choices import SpecialCategory
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.models import User
from maintenance.org.permissions import writable_workshop_ids
from maintenance.special.choices import Standing
from maintenance.special.service import RegisterItem
from maintenance.web import ListFilters, RecordId, filters_from_query

ALL_WORKSHOPS = "all"
DEFAULT_SORT = "due"
# The reference dates a register makes sense on (and whose day arithmetic cannot overflow).
EARLIEST_AS_OF = date(1950, 1, 1)
LATEST_AS_OF = date(2999, 12, 31)


def _due_key(item: RegisterItem) -> tuple[bool, date]:
    """Items without a due date (never inspected, no commissioning date) come first: they are
    overdue whatever the day."""
    next_due = item.standing.next_due
    return (next_due is not None, next_due.due_date if next_due and next_due.due_date else date.min)


SORTABLE = {
    "tag": lambda item: item.asset.tag,
    "due": _due_key,
    "standing": lambda item: -item.standing.standing.rank,  # worst first
}


class RegisterFilters(ListFilters):
    sort_keys = SORTABLE

    q: str | None = Field(default=None, max_length=100)
    workshop_id: RecordId | None = None
    all_workshops: bool = False
    category: SpecialCategory | None = None
    standing: Standing | None = None
    as_of: date | None = Field(default=None, ge=EARLIEST_AS_OF, le=LATEST_AS_OF)
    sort: str = DEFAULT_SORT

    @model_validator(mode="before")
    @classmethod
    def _all_is_a_choice_of_workshop(cls, data: Any) -> Any:
        """The workshop select offers "all workshops" beside the workshops themselves."""
        if isinstance(data, dict) and data.get("workshop_id") == ALL_WORKSHOPS:
            return {**data, "workshop_id": None, "all_workshops": True}
        return data

    @field_validator("category")
    @classmethod
    def _special_only(cls, value: SpecialCategory | None) -> SpecialCategory | None:
        return None if value == SpecialCategory.NONE else value

    def workshop_ids(self, session: Session, user: User) -> list[int] | None:
        """The workshops to load (None: all): the one chosen, else the engineer's own."""
        if self.workshop_id is not None:
            return [self.workshop_id]
        if self.all_workshops:
            return None
        own = writable_workshop_ids(session, user)
        return sorted(own) if own else None

    def matches(self, item: RegisterItem) -> bool:
        """The search text (tag, name or certificate number); the standing is checked apart so
        the standing chips can count what the other filters leave."""
        if not self.q:
            return True
        needle = self.q.casefold()
        certificate = item.registration.certificate_number if item.registration else ""
        return any(needle in text.casefold() for text in (item.asset.tag, item.asset.name, certificate))

    def select(self, items: Sequence[RegisterItem]) -> tuple[list[RegisterItem], Counter[Standing]]:
        """The items shown, sorted, and how many of the searched items stand where (the chips)."""
        searched = [item for item in items if self.matches(item)]
        counts = Counter(item.standing.standing for item in searched)
        shown = [item for item in searched if self.standing is None or item.standing.standing == self.standing]
        key = SORTABLE[self.sort.lstrip("-")]
        # The tag breaks ties (and sorts first, so the stable sort keeps it within equal keys).
        shown.sort(key=lambda item: item.asset.tag)
        shown.sort(key=key, reverse=self.sort.startswith("-"))
        return shown, counts

    def query_params(self) -> dict[str, str]:
        """The filters as URL parameters, "all workshops" as the workshop's choice."""
        params = super().query_params()
        if params.pop("all_workshops", None):
            params["workshop_id"] = ALL_WORKSHOPS
        return params


class DueFilters(RegisterFilters):
    """The due list: the register's filters, a horizon and the list or calendar view."""

    days: int = Field(default=90, ge=1, le=731)
    view: Literal["list", "calendar"] = "list"


def strict_filters(model: type[RegisterFilters]) -> Any:
    """Like ``web.filters_from_query``, except that a malformed reference date is refused (422):
    silently showing the register on another day than the one asked for would mislead."""
    lenient = filters_from_query(model)

    def from_query(request: Request) -> RegisterFilters:
        filters = lenient(request)
        if request.query_params.get("as_of") and filters.as_of is None:
            message = _("Enter the reference date as YYYY-MM-DD, between 1950 and 2999.")
            raise ValidationFailed(message, [FieldError("as_of", message)])
        return filters

    return from_query


RegisterFiltersDep = Annotated[RegisterFilters, Depends(strict_filters(RegisterFilters))]
DueFiltersDep = Annotated[DueFilters, Depends(strict_filters(DueFilters))]
