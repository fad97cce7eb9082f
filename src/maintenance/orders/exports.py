"""Exports of the work-order list: CSV and XLSX of exactly the list's filtered query (same
filters, same order), with zh or en headers and labels.

A turnaround's scope list is this export filtered by turnaround
(``/orders?turnaround_id=N&export=xlsx``): the turnaround code and the revamp tie-in flag are
columns. Rows are read in batches from one joined query (asset, assignee and turnaround in the
same statement; workshops are a small lookup loaded once), so the number of queries does not
grow with the rows. How files are written is :mod:`maintenance.exports`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Select, String, type_coerce
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from maintenance import exports as core
from maintenance.assets.models import Asset
from maintenance.choices import Choice
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, ContextMessage, current_locale
from maintenance.orders import service
from maintenance.orders.choices import FailureMode, OrderState, OrderType, Priority, Provider
from maintenance.orders.filters import OrderFilters
from maintenance.orders.models import Turnaround, WorkOrder
from maintenance.org import service as org_service
from maintenance.org.models import User, Workshop

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("number", NP_("order export", "Order no."), width=16),
    ExportColumn("order_type", NP_("order export", "Type"), width=12),
    ExportColumn("title", NP_("order export", "Title"), width=30),
    ExportColumn("asset_tag", NP_("order export", "Asset tag"), width=14),
    ExportColumn("asset_name", NP_("order export", "Asset name"), width=20),
    ExportColumn("workshop", NP_("order export", "Workshop"), width=14),
    ExportColumn("state", NP_("order export", "State"), width=10),
    ExportColumn("priority", NP_("order export", "Priority"), width=8),
    ExportColumn("requested_at", NP_("order export", "Requested at"), "datetime", 16),
    ExportColumn("planned_start_date", NP_("order export", "Planned start"), "date", 12),
    ExportColumn("planned_finish_date", NP_("order export", "Planned finish"), "date", 12),
    ExportColumn("due_date", NP_("order export", "Due date"), "date", 12),
    ExportColumn("actual_start_at", NP_("order export", "Actual start"), "datetime", 16),
    ExportColumn("actual_finish_at", NP_("order export", "Actual finish"), "datetime", 16),
    ExportColumn("provider", NP_("order export", "Provider"), width=10),
    ExportColumn("assignee", NP_("order export", "Assignee"), width=16),
    ExportColumn("labour_hours", NP_("order export", "Labour hours"), "number", 10),
    ExportColumn("planned_cost_cny", NP_("order export", "Planned cost (CNY)"), "money", 14),
    ExportColumn("actual_cost_cny", NP_("order export", "Actual cost (CNY)"), "money", 14),
    ExportColumn("turnaround", NP_("order export", "Turnaround"), width=12),
    ExportColumn("is_revamp_tie_in", NP_("order export", "Revamp tie-in"), width=10),
    ExportColumn("failure_mode", NP_("order export", "Failure mode"), width=14),
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
    "open": NP_("order export", "open orders"),
    "mine": NP_("order export", "my orders"),
    "my_workshops": NP_("order export", "my workshops' orders"),
    "overdue": NP_("order export", "overdue orders"),
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
    stmt = service.list_orders(filters, user).with_only_columns(
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


@dataclass(kw_only=True)
class OrderExport(core.TableExport):
    """One export: its filter, whose queue it is, and the lookups its rows need (loaded once)."""

    columns = COLUMNS
    title = NP_("order export", "Work-order export")
    sheet_name = NP_("order export", "Orders")
    file_stem = NP_("order export", "orders")
    temp_prefix = "order-export-"

    filters: OrderFilters
    user: User
    workshops: dict[int, Workshop] = field(default_factory=dict)
    turnaround: Turnaround | None = None
    asset: Asset | None = None

    @classmethod
    def start(cls, session: Session, filters: OrderFilters, *, user: User, locale: str | None = None) -> OrderExport:
        return cls(
            session=session,
            filters=filters,
            user=user,
            locale=locale or current_locale(),
            exported_by=f"{user.display_name} ({user.username})",
            workshops={w.id: w for w in org_service.list_workshops(session) if w.id is not None},
            turnaround=session.get(Turnaround, filters.turnaround_id) if filters.turnaround_id else None,
            asset=session.get(Asset, filters.asset_id) if filters.asset_id else None,
        )

    def file_scope(self) -> str:
        """A turnaround's scope list is named by its code: 工单_TA2026_2026-11-23.xlsx."""
        return f"_{self.turnaround.code}" if self.turnaround else ""

    def select(self) -> Select[Any]:
        return export_select(self.filters, self.user)

    def records(self, result: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        workshop_names = {key: workshop.name for key, workshop in self.workshops.items()}
        labels = core.choice_labels(_CHOICES, zh=self.zh)
        type_label, state_label, priority_label = labels["order_type"], labels["state"], labels["priority"]
        provider_label, mode_label = labels["provider"], labels["failure_mode"]
        yes, no = self.text("yes"), self.text("no")
        for (
            number, order_type, title, workshop_id, state, priority, requested_at, planned_start, planned_finish,
            due_date, actual_start, actual_finish, provider, assignee_name, labour_hours, planned_cost, actual_cost,
            is_tie_in, failure_mode, asset_tag, asset_name, assignee_full_name, assignee_username, turnaround_code,
        ) in result:  # fmt: skip
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
        filters = self.filters
        parts: list[str] = []

        def add(name: ContextMessage, value: str) -> None:
            parts.append(f"{self.text(name)}={value}")

        if filters.queue is not None:
            add(NP_("order export", "queue"), self.text(QUEUE_NAMES[filters.queue]))
        if filters.order_type is not None:
            add(NP_("order export", "type"), filters.order_type.zh if self.zh else filters.order_type.en)
        if filters.state is not None:
            add(NP_("order export", "state"), filters.state.zh if self.zh else filters.state.en)
        if filters.workshop_id is not None:
            workshop = self.workshops.get(filters.workshop_id)
            add(NP_("order export", "workshop"), workshop.name if workshop else f"#{filters.workshop_id}")
        if filters.asset_id is not None:
            add(NP_("order export", "asset"), self.asset.tag if self.asset else f"#{filters.asset_id}")
        if filters.turnaround_id is not None:
            code = self.turnaround.code if self.turnaround else f"#{filters.turnaround_id}"
            add(NP_("order export", "turnaround"), code)
        if filters.date_from is not None:
            add(NP_("order export", "requested from"), filters.date_from.isoformat())
        if filters.date_to is not None:
            add(NP_("order export", "requested until"), filters.date_to.isoformat())
        if filters.q:
            parts.append(self.text(NP_("export", 'search "%(q)s"'), q=filters.q))
        return self.join_filters(parts, NP_("order export", "all orders"))

    def scope_entries(self) -> list[tuple[str, Any]]:
        entries = super().scope_entries()
        if self.turnaround is not None:
            entries.append((self.text(NP_("export", "Turnaround")), f"{self.turnaround.code} {self.turnaround.name}"))
        return entries


def export_response(session: Session, request: Request, filters: OrderFilters, fmt: str, *, user: User) -> Response:
    """The list's filtered query as a CSV (streamed) or XLSX (constant memory) download."""
    checked = core.check_format(fmt)
    return OrderExport.start(session, filters, user=user).response(checked, request)
