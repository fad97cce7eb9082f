"""JSON API of the asset registry for integrators (ERP, historians, reporting).

The list takes the same filters as the asset list page (``AssetFilters``), ``as_of`` included:
with ``as_of=YYYY-MM-DD`` every item is the asset as it stood at the end of that plant-local day,
and its book values are computed as of that date (otherwise as of today).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session

from maintenance.assets import service
from maintenance.assets.depreciation import book_value_of
from maintenance.assets.exports import check_as_of, with_parent_tag
from maintenance.assets.filters import AssetFilters
from maintenance.assets.models import Asset, AssetFields, AssetVersion
from maintenance.db import SessionDep, plant_today
from maintenance.exceptions import NotFound
from maintenance.i18n import gettext as _
from maintenance.org import service as org_service
from maintenance.org.auth import api_scope
from maintenance.org.models import Unit, Workshop
from maintenance.web import COUNT_CAP, seek_paginate

router = APIRouter(prefix="/assets", tags=["assets"])

AssetsReader = api_scope("assets:read")
MAX_PAGE_SIZE = 500


class AssetApiRead(AssetFields):
    """An asset (or, with ``as_of``, the version of it valid then). Money is a decimal string in 元."""

    id: int = Field(description="The asset's id (stable across versions)")
    site_id: int
    workshop_code: str
    unit_code: str | None = None
    parent_tag: str | None = Field(default=None, description="The parent asset's tag at the same moment")
    version: int = Field(description="The asset's version number at that moment")
    book_value_date: date = Field(description="Date the depreciation figures are computed for")
    accumulated_depreciation_cny: Decimal
    net_book_value_cny: Decimal


class AssetApiPage(BaseModel):
    data: list[AssetApiRead]
    count: int = Field(
        description=f"Assets matching the filter, on all pages; counted up to {COUNT_CAP:,} (see `count_capped`)"
    )
    count_capped: bool = Field(
        default=False, description=f"More than {COUNT_CAP:,} assets match: `count` stopped counting there"
    )
    page: int = Field(description="The page number asked for (1 when paging by `cursor`)")
    size: int
    as_of: date | None = Field(default=None, description="The registry as it stood at the end of this day")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the page after this one; null on the last page"
    )


def _item(
    row: Asset | AssetVersion,
    parent_tag: str | None,
    value_date: date,
    workshops: dict[int, Workshop],
    units: dict[int, Unit],
) -> AssetApiRead:
    book = book_value_of(row, value_date)
    workshop = workshops.get(row.workshop_id)
    unit = units.get(row.unit_id) if row.unit_id is not None else None
    data: dict[str, Any] = {name: getattr(row, name) for name in AssetFields.model_fields}
    return AssetApiRead.model_validate(
        data
        | {
            "id": row.asset_id if isinstance(row, AssetVersion) else row.id,
            "site_id": row.site_id,
            "workshop_code": workshop.code if workshop else "",
            "unit_code": unit.code if unit else None,
            "parent_tag": parent_tag,
            "version": row.version,
            "book_value_date": value_date,
            "accumulated_depreciation_cny": book.accumulated_depreciation_cny,
            "net_book_value_cny": book.net_book_value_cny,
        }
    )


def _lookups(session: Session) -> tuple[dict[int, Workshop], dict[int, Unit]]:
    workshops = {w.id: w for w in org_service.list_workshops(session) if w.id is not None}
    units = {u.id: u for u in org_service.list_units(session) if u.id is not None}
    return workshops, units


@router.get(
    "",
    response_model=AssetApiPage,
    summary="List assets, filtered like the asset list, optionally as of a date",
    description=(
        "Pages by keyset: pass the answer's `next_cursor` as `cursor` for the next page (the same "
        "filters and `sort`); each page costs the same however deep it is. `page=N` (OFFSET) still "
        "works, but deep page numbers get slower as the registry grows. A damaged cursor, or one "
        "made for another sort, is a 422."
    ),
)
def list_assets(
    session: SessionDep,
    user: AssetsReader,  # type: ignore[valid-type]
    filters: Annotated[AssetFilters, Query()],
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="The previous page's `next_cursor`: the page after it")
    ] = None,
) -> AssetApiPage:
    check_as_of(filters.as_of)
    stmt = service.list_assets(filters)
    found = seek_paginate(
        session,
        with_parent_tag(stmt, filters.as_of),
        service.listed_table(filters),
        filters.order,
        after=cursor,
        offset=(page - 1) * size if cursor is None else 0,
        size=size,
        scalars=False,
        counted=stmt,
        cursor_names=("cursor", "cursor"),
    )
    workshops, units = _lookups(session)
    value_date = filters.as_of or plant_today()
    return AssetApiPage(
        data=[_item(row[0], row.parent_tag, value_date, workshops, units) for row in found.items],
        count=found.total,
        count_capped=found.total_capped,
        page=page if cursor is None else 1,
        size=size,
        as_of=filters.as_of,
        next_cursor=found.next_cursor,
    )


@router.get(
    "/{tag:path}",
    response_model=AssetApiRead,
    summary="One asset by tag, optionally as it stood at the end of a date",
    responses={404: {"description": "No asset has (or had, at `as_of`) this tag"}},
)
def read_asset(
    session: SessionDep,
    user: AssetsReader,  # type: ignore[valid-type]
    tag: str,
    as_of: Annotated[date | None, Query(description="YYYY-MM-DD: the asset as it stood at the end of this day")] = None,
) -> AssetApiRead:
    check_as_of(as_of)
    table: Any = AssetVersion if as_of is not None else Asset
    stmt = select(table).where(table.tag == tag.strip())
    if as_of is not None:
        stmt = stmt.where(*service.as_of_condition(as_of))
    found = session.execute(with_parent_tag(stmt, as_of).order_by(table.site_id, table.id).limit(1)).first()
    if found is None:
        if as_of is not None:
            raise NotFound(_("No asset had the tag %(tag)s at the end of %(day)s.", tag=tag, day=as_of.isoformat()))
        raise NotFound(_("No asset has the tag %(tag)s.", tag=tag))
    workshops, units = _lookups(session)
    return _item(found[0], found.parent_tag, as_of or plant_today(), workshops, units)
