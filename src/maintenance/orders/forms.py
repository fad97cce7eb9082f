"""What the order and PM-plan forms share: they name the asset by its tag (what is on its
label, what engineers know), while the models want the asset's id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from maintenance.assets import service as asset_service
from maintenance.i18n import gettext as _


def resolve_asset_tag(session: Session, values: dict[str, Any]) -> dict[str, str]:
    """Set ``values["asset_id"]`` from ``values["asset_tag"]``; the tag's error if it names no asset."""
    tag = str(values.get("asset_tag", "")).strip()
    values["asset_id"] = ""
    if not tag:
        return {"asset_tag": _("Enter the tag of the asset.")}
    asset = asset_service.get_asset_by_tag(session, tag)
    if asset is None:
        return {"asset_tag": _("No asset has the tag %(tag)s.", tag=tag)}
    values["asset_id"] = str(asset.id)
    return {}


def on_asset_tag(errors: Mapping[str, str]) -> dict[str, str]:
    """Errors on ``asset_id`` belong to the tag input the user sees."""
    result = dict(errors)
    if "asset_id" in result:
        result.setdefault("asset_tag", result.pop("asset_id"))
    return result
