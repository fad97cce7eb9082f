"""Exports of the measurement-point list: CSV and XLSX of exactly the list's filtered query (same
filters, same order), with zh or en headers and labels.

Rows are read in batches from one statement: the asset joined in and the number of the open CBM
order as a correlated subquery, workshops a small lookup loaded once; the number of queries does
not grow with the rows. How files are written is :mod:`maintenance.exports`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi.responses import Response
from sqlalchemy import Select, String, select, type_coerce
from sqlmodel import Session, col

from maintenance import exports as core
from maintenance.assets.models import Asset
from maintenance.choices import Choice
from maintenance.db import plant_timezone, utcnow
from maintenance.exports import BATCH_SIZE, ExportColumn, ExportFormat
from maintenance.i18n import current_locale
from maintenance.monitoring.alerts import ACTIVE_ALERT_STATES, FINISHED_ORDER_STATES
from maintenance.monitoring.choices import ConditionState, LimitPreset, Quantity
from maintenance.monitoring.filters import PointFilters, list_points
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint
from maintenance.monitoring.rules import ISO_10816_3, QUANTITIES
from maintenance.orders.models import WorkOrder
from maintenance.org import service as org_service
from maintenance.org.models import User

logger = logging.getLogger("maintenance.exports")

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("code", "测点编号", "Point code", width=20),
    ExportColumn("name", "测点名称", "Point name", width=20),
    ExportColumn("asset_tag", "设备位号", "Asset tag", width=14),
    ExportColumn("asset_name", "设备名称", "Asset name", width=18),
    ExportColumn("workshop", "车间", "Workshop", width=14),
    ExportColumn("quantity", "测量参数", "Quantity", width=16),
    ExportColumn("unit", "单位", "Unit", width=8),
    ExportColumn("latest_value", "最新值", "Latest value", "number", 10),
    ExportColumn("zone", "ISO 10816 区域", "ISO 10816 zone", width=8),
    ExportColumn("latest_taken_at", "测量时间", "Taken at", "datetime", 16),
    ExportColumn("state", "状态", "State", width=8),
    ExportColumn("state_since", "状态起始", "State since", "datetime", 16),
    ExportColumn("warning_high", "高预警值", "Warning high", "number", 10),
    ExportColumn("alarm_high", "高报警值", "Alarm high", "number", 10),
    ExportColumn("warning_low", "低预警值", "Warning low", "number", 10),
    ExportColumn("alarm_low", "低报警值", "Alarm low", "number", 10),
    ExportColumn("preset", "限值依据", "Limit preset", width=24),
    ExportColumn("is_active", "启用", "Active", width=6),
    ExportColumn("open_order", "未完成预知维修工单", "Open CBM order", width=16),
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


@dataclass
class PointExport:
    session: Session
    filters: PointFilters
    user: User
    zh: bool
    exported_at: datetime
    workshops: dict[int, str] = field(default_factory=dict)
    row_count: int = 0

    @classmethod
    def start(cls, session: Session, filters: PointFilters, *, user: User, zh: bool | None = None) -> PointExport:
        return cls(
            session=session,
            filters=filters,
            user=user,
            zh=current_locale() == "zh_CN" if zh is None else zh,
            exported_at=utcnow(),
            workshops={w.id: w.name for w in org_service.list_workshops(session) if w.id is not None},
        )

    def headers(self) -> list[str]:
        return [column.header(self.zh) for column in COLUMNS]

    def file_names(self, fmt: ExportFormat) -> tuple[str, str]:
        day = self.exported_at.astimezone(plant_timezone()).date().isoformat()
        return f"{'测点' if self.zh else 'points'}_{day}.{fmt}", f"points_{day}.{fmt}"

    def rows(self, batch_size: int | None = None) -> Iterator[tuple[Any, ...]]:
        labels = core.choice_labels(_CHOICES, zh=self.zh)
        zones = {preset.value: zone for preset, zone in ISO_10816_3.items()}
        vibration = Quantity.VIBRATION.value
        yes, no = ("是", "否") if self.zh else ("yes", "no")
        stmt = export_select(self.filters).execution_options(yield_per=batch_size or BATCH_SIZE)
        self.session.flush()
        self.row_count = 0
        for (
            code, name, tag, asset_name, workshop_id, quantity, unit, value, taken_at, state, since,
            warning_high, alarm_high, warning_low, alarm_low, preset, is_active, open_order,
        ) in self.session.connection().execute(stmt):  # fmt: skip
            self.row_count += 1
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
        data = self.filters.query_params()
        data.pop("sort", None)
        if not data:
            return "全部测点" if self.zh else "all points"
        return "; ".join(f"{key}={value}" for key, value in sorted(data.items()))

    def csv_chunks(self, rows: Iterable[tuple[Any, ...]] | None = None, rows_per_chunk: int = 500) -> Iterator[bytes]:
        return core.csv_chunks(COLUMNS, self.headers(), self.rows() if rows is None else rows, rows_per_chunk)

    def write_xlsx(self, path: str | os.PathLike[str]) -> int:
        zh = self.zh
        workbook = core.open_workbook(path)
        try:
            about = workbook.add_worksheet("说明" if zh else "About")
            data_name = "测点" if zh else "Points"
            self.row_count = core.write_table(workbook, data_name, COLUMNS, self.headers(), self.rows())
            core.write_about(
                about,
                workbook,
                "测点导出" if zh else "Measurement-point export",
                [
                    ("筛选条件" if zh else "Filter", self.filter_text()),
                    ("导出人" if zh else "Exported by", f"{self.user.display_name} ({self.user.username})"),
                    ("导出时间" if zh else "Exported at", core.plant_local(self.exported_at)),
                    ("时区" if zh else "Time zone", str(plant_timezone())),
                    ("行数" if zh else "Rows", self.row_count),
                ],
            )
        finally:
            workbook.close()
        return self.row_count


def export_response(session: Session, filters: PointFilters, fmt: str, *, user: User) -> Response:
    """The list's filtered query as a CSV (streamed) or XLSX (constant memory) download."""
    checked = core.check_format(fmt)
    export = PointExport.start(session, filters, user=user)
    logger.info("point export %s by %s (%s)", checked, user.username, export.filter_text())
    name, fallback = export.file_names(checked)
    return core.download_response(
        checked,
        headers={"Content-Disposition": core.content_disposition(name, fallback), "Cache-Control": "no-store"},
        csv_chunks=export.csv_chunks,
        write_xlsx=export.write_xlsx,
        temp_prefix="point-export-",
    )
