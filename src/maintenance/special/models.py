"""The special-equipment register (特种设备).

- ``InspectionType``: a statutory inspection a category of special equipment needs (pressure
  vessel annual check, periodic inspection, …) and its interval rule; ``InspectionGradeInterval``
  the interval by the safety grade the last report gave (none: must not operate). Data an admin
  edits, seeded from design.md §6 by the migration.
- ``Registration``: the use registration (使用登记) of an asset, with ``RegistrationEvent`` rows
  for changes and the cancellation (art. 47/48).
- ``InspectionApplication``: the application for the inspection of a due date (art. 40: at least
  one month before it).
- ``SpecialInspection``: an inspection report; its next due date is the report's, or the rules'.
- ``Finding``: a regulator's rectification notice or shutdown order, with its rectification.
- ``InspectionReminder``: the work order the scheduler raised for one due date (its natural key).

The asset's category is ``Asset.special_category``; the register never copies it.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import field_validator
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

# The report PDF's table: its foreign key must be known wherever an inspection is written
# (the CLI's demo seed and scheduler import no documents code of their own).
import maintenance.assets.documents.models  # noqa: F401
from maintenance.assets.choices import SpecialCategory
from maintenance.choices import ChoiceType
from maintenance.db import UTCDateTime, VersionChecked, fk_column, strip_text, utcnow
from maintenance.special.choices import FindingKind, FindingStatus, InspectionResult, RegistrationEventKind

SAFETY_GRADES = (1, 2, 3, 4, 5)


# --- Inspection types and their interval rules ----------------------------------------------


class InspectionTypeFields(SQLModel):
    code: str = Field(min_length=1, max_length=20, schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"})
    category: SpecialCategory = Field(sa_type=ChoiceType(SpecialCategory))
    name: str = Field(min_length=1, max_length=60, description="中文名称")
    name_en: str = Field(min_length=1, max_length=60)
    interval_months: int = Field(ge=1, le=240, description="Months from one inspection to the next")
    first_within_months: int | None = Field(
        default=None, ge=1, le=240, description="The first inspection is due this long after commissioning"
    )
    reminder_days: int = Field(default=60, ge=1, le=365, description="Raise the inspection order this long ahead")
    is_active: bool = True

    _strip_text = field_validator("code", "name", "name_en", mode="before")(strip_text)


class InspectionType(InspectionTypeFields, VersionChecked, table=True):
    __tablename__ = "special_inspection_type"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    version: int = Field(default=1)

    @property
    def audit_repr(self) -> str:
        return f"{self.code} {self.name}"


class InspectionTypeUpdate(InspectionTypeFields):
    version: int


class InspectionGradeInterval(SQLModel, table=True):
    """After a report with this safety grade, the next inspection is due in ``interval_months``
    (overriding the type's interval); ``None``: the equipment must not operate (grade 5)."""

    __tablename__ = "special_grade_interval"
    __table_args__ = (UniqueConstraint("inspection_type_id", "safety_grade"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_type_id: int = Field(
        sa_column=fk_column("special_inspection_type.id", nullable=False, ondelete="CASCADE", index=False)
    )
    safety_grade: int = Field(ge=1, le=5)
    interval_months: int | None = Field(default=None, ge=1, le=240)


# --- Registration ----------------------------------------------------------------------------


class RegistrationFields(SQLModel):
    sub_category: str = Field(default="", max_length=40, description="品种, e.g. 第Ⅱ类压力容器, GC2")
    certificate_number: str = Field(min_length=1, max_length=60, description="使用登记证编号")
    equipment_code: str = Field(default="", max_length=40, description="设备代码 (注册代码)")
    registration_date: date
    authority: str = Field(min_length=1, max_length=100, description="登记机关")

    _strip_text = field_validator("sub_category", "certificate_number", "equipment_code", "authority", mode="before")(
        strip_text
    )


class Registration(RegistrationFields, VersionChecked, table=True):
    __tablename__ = "special_registration"

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False, ondelete="CASCADE", index=False))
    cancelled_date: date | None = None
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    __table_args__ = (UniqueConstraint("asset_id"),)

    @property
    def audit_repr(self) -> str:
        return self.certificate_number


class RegistrationCreate(RegistrationFields):
    pass


class RegistrationUpdate(RegistrationFields):
    version: int


class RegistrationEvent(SQLModel, table=True):
    __tablename__ = "special_registration_event"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(sa_column=fk_column("special_registration.id", nullable=False, ondelete="CASCADE"))
    kind: RegistrationEventKind = Field(sa_type=ChoiceType(RegistrationEventKind))
    event_date: date
    description: str = Field(min_length=1, max_length=500)
    recorded_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.kind.zh} {self.event_date.isoformat()}"


# --- Applications and inspections ------------------------------------------------------------


class ApplicationCreate(SQLModel):
    inspection_type_id: int
    due_date: date = Field(description="The due date applied for")
    applied_date: date
    agency: str = Field(min_length=1, max_length=100, description="检验机构")
    reference: str = Field(default="", max_length=60, description="申报编号")

    _strip_text = field_validator("agency", "reference", mode="before")(strip_text)


class InspectionApplication(ApplicationCreate, table=True):
    __tablename__ = "special_application"
    __table_args__ = (UniqueConstraint("asset_id", "inspection_type_id", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False, ondelete="CASCADE", index=False))
    inspection_type_id: int = Field(sa_column=fk_column("special_inspection_type.id", nullable=False, index=False))
    recorded_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.agency} {self.applied_date.isoformat()}"


class InspectionCreate(SQLModel):
    inspection_type_id: int
    inspected_date: date
    agency: str = Field(min_length=1, max_length=100, description="检验机构")
    result: InspectionResult = Field(sa_type=ChoiceType(InspectionResult))
    safety_grade: int | None = Field(default=None, ge=1, le=5, description="安全状况等级")
    report_number: str = Field(default="", max_length=60)
    report_next_due_date: date | None = Field(default=None, description="下次检验日期 as the report states it")
    notes: str = Field(default="", max_length=2000)

    _strip_text = field_validator("agency", "report_number", "notes", mode="before")(strip_text)


class SpecialInspection(InspectionCreate, table=True):
    __tablename__ = "special_inspection"
    __table_args__ = (
        Index("ix_special_inspection_asset_type_date", "asset_id", "inspection_type_id", "inspected_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False, ondelete="CASCADE", index=False))
    inspection_type_id: int = Field(sa_column=fk_column("special_inspection_type.id", nullable=False, index=False))
    # The report PDF, kept with the asset's documents.
    document_id: int | None = Field(
        default=None, sa_column=fk_column("asset_document.id", nullable=True, ondelete="SET NULL", index=False)
    )
    recorded_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.inspected_date.isoformat()} {self.report_number}".strip()


# --- Regulator findings ----------------------------------------------------------------------


class FindingFields(SQLModel):
    kind: FindingKind = Field(sa_type=ChoiceType(FindingKind))
    workshop_id: int
    asset_id: int | None = None
    issued_date: date
    issued_by: str = Field(min_length=1, max_length=100, description="特检院 / 市场监管局")
    reference: str = Field(default="", max_length=60, description="文书编号")
    description: str = Field(min_length=1, max_length=2000)
    deadline_date: date | None = Field(default=None, description="整改期限")
    owner: str = Field(default="", max_length=60, description="责任人")
    status: FindingStatus = Field(default=FindingStatus.OPEN, sa_type=ChoiceType(FindingStatus))
    closed_date: date | None = None
    rectification: str = Field(default="", max_length=2000, description="整改措施与结果")

    _strip_text = field_validator("issued_by", "reference", "description", "owner", "rectification", mode="before")(
        strip_text
    )


class Finding(FindingFields, VersionChecked, table=True):
    __tablename__ = "special_finding"
    __table_args__ = (Index("ix_special_finding_issued", "issued_date"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False))
    asset_id: int | None = Field(default=None, sa_column=fk_column("asset.id", nullable=True))
    # The evidence of the rectification, in the content-addressed file store.
    evidence_sha256: str = Field(default="", max_length=64)
    evidence_filename: str = Field(default="", max_length=200)
    evidence_content_type: str = Field(default="", max_length=100)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.kind.zh} {self.reference or self.issued_date.isoformat()}"


class FindingCreate(FindingFields):
    pass


class FindingUpdate(FindingFields):
    version: int


# --- Reminders -------------------------------------------------------------------------------


class InspectionReminder(SQLModel, table=True):
    """The scheduler's natural key: one inspection order per asset, inspection type and due date,
    whichever scheduler raises it."""

    __tablename__ = "special_reminder"
    __table_args__ = (UniqueConstraint("asset_id", "inspection_type_id", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False, ondelete="CASCADE", index=False))
    inspection_type_id: int = Field(sa_column=fk_column("special_inspection_type.id", nullable=False, index=False))
    due_date: date
    order_id: int = Field(sa_column=fk_column("work_order.id", nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
