"""Exports of the work-order list: CSV and XLSX of exactly the list's filtered query (same
filters, same order), with zh or en headers and labels.

A turnaround's scope list is this export filtered by turnaround
(``/orders?turnaround_id=N&export=xlsx``): the turnaround code and the revamp tie-in flag are
columns. Rows are read in batches from one joined query (asset, assignee and turnaround in the
same statement; workshops are a small lookup loaded once), so the number of queries does not
grow with the rows. How files are written is :mod:`maintenance.exports`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fastapi.responses import Response
from sqlalchemy import Select, String, select, type_coerce
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from maintenance import exports as core
from maintenance.assets.models import Asset
from maintenance.choices import Choice
from maintenance.db import plant_timezone, utcnow
from maintenance.exports import BATCH_SIZE, ExportColumn, ExportFormat
from maintenance.i18n import current_locale
from maintenance.orders.choices import FailureMode, OrderState, OrderType, Priority, Provider
from maintenance.orders.filters import OrderFilters
from maintenance.orders.models import Turnaround, WorkOrder
from maintenance.org import service as org_service
from maintenance.org.models import User, Workshop

logger = logging.getLogger("maintenance.exports")

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("number", "工单号", "Order no.", width=16),
    ExportColumn("order_type", "工单类型", "Type", width=12),
    ExportColumn("title", "标题", "Title", width=30),
    ExportColumn("asset_tag", "设备位号", "Asset tag", width=14),
    ExportColumn("asset_name", "设备名称", "Asset name", width=20),
    ExportColumn("workshop", "车间", "Workshop", width=14),
    ExportColumn("state", "状态", "State", width=10),
    ExportColumn("priority", "优先级", "Priority", width=8),
    ExportColumn("requested_at", "申请时间", "Requested at", "datetime", 16),
    ExportColumn("planned_start_date", "计划开始", "Planned start", "date", 12),
    ExportColumn("planned_finish_date", "计划完成", "Planned finish", "date", 12),
    ExportColumn("due_date", "到期日", "Due date", "date", 12),
    ExportColumn("actual_start_at", "实际开始", "Actual start", "datetime", 16),
    ExportColumn("actual_finish_at", "实际完成", "Actual finish", "datetime", 16),
    ExportColumn("provider", "承修方式", "Provider", width=10),
    ExportColumn("assignee", "负责人/承修单位", "Assignee", width=16),
    ExportColumn("labour_hours", "工时(小时)", "Labour hours", "number", 10),
    ExportColumn("planned_cost_cny", "计划费用(元)", "Planned cost (CNY)", "money", 14),
    ExportColumn("actual_cost_cny", "实际费用(元)", "Actual cost (CNY)", "money", 14),
    ExportColumn("turnaround", "大修编号", "Turnaround", width=12),
    ExportColumn("is_revamp_tie_in", "技改碰头", "Revamp tie-in", width=10),
    ExportColumn("failure_mode", "故障模式", "Failure mode", width=14),
)

# Choice columns are read as their stored codes and labelled through a dict (no enum per cell).
_CHOICES: dict[str, type[Choice]] = {
    "order_type": OrderType,
    "state": OrderState,
    "priority": Priority,
    "provider": Provider,
    "failure_mode": FailureMode,
}
_FIELDS = (
    "number",
    "order_type",
    "title",
    "workshop_id",
    "state",
    "priority",
    "requested_at",
    "planned_start_date",
    "planned_finish_date",
    "due_date",
    "actual_start_at",
    "actual_finish_at",
    "provider",
    "assignee_name",
    "labour_hours",
    "planned_cost_cny",
    "actual_cost_cny",
    "is_revamp_tie_in",
    "failure_mode",
)

QUEUE_NAMES = {
    "open": ("未完成工单", "open orders"),
    "mine": ("我的工单", "my orders"),
    "my_workshops": ("本车间工单", "my workshops' orders"),
    "overdue": ("逾期工单", "overdue orders"),
}


def export_select(filters: OrderFilters, user: User) -> Select[Any]:
    """The list's query (same filters, same order) reduced to the exported columns, with the
    asset, assignee and turnaround joined in (aliases: the filters' subqueries stay uncorrelated)."""
    asset = aliased(Asset, name="order_asset")
    assignee = aliased(User, name="order_assignee")
    turnaround = aliased(Turnaround, name="order_turnaround")
    columns = [
        type_coerce(getattr(WorkOrder, name), String()).label(name) if name in _CHOICES else getattr(WorkOrder, name)
        for name in _FIELDS
    ]
    stmt = filters.apply(select(WorkOrder), user).with_only_columns(
        *columns,
        col(asset.tag).label("asset_tag"),
        col(asset.name).label("asset_name"),
        col(assignee.full_name).label("assignee_full_name"),
        col(assignee.username).label("assignee_username"),
        col(turnaround.code).label("turnaround_code"),
    )
    return (
        stmt.outerjoin(asset, col(asset.id) == col(WorkOrder.asset_id))
        .outerjoin(assignee, col(assignee.id) == col(WorkOrder.assignee_id))
        .outerjoin(turnaround, col(turnaround.id) == col(WorkOrder.turnaround_id))
    )


@dataclass
class OrderExport:
    """One export: its filter, who asked, and the lookups its rows need (loaded once)."""

    session: Session
    filters: OrderFilters
    user: User
    zh: bool
    exported_at: datetime
    workshops: dict[int, Workshop] = field(default_factory=dict)
    turnaround: Turnaround | None = None
    asset: Asset | None = None
    row_count: int = 0

    @classmethod
    def start(cls, session: Session, filters: OrderFilters, *, user: User, zh: bool | None = None) -> OrderExport:
        return cls(
            session=session,
            filters=filters,
            user=user,
            zh=current_locale() == "zh_CN" if zh is None else zh,
            exported_at=utcnow(),
            workshops={w.id: w for w in org_service.list_workshops(session) if w.id is not None},
            turnaround=session.get(Turnaround, filters.turnaround_id) if filters.turnaround_id else None,
            asset=session.get(Asset, filters.asset_id) if filters.asset_id else None,
        )

    @property
    def exported_by(self) -> str:
        return f"{self.user.display_name} ({self.user.username})"

    @property
    def export_date(self) -> date:
        return self.exported_at.astimezone(plant_timezone()).date()

    def file_names(self, fmt: ExportFormat) -> tuple[str, str]:
        """(the real name, an ASCII fallback): 工单_TA2026_2026-11-23.xlsx for a turnaround scope."""
        scope = f"_{self.turnaround.code}" if self.turnaround else ""
        day = self.export_date.isoformat()
        return f"{'工单' if self.zh else 'orders'}{scope}_{day}.{fmt}", f"orders{scope}_{day}.{fmt}"

    def headers(self) -> list[str]:
        return [column.header(self.zh) for column in COLUMNS]

    def rows(self, batch_size: int | None = None) -> Iterator[tuple[Any, ...]]:
        """Typed values in :data:`COLUMNS` order, fetched in batches (a server-side cursor on
        PostgreSQL)."""
        workshop_names = {key: workshop.name for key, workshop in self.workshops.items()}
        labels = core.choice_labels(_CHOICES, zh=self.zh)
        type_label, state_label, priority_label = labels["order_type"], labels["state"], labels["priority"]
        provider_label, mode_label = labels["provider"], labels["failure_mode"]
        yes, no = ("是", "否") if self.zh else ("yes", "no")
        stmt = export_select(self.filters, self.user).execution_options(yield_per=batch_size or BATCH_SIZE)
        self.session.flush()
        result = self.session.connection().execute(stmt)
        self.row_count = 0
        for (
            number, order_type, title, workshop_id, state, priority, requested_at, planned_start, planned_finish,
            due_date, actual_start, actual_finish, provider, assignee_name, labour_hours, planned_cost, actual_cost,
            is_tie_in, failure_mode, asset_tag, asset_name, assignee_full_name, assignee_username, turnaround_code,
        ) in result:  # fmt: skip
            self.row_count += 1
            assignee = assignee_full_name or assignee_username or ""
            if assignee_name:
                assignee = f"{assignee} / {assignee_name}" if assignee else assignee_name
            yield (
                number,
                type_label.get(order_type, order_type),
                title,
                asset_tag or "",
                asset_name or "",
                workshop_names.get(workshop_id, ""),
                state_label.get(state, state),
                priority_label.get(priority, priority),
                core.plant_local(requested_at),
                planned_start,
                planned_finish,
                due_date,
                core.plant_local(actual_start),
                core.plant_local(actual_finish),
                provider_label.get(provider, provider),
                assignee,
                labour_hours,
                planned_cost,
                actual_cost,
                turnaround_code or "",
                yes if is_tie_in else no,
                mode_label.get(failure_mode, failure_mode) if failure_mode else "",
            )

    # --- What the file says about itself ---------------------------------------------------

    def filter_text(self) -> str:
        """The filter in words: 队列=逾期工单；类型=故障维修；车间=合成车间 …"""
        zh, filters = self.zh, self.filters
        parts: list[str] = []

        def add(zh_name: str, en_name: str, value: str) -> None:
            parts.append(f"{zh_name if zh else en_name}={value}")

        if filters.queue is not None:
            zh_queue, en_queue = QUEUE_NAMES[filters.queue]
            add("队列", "queue", zh_queue if zh else en_queue)
        for zh_name, en_name, choice in (
            ("类型", "type", filters.order_type),
            ("状态", "state", filters.state),
        ):
            if choice is not None:
                add(zh_name, en_name, choice.zh if zh else choice.en)
        if filters.workshop_id is not None:
            workshop = self.workshops.get(filters.workshop_id)
            add("车间", "workshop", workshop.name if workshop else f"#{filters.workshop_id}")
        if filters.asset_id is not None:
            add("设备", "asset", self.asset.tag if self.asset else f"#{filters.asset_id}")
        if filters.turnaround_id is not None:
            add("大修", "turnaround", self.turnaround.code if self.turnaround else f"#{filters.turnaround_id}")
        if filters.date_from is not None:
            add("申请日期自", "requested from", filters.date_from.isoformat())
        if filters.date_to is not None:
            add("申请日期至", "requested until", filters.date_to.isoformat())
        if filters.q:
            parts.append(f"关键字“{filters.q}”" if zh else f'search "{filters.q}"')
        if not parts:
            return "全部工单" if zh else "all orders"
        return ("；" if zh else "; ").join(parts)

    def response_headers(self, fmt: ExportFormat) -> dict[str, str]:
        name, fallback = self.file_names(fmt)
        return {"Content-Disposition": core.content_disposition(name, fallback), "Cache-Control": "no-store"}

    # --- Writers ---------------------------------------------------------------------------

    def csv_chunks(self, rows: Iterable[tuple[Any, ...]] | None = None, rows_per_chunk: int = 500) -> Iterator[bytes]:
        return core.csv_chunks(COLUMNS, self.headers(), self.rows() if rows is None else rows, rows_per_chunk)

    def write_xlsx(self, path: str | os.PathLike[str], rows: Iterable[tuple[Any, ...]] | None = None) -> int:
        """The header sheet first, then the orders (constant memory)."""
        zh = self.zh
        workbook = core.open_workbook(path)
        try:
            about = workbook.add_worksheet("说明" if zh else "About")
            data_name = "工单" if zh else "Orders"
            self.row_count = core.write_table(
                workbook, data_name, COLUMNS, self.headers(), self.rows() if rows is None else rows
            )
            entries: list[tuple[str, Any]] = [("筛选条件" if zh else "Filter", self.filter_text())]
            if self.turnaround is not None:
                entries.append(("大修" if zh else "Turnaround", f"{self.turnaround.code} {self.turnaround.name}"))
            entries += [
                ("导出人" if zh else "Exported by", self.exported_by),
                ("导出时间" if zh else "Exported at", core.plant_local(self.exported_at)),
                ("时区" if zh else "Time zone", str(plant_timezone())),
                ("行数" if zh else "Rows", self.row_count),
                ("数据工作表" if zh else "Data sheet", data_name),
            ]
            core.write_about(about, workbook, "工单导出" if zh else "Work-order export", entries)
        finally:
            workbook.close()
        return self.row_count


def export_response(session: Session, filters: OrderFilters, fmt: str, *, user: User) -> Response:
    """The list's filtered query as a CSV (streamed) or XLSX (constant memory) download."""
    checked = core.check_format(fmt)
    export = OrderExport.start(session, filters, user=user)
    logger.info("order export %s by %s (%s)", checked, user.username, export.filter_text())
    return core.download_response(
        checked,
        headers=export.response_headers(checked),
        csv_chunks=export.csv_chunks,
        write_xlsx=export.write_xlsx,
        temp_prefix="order-export-",
    )
