"""The measurement-point list's filters, parsed once from query parameters and used by the page,
its htmx fragment and the CSV/XLSX exports (one filtered query feeds all three).

``q`` finds a point by its code or name or by its asset's tag; ``state`` is the state of the
latest reading (points never read have none); ``active`` defaults to active points.
:func:`workshop_filter` reads the workshop choice the other monitoring pages share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from pydantic import Field, field_validator
from sqlalchemy import Select, case
from sqlmodel import col

from maintenance.assets.models import Asset
from maintenance.monitoring import service
from maintenance.monitoring.choices import ConditionState, Quantity
from maintenance.monitoring.models import MeasurementPoint
from maintenance.org.models import Workshop
from maintenance.web import ListFilters, RecordId, filters_from_query

DEFAULT_SORT = "code"

# Alarm first when sorted by state descending: the order of severity, not of the codes.
_SEVERITY = {ConditionState.NORMAL.value: 1, ConditionState.WARNING.value: 2, ConditionState.ALARM.value: 3}

SORTABLE: dict[str, Any] = {
    "code": lambda: col(MeasurementPoint.code),
    "name": lambda: col(MeasurementPoint.name),
    "asset": lambda: col(Asset.tag),
    "quantity": lambda: col(MeasurementPoint.quantity),
    "value": lambda: col(MeasurementPoint.latest_value),
    "taken": lambda: col(MeasurementPoint.latest_taken_at),
    "state": lambda: case(_SEVERITY, value=col(MeasurementPoint.latest_state), else_=0),
    "since": lambda: col(MeasurementPoint.state_since),
}


class PointFilters(ListFilters):
    sort_keys = SORTABLE

    q: str | None = Field(default=None, max_length=100)
    workshop_id: RecordId | None = None
    unit_id: RecordId | None = None
    asset_id: RecordId | None = None
    quantity: Quantity | None = None
    state: ConditionState | None = None
    active: Literal["yes", "no", "all"] = "yes"
    sort: str = DEFAULT_SORT

    # A blank (or None) ``active`` is the default, not a bad value: the base makes a blank None
    # only on fields that admit None.
    @field_validator("active", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        return "yes" if value in ("", None) else value

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """The list's own filters (unit, active) and sort on the service's point query; the
        others are the service's (:func:`list_points`)."""
        if self.unit_id is not None:
            stmt = stmt.where(col(Asset.unit_id) == self.unit_id)
        if self.active != "all":
            stmt = stmt.where(col(MeasurementPoint.is_active).is_(self.active == "yes"))
        column = SORTABLE[self.sort.lstrip("-")]()
        ordering = column.desc().nulls_last() if self.sort.startswith("-") else column.asc().nulls_last()
        return stmt.order_by(ordering, col(MeasurementPoint.code).asc())


PointFiltersDep = Annotated[PointFilters, Depends(filters_from_query(PointFilters))]


def list_points(filters: PointFilters) -> Select[Any]:
    """Rows of (point, asset tag, asset name, workshop code), filtered and sorted: one query
    (the service's point query plus the list's unit filter, inactive-only choice and sort)."""
    stmt: Select[Any] = service.list_points(  # type: ignore[assignment]
        service.PointFilters(
            q=filters.q or "",
            workshop_id=filters.workshop_id,
            asset_id=filters.asset_id,
            quantity=filters.quantity,
            state=filters.state,
        )
    )
    return filters.apply(stmt.order_by(None))


def workshop_filter(request: Request, workshops: Sequence[Workshop]) -> int | None:
    """The ``workshop_id`` query parameter when it names one of ``workshops`` (anything else: all)."""
    raw = request.query_params.get("workshop_id", "")
    return int(raw) if raw.isdigit() and int(raw) in {w.id for w in workshops} else None
