"""Which budget year a page shows and as of which day: ``?year=2026&as_of=2026-06-30``.

The year defaults to the reference date's; the reference date (:mod:`maintenance.as_of`, default
the plant's today) is kept inside the year asked for, so a past year is seen as it closed on
31 December and a coming one as it stands before it starts. A year outside 2000–2100 or a
malformed one is a 422 naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Request

from maintenance.as_of import reference_date
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import gettext as _

FIRST_YEAR = 2000
LAST_YEAR = 2100

YearPath = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, description="The budget year")]


@dataclass(frozen=True)
class BudgetView:
    year: int
    as_of: date

    def query(self) -> str:
        """The query string that shows the same view (links to drill-downs and exports)."""
        return f"year={self.year}&as_of={self.as_of.isoformat()}"


def within(year: int, day: date) -> date:
    """``day`` kept inside ``year``."""
    return min(max(day, date(year, 1, 1)), date(year, 12, 31))


def parse_year(raw: str) -> int:
    """``?year=`` as four digits from 2000 to 2100, or a 422 naming the field."""
    if not re.fullmatch(r"[0-9]{4}", raw) or not FIRST_YEAR <= int(raw) <= LAST_YEAR:
        message = _("Enter the year as a number from %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
        raise ValidationFailed(message, [FieldError("year", message)])
    return int(raw)


def budget_view(request: Request) -> BudgetView:
    as_of = reference_date(request)
    raw = request.query_params.get("year", "").strip()
    if not raw:
        return BudgetView(as_of.year, as_of)
    year = parse_year(raw)
    return BudgetView(year, within(year, as_of))


BudgetViewDep = Annotated[BudgetView, Depends(budget_view)]
