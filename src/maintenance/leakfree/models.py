"""The leak-free domain (无泄漏创建).

- ``SealPoint``: a line of a workshop's seal-point inventory (密封点台账): where (unit, asset,
  location), which sub-type (static or dynamic by its type) and how many points the line counts.
- ``LeakSurvey``: a survey of a workshop's seal points on a date, with the inventory's static and
  dynamic totals as they were that day, so a survey's rate never changes when the inventory does.
- ``Leak``: a leaking point, found on a survey or turned from a failed seal check on a round (once:
  the round entry is unique), followed to repair (an order), repaired date and re-check.
- ``Certification``: a workshop's application → self-assessment → company assessment → certified
  for one year or rejected; a certificate can be revoked with a reason.
- ``RuleDocument``: a version of a management rule (《无泄漏创建管理办法》…) with its file.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import field_validator
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from maintenance.choices import ChoiceType
from maintenance.db import RecordId, UTCDateTime, VersionChecked, fk_column, strip_text, utcnow
from maintenance.leakfree.choices import (
    CertificationState,
    LeakSeverity,
    LeakStatus,
    RuleDocumentKind,
    SealKind,
    SealType,
)

# --- Seal-point inventory --------------------------------------------------------------------


class SealPointFields(SQLModel):
    code: str = Field(min_length=1, max_length=60, schema_extra={"pattern": r"^[A-Za-z0-9_.\-/]+$"})
    workshop_id: RecordId
    unit_id: RecordId | None = None
    asset_id: RecordId | None = None
    seal_type: SealType = Field(sa_type=ChoiceType(SealType))
    location: str = Field(default="", max_length=200, description="e.g. P-101A 出口法兰")
    count: int = Field(ge=1, le=100_000, description="Seal points this line counts")
    is_active: bool = True

    _strip_text = field_validator("code", "location", mode="before")(strip_text)


class SealPoint(SealPointFields, VersionChecked, table=True):
    """A line of the inventory. Retired (``is_active`` false) rather than deleted: leaks keep it."""

    __tablename__ = "seal_point"
    __table_args__ = (Index("ix_seal_point_workshop_type", "workshop_id", "seal_type"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True)
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False, index=False))
    unit_id: int | None = Field(default=None, sa_column=fk_column("unit.id", nullable=True))
    asset_id: int | None = Field(default=None, sa_column=fk_column("asset.id", nullable=True))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def kind(self) -> SealKind:
        return self.seal_type.kind

    @property
    def audit_repr(self) -> str:
        return self.code


class SealPointCreate(SealPointFields):
    pass


class SealPointUpdate(SealPointFields):
    version: int


# --- Surveys and leaks -----------------------------------------------------------------------


class SurveyFields(SQLModel):
    workshop_id: RecordId
    survey_date: date
    surveyed_by: str = Field(min_length=1, max_length=100, description="检测人")
    note: str = Field(default="", max_length=2000)

    _strip_text = field_validator("surveyed_by", "note", mode="before")(strip_text)


class LeakSurvey(SurveyFields, table=True):
    """One survey per workshop and day; the totals are the inventory's on the day it was recorded."""

    __tablename__ = "leak_survey"
    __table_args__ = (UniqueConstraint("workshop_id", "survey_date"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False, index=False))
    static_points: int = Field(ge=0)
    dynamic_points: int = Field(ge=0)
    recorded_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    def points(self, kind: SealKind) -> int:
        return self.static_points if kind == SealKind.STATIC else self.dynamic_points

    @property
    def audit_repr(self) -> str:
        return f"{self.survey_date.isoformat()} survey"


class SurveyCreate(SurveyFields):
    pass


class LeakFields(SQLModel):
    seal_point_id: RecordId | None = None
    kind: SealKind = Field(sa_type=ChoiceType(SealKind))
    severity: LeakSeverity = Field(sa_type=ChoiceType(LeakSeverity))
    found_date: date
    description: str = Field(default="", max_length=500, description="e.g. 出口法兰东侧螺栓处渗油")

    _strip_text = field_validator("description", mode="before")(strip_text)


class Leak(LeakFields, VersionChecked, table=True):
    """A leaking seal point. ``kind`` is the seal point's (or, from a round, the engineer's)."""

    __tablename__ = "leak"
    __table_args__ = (
        Index("ix_leak_workshop_status", "workshop_id", "status"),
        Index("ix_leak_survey", "survey_id"),
        UniqueConstraint("round_entry_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False, index=False))
    seal_point_id: int | None = Field(default=None, sa_column=fk_column("seal_point.id", nullable=True))
    asset_id: int | None = Field(default=None, sa_column=fk_column("asset.id", nullable=True))
    survey_id: int | None = Field(
        default=None, sa_column=fk_column("leak_survey.id", nullable=True, ondelete="CASCADE", index=False)
    )
    # The failed seal check it was turned from: unique, so a round's finding becomes one leak.
    round_entry_id: int | None = Field(default=None, sa_column=fk_column("round_entry.id", nullable=True, index=False))
    status: LeakStatus = Field(default=LeakStatus.OPEN, sa_type=ChoiceType(LeakStatus))
    photo_sha256: str = Field(default="", max_length=64)
    photo_content_type: str = Field(default="", max_length=100)
    order_id: int | None = Field(default=None, sa_column=fk_column("work_order.id", nullable=True))
    repaired_date: date | None = None
    rechecked_date: date | None = None
    rechecked_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    recorded_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"leak {self.id} ({self.severity.zh}) {self.found_date.isoformat()}"


class LeakCreate(LeakFields):
    pass


# --- Certification ---------------------------------------------------------------------------


class Certification(SQLModel, VersionChecked, table=True):
    """One application of a workshop and where it went. A workshop has at most one open application
    (the service refuses a second); its history is its earlier rows."""

    __tablename__ = "leakfree_certification"
    __table_args__ = (Index("ix_leakfree_certification_workshop", "workshop_id", "applied_date"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False, index=False))
    state: CertificationState = Field(default=CertificationState.APPLIED, sa_type=ChoiceType(CertificationState))
    applied_date: date
    applied_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    application_note: str = Field(default="", max_length=2000)
    # The workshop's self-assessment checklist.
    inventory_complete: bool | None = None
    survey_recent: bool | None = None
    thresholds_met: bool | None = None
    documents_in_place: bool | None = None
    self_assessed_date: date | None = None
    # The company's assessment.
    assessor: str = Field(default="", max_length=100)
    assessed_date: date | None = None
    assessment_remarks: str = Field(default="", max_length=2000)
    certified_date: date | None = None
    valid_until: date | None = Field(default=None, description="The last day the certificate is valid")
    revoked_date: date | None = None
    revoke_reason: str = Field(default="", max_length=2000)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"certification {self.id} ({self.applied_date.isoformat()})"


# --- Rule documents --------------------------------------------------------------------------


class RuleDocumentFields(SQLModel):
    kind: RuleDocumentKind = Field(sa_type=ChoiceType(RuleDocumentKind))
    code: str = Field(min_length=1, max_length=40, description="文件编号, e.g. SB-ZD-012")
    title: str = Field(min_length=1, max_length=200, description="e.g. 无泄漏创建管理办法")
    version_label: str = Field(min_length=1, max_length=20, description="e.g. 2026版 / A/2")
    effective_date: date
    note: str = Field(default="", max_length=2000)

    _strip_text = field_validator("code", "title", "version_label", "note", mode="before")(strip_text)


class RuleDocument(RuleDocumentFields, table=True):
    """One version of a rule; the current version is the latest in effect on the day."""

    __tablename__ = "rule_document"
    __table_args__ = (UniqueConstraint("code", "version_label"),)

    id: int | None = Field(default=None, primary_key=True)
    file_sha256: str = Field(max_length=64)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    uploaded_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.code} {self.title} {self.version_label}"


class RuleDocumentCreate(RuleDocumentFields):
    pass
