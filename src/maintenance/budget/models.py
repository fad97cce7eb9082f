"""The budget's records: a year's target, the baseline years' actual cost, and the allocation of
the target by workshop × category × month. Money is ``Decimal`` in 元 (two places).

The actual and committed cost are not stored here: they are read from the work orders and the
finance journal by :mod:`maintenance.orders.costs`, the one definition the KPI page shares."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import field_validator
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from maintenance.choices import ChoiceType
from maintenance.db import UTCDateTime, VersionChecked, fk_column, strip_text, utcnow
from maintenance.orders.choices import CostCategory
from maintenance.orders.models import MONEY


def _money() -> Decimal:
    return Field(default=Decimal("0.00"), ge=0, max_digits=16, decimal_places=2, sa_type=MONEY)  # type: ignore[no-any-return]


class BudgetYearFields(SQLModel):
    """What a manager sets for a year: the repair-cost target and why."""

    target_cny: Decimal = _money()
    note: str = Field(default="", max_length=1000)

    _strip_text = field_validator("note", mode="before")(strip_text)


class BudgetYear(BudgetYearFields, VersionChecked, table=True):
    __tablename__ = "budget_year"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True, ge=2000, le=2100)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.year}"


class BaselineYearFields(SQLModel):
    """A past year's actual repair cost, as the finance books have it (the plant's records may not
    reach back that far): the target is judged against the average of the three before it."""

    actual_cny: Decimal = _money()
    note: str = Field(default="", max_length=200)

    _strip_text = field_validator("note", mode="before")(strip_text)


class BaselineYear(BaselineYearFields, table=True):
    __tablename__ = "budget_baseline"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True, ge=2000, le=2100)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.year}"


class Allocation(SQLModel, table=True):
    """The plan of one workshop, category and month of a budget year (a cell of the grid); a cell
    without a row plans nothing."""

    __tablename__ = "budget_allocation"
    __table_args__ = (
        UniqueConstraint("budget_year_id", "workshop_id", "category", "month"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    budget_year_id: int = Field(sa_column=fk_column("budget_year.id", nullable=False, ondelete="CASCADE", index=False))
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False, index=False))
    category: CostCategory = Field(sa_type=ChoiceType(CostCategory))
    month: int = Field(ge=1, le=12)
    amount_cny: Decimal = _money()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.category.value} {self.month:02d}"
