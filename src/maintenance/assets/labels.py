"""QR labels: a printable A4 sheet (3 × 8 labels of 70 × 37 mm) for the assets of a
filtered list. Each QR code holds the absolute URL of the asset's page, so scanning it
with a phone opens the asset (and, during a stocktake, the "mark found" button).

One request prints at most ``MAX_LABELS`` labels; a larger selection is split into
batches the page links to, so nobody prints thousands of labels by accident.
"""

from __future__ import annotations

from functools import lru_cache

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from maintenance.assets import service
from maintenance.assets.filters import AssetFiltersDep
from maintenance.assets.routes import org_lookups
from maintenance.db import SessionDep
from maintenance.org.auth import CurrentUser
from maintenance.web import render

router = APIRouter(include_in_schema=False)

MAX_LABELS = 500
LABELS_PER_PAGE = 24  # 3 columns × 8 rows of 70 × 37 mm on A4


@lru_cache(maxsize=4096)
def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images, not inline styles)."""
    return segno.make(text, error="m").svg_data_uri(border=2, omitsize=True)  # type: ignore[no-any-return]


@router.get("/assets/labels")
def label_sheet(
    request: Request, session: SessionDep, user: CurrentUser, filters: AssetFiltersDep, batch: int = 1
) -> Response:
    filters = filters.model_copy(update={"as_of": None})  # labels are for assets as they are now
    stmt = service.list_assets(filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    batches = max(1, -(-total // MAX_LABELS))
    batch = min(max(1, batch), batches)
    assets = list(session.scalars(stmt.limit(MAX_LABELS).offset((batch - 1) * MAX_LABELS)))
    labels = [{"asset": asset, "url": str(request.url_for("asset_page", asset_id=asset.id))} for asset in assets]
    for label in labels:
        label["qr"] = qr_data_uri(label["url"])
    pages = [labels[i : i + LABELS_PER_PAGE] for i in range(0, len(labels), LABELS_PER_PAGE)]
    return render(
        request,
        "assets/labels.html",
        {
            "filters": filters,
            "pages": pages,
            "total": total,
            "batch": batch,
            "batches": batches,
            "first": (batch - 1) * MAX_LABELS + 1 if total else 0,
            "last": (batch - 1) * MAX_LABELS + len(assets),
            "max_labels": MAX_LABELS,
            **org_lookups(session),
        },
    )
