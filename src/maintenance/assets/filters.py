"""The asset list's filters, parsed once from query parameters and used by the page,
its htmx fragment, the CSV/XLSX exports, the labels sheet and the JSON API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends
from pydantic import Field
from sqlalchemy import ColumnElement, Select, or_

from maintenance.assets.choices import AssetClass, AssetStatus, Criticality, SpecialCategory
from maintenance.web import ListFilters, RecordId, SeekColumn, SeekOrder, filters_from_query

# A missing commission date sorts as this day (before every real one), on SQLite and PostgreSQL
# alike; the index ix_asset_sort_commissioned is built on the same expression.
NO_COMMISSION_DATE = "0001-01-01"

# What a cursor's values must be: bounded so a hand-made cursor fails as a 422, never in the database.
_MONEY = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=18, decimal_places=2)]
_TEXT = Annotated[str, Field(max_length=200)]

# Sort keys users may ask for (``-`` prefix for descending) → the column on Asset/AssetVersion.
SORTABLE: dict[str, SeekColumn] = {
    "tag": SeekColumn("tag", _TEXT),
    "name": SeekColumn("name", _TEXT),
    "class": SeekColumn("asset_class", AssetClass),
    "status": SeekColumn("status", AssetStatus),
    "criticality": SeekColumn("criticality", Criticality),
    "workshop": SeekColumn("workshop_id", RecordId),
    "commissioned": SeekColumn("commission_date", date, null_as=NO_COMMISSION_DATE),
    "value": SeekColumn("original_value_cny", _MONEY),
    "fixed_asset": SeekColumn("fixed_asset_number", _TEXT),
}
# Ties break by tag, then id (tags are unique per site only): every row has one place, and each
# sort has an index (column, tag, id) on asset, walked forwards or backwards.
_TAG = SORTABLE["tag"]
_ID = SeekColumn("id", RecordId)


class AssetFilters(ListFilters):
    sort_keys = SORTABLE

    q: str | None = Field(default=None, max_length=100)
    workshop_id: RecordId | None = None
    unit_id: RecordId | None = None
    asset_class: AssetClass | None = None
    status: AssetStatus | None = None
    criticality: Criticality | None = None
    special_category: SpecialCategory | None = None
    # "special" as a pseudo-category: every asset that is special equipment of any kind.
    special_only: bool = False
    include_retired: bool = True
    as_of: date | None = None
    sort: str = "tag"

    @property
    def order(self) -> SeekOrder:
        """The sort as keyset paging reads it: the column, the tag, the id, all one direction."""
        key = self.sort.lstrip("-")
        columns = (_TAG, _ID) if key == "tag" else (SORTABLE[key], _TAG, _ID)
        return SeekOrder(self.sort, columns, descending=self.sort.startswith("-"))

    def where(self, stmt: Select[Any], table: Any) -> Select[Any]:
        """Add these filters (not the sort) to a select over Asset or AssetVersion (same columns)."""
        conditions: list[ColumnElement[bool]] = []
        if self.q:
            pattern = f"%{self.q}%"
            searchable = [table.tag, table.name, table.fixed_asset_number, table.name_initials]
            conditions.append(or_(*(column.ilike(pattern) for column in searchable)))
        for name in ("workshop_id", "unit_id", "asset_class", "status", "criticality", "special_category"):
            value = getattr(self, name)
            if value is not None:
                conditions.append(getattr(table, name) == value)
        if self.special_only:
            conditions.append(table.special_category != SpecialCategory.NONE)
        if not self.include_retired:
            conditions.append(table.status != AssetStatus.RETIRED)
        return stmt.where(*conditions) if conditions else stmt

    def apply(self, stmt: Select[Any], table: Any) -> Select[Any]:
        """Add these filters and the sort to a select over Asset or AssetVersion (same columns)."""
        return self.where(stmt, table).order_by(*self.order.order_by(table))


AssetFiltersDep = Annotated[AssetFilters, Depends(filters_from_query(AssetFilters))]
