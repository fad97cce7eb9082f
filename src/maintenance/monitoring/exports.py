"""Exports of the measurement-point list: CSV and XLSX of exactly the list's filtered query (same
filters, same order), with zh or en headers and labels.

Rows are read in batches from one statement: the asset joined in and the number of the open CBM
order as a correlated subquery, workshops a small lookup loaded once; the number of queries does
not grow with the rows. How files are written is :mod:`maintenance.exports`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Select, String, select, type_coerce
from sqlmodel import Session, col

from maintenance import exports as core
from maintenance.assets.models import Asset
from maintenance.choices import Choice
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, current_locale
from maintenance.monitoring.alerts import ACTIVE_ALERT_STATES, FINISHED_ORDER_STATES
from maintenance.monitoring.choices import ConditionState, LimitPreset, Quantity
from maintenance.monitoring.filters import PointFilters, list_points
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint
from maintenance.monitoring.rules import ISO_10816_3, QUANTITIES
from maintenance.orders.models import WorkOrder
from maintenance.org import service as org_service
from maintenance.org.models import User

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("code", NP_("point export", "Point code"), width=20),
    ExportColumn("name", NP_("point export", "Point name"), width=20),
    ExportColumn("asset_tag", NP_("point export", "Asset tag"), width=14),
    ExportColumn("asset_name", NP_("point export", "Asset name"), width=18),
    ExportColumn("workshop", NP_("point export", "Workshop"), width=14),
    ExportColumn("quantity", NP_("point export", "Quantity"), width=16),
    ExportColumn("unit", NP_("point export", "Unit"), width=8),
    ExportColumn("latest_value", NP_("point export", "Latest value"), "number", 10),
    ExportColumn("zone", NP_("point export", "ISO 10816 zone"), width=8),
    ExportColumn("latest_taken_at", NP_("point export", "Taken at"), "datetime", 16),
    ExportColumn("state", NP_("point export", "State"), width=8),
    ExportColumn("state_since", NP_("point export", "State since"), "datetime", 16),
    ExportColumn("warning_high", NP_("point export", "Warning high"), "number", 10),
    ExportColumn("alarm_high", NP_("point export", "Alarm high"), "number", 10),
    ExportColumn("warning_low", NP_("point export", "Warning low"), "number", 10),
    ExportColumn("alarm_low", NP_("point export", "Alarm low"), "number", 10),
    ExportColumn("preset", NP_("point export", "Limit preset"), width=24),
    ExportColumn("is_active", NP_("point export", "Active"), width=6),
    ExportColumn("open_order", NP_("point export", "Open CBM order"), width=16),
)

_CHOICES: dict[str, type[Choice]] = {"quantity": Quantity, "state": ConditionState, "preset": LimitPreset}


def open_order_number() -> Any:
    """The number of the point's open CBM order (its active alert's order, not finished)."""
    return (
        select(col(WorkOrder.number))
        .join(ConditionAlert, col(ConditionAlert.order_id) == col(WorkOrder.id))
        .where(
            col(ConditionAlert.point_id) == col(MeasurementPoint.id),
            col(ConditionAlert.state).in_(ACTIVE_ALERT_STATES),
            col(WorkOrder.state).not_in(FINISHED_ORDER_STATES),
        )
        .order_by(col(ConditionAlert.id).desc())
        .limit(1)
        .correlate(MeasurementPoint)
        .scalar_subquery()
    )


def export_select(filters: PointFilters) -> Select[Any]:
    """The list's query (same filters, same order) reduced to the exported columns."""
    return list_points(filters).with_only_columns(  # type: ignore[return-value]
        col(MeasurementPoint.code),
        col(MeasurementPoint.name),
        col(Asset.tag),
        col(Asset.name),
        col(MeasurementPoint.workshop_id),
        type_coerce(col(MeasurementPoint.quantity), String()),
        col(MeasurementPoint.unit),
        col(MeasurementPoint.latest_value),
        col(MeasurementPoint.latest_taken_at),
        type_coerce(col(MeasurementPoint.latest_state), String()),
        col(MeasurementPoint.state_since),
        col(MeasurementPoint.warning_high),
        col(MeasurementPoint.alarm_high),
        col(MeasurementPoint.warning_low),
        col(MeasurementPoint.alarm_low),
        type_coerce(col(MeasurementPoint.preset), String()),
        col(MeasurementPoint.is_active),
        open_order_number().label("open_order"),
    )


@dataclass(kw_only=True)
class PointExport(core.TableExport):
    columns = COLUMNS
    title = NP_("point export", "Measurement-point export")
    sheet_name = NP_("point export", "Points")
    file_stem = NP_("point export", "points")
    temp_prefix = "point-export-"

    filters: PointFilters
    workshops: dict[int, str] = field(default_factory=dict)

    @classmethod
    def start(cls, session: Session, filters: PointFilters, *, user: User, locale: str | None = None) -> PointExport:
        return cls(
            session=session,
            filters=filters,
            locale=locale or current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
            workshops={w.id: w.name for w in org_service.list_workshops(session) if w.id is not None},
        )

    def select(self) -> Select[Any]:
        return export_select(self.filters)

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        labels = core.choice_labels(_CHOICES, zh=self.zh)
        zones = {preset.value: zone for preset, zone in ISO_10816_3.items()}
        vibration = Quantity.VIBRATION.value
        yes, no = self.text("yes"), self.text("no")
        for (
            code, name, tag, asset_name, workshop_id, quantity, unit, value, taken_at, state, since,
            warning_high, alarm_high, warning_low, alarm_low, preset, is_active, open_order,
        ) in result:  # fmt: skip
            zone = zones.get(preset) if quantity == vibration else None
            yield (
                code,
                name,
                tag,
                asset_name,
                self.workshops.get(workshop_id, ""),
                labels["quantity"].get(quantity, quantity),
                unit or QUANTITIES[Quantity(quantity)].unit,
                value,
                zone.zone(value) if zone is not None and value is not None else "",
                core.plant_local(taken_at),
                labels["state"].get(state, state) if state else "",
                core.plant_local(since),
                warning_high,
                alarm_high,
                warning_low,
                alarm_low,
                labels["preset"].get(preset, preset),
                yes if is_active else no,
                open_order or "",
            )

    def filter_text(self) -> str:
        """The list's own parameters (code=value), sort left out."""
        data = self.filters.query_params()
        data.pop("sort", None)
        if not data:
            return self.text(NP_("point export", "all points"))
        return "; ".join(f"{key}={value}" for key, value in sorted(data.items()))


def export_response(session: Session, request: Request, filters: PointFilters, fmt: str, *, user: User) -> Response:
    """The list's filtered query as a CSV (streamed) or XLSX (constant memory) download."""
    checked = core.check_format(fmt)
    return PointExport.start(session, filters, user=user).response(checked, request)
