"""A key project of the year and its milestones. A project's state and slippage are not stored:
they follow from its milestones' due and done dates on the day asked (projects/rules.py)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import field_validator
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from maintenance.db import UTCDateTime, VersionChecked, fk_column, strip_text, utcnow


class ProjectFields(SQLModel):
    year: int = Field(ge=2000, le=2100)
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    owner: str = Field(default="", max_length=60)
    workshop_id: int | None = Field(default=None, sa_column=fk_column("workshop.id", nullable=True))
    start_date: date
    due_date: date
    # An earlier date the plant aims for ("by end of July, aim June"); the due date is the commitment.
    aim_date: date | None = None
    cancelled: bool = False
    description: str = Field(default="", max_length=4000)

    _strip_text = field_validator("code", "name", "owner", "description", mode="before")(strip_text)


class Project(ProjectFields, VersionChecked, table=True):
    __tablename__ = "project"
    __table_args__ = (UniqueConstraint("year", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.code} {self.name}"


class MilestoneFields(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    owner: str = Field(default="", max_length=60)
    start_date: date | None = None
    due_date: date
    done_on: date | None = None
    position: int = Field(default=0, ge=0, le=1000)

    _strip_text = field_validator("name", "owner", mode="before")(strip_text)


class Milestone(MilestoneFields, table=True):
    __tablename__ = "project_milestone"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=fk_column("project.id", nullable=False, ondelete="CASCADE"))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return self.name


class ProjectCreate(ProjectFields):
    pass


class ProjectUpdate(ProjectFields):
    version: int = Field(ge=1, le=2_147_483_647)


class MilestoneCreate(MilestoneFields):
    pass


class MilestoneWrite(MilestoneFields):
    """A milestone's form: its fields and the version of the project it was read from (its
    milestones are written as part of the project: one stale check for the lot)."""

    version: int = Field(ge=1, le=2_147_483_647)
