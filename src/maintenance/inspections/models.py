"""Inspections: routes of stops walked as rounds, and seasonal campaigns answered by workshops.

A round's reading stops read monitoring's measurement points (their values go in through monitoring's
ingest); a not-OK check or finding raises a work order.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from pydantic import AwareDatetime, field_validator, model_validator
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from maintenance.choices import ChoiceType
from maintenance.db import RecordId, UTCDateTime, VersionChecked, fk_column, strip_text, utcnow
from maintenance.inspections.choices import CampaignKind, RoundState, RouteFrequency
from maintenance.monitoring.choices import ConditionState
from maintenance.orders.choices import ChecklistResult

# --- Rounds (点检路线) ------------------------------------------------------------------------


class RouteFields(SQLModel):
    """What a user enters for a route (form and API)."""

    code: str = Field(min_length=1, max_length=40, schema_extra={"pattern": r"^[A-Za-z0-9_.\-/]+$"})
    name: str = Field(min_length=1, max_length=100, description="e.g. 一车间机泵日常点检")
    workshop_id: int
    frequency: RouteFrequency = Field(default=RouteFrequency.DAY, sa_type=ChoiceType(RouteFrequency))
    is_active: bool = True

    _strip_text = field_validator("code", "name", mode="before")(strip_text)


class InspectionRoute(RouteFields, VersionChecked, table=True):
    """An inspection route: ordered stops walked once per shift, day or week."""

    __tablename__ = "inspection_route"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return self.code


class RouteCreate(RouteFields):
    pass


class RouteUpdate(RouteFields):
    version: int


class StopFields(SQLModel):
    """A stop reads a measurement point, or asks an OK / not-OK question about an asset."""

    point_id: int | None = None
    asset_id: int | None = None
    check_text: str = Field(default="", max_length=200, description="e.g. 机封无泄漏")

    _strip_text = field_validator("check_text", mode="before")(strip_text)

    @model_validator(mode="after")
    def _point_or_check(self) -> StopFields:
        if (self.point_id is None) == (not self.check_text):
            raise ValueError("a stop reads a point or asks a check, not both or neither")
        return self


class RouteStop(SQLModel, table=True):
    __tablename__ = "route_stop"
    __table_args__ = (Index("ix_route_stop_route_position", "route_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    route_id: int = Field(sa_column=fk_column("inspection_route.id", nullable=False, ondelete="CASCADE", index=False))
    position: int
    point_id: int | None = Field(default=None, sa_column=fk_column("measurement_point.id", nullable=True))
    # The point's asset for a reading stop; the asset asked about for a check.
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False))
    check_text: str = Field(default="", max_length=200)
    # A stop that has been walked is retired rather than deleted, so past rounds keep it.
    is_active: bool = True

    @property
    def audit_repr(self) -> str:
        return f"stop {self.position} of route {self.route_id}"


class InspectionRound(SQLModel, table=True):
    """One walk of a route in one period. (route, period_start) is the scheduler's idempotency key."""

    __tablename__ = "inspection_round"
    __table_args__ = (
        UniqueConstraint("route_id", "period_start"),
        Index("ix_inspection_round_period_end", "period_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    route_id: int = Field(sa_column=fk_column("inspection_route.id", nullable=False, ondelete="CASCADE", index=False))
    # Copied from the route: lists filter by it and permissions check it.
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False, index=False))
    period_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    period_end: datetime = Field(sa_type=UTCDateTime, nullable=False)
    state: RoundState = Field(default=RoundState.DUE, sa_type=ChoiceType(RoundState))
    # The stops the round was generated with and those walked so far: completion rates are
    # sums over rounds, never a scan of entries.
    stops_due: int = 0
    stops_done: int = 0
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"round {self.id} of route {self.route_id}"

    @property
    def period_last_instant(self) -> datetime:
        """The end is exclusive (the next period's start); the period's last day is this
        instant's plant date (a weekly round shows Monday – Sunday, not Monday – Monday)."""
        return self.period_end - timedelta(microseconds=1)


class RoundEntry(SQLModel, table=True):
    """What was found at one stop on one round. Unique per (round, stop): a submit retried over a
    flaky network finds the entry already there and changes nothing."""

    __tablename__ = "round_entry"
    __table_args__ = (UniqueConstraint("round_id", "stop_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(sa_column=fk_column("inspection_round.id", nullable=False, ondelete="CASCADE", index=False))
    stop_id: int = Field(sa_column=fk_column("route_stop.id", nullable=False))
    # A reading stop: the reading's key and what it was judged.
    value: float | None = None
    taken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    state: ConditionState | None = Field(default=None, sa_type=ChoiceType(ConditionState))
    # A check stop.
    result: ChecklistResult | None = Field(default=None, sa_type=ChoiceType(ChecklistResult))
    note: str = Field(default="", max_length=500)
    photo_sha256: str | None = Field(default=None, max_length=64)
    photo_content_type: str | None = Field(default=None, max_length=100)
    # The order this stop raised or joined: the CBM order of the point's alert, or the corrective
    # order a failed check raised.
    order_id: int | None = Field(default=None, sa_column=fk_column("work_order.id", nullable=True))
    entered_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # The id a phone gave the entry when it was taken without signal (static/rounds.js): a
    # replayed sync finds it here, even when a colleague has entered the stop since.
    client_id: str | None = Field(default=None, max_length=36, unique=True)

    @property
    def audit_repr(self) -> str:
        return f"entry {self.id} of round {self.round_id}"


TAKEN_FROM_YEAR, TAKEN_UNTIL_YEAR = 2000, 2100  # a phone's time outside these years is a broken clock


class OfflineEntry(SQLModel):
    """One stop entered on a phone and kept in its outbox until it could be sent (POST
    /rounds/sync): the id the phone gave it and the time it was taken there."""

    client_id: str = Field(min_length=8, max_length=36, schema_extra={"pattern": r"^[0-9A-Za-z-]+$"})
    round_id: RecordId
    stop_id: RecordId
    value: float | None = None
    result: ChecklistResult | None = None
    note: str = Field(default="", max_length=500)
    taken_at: AwareDatetime

    @field_validator("taken_at")
    @classmethod
    def _sane_time(cls, taken_at: datetime) -> datetime:
        # The year as written, before any shift to UTC: 9999-12-31T23:59:59-12:00 has no UTC time.
        if not TAKEN_FROM_YEAR <= taken_at.year < TAKEN_UNTIL_YEAR:
            raise ValueError(f"a time from {TAKEN_FROM_YEAR} to {TAKEN_UNTIL_YEAR - 1} is needed")
        return taken_at

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("a finite number is needed")
        return value

    @field_validator("note")
    @classmethod
    def _no_nul(cls, note: str) -> str:
        if "\x00" in note:
            raise ValueError("remove the NUL character (\\0)")
        return note


class OfflineBatch(SQLModel):
    """A phone's outbox, sent 50 entries at a time (static/rounds.js); 100 of the longest notes
    still fit the body limit of a form."""

    entries: list[OfflineEntry] = Field(min_length=1, max_length=100)


# --- Seasonal special inspections (季节性专项检查) ----------------------------------------------


class CampaignFields(SQLModel):
    name: str = Field(min_length=1, max_length=100, description="e.g. 2026年冬季防冻防凝专项检查")
    kind: CampaignKind = Field(sa_type=ChoiceType(CampaignKind))
    starts_on: date
    deadline: date
    instructions: str = Field(default="", max_length=4000)

    _strip_text = field_validator("name", "instructions", mode="before")(strip_text)

    @model_validator(mode="after")
    def _deadline_after_start(self) -> CampaignFields:
        if self.deadline < self.starts_on:
            raise ValueError("the deadline is before the start")
        return self


class InspectionCampaign(CampaignFields, VersionChecked, table=True):
    """A seasonal campaign: one checklist answered by each participating workshop by the deadline."""

    __tablename__ = "inspection_campaign"

    id: int | None = Field(default=None, primary_key=True)
    created_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return self.name


class CampaignCreate(CampaignFields):
    pass


class CampaignUpdate(CampaignFields):
    version: int


class CampaignItem(SQLModel, table=True):
    __tablename__ = "campaign_item"
    __table_args__ = (Index("ix_campaign_item_campaign_position", "campaign_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(
        sa_column=fk_column("inspection_campaign.id", nullable=False, ondelete="CASCADE", index=False)
    )
    position: int
    text: str = Field(max_length=200, description="e.g. 伴热线投用、保温完好")

    @property
    def audit_repr(self) -> str:
        return self.text


class CampaignWorkshop(SQLModel, table=True):
    """A workshop's part in a campaign; submitted once every item is answered."""

    __tablename__ = "campaign_workshop"
    __table_args__ = (UniqueConstraint("campaign_id", "workshop_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(
        sa_column=fk_column("inspection_campaign.id", nullable=False, ondelete="CASCADE", index=False)
    )
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False))
    items_answered: int = 0
    findings: int = 0
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))

    @property
    def audit_repr(self) -> str:
        return f"campaign {self.campaign_id} workshop {self.workshop_id}"


class CampaignResult(SQLModel, table=True):
    """One workshop's answer to one item. A not-OK answer is a finding and may raise an order."""

    __tablename__ = "campaign_result"
    __table_args__ = (UniqueConstraint("campaign_workshop_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_workshop_id: int = Field(
        sa_column=fk_column("campaign_workshop.id", nullable=False, ondelete="CASCADE", index=False)
    )
    item_id: int = Field(sa_column=fk_column("campaign_item.id", nullable=False, ondelete="CASCADE"))
    result: ChecklistResult = Field(sa_type=ChoiceType(ChecklistResult))
    note: str = Field(default="", max_length=500)
    asset_id: int | None = Field(default=None, sa_column=fk_column("asset.id", nullable=True))
    order_id: int | None = Field(default=None, sa_column=fk_column("work_order.id", nullable=True))
    answered_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    answered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"result {self.id} item {self.item_id}"
