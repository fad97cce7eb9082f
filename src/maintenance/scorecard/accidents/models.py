"""An equipment accident or incident and its corrective actions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import field_validator
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from maintenance.choices import Choice, ChoiceType
from maintenance.db import UTCDateTime, VersionChecked, fk_column, strip_text, utcnow
from maintenance.orders.models import MONEY


class AccidentClass(Choice):
    """By consequence, the plant's classes; an incident (设备事件) is recorded and followed up but is
    not an accident and does not count in the accident rate."""

    MAJOR = ("major", "重大设备事故", "Major accident", "danger")
    SERIOUS = ("serious", "较大设备事故", "Serious accident", "danger")
    GENERAL = ("general", "一般设备事故", "General accident", "warning")
    INCIDENT = ("incident", "设备事件", "Incident", "secondary")


class AccidentFields(SQLModel):
    occurred_on: date
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False))
    accident_class: AccidentClass = Field(sa_type=ChoiceType(AccidentClass))
    title: str = Field(min_length=1, max_length=200)
    downtime_hours: Decimal = Field(default=Decimal("0"), ge=0, max_digits=8, decimal_places=1)
    loss_cny: Decimal = Field(default=Decimal("0.00"), ge=0, max_digits=16, decimal_places=2, sa_type=MONEY)
    description: str = Field(default="", max_length=4000)
    cause: str = Field(default="", max_length=4000)

    _strip_text = field_validator("title", "description", "cause", mode="before")(strip_text)


class Accident(AccidentFields, VersionChecked, table=True):
    __tablename__ = "accident"
    __table_args__ = (Index("ix_accident_occurred_on_class", "occurred_on", "accident_class"),)

    id: int | None = Field(default=None, primary_key=True)
    # The asset's workshop when the accident was recorded: the workshop it is assessed against
    # (考核) and whose engineers may edit it, even if the asset moves later.
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False))
    recorded_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.occurred_on.isoformat()} {self.title}"


class AccidentActionFields(SQLModel):
    description: str = Field(min_length=1, max_length=500)
    owner: str = Field(default="", max_length=60)
    due_date: date | None = None
    done_on: date | None = None

    _strip_text = field_validator("description", "owner", mode="before")(strip_text)


class AccidentAction(AccidentActionFields, VersionChecked, table=True):
    __tablename__ = "accident_action"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(default=1)
    accident_id: int = Field(sa_column=fk_column("accident.id", nullable=False, ondelete="CASCADE"))
    # The work order this action raised, if any (the order's number shows on the action).
    order_id: int | None = Field(default=None, sa_column=fk_column("work_order.id", nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return self.description


class AccidentCreate(AccidentFields):
    """What the recording form sends (the asset named by its tag, resolved to its id)."""


class AccidentUpdate(AccidentFields):
    """A full edit, made from the version the form was opened on."""

    version: int


class AccidentActionCreate(AccidentActionFields):
    """A corrective action as the accident page adds it."""


class AccidentActionUpdate(AccidentActionFields):
    """An action's full edit, made from the version the form was opened on."""

    version: int
