"""A saving entered by hand in one of the three ledgers. The savings of refurbished and localised
parts used on work orders are not stored here: they are the orders' cost lines
(:class:`maintenance.orders.models.CostLine`), read beside these entries.

One formula serves every ledger: saving = (reference price − actual price) × quantity, where the
reference is the new part's price (refurbish), the import price (localisation) or the budget or
highest quote (tender), and the actual is the repair cost, the domestic price or the awarded price."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import field_validator
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from maintenance.choices import Choice, ChoiceType
from maintenance.db import UTCDateTime, VersionChecked, fk_column, strip_text, utcnow
from maintenance.orders.models import MONEY, QUANTITY


class SavingsKind(Choice):
    REFURBISH = ("refurbish", "修旧利废", "Refurbish and reuse", "success")
    LOCALISATION = ("localisation", "备件国产化", "Spares localisation", "info")
    TENDER = ("tender", "招标比价", "Tender price comparison", "primary")


class SavingsEntryFields(SQLModel):
    kind: SavingsKind = Field(sa_type=ChoiceType(SavingsKind))
    recorded_on: date = Field(description="The day the saving was made: part reused, spare bought, contract awarded")
    workshop_id: int | None = Field(default=None, sa_column=fk_column("workshop.id", nullable=True))
    description: str = Field(min_length=1, max_length=200)
    reference: str = Field(default="", max_length=60, description="Part number, item code or tender number")
    quantity: Decimal = Field(default=Decimal("1"), gt=0, max_digits=14, decimal_places=3, sa_type=QUANTITY)
    reference_price_cny: Decimal = Field(ge=0, max_digits=16, decimal_places=2, sa_type=MONEY)
    actual_price_cny: Decimal = Field(ge=0, max_digits=16, decimal_places=2, sa_type=MONEY)
    note: str = Field(default="", max_length=1000)

    _strip_text = field_validator("description", "reference", "note", mode="before")(strip_text)


class SavingsEntry(SavingsEntryFields, VersionChecked, table=True):
    __tablename__ = "savings_entry"
    __table_args__ = (Index("ix_savings_entry_kind_recorded_on", "kind", "recorded_on"),)

    id: int | None = Field(default=None, primary_key=True)
    saving_cny: Decimal = Field(default=Decimal("0.00"), max_digits=16, decimal_places=2, sa_type=MONEY)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return f"{self.kind.value} {self.description}"


class SavingsEntryCreate(SavingsEntryFields):
    pass


class SavingsEntryUpdate(SavingsEntryFields):
    """A full edit from the form; ``version`` is the one the user started from."""

    version: int
