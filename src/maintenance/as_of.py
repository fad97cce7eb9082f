"""The reference date of the managers' pages (``?as_of=YYYY-MM-DD``, default: the plant's today).

An empty field (a cleared date input) means today; a malformed or far-fetched date is refused
with a 422 naming the field, never silently replaced by another day: the figures would mislead.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from maintenance.db import plant_today
from maintenance.exceptions import FieldError, ValidationFailed
from maintenance.i18n import gettext as _

EARLIEST_AS_OF = date(1950, 1, 1)
LATEST_AS_OF = date(2999, 12, 31)


def reference_date(request: Request) -> date:
    raw = request.query_params.get("as_of", "").strip()
    if not raw:
        return plant_today()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not EARLIEST_AS_OF <= day <= LATEST_AS_OF or len(raw) != 10:
        message = _("Enter the reference date as YYYY-MM-DD, between 1950 and 2999.")
        raise ValidationFailed(message, [FieldError("as_of", message)])
    return day


AsOfDep = Annotated[date, Depends(reference_date)]
