"""Measurement points on assets, their readings, and the alerts that raise condition-based orders.

``reading`` is the one table that grows without bound (design.md §2). It is kept narrow, keyed by
(point, taken_at) — which is both the idempotency key of ingest and the index range scans use — and
has no surrogate id, so it can become a TimescaleDB hypertable or a partitioned table unchanged.
Values are measurements, not money: they are stored as floating point.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import field_validator
from sqlalchemy import Column, Float, ForeignKey, Index, Integer, Numeric
from sqlmodel import Field, SQLModel

from maintenance.choices import ChoiceType
from maintenance.db import UTCDateTime, VersionChecked, fk_column, strip_text, utcnow
from maintenance.monitoring.choices import AlertState, ConditionState, LimitPreset, Quantity, ReadingSource

THICKNESS = Numeric(8, 2)


class PointFields(SQLModel):
    """What a user enters for a point (form, import, API)."""

    code: str = Field(
        min_length=1, max_length=60, schema_extra={"pattern": r"^[A-Za-z0-9_.\-/]+$"}, description="e.g. P-1101A-DE-V"
    )
    asset_id: int
    name: str = Field(min_length=1, max_length=100, description="e.g. 驱动端水平振动")
    quantity: Quantity = Field(sa_type=ChoiceType(Quantity))
    unit: str = Field(default="", max_length=20, description="Defaults to the quantity's unit")
    preset: LimitPreset = Field(default=LimitPreset.NONE, sa_type=ChoiceType(LimitPreset))
    warning_high: float | None = None
    alarm_high: float | None = None
    warning_low: float | None = None
    alarm_low: float | None = None
    # A warning held for this many consecutive readings raises an order, as an alarm does at once.
    warnings_to_raise: int = Field(default=3, ge=1, le=100)
    # Wall-thickness locations (API 570): the thickness when new and the minimum required.
    initial_thickness_mm: Decimal | None = Field(default=None, gt=0, max_digits=8, decimal_places=2, sa_type=THICKNESS)
    initial_date: date | None = None
    required_thickness_mm: Decimal | None = Field(default=None, gt=0, max_digits=8, decimal_places=2, sa_type=THICKNESS)
    is_active: bool = True

    _strip_text = field_validator("code", "name", "unit", mode="before")(strip_text)


class MeasurementPoint(PointFields, VersionChecked, table=True):
    __tablename__ = "measurement_point"
    # The alarm board reads the points in warning or alarm, of one workshop or of all: by state first.
    __table_args__ = (
        Index("ix_measurement_point_workshop_state", "workshop_id", "latest_state"),
        Index("ix_measurement_point_state_workshop", "latest_state", "workshop_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True)
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False))
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False, index=False))
    # The newest reading, kept by ingest: lists and the alarm board read these without scanning readings.
    latest_value: float | None = None
    latest_taken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    latest_state: ConditionState | None = Field(default=None, sa_type=ChoiceType(ConditionState))
    state_since: datetime | None = Field(default=None, sa_type=UTCDateTime, description="When the latest state began")
    consecutive_warnings: int = 0
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return self.code


class PointCreate(PointFields):
    pass


class PointUpdate(PointFields):
    version: int


class Reading(SQLModel, table=True):
    """One value of one point at one instant. Re-sending the same (point, taken_at) is a no-op."""

    point_id: int = Field(
        sa_column=Column(Integer, ForeignKey("measurement_point.id", ondelete="CASCADE"), primary_key=True)
    )
    taken_at: datetime = Field(sa_column=Column(UTCDateTime, primary_key=True))
    value: float = Field(sa_column=Column(Float, nullable=False))
    state: ConditionState = Field(sa_type=ChoiceType(ConditionState))
    source: ReadingSource = Field(sa_type=ChoiceType(ReadingSource))
    entered_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))


class ConditionAlert(SQLModel, table=True):
    """A point out of normal and the condition-based order raised for it: one per point while the
    order is open, however many alarm readings arrive. Readings of the point from ``opened_at`` on
    belong to it until the order is completed."""

    __tablename__ = "condition_alert"
    # The active alerts (the API's alarms, the bell's count) are read by state: a few among every
    # alert ever raised.
    __table_args__ = (
        Index("ix_condition_alert_point_state", "point_id", "state"),
        Index("ix_condition_alert_state", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    point_id: int = Field(sa_column=fk_column("measurement_point.id", nullable=False, ondelete="CASCADE", index=False))
    order_id: int = Field(sa_column=fk_column("work_order.id", nullable=False))
    state: AlertState = Field(default=AlertState.OPEN, sa_type=ChoiceType(AlertState))
    trigger_state: ConditionState = Field(sa_type=ChoiceType(ConditionState))
    trigger_taken_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    trigger_value: float
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    normal_again_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    readings_since: int = Field(default=1, description="Readings of the point attached while it is open")

    @property
    def audit_repr(self) -> str:
        return f"alert {self.id} point {self.point_id}"
