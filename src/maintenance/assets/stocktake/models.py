"""Stocktakes (清查): a count of one workshop's assets against a snapshot taken at the start.

At the start every non-retired asset of the workshop becomes a line, with its tag, name,
location and values copied in: the count is checked against the registry as it stood
then, and later edits of the registry do not move the goalposts. Items found on site that
the snapshot does not list are recorded as surplus (盘盈). Closing signs the count off and
makes it read-only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from maintenance.choices import Choice, ChoiceType
from maintenance.db import UTCDateTime, fk_column, utcnow

MONEY = Numeric(16, 2)


class StocktakeState(Choice):
    OPEN = ("open", "盘点中", "Open", "primary")
    CLOSED = ("closed", "已签字关闭", "Closed", "success")


class CountResult(Choice):
    UNCOUNTED = ("uncounted", "未盘点", "Not counted yet", "secondary")
    FOUND = ("found", "盘到", "Found", "success")
    MISSING = ("missing", "盘亏", "Missing", "danger")


class AssetCondition(Choice):
    """What the counter saw; the registry's status is not changed by a count."""

    GOOD = ("good", "完好", "Good", "success")
    DAMAGED = ("damaged", "损坏", "Damaged", "danger")
    NEEDS_REPAIR = ("needs_repair", "待修", "Needs repair", "warning")
    IDLE = ("idle", "闲置", "Idle", "secondary")
    TO_SCRAP = ("to_scrap", "待报废", "To be scrapped", "dark")


class Stocktake(SQLModel, table=True):
    __table_args__ = (Index("ix_stocktake_workshop_state", "workshop_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(sa_column=fk_column("workshop.id", nullable=False, index=False))
    state: StocktakeState = Field(default=StocktakeState.OPEN, sa_type=ChoiceType(StocktakeState))
    # The plant date the snapshot was taken: net book values are as of this day.
    as_of_date: date
    note: str = Field(default="", max_length=500)
    started_by_id: int = Field(sa_column=fk_column("app_user.id", nullable=False))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    closed_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True))
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The sign-off: who signed (name as shown at the time) and what they declared.
    signed_by_name: str = Field(default="", max_length=100)
    sign_off_statement: str = Field(default="", max_length=2000)

    @property
    def audit_repr(self) -> str:
        return f"#{self.id}"

    @property
    def is_open(self) -> bool:
        return self.state == StocktakeState.OPEN


class StocktakeLine(SQLModel, table=True):
    """One expected asset, as the registry described it when the count started."""

    __tablename__ = "stocktake_line"
    __table_args__ = (
        UniqueConstraint("stocktake_id", "asset_id"),
        Index("ix_stocktake_line_stocktake_result", "stocktake_id", "result"),
        Index("ix_stocktake_line_stocktake_tag", "stocktake_id", "tag"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stocktake_id: int = Field(sa_column=fk_column("stocktake.id", nullable=False, ondelete="CASCADE", index=False))
    asset_id: int = Field(sa_column=fk_column("asset.id", nullable=False))
    # Snapshot at the start of the count.
    tag: str = Field(max_length=40)
    name: str = Field(max_length=100)
    location: str = Field(default="", max_length=200)
    fixed_asset_number: str = Field(default="", max_length=40)
    original_value_cny: Decimal = Field(default=Decimal("0.00"), max_digits=16, decimal_places=2, sa_type=MONEY)
    net_book_value_cny: Decimal = Field(default=Decimal("0.00"), max_digits=16, decimal_places=2, sa_type=MONEY)
    # The count.
    result: CountResult = Field(default=CountResult.UNCOUNTED, sa_type=ChoiceType(CountResult))
    condition: AssetCondition | None = Field(default=None, sa_type=ChoiceType(AssetCondition))
    note: str = Field(default="", max_length=500)
    found_by_scan: bool = False
    counted_by_id: int | None = Field(default=None, sa_column=fk_column("app_user.id", nullable=True, index=False))
    counted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def audit_repr(self) -> str:
        return f"#{self.stocktake_id} {self.tag}"


class StocktakeSurplus(SQLModel, table=True):
    """Something found on site that the snapshot does not list (盘盈)."""

    __tablename__ = "stocktake_surplus"

    id: int | None = Field(default=None, primary_key=True)
    stocktake_id: int = Field(sa_column=fk_column("stocktake.id", nullable=False, ondelete="CASCADE"))
    # Set when the item is a registered asset that was not in the snapshot (e.g. added since).
    asset_id: int | None = Field(default=None, sa_column=fk_column("asset.id", nullable=True))
    description: str = Field(min_length=1, max_length=200)
    location: str = Field(default="", max_length=200)
    estimated_value_cny: Decimal = Field(default=Decimal("0.00"), ge=0, max_digits=16, decimal_places=2, sa_type=MONEY)
    condition: AssetCondition | None = Field(default=None, sa_type=ChoiceType(AssetCondition))
    note: str = Field(default="", max_length=500)
    recorded_by_id: int = Field(sa_column=fk_column("app_user.id", nullable=False, index=False))
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"#{self.stocktake_id} {self.description}"[:200]


class StocktakeSurplusCreate(SQLModel):
    """The surplus form (web) and what the service validates."""

    description: str = Field(min_length=1, max_length=200)
    location: str = Field(default="", max_length=200)
    estimated_value_cny: Decimal = Field(default=Decimal("0.00"), ge=0, max_digits=16, decimal_places=2)
    condition: AssetCondition | None = None
    note: str = Field(default="", max_length=500)
    asset_id: int | None = None
