"""The asset list's filters, parsed once from query parameters and used by the page,
its htmx fragment, the CSV/XLSX exports, the labels sheet and the JSON API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from pydantic import Field
from sqlalchemy import ColumnElement, Select, or_

from maintenance.assets.choices import AssetClass, AssetStatus, Criticality, SpecialCategory
from maintenance.web import ListFilters, RecordId, filters_from_query

# Sort keys users may ask for (``-`` prefix for descending) → column names on Asset/AssetVersion.
SORTABLE = {
    "tag": "tag",
    "name": "name",
    "class": "asset_class",
    "status": "status",
    "criticality": "criticality",
    "workshop": "workshop_id",
    "commissioned": "commission_date",
    "value": "original_value_cny",
    "fixed_asset": "fixed_asset_number",
}


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

    def apply(self, stmt: Select[Any], table: Any) -> Select[Any]:
        """Add these filters and the sort to a select over Asset or AssetVersion (same columns)."""
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
        if conditions:
            stmt = stmt.where(*conditions)
        column = getattr(table, SORTABLE[self.sort.lstrip("-")])
        ordering = column.desc() if self.sort.startswith("-") else column.asc()
        # The tag breaks ties so pages are stable.
        return stmt.order_by(ordering, table.tag.asc(), table.id.asc())


AssetFiltersDep = Annotated[AssetFilters, Depends(filters_from_query(AssetFilters))]
