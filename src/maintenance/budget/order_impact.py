"""What a work order does to its workshop's month of the budget (the card on the order page).

The month is the one the budget counts the order in: the month it finished; for an order still
open, the month it is planned for (finish, else start) but not one already past (the budget moves
an overdue commitment to the current month); for an order with no plan, the current month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.budget.period import within
from maintenance.budget.rules import ZERO
from maintenance.budget.service import MonthFigures, budget_report
from maintenance.db import plant_timezone
from maintenance.orders.choices import DONE_STATES, OrderState
from maintenance.orders.costs import commitment_day
from maintenance.orders.models import WorkOrder


def budget_month(order: WorkOrder, today: date) -> date:
    """The first day of the month the budget counts ``order`` in."""
    if order.state in DONE_STATES and order.actual_finish_at is not None:
        day = order.actual_finish_at.astimezone(plant_timezone()).date()
    elif order.state == OrderState.CANCELLED:
        day = commitment_day(order) or today
    else:
        day = max(commitment_day(order) or today, today)
    return day.replace(day=1)


@dataclass(frozen=True)
class OrderImpact:
    order: WorkOrder
    month: date
    figures: MonthFigures
    budget_set: bool

    @property
    def counted(self) -> bool:
        """Whether the month's figures hold the order already: as actual once completed, as
        committed once approved (a cancelled order counts nowhere)."""
        return self.order.state != OrderState.CANCELLED and (
            self.order.state in DONE_STATES or self.order.approved_at is not None
        )

    @property
    def with_order(self) -> Decimal:
        """The month's actual and committed cost, with the order's planned cost when a draft."""
        pending = ZERO if self.counted or self.order.state == OrderState.CANCELLED else self.order.planned_cost_cny
        return self.figures.actual + self.figures.committed + pending

    @property
    def over_plan_by(self) -> Decimal:
        """How far the month goes over its plan with the order (zero or less: within the plan)."""
        return self.with_order - self.figures.plan

    @property
    def over_plan(self) -> bool:
        return self.budget_set and self.over_plan_by > 0


def order_impact(session: Session, order: WorkOrder, today: date) -> OrderImpact:
    """The order's workshop's month of the budget as known ``today`` (seven queries)."""
    month = budget_month(order, today)
    report = budget_report(session, month.year, within(month.year, today), workshop_ids=[order.workshop_id])
    figures = report.months(workshop_id=order.workshop_id)[month.month - 1]
    return OrderImpact(order, month, figures, budget_set=report.budget is not None)
