"""The scheduler's reminders: an inspection work order ahead of each statutory due date.

:func:`raise_inspection_orders` looks at every special-equipment item that is not retired (the
register, :func:`service.register_items`, on ``today``) and, for each required inspection whose
due date is at most ``inspection_type.reminder_days`` away (or already past), raises one PM work
order titled after the inspection type, due on the due date (a failed item too: its
re-inspection is due all the same). A report of a grade that stops operation (grade 5) leaves no
due date, so nothing is raised for it: the rectification comes first.

Idempotency: ``special_reminder`` has a unique key ``(asset_id, inspection_type_id, due_date)``.
The keys already raised are read first; each new order and its reminder row are then inserted
inside a SAVEPOINT, and a unique violation means another scheduler raised it meanwhile: the
savepoint is rolled back and the date skipped (as the PM scheduler does). A new inspection
moves the due date, so the next one gets an order of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.i18n import gettext as _
from maintenance.orders import service as order_service
from maintenance.orders.choices import OrderType
from maintenance.orders.models import WorkOrder, WorkOrderCreate
from maintenance.special import service
from maintenance.special.models import InspectionReminder, InspectionType
from maintenance.special.rules import application_deadline

ReminderKey = tuple[int, int, date]  # asset id, inspection type id, due date


@dataclass
class ReminderReport:
    """What one pass did."""

    today: date
    items_checked: int = 0
    created: list[WorkOrder] = field(default_factory=list)
    skipped_existing: int = 0  # the order of that due date was raised before (or by another scheduler)

    @property
    def orders_created(self) -> int:
        return len(self.created)


def raise_inspection_orders(session: Session, today: date, actor: Actor) -> ReminderReport:
    """Raise the inspection orders falling within their reminder window on ``today``."""
    items = service.register_items(session, today)
    report = ReminderReport(today=today, items_checked=len(items))
    raised = _raised_keys(session, [item.asset.id for item in items if item.asset.id is not None])
    for item in items:
        for required in item.standing.types:
            due = required.due_date
            inspection_type = required.rule.inspection_type
            if due is None or (due - today).days > inspection_type.reminder_days:
                continue
            if (item.asset.id, required.rule.type_id, due) in raised:
                report.skipped_existing += 1
                continue
            order = _raise_once(session, item.asset, inspection_type, due, actor=actor)
            if order is None:
                report.skipped_existing += 1
            else:
                report.created.append(order)
    return report


def _raised_keys(session: Session, asset_ids: list[int]) -> set[ReminderKey]:
    rows = session.execute(
        select(
            col(InspectionReminder.asset_id),
            col(InspectionReminder.inspection_type_id),
            col(InspectionReminder.due_date),
        ).where(col(InspectionReminder.asset_id).in_(asset_ids))
    )
    return {(asset_id, type_id, due) for asset_id, type_id, due in rows}


def _raise_once(
    session: Session, asset: Asset, inspection_type: InspectionType, due: date, *, actor: Actor
) -> WorkOrder | None:
    """Raise the order of (asset, type, due) in a savepoint; None if another scheduler made it first."""
    try:
        with session.begin_nested():
            return _raise_order(session, asset, inspection_type, due, actor=actor)
    except IntegrityError:
        if _reminder_exists(session, asset, inspection_type, due):
            return None
        raise


def _reminder_exists(session: Session, asset: Asset, inspection_type: InspectionType, due: date) -> bool:
    found = session.scalar(
        select(col(InspectionReminder.id)).where(
            col(InspectionReminder.asset_id) == asset.id,
            col(InspectionReminder.inspection_type_id) == inspection_type.id,
            col(InspectionReminder.due_date) == due,
        )
    )
    return found is not None


def _raise_order(
    session: Session, asset: Asset, inspection_type: InspectionType, due: date, *, actor: Actor
) -> WorkOrder:
    title = _("Statutory inspection: %(type)s due %(date)s", type=inspection_type.name, date=due.isoformat())
    order = order_service.create_order(
        session,
        WorkOrderCreate(
            order_type=OrderType.PM,  # statutory inspections are planned work
            asset_id=asset.id,  # type: ignore[arg-type]
            title=title[:200],
            description=_(
                "Raised by the special-equipment reminders: apply for the inspection by %(deadline)s.",
                deadline=application_deadline(due).isoformat(),
            ),
            due_date=due,
            planned_finish_date=due,
        ),
        actor=actor,
    )
    reminder = InspectionReminder(
        asset_id=asset.id,  # type: ignore[arg-type]
        inspection_type_id=inspection_type.id,  # type: ignore[arg-type]
        due_date=due,
        order_id=order.id,  # type: ignore[arg-type]
    )
    session.add(reminder)
    session.flush()
    audit.record_create(session, actor, reminder)
    return order
