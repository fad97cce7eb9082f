"""The allocation grid as the page reads it: rows of workshop × category, a subtotal per workshop,
the twelve months and the year, the month totals, the target and what is left to allocate. Three
queries whatever the number of workshops or cells: the year, the workshops and the plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from maintenance.budget import rules, service
from maintenance.budget.allocations import WAN
from maintenance.budget.models import BudgetYear
from maintenance.orders.choices import CostCategory
from maintenance.orders.costs import CostCells
from maintenance.org import service as org_service
from maintenance.org.models import Workshop

CATEGORIES = tuple(CostCategory)
MONTHS = tuple(rules.MONTHS)
_INPUT_STEP = Decimal("0.000001")


def wan_input(amount_cny: Decimal) -> str:
    """An amount in 元 as a grid input shows it: 万元 with two decimals, or up to six when the
    amount is finer than 100 元 (12345.67 元 is 1.234567)."""
    wan = (amount_cny / WAN).quantize(_INPUT_STEP)
    text = format(wan.normalize(), "f")
    whole, _point, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


@dataclass(frozen=True)
class AllocationGrid:
    year: int
    budget: BudgetYear | None
    workshops: Sequence[Workshop]
    plan: CostCells

    def cell(self, workshop_id: int, category: CostCategory, month: int) -> Decimal:
        return self.plan.cells.get((workshop_id, category, month - 1), rules.ZERO)

    def row_total(self, workshop_id: int, category: CostCategory) -> Decimal:
        return self.plan.sum(workshop_id=workshop_id, category=category)

    def subtotal(self, workshop_id: int, month: int | None = None) -> Decimal:
        """A workshop's plan in ``month``, or in the year."""
        return self.plan.sum(workshop_id=workshop_id, months=None if month is None else [month - 1])

    def month_total(self, month: int) -> Decimal:
        return self.plan.sum(months=[month - 1])

    @property
    def total(self) -> Decimal:
        return self.plan.total

    @property
    def target(self) -> Decimal | None:
        return self.budget.target_cny if self.budget else None

    @property
    def unallocated(self) -> Decimal | None:
        """The target less the plan: negative when the grid plans more than the target."""
        return None if self.target is None else self.target - self.total


def allocation_grid(session: Session, year: int) -> AllocationGrid:
    budget = service.budget_year(session, year)
    workshops = org_service.list_workshops(session)
    return AllocationGrid(year, budget, workshops, service.plan_cells(session, year, budget))
