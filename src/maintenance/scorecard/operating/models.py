"""One unit's month of operation. A month without a row is not reported (not zero)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from maintenance.db import UTCDateTime, fk_column, utcnow

# A month has at most 31 × 24 = 744 hours.
HOURS_IN_LONGEST_MONTH = 744


class OperatingMonthFields(SQLModel):
    hours_run: Decimal = Field(ge=0, le=HOURS_IN_LONGEST_MONTH, max_digits=5, decimal_places=1)
    planned_hours: Decimal = Field(ge=0, le=HOURS_IN_LONGEST_MONTH, max_digits=5, decimal_places=1)
    # Average load as a share of the unit's design capacity, in per cent (a unit may run above 100).
    load_pct: Decimal = Field(ge=0, le=200, max_digits=5, decimal_places=1)


class OperatingMonth(OperatingMonthFields, table=True):
    __tablename__ = "operating_month"
    __table_args__ = (
        UniqueConstraint("unit_id", "month"),
        CheckConstraint("hours_run <= 744 AND planned_hours <= 744", name="hours_in_month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(sa_column=fk_column("unit.id", nullable=False, index=False))
    month: date = Field(description="The month's first day")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return self.month.strftime("%Y-%m")
