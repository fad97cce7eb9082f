"""The targets a manager sets for the year's indicators (the group benchmark), one row per year
and indicator; an indicator without a row has its default (:data:`indicators.DEFAULT_TARGETS`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import field_validator
from sqlalchemy import Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from maintenance.choices import ChoiceType
from maintenance.db import UTCDateTime, VersionChecked, strip_text, utcnow
from maintenance.scorecard.indicators import Indicator

# Targets are money in 元 or fractions (0.9800): four places hold both.
TARGET_VALUE = Numeric(16, 4)


class ScorecardTargetFields(SQLModel):
    value: Decimal = Field(max_digits=16, decimal_places=4, sa_type=TARGET_VALUE)
    note: str = Field(default="", max_length=200)

    _strip_text = field_validator("note", mode="before")(strip_text)


class ScorecardTarget(ScorecardTargetFields, VersionChecked, table=True):
    __tablename__ = "scorecard_target"
    __table_args__ = (UniqueConstraint("year", "indicator"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(ge=2000, le=2100)
    indicator: Indicator = Field(sa_type=ChoiceType(Indicator))
    version: int = Field(default=1)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.year} {self.indicator.value}"
