"""The asset registry: assets (设备), their history, documents and stocktakes.

``Asset`` is the current state, edited with optimistic locking. Every write also
closes the asset's open ``AssetVersion`` and opens a new one, so the registry as it
stood at any instant is one indexed query (as-of exports, reproducible audits).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import field_validator
from sqlalchemy import Index, Numeric, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

from maintenance.assets.choices import AssetClass, AssetStatus, Criticality, SpecialCategory
from maintenance.choices import ChoiceType
from maintenance.db import UTCDateTime, VersionChecked, fk_column, strip_text, utcnow

MONEY = Numeric(16, 2)
RATE = Numeric(6, 4)


class AssetFields(SQLModel):
    """What an asset is and where it stands: shared by the asset, its versions and its forms."""

    tag: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)
    asset_class: AssetClass = Field(sa_type=ChoiceType(AssetClass))
    workshop_id: int
    unit_id: int | None = None
    parent_id: int | None = None
    manufacturer: str = Field(default="", max_length=100)
    spec: str = Field(default="", max_length=200, description="规格型号")
    serial_number: str = Field(default="", max_length=60)
    install_date: date | None = None
    commission_date: date | None = None
    criticality: Criticality = Field(default=Criticality.C, sa_type=ChoiceType(Criticality))
    status: AssetStatus = Field(default=AssetStatus.IN_SERVICE, sa_type=ChoiceType(AssetStatus))
    fixed_asset_number: str = Field(default="", max_length=40)
    original_value_cny: Decimal = Field(default=Decimal("0.00"), ge=0, max_digits=16, decimal_places=2, sa_type=MONEY)
    useful_life_years: int = Field(default=10, ge=0, le=100)
    salvage_rate: Decimal = Field(default=Decimal("0.05"), ge=0, le=1, max_digits=6, decimal_places=4, sa_type=RATE)
    special_category: SpecialCategory = Field(default=SpecialCategory.NONE, sa_type=ChoiceType(SpecialCategory))
    registration_number: str = Field(default="", max_length=60, description="使用登记证编号")
    custodian: str = Field(default="", max_length=60)
    notes: str = Field(default="", max_length=2000)
    retired_date: date | None = None
    retire_reason: str = Field(default="", max_length=500)

    _strip_text = field_validator(
        "tag", "name", "manufacturer", "spec", "serial_number", "fixed_asset_number", "custodian", mode="before"
    )(strip_text)


class Asset(AssetFields, VersionChecked, table=True):
    # One index per sort of the asset list: (column, tag, id), read forwards or backwards, so a
    # page is one range of it whatever its depth (keyset paging, assets.filters.SORTABLE). The
    # workshop's index also serves the filter by workshop.
    __table_args__ = (
        UniqueConstraint("site_id", "tag"),
        Index("ix_asset_workshop_tag", "workshop_id", "tag", "id"),
        Index("ix_asset_sort_tag", "tag", "id"),
        Index("ix_asset_sort_name", "name", "tag", "id"),
        Index("ix_asset_sort_class", "asset_class", "tag", "id"),
        Index("ix_asset_sort_status", "status", "tag", "id"),
        Index("ix_asset_sort_criticality", "criticality", "tag", "id"),
        # NULL sorts as 0001-01-01: the expression the list orders by (filters.NO_COMMISSION_DATE).
        Index("ix_asset_sort_commissioned", func.coalesce(text("commission_date"), text("'0001-01-01'")), "tag", "id"),
        Index("ix_asset_sort_value", "original_value_cny", "tag", "id"),
        Index("ix_asset_sort_fixed_asset", "fixed_asset_number", "tag", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=fk_column("site.id", nullable=False))
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False))
    unit_id: int | None = Field(default=None, sa_column=fk_column("unit.id", nullable=True))
    parent_id: int | None = Field(default=None, sa_column=fk_column("asset.id", nullable=True))
    # Pinyin initials of the name (循环水泵 → xhsb) so engineers can search by typing them.
    name_initials: str = Field(default="", max_length=100, index=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.tag} {self.name}"


class AssetVersion(AssetFields, table=True):
    """One row per state an asset was in, valid from ``valid_from`` until ``valid_to`` (open: now)."""

    __tablename__ = "asset_version"
    __table_args__ = (
        Index("ix_asset_version_asset_valid", "asset_id", "valid_from"),
        Index("ix_asset_version_valid", "valid_from", "valid_to"),
    )

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False, ondelete="CASCADE", index=False))
    site_id: int
    name_initials: str = Field(default="", max_length=100)
    version: int
    valid_from: datetime = Field(sa_type=UTCDateTime, nullable=False)
    valid_to: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AssetCreate(AssetFields):
    pass


class AssetUpdate(AssetFields):
    """A full edit from the form; ``version`` is the one the user started from."""

    version: int


class AssetRead(AssetFields):
    id: int
    site_id: int
    version: int
    created_at: datetime
    updated_at: datetime


# --- Equipment class aliases --------------------------------------------------------------


class AssetClassAliasCreate(SQLModel):
    """A word a plant's ledgers use for an equipment class (离心泵 → 泵 PU)."""

    alias: str = Field(min_length=1, max_length=40)
    asset_class: AssetClass = Field(sa_type=ChoiceType(AssetClass))

    _strip_text = field_validator("alias", mode="before")(strip_text)


class AssetClassAlias(AssetClassAliasCreate, table=True):
    """Imports accept the alias wherever a class is asked for. ``match_key`` is the alias as
    imports compare it (full-width forms, case, spaces and punctuation folded): one per word."""

    __tablename__ = "asset_class_alias"

    id: int | None = Field(default=None, primary_key=True)
    match_key: str = Field(max_length=40, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.alias} → {self.asset_class.value}"
